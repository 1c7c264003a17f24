//! Fuzz target: a sequence of length-prefixed SFM frames fed to the blob-stream reassembler.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = flare_client::fuzzing::stream_reassembly(data);
});
