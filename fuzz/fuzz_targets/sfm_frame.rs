//! Fuzz target: one SFM frame (a WebSocket message from the NVFlare server) through the client's frame decoder.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = flare_client::fuzzing::sfm_frame(data);
});
