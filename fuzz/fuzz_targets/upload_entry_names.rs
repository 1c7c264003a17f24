//! Fuzz target: an upload entry name through the relay's and the client's entry-name checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = flare_relay::fuzzing::upload_entry_names(data);
});
