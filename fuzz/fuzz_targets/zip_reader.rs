//! Fuzz target: a zip archive unpacked as a relay upload and read as a client job zip.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = flare_relay::fuzzing::zip_reader(data);
});
