//! `make screenshots`: a PNG of every page of the web client at 1280 x 800 and at 390 x 844,
//! taken by headless Chromium through the browser tests' harness, into `target/screenshots/`
//! (`<page>-<width>x<height>.png`), for a person to look at.

use std::path::PathBuf;

use anyhow::Context;
use e2e::Vendor;
use e2e::tour::{self, ADMIN_PAGES, LOGIN, NARROW, Page, WIDE};

fn out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots")
}

async fn shoot(browser: &e2e::Browser, page: &Page, size: (u32, u32)) -> anyhow::Result<()> {
    tour::visit(browser, page).await?;
    let png = browser
        .client
        .screenshot()
        .await
        .with_context(|| format!("cannot take a screenshot of {}", page.name))?;
    let path = out_dir().join(format!("{}-{}x{}.png", page.name, size.0, size.1));
    std::fs::write(&path, png).with_context(|| format!("cannot write {}", path.display()))?;
    println!("{}", path.display());
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    std::fs::create_dir_all(out_dir())
        .with_context(|| format!("cannot create {}", out_dir().display()))?;
    let vendor = Vendor::new();
    let (_tmc, browser) = tour::arrange(&vendor).await?;
    for size in [WIDE, NARROW] {
        tour::resize(&browser, size).await?;
        shoot(&browser, &LOGIN, size).await?;
    }
    tour::log_in(&browser).await?;
    for size in [WIDE, NARROW] {
        tour::resize(&browser, size).await?;
        for page in &ADMIN_PAGES {
            shoot(&browser, page, size).await?;
        }
    }
    browser.close().await
}
