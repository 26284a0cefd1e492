//! The web client's build steps, in the order `xtask web` runs them. File names and the HTML it
//! writes are what the server expects of `dist/` (docs/web-client.md, "The build"; the hashed
//! names: `backend/src/http/static_files.rs`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256, Sha384};

/// The wasm32 build's environment: the standard library built with the app, panics that stop
/// the wasm at once, no `{:?}` formatting, legacy symbol names (which `make size` reads), no
/// automatic cross-crate inlining of small functions (LTO still inlines what pays). These are
/// unstable options, opened for this build only on the stable toolchain (docs/web-client.md).
const WASM_ENV: [(&str, &str); 3] = [
    ("RUSTC_BOOTSTRAP", "1"),
    ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort"),
    (
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        "-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Csymbol-mangling-version=legacy -Zcross-crate-inline-threshold=never",
    ),
];

/// The wasm-opt release the build needs: older binaryen builds a wasm that fails in the browser.
const WASM_OPT_VERSION: &str = "version 132";

/// Where the page's stylesheet and app go in `frontend/index.html`.
const STYLE_MARK: &str = r#"<link data-build="style" href="style.css" />"#;
const APP_MARK: &str = r#"<link data-build="app" />"#;

/// The workspace root: the folder above this crate.
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_owned()
}

/// Cargo's target folder: `CARGO_TARGET_DIR` when set, else `target/` at the root.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Builds the web client into `dist`, which is replaced in one step once everything is there.
pub fn build(root: &Path, dist: &Path) -> anyhow::Result<()> {
    check_wasm_opt()?;
    let target = target_dir(root);
    let wasm = compile(root, &target)?;

    let work = target.join("web-build");
    let bindgen_dir = work.join("bindgen");
    remove_dir_if_there(&bindgen_dir)?;
    bindgen(&wasm, &bindgen_dir, false)?;
    if bindgen_dir.join("snippets").exists() {
        bail!(
            "the web client now uses JavaScript snippets (wasm-bindgen's `inline_js` or `module`), \
             which this build does not place in dist/ yet: teach xtask/src/web.rs to copy them"
        );
    }
    let optimised = work.join("frontend_bg.wasm");
    optimise(&bindgen_dir.join("frontend_bg.wasm"), &optimised)?;

    let stage = staging_dir(dist)?;
    remove_dir_if_there(&stage)?;
    fs::create_dir_all(&stage).with_context(|| format!("cannot create {}", stage.display()))?;
    let js = place(
        &stage,
        "frontend",
        ".js",
        &read(&bindgen_dir.join("frontend.js"))?,
    )?;
    let app = place(&stage, "frontend", "_bg.wasm", &read(&optimised)?)?;
    let frontend = root.join("frontend");
    let style = place(&stage, "style", ".css", &read(&frontend.join("style.css"))?)?;

    let template = fs::read_to_string(frontend.join("index.html"))
        .context("cannot read frontend/index.html")?;
    let page = index_html(&template, &js, &app, &style)?;
    fs::write(stage.join("index.html"), page).context("cannot write index.html")?;

    precompress(root, &stage)?;
    swap_in(&stage, dist)
}

/// `cargo build` of the `frontend` binary for wasm32 (profile `wasm-release`); the built wasm.
fn compile(root: &Path, target: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--locked",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
            "-p",
            "frontend",
            "--bin",
            "frontend",
        ])
        .envs(WASM_ENV)
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo could not build the web client ({status})");
    }
    Ok(target.join("wasm32-unknown-unknown/wasm-release/frontend.wasm"))
}

/// wasm-bindgen as `wasm-bindgen --target web --no-typescript --out-name frontend` would run,
/// writing `frontend.js` and `frontend_bg.wasm` into `out_dir`; `keep_debug` keeps the wasm's
/// debug sections (for `make size`).
pub fn bindgen(wasm: &Path, out_dir: &Path, keep_debug: bool) -> anyhow::Result<()> {
    if !wasm.exists() {
        bail!(
            "{} is missing: build the web client first (`make spa`)",
            wasm.display()
        );
    }
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .web(true)?
        .typescript(false)
        .omit_default_module_path(false)
        .keep_debug(keep_debug)
        .out_name("frontend")
        .generate(out_dir)
}

/// Refuses any wasm-opt but binaryen 132's (the npm package `scripts/setup.sh` installs).
fn check_wasm_opt() -> anyhow::Result<()> {
    let output = Command::new("wasm-opt").arg("--version").output().context(
        "cannot run wasm-opt: install it with scripts/setup.sh (npm package binaryen 132 in \
         node_modules/.bin, which must be on the PATH; `make` puts it there)",
    )?;
    let version = String::from_utf8_lossy(&output.stdout);
    if !version.contains(WASM_OPT_VERSION) {
        bail!(
            "wasm-opt is `{}`, the web client needs binaryen's {WASM_OPT_VERSION}: run \
             scripts/setup.sh and put node_modules/.bin first on the PATH",
            version.trim()
        );
    }
    Ok(())
}

