//! flare-relay binary (placeholder).

fn main() {}
