//! One buffer per request body for the blobs and texts decoded out of it.
//!
//! Without it every blob member becomes its own allocation (and in JSON a second one for the
//! base64 text), so a PutRecords call of 500 records allocates 1,000 times and the log later frees
//! each record's data separately, from another thread. Inside [`with_arena`], the blob and text
//! codecs ([`crate::codec::opt_blob`], [`crate::codec::opt_text`], ...) decode into one buffer
//! sized from the body instead and hand out [`Bytes`] views of it: one allocation per request,
//! and the buffer is freed when the last record that views it is dropped.
//!
//! The arena is a thread-local that exists only for the duration of the synchronous decode
//! call, so nothing async can observe it; outside [`with_arena`] the codecs allocate per member
//! as before. It hands out chunks of at most [`CHUNK_BYTES`], and members of [`OWN_BUFFER_BYTES`]
//! or more get an exact buffer of their own, where one allocation is cheap next to the bytes: a
//! view keeps its whole chunk alive, so a chunk's unused end and the records it shares with are
//! the memory a held record can pin, at most one chunk.

use std::cell::RefCell;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};

/// The most one arena buffer holds; a request whose members need more gets further chunks.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Members this large (decoded) get a buffer of their own instead of a share of a chunk.
pub const OWN_BUFFER_BYTES: usize = 8 * 1024;

/// The buffer members are decoded into: the current chunk, split off member by member.
struct Arena {
    /// Empty (no allocation) until the first member arrives, so requests without blobs or
    /// texts, most of them, pay nothing.
    chunk: BytesMut,
    /// Capacity of the next chunk when this one runs out: the body's size (up to
    /// [`CHUNK_BYTES`]) for the first, [`CHUNK_BYTES`] after.
    next_chunk_bytes: usize,
}

impl Arena {
    /// A chunk with room for `len` more bytes.
    fn room_for(&mut self, len: usize) -> &mut BytesMut {
        if self.chunk.capacity() - self.chunk.len() < len {
            self.chunk = BytesMut::with_capacity(self.next_chunk_bytes.max(len));
            self.next_chunk_bytes = CHUNK_BYTES;
        }
        &mut self.chunk
    }
}

thread_local! {
    static ARENA: RefCell<Option<Arena>> = const { RefCell::new(None) };
}

/// Runs `decode` with an arena for the blobs and texts it decodes, sized for `capacity` bytes
/// (up to [`CHUNK_BYTES`] at first).
///
/// `capacity` should bound what will be decoded (a request body's length does: base64 and JSON
/// escapes only shrink when decoded, CBOR byte strings keep their size); going over it is
/// correct, just one more allocation.
pub fn with_arena<R>(capacity: usize, decode: impl FnOnce() -> R) -> R {
    /// Puts back the arena that was there before, also when `decode` unwinds.
    struct Restore(Option<Arena>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            ARENA.with(|arena| *arena.borrow_mut() = previous);
        }
    }
    let arena = Arena {
        chunk: BytesMut::new(),
        next_chunk_bytes: capacity.min(CHUNK_BYTES),
    };
    let previous = ARENA.with(|cell| cell.replace(Some(arena)));
    let _restore = Restore(previous);
    decode()
}

/// `bytes` as [`Bytes`]: a view of the arena when there is one, else a copy of its own.
pub(crate) fn copy(bytes: &[u8]) -> Bytes {
    if bytes.len() >= OWN_BUFFER_BYTES {
        return Bytes::copy_from_slice(bytes);
    }
    ARENA.with(|arena| match arena.borrow_mut().as_mut() {
        Some(arena) => {
            let chunk = arena.room_for(bytes.len());
            chunk.extend_from_slice(bytes);
            chunk.split().freeze()
        }
        None => Bytes::copy_from_slice(bytes),
    })
}

