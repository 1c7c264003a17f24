//! Flare Console entry point: mounts the Leptos app on the page body.

fn main() {
    leptos::mount::mount_to_body(flare_console::App);
}
