//! Shard iterators (`spate_streams::iterator::IteratorCodec::open`), with the first byte choosing
//! what the rest is: even, the token text a client sends; odd, the plaintext of a token sealed
//! under the target's key ([`spate_fuzz::seal_iterator_plaintext`]), which reaches the parsing
//! behind the AES-GCM check. An iterator that opens must seal and open again to the same state.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use spate_streams::iterator::IteratorCodec;

static CODEC: LazyLock<IteratorCodec> =
    LazyLock::new(|| IteratorCodec::new(&spate_fuzz::ITERATOR_KEY));

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = if mode % 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        spate_fuzz::seal_iterator_plaintext(rest)
    };
    if let Some(state) = CODEC.open(&token) {
        assert_eq!(CODEC.open(&CODEC.seal(&state)), Some(state));
    }
});
