//! Unit tests: golden vectors from a captured Python session, codecs, signatures and kits, and the
//! connection actor against an in-process fake server.

mod actor;
mod args;
mod auth;
mod codec;
mod golden;
mod jobzip;
mod tls;

use std::path::PathBuf;

/// `crates/flare-client/tests/golden/<name>`.
pub(crate) fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

pub(crate) fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}
