//! Compression of delivered batches: what Firehose does to a batch's bytes before it becomes one
//! S3 object, for each `CompressionFormat` of the `Firehose_20150804` model.
//!
//! A [`Compressor`] takes the batch in pieces and keeps only compressed output (plus at most one
//! 32 KiB Snappy block), so a 128 MiB batch is never held twice.
//!
//! # Object formats
//!
//! What real Firehose writes was established by two independent reimplementations that captured
//! objects delivered by AWS: floci-io/floci issue #2328 and pull request #2410, which reproduced
//! small Snappy and Hadoop-Snappy objects byte for byte with snappy-java 1.1.10.8, and a Go
//! emulator's recorded `formatting` and `multiblock` captures (including 1,250,054-byte objects,
//! decoded independently). Both report the container formats, extensions and `Content-Encoding`
//! values below. The ZIP entry name comes from floci alone; the 32 KiB Snappy block size is
//! snappy-java's default, which floci's byte-for-byte match implies but, for objects of one
//! block, cannot prove.
//!
//! - `UNCOMPRESSED`: the batch as it is.
//! - `GZIP`: one gzip member, compressed in independent pieces (`gzip_pieces`) so that
//!   several cores share one object, at the level `[firehose] gzip_level` sets (AWS does not
//!   document its own; see `ARCHITECTURE.md`).
//! - `ZIP`: a zip archive holding one deflated entry, named with a random UUID unrelated to the
//!   object key (as floci observed; AWS does not document the entry name).
//! - `Snappy`: **not** the official Snappy framing format (`sNaPpY` stream identifier) but the
//!   xerial snappy-java stream format that Java's `SnappyOutputStream` writes. Real objects
//!   start with `0x82 "SNAPPY" 0x00` and fail as a framed stream. Layout, integers big-endian:
//!
//!   ```text
//!   header  = 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, u32 version = 1, u32 compatible version = 1
//!   block*  = u32 compressed length, raw Snappy block of at most 32 KiB of input
//!   ```
//!
//!   The header is written even for an empty batch, as snappy-java 1.1.10 does on close (read
//!   from its source, not observed on AWS).
//! - `HADOOP_SNAPPY`: Hadoop's block format, what Hadoop's `BlockCompressorStream` with
//!   `SnappyCodec` writes and `BlockDecompressorStream` reads:
//!
//!   ```text
//!   block*  = u32 uncompressed length of the block,
//!             chunk+ (u32 compressed length, raw Snappy block) until that length is reached
//!   ```
//!
//!   Hadoop's own writer fills 256 KiB per block (`io.compression.codec.snappy.buffersize`);
//!   Firehose's objects match snappy-java's `SnappyHadoopCompatibleOutputStream` instead, which
//!   writes 32 KiB blocks of exactly one chunk each, so that is what this writes. Every Hadoop
//!   reader accepts any block size. An empty batch is an empty object.
//!
//! The Snappy blocks come from the `snap` crate's encoder, not Google's C++ one, so the bytes
//! decode identically but need not match AWS's byte for byte.

pub mod gzip_pieces;

use std::io::{Cursor, Write};

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// The GZIP level when the configuration does not set one: DEFLATE's fastest, about five
/// times the speed of level 6 for a third more bytes on JSON logs (`ARCHITECTURE.md`).
pub const DEFAULT_GZIP_LEVEL: u32 = 1;

/// How many bytes of the batch go into one Snappy block, for both Snappy variants: snappy-java's
/// `SnappyOutputStream.DEFAULT_BLOCK_SIZE`, whose output Firehose's objects match.
pub const SNAPPY_BLOCK_SIZE: usize = 32 * 1024;

/// The 16 bytes that open a snappy-java stream: the magic, then version 1 and minimum compatible
/// version 1 as big-endian `u32`s (snappy-java's `SnappyCodec`).
pub const SNAPPY_JAVA_HEADER: [u8; 16] = [
    0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0x00, 0, 0, 0, 1, 0, 0, 0, 1,
];

