//! Measurement helpers for the relay benchmarks: process figures from `/proc`, NVFlare's server
//! audit log as an outside count of admin commands, and percentiles.
//!
//! The benchmark program itself is `benches/fanout.rs` (run by `scripts/bench-fanout.sh`).

pub mod audit;
pub mod procfs;
pub mod stats;
