//! Entry point of the SMS web client: mounts the app into the page's `<body>`.
//!
//! A panic stops the wasm at once (the build's `immediate-abort`, see the Makefile); the page's
//! own script (`index.html`) then tells the admin to reload.

fn main() {
    leptos::mount::mount_to_body(frontend::App);
}
