//! Entry point of the SMS web client: mounts the app into the page's `<body>`.

fn main() {
    // A panic stops the app (the wasm build aborts): say what and where in the console first.
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("SMS web client panicked: {info}").into());
    }));
    leptos::mount::mount_to_body(frontend::App);
}