/// Decodes standard base64 (with padding) into the arena when there is one.
///
/// Decoding runs on SIMD (`base64-simd`, several times the scalar speed: record data is most of
/// a PutRecords body); input it refuses is decoded again by the `base64` crate, whose errors
/// say what is wrong and where.
pub(crate) fn decode_base64(text: &str) -> Result<Bytes, base64::DecodeError> {
    let estimate = base64::decoded_len_estimate(text.len());
    if estimate >= OWN_BUFFER_BYTES {
        return match base64_simd::STANDARD.decode_to_vec(text) {
            Ok(data) => Ok(Bytes::from(data)),
            Err(_) => Err(refusal(text)),
        };
    }
    ARENA.with(|arena| match arena.borrow_mut().as_mut() {
        Some(arena) => {
            let chunk = arena.room_for(estimate);
            let start = chunk.len();
            chunk.resize(start + estimate, 0);
            let decoded = base64_simd::STANDARD
                .decode(
                    text.as_bytes(),
                    base64_simd::Out::from_slice(&mut chunk[start..]),
                )
                .map(|data| data.len());
            match decoded {
                Ok(written) => {
                    chunk.truncate(start + written);
                    Ok(chunk.split().freeze())
                }
                Err(_) => {
                    chunk.truncate(start);
                    Err(refusal(text))
                }
            }
        }
        None => match base64_simd::STANDARD.decode_to_vec(text) {
            Ok(data) => Ok(Bytes::from(data)),
            Err(_) => Err(refusal(text)),
        },
    })
}

/// Why `text`, which the SIMD decoder refused, is not valid base64.
fn refusal(text: &str) -> base64::DecodeError {
    match STANDARD.decode(text) {
        Err(err) => err,
        // The two decoders disagree; the stricter verdict stands.
        Ok(_) => base64::DecodeError::InvalidLength(text.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_share_one_buffer_and_outlive_the_arena() {
        let (first, second) = with_arena(64, || {
            let first = decode_base64("aGVsbG8=").expect("valid base64");
            let second = copy(b"world");
            (first, second)
        });
        assert_eq!(&first[..], b"hello");
        assert_eq!(&second[..], b"world");
        // Consecutive views of one buffer: the second starts where the first ends.
        assert_eq!(first.as_ptr().wrapping_add(first.len()), second.as_ptr());
    }

    #[test]
    fn without_an_arena_each_member_is_its_own_copy() {
        assert_eq!(&decode_base64("aGk=").expect("valid")[..], b"hi");
        assert_eq!(&copy(b"key")[..], b"key");
    }

    #[test]
    fn bad_base64_leaves_the_arena_as_it_was() {
        with_arena(16, || {
            assert!(decode_base64("!!!!").is_err());
            assert!(decode_base64("aGk").is_err(), "padding is required");
            assert!(
                decode_base64("aGl=").is_err(),
                "the unused bits must be zero"
            );
            assert!(decode_base64("aG k=").is_err(), "no whitespace");
            assert!(
                decode_base64("aGk=aGk=").is_err(),
                "padding only at the end"
            );
            assert_eq!(&decode_base64("").expect("empty is valid")[..], b"");
            let next = copy(b"ok");
            assert_eq!(&next[..], b"ok");
        });
    }

    #[test]
    fn large_members_get_their_own_buffer_and_small_ones_share_chunks() {
        let big = vec![9u8; OWN_BUFFER_BYTES];
        let (first, large, second) = with_arena(1 << 20, || (copy(b"ab"), copy(&big), copy(b"cd")));
        assert_eq!(&large[..], &big[..]);
        // The large member did not go into the chunk: the small ones are still adjacent.
        assert_eq!(first.as_ptr().wrapping_add(2), second.as_ptr());
        // A body larger than a chunk gets chunks of CHUNK_BYTES, never one body-sized buffer.
        let views = with_arena(10 * CHUNK_BYTES, || {
            (0..3 * CHUNK_BYTES / 4096)
                .map(|i| copy(&[i as u8; 4096]))
                .collect::<Vec<_>>()
        });
        let starts = views
            .windows(2)
            .filter(|pair| pair[0].as_ptr().wrapping_add(4096) != pair[1].as_ptr())
            .count();
        assert_eq!(starts, 2, "three chunks of 16 members each");
    }

    #[test]
    fn going_over_the_capacity_is_only_slower() {
        let views = with_arena(2, || (0..50).map(|i| copy(&[i; 7])).collect::<Vec<_>>());
        for (i, view) in views.iter().enumerate() {
            assert_eq!(&view[..], &[i as u8; 7]);
        }
    }

    #[test]
    fn the_arena_ends_with_the_call_even_on_unwind() {
        let unwound = std::panic::catch_unwind(|| with_arena(8, || panic!("decoder bug")));
        assert!(unwound.is_err());
        assert!(ARENA.with(|arena| arena.borrow().is_none()));
    }
}
