//! `xtask`: the web client's build, run by `make` (docs/web-client.md, "The build").
//!
//! - `xtask web [--dist DIR]` builds the client into `DIR` (default `dist/` at the workspace
//!   root): cargo for `wasm32-unknown-unknown`, wasm-bindgen (the library behind its command
//!   line), wasm-opt (npm package binaryen 132), the stylesheet, `index.html` with hashed names
//!   and integrity attributes, `.br` and `.gz` copies; `DIR` is replaced in one step.
//! - `xtask bindgen [--keep-debug] WASM OUT_DIR` runs wasm-bindgen alone as its command line
//!   would (`--target web --no-typescript`): `make size` reads the names it keeps.

mod web;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: xtask web [--dist DIR] | xtask bindgen [--keep-debug] WASM OUT_DIR";

fn run(args: Vec<String>) -> anyhow::Result<()> {
    let root = web::workspace_root();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["web"] => web::build(&root, &root.join("dist")),
        ["web", "--dist", dist] => web::build(&root, &PathBuf::from(dist)),
        ["bindgen", rest @ ..] => {
            let keep_debug = rest.first() == Some(&"--keep-debug");
            let rest = if keep_debug { &rest[1..] } else { rest };
            let [wasm, out_dir] = rest else {
                bail!("{USAGE}");
            };
            web::bindgen(wasm.as_ref(), out_dir.as_ref(), keep_debug)
                .with_context(|| format!("wasm-bindgen failed on {wasm}"))
        }
        _ => bail!("{USAGE}"),
    }
}
