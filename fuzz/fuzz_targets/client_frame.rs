//! Fuzz target: a browser text frame through the relay's `ClientFrame` parser.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = flare_relay::fuzzing::client_frame(data);
});
