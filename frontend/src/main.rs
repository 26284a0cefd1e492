//! Entry point of the SMS web client: mounts the app into the page's `<body>`.

fn main() {
    leptos::mount::mount_to_body(frontend::App);
}
