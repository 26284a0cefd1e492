//! Every page of the web client, as a person visits them, at the two sizes the console is made
//! for: the accessibility and layout tests walk it, and `make screenshots` photographs it.

use anyhow::{Context, bail};
use fantoccini::Locator;
use serde_json::Value;

use crate::harness::{Browser, DriverPost};
use crate::tmc::Tmc;
use crate::{ADMIN_PASSWORD, Vendor, action, check};

/// One page: where it is, what shows once it has loaded, and its name (also the screenshot's).
pub struct Page {
    pub path: &'static str,
    pub ready: &'static str,
    pub name: &'static str,
}

/// The login page, seen before logging in.
pub const LOGIN: Page = Page {
    path: "/login",
    ready: "#login-form",
    name: "login",
};

/// Every page behind the login, with the tour's patches (see [`arrange`]).
pub const ADMIN_PAGES: [Page; 13] = [
    Page {
        path: "/admin/general",
        ready: "#patches-table",
        name: "general",
    },
    Page {
        path: "/patches/6.4.0.3",
        ready: "#details-page #release-notes",
        name: "patch-details",
    },
    Page {
        path: "/admin/patches/update",
        ready: "#update-page #patch-file",
        name: "update",
    },
    Page {
        path: "/admin/patches/import",
        ready: "#import-page #import-file",
        name: "import",
    },
    Page {
        path: "/admin/patches/install/6.4.0.2",
        ready: "#install-page h2",
        name: "install",
    },
    Page {
        path: "/admin/patches/rollback",
        ready: "#rollback-page h2",
        name: "rollback",
    },
    Page {
        path: "/admin/audit",
        ready: "#audit-table",
        name: "audit",
    },
    Page {
        path: "/admin/devices",
        ready: "#devices-page h1",
        name: "devices",
    },
    Page {
        path: "/admin/cluster",
        ready: "#cluster-page h1",
        name: "cluster",
    },
    Page {
        path: "/admin/maintenance",
        ready: "#maintenance-page h2",
        name: "maintenance",
    },
    Page {
        path: "/admin/notifications",
        ready: "#notifications-page h2",
        name: "notifications",
    },
    Page {
        path: "/admin/backups",
        ready: "#backups-page #backups-table",
        name: "backups",
    },
    Page {
        path: "/admin/no-such-page",
        ready: "#not-found",
        name: "not-found",
    },
];

/// A window the size of a laptop's browser.
pub const WIDE: (u32, u32) = (1280, 800);
/// A window the size of a phone's (390 x 844 CSS pixels).
pub const NARROW: (u32, u32) = (390, 844);

/// The tour's world: a TMC offering Patches 2 and 3 (with release notes), a browser on a
/// server that uses it, and one database backup taken on demand. Not logged in yet.
pub async fn arrange(vendor: &Vendor) -> anyhow::Result<(Tmc, Browser)> {
    let tmc = Tmc::start(vendor).await?;
    tmc.publish(vendor.package(2).title("Faster reports"))
        .await?;
    tmc.publish(vendor.package(3).title("New dashboards"))
        .await?;
    // Boxed, as the backup below: the server's start is a large future, and the tour's test
    // thread has a small stack.
    let browser = Box::pin(tmc.browser(vendor)).await?;
    let backup = backend::storage::backup::Request {
        reason: shared::backup::BackupReason::Manual,
        taken_by: "admin".into(),
        patch: None,
    };
    Box::pin(browser.state.backups.take(backup, None))
        .await
        .context("cannot take the tour's backup")?;
    Ok((tmc, browser))
}

/// Logs in as the tour's admin.
pub async fn log_in(browser: &Browser) -> anyhow::Result<()> {
    action::login(browser, "admin", ADMIN_PASSWORD).await
}

/// Opens `page` and waits until it has loaded (its content shows, nothing says "Loading").
pub async fn visit(browser: &Browser, page: &Page) -> anyhow::Result<()> {
    action::open(browser, page.path).await?;
    let loaded = async {
        check::visible(browser, Locator::Css(page.ready), page.name).await?;
        check::gone(browser, Locator::Css(".loading"), "the loading notes").await
    };
    match loaded.await {
        Ok(()) => Ok(()),
        Err(err) => {
            let console = match check::console_messages(browser).await {
                Ok(messages) => messages.join("\n"),
                Err(err) => format!("(cannot read it: {err})"),
            };
            Err(err.context(format!(
                "{} did not load; it shows: {}\nthe browser's console said:\n{console}",
                page.name,
                shown_text(browser).await
            )))
        }
    }
}