/// wasm-opt for size, with the functions in name order (brotli packs the wasm better so).
fn optimise(input: &Path, output: &Path) -> anyhow::Result<()> {
    let status = Command::new("wasm-opt")
        .arg("-Oz")
        .arg(input)
        .arg("--reorder-functions-by-name")
        .arg("--output")
        .arg(output)
        .status()
        .context("cannot run wasm-opt")?;
    if !status.success() {
        bail!("wasm-opt could not optimise the web client ({status})");
    }
    Ok(())
}

/// A file the browser fetches, by its name in `dist/` and its integrity attribute's value.
struct Asset {
    name: String,
    integrity: String,
}

/// Writes `bytes` into `dir` as `<stem>-<16 hex of their SHA-256><suffix>`: a name that changes
/// whenever the content does, so the server can let browsers keep it for a year.
fn place(dir: &Path, stem: &str, suffix: &str, bytes: &[u8]) -> anyhow::Result<Asset> {
    let digest = hex::encode(Sha256::digest(bytes));
    let name = format!("{stem}-{}{suffix}", &digest[..16]);
    fs::write(dir.join(&name), bytes).with_context(|| format!("cannot write {name}"))?;
    Ok(Asset {
        name,
        integrity: format!("sha384-{}", BASE64.encode(Sha384::digest(bytes))),
    })
}

/// `index.html` from `frontend/index.html`: the stylesheet and the app's loader where their
/// marks are, and the two files the loader fetches preloaded at the end of the head.
fn index_html(template: &str, js: &Asset, app: &Asset, style: &Asset) -> anyhow::Result<String> {
    for mark in [STYLE_MARK, APP_MARK, "</head>"] {
        if template.matches(mark).count() != 1 {
            bail!("frontend/index.html must hold `{mark}` once");
        }
    }
    let stylesheet = format!(
        r#"<link rel="stylesheet" href="/{}" integrity="{}"/>"#,
        style.name, style.integrity
    );
    let loader = format!(
        "<script type=\"module\">\nimport init from '/{}';\nawait init({{ module_or_path: '/{}' }});\n</script>",
        js.name, app.name
    );
    let preloads = format!(
        concat!(
            r#"<link rel="modulepreload" href="/{}" crossorigin="anonymous" integrity="{}">"#,
            r#"<link rel="preload" href="/{}" crossorigin="anonymous" integrity="{}" as="fetch" type="application/wasm">"#,
        ),
        js.name, js.integrity, app.name, app.integrity
    );
    Ok(template
        .replace(STYLE_MARK, &stylesheet)
        .replace(APP_MARK, &loader)
        .replace("</head>", &format!("{preloads}\n  </head>")))
}

/// `.br` and `.gz` copies beside the files that compress (scripts/precompress.mjs, Node's zlib).
fn precompress(root: &Path, dir: &Path) -> anyhow::Result<()> {
    let status = Command::new("node")
        .arg(root.join("scripts/precompress.mjs"))
        .arg(dir)
        .status()
        .context("cannot run node (scripts/precompress.mjs)")?;
    if !status.success() {
        bail!("scripts/precompress.mjs failed ({status})");
    }
    Ok(())
}

/// The folder the build is staged in: beside `dist`, on the same file system.
fn staging_dir(dist: &Path) -> anyhow::Result<PathBuf> {
    let name = dist
        .file_name()
        .with_context(|| format!("{} has no folder name", dist.display()))?;
    let mut staged = name.to_owned();
    staged.push(".new");
    Ok(dist.with_file_name(staged))
}

/// Puts `stage` in the place of `dist` in one step (a server reading `dist` sees the old build
/// or the new one, never a mix), then removes the old build.
fn swap_in(stage: &Path, dist: &Path) -> anyhow::Result<()> {
    if !dist.exists() {
        return fs::rename(stage, dist)
            .with_context(|| format!("cannot move {} to {}", stage.display(), dist.display()));
    }
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        stage,
        rustix::fs::CWD,
        dist,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .with_context(|| format!("cannot swap {} with {}", stage.display(), dist.display()))?;
    // `stage` now holds the previous build.
    remove_dir_if_there(stage)
}

fn remove_dir_if_there(dir: &Path) -> anyhow::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(err).with_context(|| format!("cannot remove {}", dir.display()))
        }
        _ => Ok(()),
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}