/// A `CompressionFormat` of the Firehose model (botocore `firehose/2015-08-04`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    Uncompressed,
    Gzip,
    Zip,
    Snappy,
    HadoopSnappy,
}

impl Compression {
    /// Every format, in the model's order.
    pub const ALL: [Compression; 5] = [
        Compression::Uncompressed,
        Compression::Gzip,
        Compression::Zip,
        Compression::Snappy,
        Compression::HadoopSnappy,
    ];

    /// The format named `name` in the model, matched exactly as AWS does: `SNAPPY` is not
    /// `Snappy`.
    pub fn from_model(name: &str) -> Option<Self> {
        match name {
            "UNCOMPRESSED" => Some(Compression::Uncompressed),
            "GZIP" => Some(Compression::Gzip),
            "ZIP" => Some(Compression::Zip),
            "Snappy" => Some(Compression::Snappy),
            "HADOOP_SNAPPY" => Some(Compression::HadoopSnappy),
            _ => None,
        }
    }

    /// The model's name for this format.
    pub fn model_name(&self) -> &'static str {
        match self {
            Compression::Uncompressed => "UNCOMPRESSED",
            Compression::Gzip => "GZIP",
            Compression::Zip => "ZIP",
            Compression::Snappy => "Snappy",
            Compression::HadoopSnappy => "HADOOP_SNAPPY",
        }
    }

    /// The extension Firehose appends to an object key when no `FileExtension` is configured.
    ///
    /// The table in "Configure Amazon S3 object name format"
    /// (<https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html>) gives `.gz`,
    /// `.zip`, `.snappy`, and `.hsnappy` for Hadoop-Snappy; uncompressed objects get none. The
    /// service itself delivers Hadoop-Snappy objects as `.snappy`, as both captures named in the
    /// module doc recorded (floci reproduced it on two dates), so this follows the service; only
    /// [`Compression::content_encoding`] tells the two Snappy variants apart.
    pub fn file_extension(&self) -> &'static str {
        match self {
            Compression::Uncompressed => "",
            Compression::Gzip => ".gz",
            Compression::Zip => ".zip",
            Compression::Snappy => ".snappy",
            Compression::HadoopSnappy => ".snappy",
        }
    }

    /// The `Content-Encoding` Firehose sets on the delivered object (from the same captures),
    /// or `None` for an uncompressed object.
    pub fn content_encoding(&self) -> Option<&'static str> {
        match self {
            Compression::Uncompressed => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zip => Some("zip"),
            Compression::Snappy => Some("snappy-java"),
            Compression::HadoopSnappy => Some("hadoop-snappy"),
        }
    }

    /// A compressor that writes one object in this format, GZIP at [`DEFAULT_GZIP_LEVEL`].
    pub fn compressor(&self) -> Compressor {
        self.compressor_at(DEFAULT_GZIP_LEVEL)
    }

    /// A compressor that writes one object in this format, GZIP at `gzip_level` (1 to 9). A ZIP
    /// entry gets a fresh random name.
    pub fn compressor_at(&self, gzip_level: u32) -> Compressor {
        match self {
            Compression::Uncompressed => Compressor {
                compression: *self,
                state: State::Uncompressed(Vec::new()),
            },
            Compression::Gzip => Compressor {
                compression: *self,
                state: State::Gzip(GzipState {
                    level: gzip_level,
                    pending: Vec::new(),
                    pieces: Vec::new(),
                }),
            },
            Compression::Zip => Compressor::zip(&uuid::Uuid::new_v4().to_string()),
            Compression::Snappy => Compressor {
                compression: *self,
                state: State::Snappy(SnappyBlocks::new(SnappyFraming::SnappyJava)),
            },
            Compression::HadoopSnappy => Compressor {
                compression: *self,
                state: State::Snappy(SnappyBlocks::new(SnappyFraming::Hadoop)),
            },
        }
    }
}