/// The first few hundred characters the page shows, to say in a failure what it was.
async fn shown_text(browser: &Browser) -> String {
    let text = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        browser
            .client
            .execute("return document.body.innerText.slice(0, 600) + ' REQ ' + performance.getEntriesByType('resource').map(e => e.name.replace(location.origin, '') + ' ' + Math.round(e.startTime) + '-' + Math.round(e.responseEnd)).join(', ') + ' NOW ' + Math.round(performance.now())", vec![]),
    )
    .await;
    match text {
        Ok(Ok(Value::String(text))) => format!("{text:?}"),
        Ok(Ok(other)) => other.to_string(),
        Ok(Err(err)) => format!("(cannot read it: {err})"),
        Err(_) => "(the browser did not answer within 5 s)".to_owned(),
    }
}

/// Makes the page's viewport `size` CSS pixels, for this page and the ones opened after it.
/// A headless Chromium window is never narrower than 500 pixels, so the size is set by
/// Chromium's device emulation (as its developer tools' device toolbar does), not by the
/// window's.
pub async fn resize(browser: &Browser, (width, height): (u32, u32)) -> anyhow::Result<()> {
    browser
        .client
        .issue_cmd(DriverPost {
            // A Chrome DevTools Protocol command.
            path: "goog/cdp/execute",
            body: serde_json::json!({
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": {
                    "width": width,
                    "height": height,
                    "deviceScaleFactor": 1,
                    "mobile": false,
                },
            }),
        })
        .await
        .context("cannot set the viewport's size")?;
    let inner = browser
        .client
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await?;
    let n = |i: usize| inner.get(i).and_then(Value::as_u64).unwrap_or(0);
    if (n(0), n(1)) != (u64::from(width), u64::from(height)) {
        bail!(
            "the viewport is {} x {}, not {width} x {height}",
            n(0),
            n(1)
        );
    }
    Ok(())
}

/// Fails when the page scrolls sideways: something is wider than the window.
pub async fn no_sideways_scroll(browser: &Browser, page: &str) -> anyhow::Result<()> {
    let found = browser
        .client
        .execute(
            "const width = document.documentElement.clientWidth;
             if (document.documentElement.scrollWidth <= width) return null;
             const wide = [...document.querySelectorAll('body *')]
               .filter((e) => e.getBoundingClientRect().right > width + 1)
               .filter((e) => !e.parentElement || e.parentElement.getBoundingClientRect().right <= width + 1)
               .slice(0, 5)
               .map((e) => (e.id ? '#' + e.id : e.tagName.toLowerCase() + '.' + [...e.classList].join('.'))
                          + ' (' + Math.round(e.getBoundingClientRect().right) + ' px)');
             return { page: document.documentElement.scrollWidth, window: width, wide };",
            vec![],
        )
        .await?;
    if !found.is_null() {
        bail!("{page} scrolls sideways: {found}");
    }
    Ok(())
}

/// Fails when something sticks out of the card it is in (wide tables scroll inside their own
/// box, and what they hold is left to it).
pub async fn nothing_spills_out_of_a_card(browser: &Browser, page: &str) -> anyhow::Result<()> {
    let found = browser
        .client
        .execute(
            "const spilled = [];
             for (const card of document.querySelectorAll('.card')) {
               const edge = card.getBoundingClientRect().right;
               for (const e of card.querySelectorAll('*')) {
                 if (e.closest('.table-scroll, .visually-hidden')) continue;
                 const right = e.getBoundingClientRect().right;
                 if (right > edge + 1 && e.parentElement.getBoundingClientRect().right <= edge + 1)
                   spilled.push((e.id ? '#' + e.id : e.tagName.toLowerCase() + '.' + [...e.classList].join('.'))
                     + ' (' + Math.round(right - edge) + ' px out)');
               }
             }
             return spilled.length ? spilled.slice(0, 5) : null;",
            vec![],
        )
        .await?;
    if !found.is_null() {
        bail!("{page}: something sticks out of its card: {found}");
    }
    Ok(())
}

/// Fails when the element `css` scrolls sideways inside its own box.
pub async fn fits_its_box(browser: &Browser, css: &str, name: &str) -> anyhow::Result<()> {
    let found = browser
        .client
        .execute(
            "const e = document.querySelector(arguments[0]);
             if (!e) return 'missing';
             let box = e.parentElement;
             while (box && box.scrollWidth <= box.clientWidth + 1 && box !== document.body) box = box.parentElement;
             if (e.scrollWidth > e.clientWidth + 1) return 'its own content is ' + e.scrollWidth + ' px in ' + e.clientWidth;
             if (box && box !== document.body && box.scrollWidth > box.clientWidth + 1)
               return 'its box scrolls: ' + box.scrollWidth + ' px in ' + box.clientWidth;
             return null;",
            vec![serde_json::json!(css)],
        )
        .await?;
    if !found.is_null() {
        bail!("{name} does not fit: {found}");
    }
    Ok(())
}
