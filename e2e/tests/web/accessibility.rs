//! Every page, audited by axe-core and laid out at a laptop's and a phone's width: no
//! violation of impact serious or critical, no page that scrolls sideways, nothing that sticks
//! out of its card, and the SMS Patches panel's table whole at 1280 x 800.

use e2e::tour::{self, ADMIN_PAGES, LOGIN, NARROW, Page, WIDE};
use e2e::{Browser, Vendor, a11y};

/// Audits the page open now at `size`; what is wrong goes into `problems`.
async fn inspect(browser: &Browser, page: &Page, size: (u32, u32), problems: &mut Vec<String>) {
    let name = format!("{} at {} x {}", page.name, size.0, size.1);
    let mut checks = vec![
        a11y::audit(browser, &name).await,
        tour::no_sideways_scroll(browser, &name).await,
        tour::nothing_spills_out_of_a_card(browser, &name).await,
    ];
    if page.name == "general" && size == WIDE {
        checks.push(tour::fits_its_box(browser, "#patches-table", "the patches table").await);
    }
    problems.extend(
        checks
            .into_iter()
            .filter_map(|c| c.err().map(|e| format!("{e:#}"))),
    );
}

#[tokio::test]
async fn every_page_passes_axe_and_fits_a_wide_and_a_narrow_window() -> anyhow::Result<()> {
    let vendor = Vendor::new();
    let (_tmc, browser) = tour::arrange(&vendor).await?;
    let mut problems = Vec::new();
    for size in [NARROW, WIDE] {
        tour::resize(&browser, size).await?;
        tour::visit(&browser, &LOGIN).await?;
        inspect(&browser, &LOGIN, size, &mut problems).await;
    }
    tour::log_in(&browser).await?;
    for size in [WIDE, NARROW] {
        tour::resize(&browser, size).await?;
        for page in &ADMIN_PAGES {
            tour::visit(&browser, page).await?;
            inspect(&browser, page, size, &mut problems).await;
        }
    }
    browser.close().await?;
    anyhow::ensure!(problems.is_empty(), "{}", problems.join("\n\n"));
    Ok(())
}