/// Compresses a whole batch held in memory into one object's bytes, GZIP at
/// [`DEFAULT_GZIP_LEVEL`] on one thread.
pub fn compress(compression: Compression, data: &[u8]) -> Result<Vec<u8>, CompressError> {
    compress_at(compression, data, DEFAULT_GZIP_LEVEL, 1)
}

/// Compresses a whole batch held in memory into one object's bytes; GZIP at `gzip_level`, on
/// up to `threads` threads. The bytes are the same whatever the number of threads.
pub fn compress_at(
    compression: Compression,
    data: &[u8],
    gzip_level: u32,
    threads: usize,
) -> Result<Vec<u8>, CompressError> {
    if compression == Compression::Gzip {
        return gzip_pieces::gzip(data, gzip_level, threads);
    }
    let mut compressor = compression.compressor_at(gzip_level);
    compressor.write(data)?;
    compressor.finish()
}

/// How many threads may compress one object: the machine's cores.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get())
}

/// Why a batch could not be compressed. The writers all write into memory, so these mean a bug
/// or exhausted resources, never bad input; none is retryable with the same bytes.
#[derive(Debug, thiserror::Error)]
pub enum CompressError {
    #[error("gzip compression failed: {0}")]
    Gzip(#[source] std::io::Error),
    #[error("zip archive could not be written: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("snappy compression failed: {0}")]
    Snappy(#[from] snap::Error),
}

/// Writes one object in one format, taking the batch in as many pieces as the caller likes.
/// The output does not depend on how the batch was split into writes.
pub struct Compressor {
    compression: Compression,
    state: State,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

enum State {
    Uncompressed(Vec<u8>),
    Gzip(GzipState),
    /// Boxed, like the Snappy encoder, so every state is small.
    Zip(Box<ZipWriter<Cursor<Vec<u8>>>>),
    Snappy(SnappyBlocks),
}

impl Compressor {
    /// A ZIP compressor whose single entry is named `entry_name`; [`Compression::compressor`]
    /// uses a random UUID, this is for output that must be reproducible.
    pub fn zip(entry_name: &str) -> Compressor {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        writer
            .start_file(entry_name, options)
            .expect("starting the first entry of an in-memory zip with fixed options cannot fail");
        Compressor {
            compression: Compression::Zip,
            state: State::Zip(Box::new(writer)),
        }
    }

    /// Appends `data` to the batch.
    pub fn write(&mut self, data: &[u8]) -> Result<(), CompressError> {
        match &mut self.state {
            State::Uncompressed(out) => out.extend_from_slice(data),
            State::Gzip(gzip) => gzip.write(data)?,
            State::Zip(writer) => writer
                .write_all(data)
                .map_err(|err| CompressError::Zip(err.into()))?,
            State::Snappy(blocks) => blocks.write(data)?,
        }
        Ok(())
    }

    /// Ends the batch and returns the object's bytes.
    pub fn finish(self) -> Result<Vec<u8>, CompressError> {
        match self.state {
            State::Uncompressed(out) => Ok(out),
            State::Gzip(gzip) => gzip.finish(),
            State::Zip(writer) => Ok(writer.finish()?.into_inner()),
            State::Snappy(blocks) => blocks.finish(),
        }
    }
}

/// GZIP taken in pieces of [`gzip_pieces::PIECE_BYTES`], whatever the sizes of the writes, so
/// the object is the same as [`gzip_pieces::gzip`] makes of the whole batch.
struct GzipState {
    level: u32,
    /// Input not yet compressed, always shorter than a piece between calls.
    pending: Vec<u8>,
    pieces: Vec<gzip_pieces::Piece>,
}

impl GzipState {
    fn write(&mut self, mut data: &[u8]) -> Result<(), CompressError> {
        while !data.is_empty() {
            let room = gzip_pieces::PIECE_BYTES - self.pending.len();
            let (now, rest) = data.split_at(room.min(data.len()));
            self.pending.extend_from_slice(now);
            data = rest;
            if self.pending.len() == gzip_pieces::PIECE_BYTES {
                self.pieces
                    .push(gzip_pieces::Piece::deflate(&self.pending, self.level)?);
                self.pending.clear();
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<u8>, CompressError> {
        if !self.pending.is_empty() {
            self.pieces
                .push(gzip_pieces::Piece::deflate(&self.pending, self.level)?);
        }
        Ok(gzip_pieces::assemble(self.pieces))
    }
}

/// Which container the Snappy blocks go in; see the module doc for both layouts.
#[derive(Clone, Copy)]
enum SnappyFraming {
    SnappyJava,
    Hadoop,
}

/// Cuts the batch into [`SNAPPY_BLOCK_SIZE`] pieces, whatever the sizes of the writes, and
/// compresses each full piece straight into the output.
struct SnappyBlocks {
    framing: SnappyFraming,
    /// Boxed: the encoder carries its 2 KiB-odd hash table inline.
    encoder: Box<snap::raw::Encoder>,
    /// Input not yet compressed, always shorter than a block between calls.
    pending: Vec<u8>,
    out: Vec<u8>,
}

impl SnappyBlocks {
    fn new(framing: SnappyFraming) -> Self {
        let out = match framing {
            SnappyFraming::SnappyJava => SNAPPY_JAVA_HEADER.to_vec(),
            SnappyFraming::Hadoop => Vec::new(),
        };
        SnappyBlocks {
            framing,
            encoder: Box::new(snap::raw::Encoder::new()),
            pending: Vec::with_capacity(SNAPPY_BLOCK_SIZE),
            out,
        }
    }

    fn write(&mut self, mut data: &[u8]) -> Result<(), snap::Error> {
        while !data.is_empty() {
            let room = SNAPPY_BLOCK_SIZE - self.pending.len();
            let taken = room.min(data.len());
            self.pending.extend_from_slice(&data[..taken]);
            data = &data[taken..];
            if self.pending.len() == SNAPPY_BLOCK_SIZE {
                self.flush_block()?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<u8>, CompressError> {
        if !self.pending.is_empty() {
            self.flush_block()?;
        }
        Ok(self.out)
    }

    /// Appends `pending` as one block, with the lengths its framing puts in front.
    fn flush_block(&mut self) -> Result<(), snap::Error> {
        debug_assert!(!self.pending.is_empty() && self.pending.len() <= SNAPPY_BLOCK_SIZE);
        if let SnappyFraming::Hadoop = self.framing {
            self.out
                .extend_from_slice(&block_length(self.pending.len()));
        }
        let length_at = self.out.len();
        let block_at = length_at + 4;
        self.out.resize(
            block_at + snap::raw::max_compress_len(self.pending.len()),
            0,
        );
        let compressed_len = self
            .encoder
            .compress(&self.pending, &mut self.out[block_at..])?;
        self.out.truncate(block_at + compressed_len);
        self.out[length_at..block_at].copy_from_slice(&block_length(compressed_len));
        self.pending.clear();
        Ok(())
    }
}

/// A length in a Snappy block header: big-endian `u32`. Blocks hold at most
/// [`SNAPPY_BLOCK_SIZE`] bytes of input, so their lengths always fit.
fn block_length(len: usize) -> [u8; 4] {
    u32::try_from(len)
        .expect("a snappy block of at most 32 KiB input has a length that fits in u32")
        .to_be_bytes()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Reads a snappy-java stream independently of the writer: header, then length-prefixed
    /// raw blocks.
    fn read_snappy_java(object: &[u8]) -> Vec<u8> {
        assert_eq!(object[..16], SNAPPY_JAVA_HEADER, "snappy-java header");
        let mut rest = &object[16..];
        let mut plain = Vec::new();
        let mut decoder = snap::raw::Decoder::new();
        while !rest.is_empty() {
            let (len, tail) = take_u32(rest);
            let (block, tail) = tail.split_at(len);
            plain.extend(decoder.decompress_vec(block).expect("a valid raw block"));
            rest = tail;
        }
        plain
    }

    /// Reads Hadoop's block format the way `BlockDecompressorStream` does: each block's
    /// uncompressed length, then chunks until that many bytes came out. Also returns how many
    /// blocks there were.
    fn read_hadoop_snappy(object: &[u8]) -> (Vec<u8>, usize) {
        let mut rest = object;
        let mut plain = Vec::new();
        let mut blocks = 0;
        let mut decoder = snap::raw::Decoder::new();
        while !rest.is_empty() {
            let (block_len, tail) = take_u32(rest);
            rest = tail;
            blocks += 1;
            let mut block_plain = 0;
            while block_plain < block_len {
                let (chunk_len, tail) = take_u32(rest);
                let (chunk, tail) = tail.split_at(chunk_len);
                let decoded = decoder.decompress_vec(chunk).expect("a valid raw block");
                block_plain += decoded.len();
                plain.extend(decoded);
                rest = tail;
            }
            assert_eq!(block_plain, block_len, "block length matches its chunks");
        }
        (plain, blocks)
    }

    fn take_u32(bytes: &[u8]) -> (usize, &[u8]) {
        let (len, rest) = bytes.split_at(4);
        let len = u32::from_be_bytes(len.try_into().expect("four bytes"));
        (usize::try_from(len).expect("u32 fits in usize"), rest)
    }

    fn read_zip(object: &[u8]) -> (String, Vec<u8>) {
        let mut archive = zip::ZipArchive::new(Cursor::new(object)).expect("a zip archive");
        assert_eq!(archive.len(), 1, "one entry");
        let mut entry = archive.by_index(0).expect("the entry");
        assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
        let mut plain = Vec::new();
        entry.read_to_end(&mut plain).expect("the entry inflates");
        (entry.name().expect("a utf-8 name").to_string(), plain)
    }

    /// Decompresses `object` with a reader that shares no code with the writer.
    fn decompress(compression: Compression, object: &[u8]) -> Vec<u8> {
        match compression {
            Compression::Uncompressed => object.to_vec(),
            Compression::Gzip => {
                let mut plain = Vec::new();
                flate2::read::GzDecoder::new(object)
                    .read_to_end(&mut plain)
                    .expect("a gzip member");
                plain
            }
            Compression::Zip => read_zip(object).1,
            Compression::Snappy => read_snappy_java(object),
            Compression::HadoopSnappy => read_hadoop_snappy(object).0,
        }
    }

    /// Records of mixed, partly repetitive content, so blocks compress but not to nothing.
    fn sample_batch(len: usize) -> Vec<u8> {
        let mut batch = Vec::with_capacity(len);
        let mut n: u64 = 0;
        while batch.len() < len {
            n += 1;
            let record = format!(
                "{{\"seq\":{n},\"noise\":{}}}\n",
                n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            );
            batch.extend_from_slice(record.as_bytes());
        }
        batch.truncate(len);
        batch
    }

    #[test]
    fn every_model_name_round_trips() {
        for compression in Compression::ALL {
            assert_eq!(
                Compression::from_model(compression.model_name()),
                Some(compression)
            );
        }
    }

    #[test]
    fn unknown_and_miscased_names_are_rejected() {
        for name in [
            "",
            "SNAPPY",
            "snappy",
            "gzip",
            "Gzip",
            "HADOOP-SNAPPY",
            "ZSTD",
            "NONE",
        ] {
            assert_eq!(Compression::from_model(name), None, "{name:?}");
        }
    }

    #[test]
    fn extensions_and_encodings() {
        let table: Vec<_> = Compression::ALL
            .iter()
            .map(|c| (c.model_name(), c.file_extension(), c.content_encoding()))
            .collect();
        assert_eq!(
            table,
            [
                ("UNCOMPRESSED", "", None),
                ("GZIP", ".gz", Some("gzip")),
                ("ZIP", ".zip", Some("zip")),
                ("Snappy", ".snappy", Some("snappy-java")),
                ("HADOOP_SNAPPY", ".snappy", Some("hadoop-snappy")),
            ]
        );
    }

    #[test]
    fn small_batch_round_trips_in_every_format() {
        let batch = sample_batch(1000);
        for compression in Compression::ALL {
            let object = compress(compression, &batch).expect("compresses");
            assert_eq!(decompress(compression, &object), batch, "{compression:?}");
        }
    }

    #[test]
    fn empty_batch_round_trips_in_every_format() {
        for compression in Compression::ALL {
            let object = compress(compression, b"").expect("compresses");
            assert_eq!(decompress(compression, &object), b"", "{compression:?}");
        }
        assert_eq!(
            compress(Compression::Snappy, b"").expect("compresses"),
            SNAPPY_JAVA_HEADER
        );
        assert_eq!(
            compress(Compression::HadoopSnappy, b"").expect("compresses"),
            b""
        );
    }

    #[test]
    fn large_batch_round_trips_in_every_format() {
        // More than 256 KiB and not a whole number of blocks.
        let batch = sample_batch(300 * 1024 + 17);
        for compression in Compression::ALL {
            let object = compress(compression, &batch).expect("compresses");
            assert_eq!(decompress(compression, &object), batch, "{compression:?}");
        }
        let object = compress(Compression::HadoopSnappy, &batch).expect("compresses");
        let (_, blocks) = read_hadoop_snappy(&object);
        assert_eq!(blocks, batch.len().div_ceil(SNAPPY_BLOCK_SIZE));
    }

    #[test]
    fn many_small_writes_give_the_same_object_as_one_write() {
        let batch = sample_batch(100 * 1024 + 3);
        for compression in Compression::ALL {
            let mut compressor = match compression {
                Compression::Zip => Compressor::zip("batch"),
                other => other.compressor(),
            };
            for piece in batch.chunks(7) {
                compressor.write(piece).expect("writes");
            }
            compressor.write(b"").expect("an empty write is fine");
            let object = compressor.finish().expect("finishes");
            assert_eq!(decompress(compression, &object), batch, "{compression:?}");

            // DEFLATE's bytes may depend on how the input was fed (zlib-rs buffers differently
            // from miniz_oxide); the Snappy framings are Spate's own and must not.
            if !matches!(compression, Compression::Zip | Compression::Gzip) {
                let whole = compress(compression, &batch).expect("compresses");
                assert_eq!(object, whole, "{compression:?} independent of write sizes");
            }
        }
    }

    #[test]
    fn incompressible_blocks_round_trip() {
        let mut state: u64 = 1;
        let batch: Vec<u8> = (0..3 * SNAPPY_BLOCK_SIZE + 5)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        for compression in [Compression::Snappy, Compression::HadoopSnappy] {
            let object = compress(compression, &batch).expect("compresses");
            assert_eq!(decompress(compression, &object), batch, "{compression:?}");
        }
    }

    #[test]
    fn zip_entry_is_a_uuid_by_default_or_the_given_name() {
        let object = compress(Compression::Zip, b"a record").expect("compresses");
        let (name, plain) = read_zip(&object);
        assert!(uuid::Uuid::parse_str(&name).is_ok(), "{name:?} is a uuid");
        assert_eq!(plain, b"a record");

        let mut compressor = Compressor::zip("fixed-name");
        compressor.write(b"a record").expect("compresses");
        let (name, _) = read_zip(&compressor.finish().expect("compresses"));
        assert_eq!(name, "fixed-name");
    }

    /// The fixtures the Python helper is tested against must keep decoding to their plaintext
    /// here too, so the two readers agree on one set of bytes.
    #[test]
    fn python_fixtures_decode() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/python/fixtures/firehose");
        let plain = std::fs::read(dir.join("plain.txt")).expect("plain.txt fixture");
        for compression in Compression::ALL {
            let name = format!(
                "batch.{}{}",
                compression.model_name(),
                compression.file_extension()
            );
            let object = std::fs::read(dir.join(&name)).expect("fixture exists");
            assert_eq!(decompress(compression, &object), plain, "{name}");
        }
    }
}
