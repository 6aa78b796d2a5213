//! Compression of delivered batches: GZIP, ZIP, Snappy (framed) and Hadoop-Snappy.
