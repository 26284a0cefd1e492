//! What a user sees, waited for: each check polls until it holds or the wait runs out, and then
//! fails saying what never appeared.

use std::future::Future;
use std::time::Duration;

use anyhow::bail;
use fantoccini::Locator;

use crate::harness::{Browser, DriverPost, WAIT};

/// How often a check looks at the page again.
const POLL: Duration = Duration::from_millis(100);

/// [`testkit::eventually`] with the browser tests' wait: polls `probe` until it returns `Ok`,
/// or fails after [`WAIT`] with `what` and the last state it saw (its `Err`).
pub async fn until<T, F, Fut>(what: &str, probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    testkit::eventually_every(what, WAIT, POLL, probe).await
}

/// The element's text, once it exists.
async fn text_of(browser: &Browser, what: Locator<'_>) -> Result<String, String> {
    match browser.client.find(what).await {
        Ok(element) => element.text().await.map_err(|err| err.to_string()),
        Err(_) => Err(format!(
            "no element {what:?} on {}",
            current_path(browser).await
        )),
    }
}

async fn current_path(browser: &Browser) -> String {
    browser
        .client
        .current_url()
        .await
        .map(|url| url.path().to_owned())
        .unwrap_or_else(|err| format!("<unknown: {err}>"))
}

/// Waits until `what` is on the page and displayed.
pub async fn visible(browser: &Browser, what: Locator<'_>, name: &str) -> anyhow::Result<()> {
    until(&format!("{name} to be visible"), || async {
        match browser.client.find(what).await {
            Ok(element) => match element.is_displayed().await {
                Ok(true) => Ok(()),
                _ => Err(format!("{name} is hidden")),
            },
            Err(_) => Err(format!("{name} is not on {}", current_path(browser).await)),
        }
    })
    .await
}

/// Waits until the element's text contains `expected`.
pub async fn text_contains(
    browser: &Browser,
    what: Locator<'_>,
    expected: &str,
) -> anyhow::Result<()> {
    until(&format!("{what:?} to contain {expected:?}"), || async {
        let text = text_of(browser, what).await?;
        if text.contains(expected) {
            Ok(())
        } else {
            Err(format!("text {text:?}"))
        }
    })
    .await
}

/// Waits until the element's whole (trimmed) text is `expected`.
pub async fn text_is(browser: &Browser, what: Locator<'_>, expected: &str) -> anyhow::Result<()> {
    until(&format!("{what:?} to read {expected:?}"), || async {
        let text = text_of(browser, what).await?;
        if text.trim() == expected {
            Ok(())
        } else {
            Err(format!("text {text:?}"))
        }
    })
    .await
}

/// Waits until the browser shows `path`.
pub async fn at_path(browser: &Browser, path: &str) -> anyhow::Result<()> {
    until(&format!("the browser to be at {path}"), || async {
        let now = current_path(browser).await;
        if now == path {
            Ok(())
        } else {
            Err(format!("at {now}"))
        }
    })
    .await
}

/// Checks that no element matches `what` once `settled` (a sign the page finished rendering) is visible.
pub async fn absent(
    browser: &Browser,
    what: Locator<'_>,
    settled: Locator<'_>,
    name: &str,
) -> anyhow::Result<()> {
    visible(browser, settled, "the page").await?;
    if browser.client.find_all(what).await?.is_empty() {
        Ok(())
    } else {
        bail!("{name} is on the page but must not be")
    }
}

/// Waits until at least `n` elements match `what`; returns how many.
pub async fn count_at_least(
    browser: &Browser,
    what: Locator<'_>,
    n: usize,
) -> anyhow::Result<usize> {
    until(&format!("at least {n} of {what:?}"), || async {
        let found = browser
            .client
            .find_all(what)
            .await
            .map_err(|e| e.to_string())?
            .len();
        if found >= n {
            Ok(found)
        } else {
            Err(format!("{found} found"))
        }
    })
    .await
}

/// Waits until no element matches `what` any more.
pub async fn gone(browser: &Browser, what: Locator<'_>, name: &str) -> anyhow::Result<()> {
    until(&format!("{name} to go away"), || async {
        let found = browser
            .client
            .find_all(what)
            .await
            .map_err(|e| e.to_string())?
            .len();
        if found == 0 {
            Ok(())
        } else {
            Err(format!("{name} is still there"))
        }
    })
    .await
}

/// Waits until the control `what` can be used (is not disabled).
pub async fn enabled(browser: &Browser, what: Locator<'_>, name: &str) -> anyhow::Result<()> {
    is_enabled(browser, what, name, true).await
}

/// Waits until the control `what` cannot be used (is disabled).
pub async fn disabled(browser: &Browser, what: Locator<'_>, name: &str) -> anyhow::Result<()> {
    is_enabled(browser, what, name, false).await
}

async fn is_enabled(
    browser: &Browser,
    what: Locator<'_>,
    name: &str,
    wanted: bool,
) -> anyhow::Result<()> {
    let state = if wanted { "enabled" } else { "disabled" };
    until(&format!("{name} to be {state}"), || async {
        let element = browser
            .client
            .find(what)
            .await
            .map_err(|_| format!("{name} is not on the page"))?;
        let enabled = element.is_enabled().await.map_err(|e| e.to_string())?;
        if enabled == wanted {
            Ok(())
        } else {
            Err(format!("{name} is not {state}"))
        }
    })
    .await
}

