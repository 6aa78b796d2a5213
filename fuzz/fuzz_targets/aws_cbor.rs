//! AWS CBOR 1.1 request bodies (what the Java SDKs send): `selector byte | body`, decoded and
//! validated as the server decodes the selected operation's request
//! (`spate_streams::api::decode_request` with `Codec::Cbor`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use spate_wire::Codec;

fuzz_target!(|data: &[u8]| {
    spate_fuzz::decode_request_body(Codec::Cbor, data);
});
