//! Fuzz target: a LOBS/FOBS container (a reply payload) through the msgpack/FOBS decoder and the HCI reply checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = flare_client::fuzzing::fobs_decode(data);
});
