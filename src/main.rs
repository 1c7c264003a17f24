//! Flare Console entry point: mounts the Leptos app (placeholder until the console lands).

fn main() {}
