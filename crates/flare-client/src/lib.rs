//! Native Rust NVFlare admin client (placeholder).
