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
//! as before. Views keep the whole buffer alive, which costs at most the body's size per request
//! while any of its records is held.

use std::cell::RefCell;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};

thread_local! {
    static ARENA: RefCell<Option<BytesMut>> = const { RefCell::new(None) };
}

/// Runs `decode` with an arena of `capacity` bytes for the blobs and texts it decodes.
///
/// `capacity` should bound what will be decoded (a request body's length does: base64 and JSON
/// escapes only shrink when decoded, CBOR byte strings keep their size); going over it is
/// correct, just one more allocation.
pub fn with_arena<R>(capacity: usize, decode: impl FnOnce() -> R) -> R {
    /// Puts back the arena that was there before, also when `decode` unwinds.
    struct Restore(Option<BytesMut>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            ARENA.with(|arena| *arena.borrow_mut() = previous);
        }
    }
    let previous = ARENA.with(|arena| arena.replace(Some(BytesMut::with_capacity(capacity))));
    let _restore = Restore(previous);
    decode()
}

/// `bytes` as [`Bytes`]: a view of the arena when there is one, else a copy of its own.
pub(crate) fn copy(bytes: &[u8]) -> Bytes {
    ARENA.with(|arena| match arena.borrow_mut().as_mut() {
        Some(arena) => {
            arena.extend_from_slice(bytes);
            arena.split().freeze()
        }
        None => Bytes::copy_from_slice(bytes),
    })
}

/// Decodes standard base64 (with padding) into the arena when there is one.
pub(crate) fn decode_base64(text: &str) -> Result<Bytes, base64::DecodeError> {
    ARENA.with(|arena| match arena.borrow_mut().as_mut() {
        Some(arena) => {
            let start = arena.len();
            arena.resize(start + base64::decoded_len_estimate(text.len()), 0);
            match STANDARD.decode_slice(text, &mut arena[start..]) {
                Ok(written) => {
                    arena.truncate(start + written);
                    Ok(arena.split().freeze())
                }
                Err(err) => {
                    arena.truncate(start);
                    Err(match err {
                        base64::DecodeSliceError::DecodeError(err) => err,
                        // The estimate is an upper bound, so the output always fits.
                        base64::DecodeSliceError::OutputSliceTooSmall => {
                            base64::DecodeError::InvalidLength(text.len())
                        }
                    })
                }
            }
        }
        None => STANDARD.decode(text).map(Bytes::from),
    })
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
            let next = copy(b"ok");
            assert_eq!(&next[..], b"ok");
        });
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