/// Waits until the page's `<meta name="{name}">` has the content `expected`, or with `None`
/// until the page has no such tag (e.g. to tell which web client a window runs).
pub async fn meta_content(
    browser: &Browser,
    name: &str,
    expected: Option<&str>,
) -> anyhow::Result<()> {
    let wanted = match expected {
        Some(content) => format!("<meta name={name:?}> to say {content:?}"),
        None => format!("no <meta name={name:?}> on the page"),
    };
    until(&wanted, || async {
        let content = browser
            .client
            .execute(
                "const meta = document.querySelector(`meta[name=\"${CSS.escape(arguments[0])}\"]`);\n\
                 return meta ? meta.content : null;",
                vec![serde_json::Value::from(name)],
            )
            .await
            .map_err(|err| err.to_string())?;
        let content = content.as_str();
        if content == expected {
            Ok(())
        } else {
            match content {
                Some(content) => Err(format!("it says {content:?}")),
                None => Err("there is none".to_owned()),
            }
        }
    })
    .await
}

/// Waits until every image on the page has finished loading or failed to (so any `onerror`
/// handler would have run by now).
pub async fn images_settled(browser: &Browser) -> anyhow::Result<()> {
    until("every image on the page to finish loading", || async {
        let settled = browser
            .client
            .execute(
                "return Array.from(document.images).every(img => img.complete)",
                vec![],
            )
            .await
            .map_err(|e| e.to_string())?;
        if settled == serde_json::Value::Bool(true) {
            Ok(())
        } else {
            Err("an image is still loading".to_owned())
        }
    })
    .await
}

/// Checks that no script planted in page content ran: it would have set `window.__pwned`.
pub async fn no_injected_script_ran(browser: &Browser) -> anyhow::Result<()> {
    let untouched = browser
        .client
        .execute("return window.__pwned === undefined", vec![])
        .await?;
    if untouched == serde_json::Value::Bool(true) {
        Ok(())
    } else {
        bail!("a script from the release notes ran: window.__pwned is set")
    }
}

/// The browser console's messages since the last call (each read empties the log).
pub async fn console_messages(browser: &Browser) -> anyhow::Result<Vec<String>> {
    // chromedriver's log of the `browser` (the console).
    let entries = browser
        .client
        .issue_cmd(DriverPost {
            path: "se/log",
            body: serde_json::json!({ "type": "browser" }),
        })
        .await?;
    let Some(entries) = entries.as_array() else {
        bail!("chromedriver's browser log is not a list: {entries}");
    };
    Ok(entries
        .iter()
        .map(|entry| {
            format!(
                "{}: {}",
                entry["level"].as_str().unwrap_or("?"),
                entry["message"].as_str().unwrap_or_default()
            )
        })
        .collect())
}

/// Fails when the console reported a Content-Security-Policy violation since the last read.
pub async fn no_csp_violation(browser: &Browser) -> anyhow::Result<()> {
    let violations: Vec<String> = console_messages(browser)
        .await?
        .into_iter()
        .filter(|message| message.contains("Content Security Policy"))
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        bail!(
            "the page broke its Content-Security-Policy:\n{}",
            violations.join("\n")
        )
    }
}

/// Waits until the "server restarting / rebooting" bar has shown `state` (`restarting`,
/// `rebooting`) since [`crate::action::watch_server_link`].
pub async fn server_link_seen(browser: &Browser, state: &str) -> anyhow::Result<()> {
    until(&format!("the server bar to show {state:?}"), || async {
        let seen = browser
            .client
            .execute("return window.__serverLinkSeen || null;", vec![])
            .await
            .map_err(|err| err.to_string())?;
        let states: Vec<String> = seen
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if states.iter().any(|s| s == state) {
            Ok(())
        } else {
            Err(format!("states seen: {states:?}"))
        }
    })
    .await
}

/// Waits until the element's attribute `attribute` contains `expected`.
pub async fn attribute_contains(
    browser: &Browser,
    what: Locator<'_>,
    attribute: &str,
    expected: &str,
) -> anyhow::Result<()> {
    until(
        &format!("{what:?} to have {attribute} containing {expected:?}"),
        || async {
            let element = match browser.client.find(what).await {
                Ok(element) => element,
                Err(_) => {
                    return Err(format!(
                        "no element {what:?} on {}",
                        current_path(browser).await
                    ));
                }
            };
            let value = element
                .attr(attribute)
                .await
                .map_err(|err| err.to_string())?
                .unwrap_or_default();
            if value.contains(expected) {
                Ok(())
            } else {
                Err(format!("{attribute}={value:?}"))
            }
        },
    )
    .await
}

/// Waits until the element has the attribute `attribute` (whatever its value, e.g. `inert`).
pub async fn has_attribute(
    browser: &Browser,
    what: Locator<'_>,
    attribute: &str,
) -> anyhow::Result<()> {
    until(&format!("{what:?} to have {attribute}"), || async {
        let element = browser
            .client
            .find(what)
            .await
            .map_err(|_| format!("no element {what:?}"))?;
        match element
            .attr(attribute)
            .await
            .map_err(|err| err.to_string())?
        {
            Some(_) => Ok(()),
            None => Err(format!("no {attribute} attribute")),
        }
    })
    .await
}
