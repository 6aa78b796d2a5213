//! S3 object keys of delivered batches, and the prefix expressions that shape them.
