//! GZIP written in independent pieces, so that several cores compress one object and a buffer
//! is compressed while it fills (as pigz does).
//!
//! Each piece is a raw DEFLATE stream of its own, ended by a sync flush: no back-reference
//! crosses into the previous piece, and the piece ends on a byte boundary with a non-final
//! block. Pieces concatenated, then an empty final block, form one valid DEFLATE stream; with
//! the gzip header and a trailer carrying the CRC-32 of all the pieces (combined from the
//! pieces' own) and the total length, one ordinary gzip member. Every gzip reader reads it as
//! it reads any other; the cost is a little compression at each piece's start (the 32 KiB
//! window starts empty), under 0.5% for pieces of [`PIECE_BYTES`].

use flate2::{Compress, FlushCompress, Status};

use super::CompressError;

/// How much input goes into one piece: large enough that the empty window at each start costs
/// nothing measurable, small enough that a 64 MiB buffer gives every core work.
pub const PIECE_BYTES: usize = 4 << 20;

/// A gzip header: magic, CM = deflate, no flags, no modification time, XFL 0, OS = unknown
/// (255), as zlib writes it when it knows neither.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// An empty DEFLATE block with BFINAL set (fixed Huffman codes, just the end-of-block code).
const FINAL_EMPTY_BLOCK: [u8; 2] = [0x03, 0x00];

/// One compressed piece: its DEFLATE bytes, and the CRC-32 and length of its input.
#[derive(Debug)]
pub struct Piece {
    deflate: Vec<u8>,
    crc: crc32fast::Hasher,
    len: u64,
}

impl Piece {
    /// Compresses `data` at `level` (1 to 9) into a piece.
    pub fn deflate(data: &[u8], level: u32) -> Result<Piece, CompressError> {
        let mut crc = crc32fast::Hasher::new();
        crc.update(data);
        let mut compress = Compress::new(flate2::Compression::new(level), false);
        let mut deflate = Vec::with_capacity(data.len() / 2 + 64);
        loop {
            if deflate.capacity() - deflate.len() < 64 {
                deflate.reserve(deflate.capacity().max(4096));
            }
            let consumed = compress.total_in() as usize;
            let status = compress
                .compress_vec(&data[consumed..], &mut deflate, FlushCompress::Sync)
                .map_err(|err| CompressError::Gzip(std::io::Error::other(err)))?;
            // A sync flush is complete once all the input is in and the output was not filled.
            let done =
                compress.total_in() as usize == data.len() && deflate.len() < deflate.capacity();
            if done || status == Status::StreamEnd {
                break;
            }
        }
        Ok(Piece {
            deflate,
            crc,
            len: data.len() as u64,
        })
    }
}

/// Joins pieces, in input order, into one gzip member.
pub fn assemble(pieces: impl IntoIterator<Item = Piece>) -> Vec<u8> {
    let pieces: Vec<Piece> = pieces.into_iter().collect();
    let size = pieces
        .iter()
        .map(|piece| piece.deflate.len())
        .sum::<usize>()
        + 20;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&HEADER);
    let mut crc = crc32fast::Hasher::new();
    let mut len: u64 = 0;
    for piece in pieces {
        out.extend_from_slice(&piece.deflate);
        crc.combine(&piece.crc);
        len += piece.len;
    }
    out.extend_from_slice(&FINAL_EMPTY_BLOCK);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    // ISIZE is the length modulo 2^32.
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out
}

/// Compresses `data` into one gzip member, cutting it into pieces compressed on up to
/// `threads` threads at once.
pub fn gzip(data: &[u8], level: u32, threads: usize) -> Result<Vec<u8>, CompressError> {
    let chunks: Vec<&[u8]> = data.chunks(PIECE_BYTES).collect();
    let threads = threads.clamp(1, chunks.len().max(1));
    if threads == 1 {
        let pieces = chunks
            .iter()
            .map(|chunk| Piece::deflate(chunk, level))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(assemble(pieces));
    }
    // Thread t takes chunks t, t + threads, ...; their pieces are put back in order after.
    let mut slots: Vec<Option<Piece>> = (0..chunks.len()).map(|_| None).collect();
    std::thread::scope(|scope| -> Result<(), CompressError> {
        let workers: Vec<_> = (0..threads)
            .map(|first| {
                let chunks = &chunks;
                scope.spawn(move || {
                    (first..chunks.len())
                        .step_by(threads)
                        .map(|index| Ok((index, Piece::deflate(chunks[index], level)?)))
                        .collect::<Result<Vec<_>, CompressError>>()
                })
            })
            .collect();
        for worker in workers {
            let done = worker.join().map_err(|_| {
                CompressError::Gzip(std::io::Error::other("a compression thread panicked"))
            })??;
            for (index, piece) in done {
                slots[index] = Some(piece);
            }
        }
        Ok(())
    })?;
    Ok(assemble(slots.into_iter().flatten()))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gunzip(object: &[u8]) -> Vec<u8> {
        // A single-member decoder: the object must be one gzip member, not several.
        let mut decoder = flate2::read::GzDecoder::new(object);
        let mut out = Vec::new();
        decoder.read_to_end(&mut out).expect("a valid gzip member");
        assert_eq!(decoder.into_inner().len(), 0, "nothing after the member");
        out
    }

    fn sample(len: usize) -> Vec<u8> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        (0..len)
            .map(|index| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Mostly text with some noise, so that it compresses but not to nothing.
                if index % 7 == 0 {
                    state as u8
                } else {
                    b"log line: status=200 path=/api/x\n"[index % 33]
                }
            })
            .collect()
    }

    #[test]
    fn pieces_make_one_gzip_member_of_the_whole_input() {
        for len in [
            0,
            1,
            1000,
            PIECE_BYTES,
            PIECE_BYTES + 1,
            3 * PIECE_BYTES + 12_345,
        ] {
            let data = sample(len);
            for threads in [1, 2, 3] {
                let object = gzip(&data, 1, threads).expect("compresses");
                assert_eq!(gunzip(&object), data, "len {len}, threads {threads}");
                let trailer = &object[object.len() - 8..];
                assert_eq!(
                    trailer[..4],
                    crc32fast::hash(&data).to_le_bytes(),
                    "the trailer's CRC"
                );
                assert_eq!(
                    trailer[4..],
                    (len as u32).to_le_bytes(),
                    "the trailer's size"
                );
            }
        }
    }

    #[test]
    fn every_level_reads_back_and_higher_levels_compress_more() {
        let data = sample(300_000);
        let sizes: Vec<usize> = [1, 6, 9]
            .iter()
            .map(|&level| {
                let object = assemble([Piece::deflate(&data, level).expect("compresses")]);
                assert_eq!(gunzip(&object), data);
                object.len()
            })
            .collect();
        assert!(sizes[0] >= sizes[1] && sizes[1] >= sizes[2], "{sizes:?}");
        assert!(sizes[2] < data.len() / 2, "it compresses: {sizes:?}");
    }

    #[test]
    fn the_system_gzip_reads_it() {
        let data = sample(2 * PIECE_BYTES + 99);
        let object = gzip(&data, 1, 2).expect("compresses");
        let dir = std::env::temp_dir().join(format!("spate-gzip-pieces-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("object.gz");
        std::fs::write(&path, &object).expect("written");
        let output = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(&path)
            .output();
        let _ = std::fs::remove_dir_all(&dir);
        match output {
            Ok(output) => {
                assert!(output.status.success(), "gzip -t: {output:?}");
                assert_eq!(output.stdout, data);
            }
            // No gzip program on this machine: the decoder test above stands alone.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => panic!("running gzip: {err}"),
        }
    }
}
