//! What a keyboard-only user does: keys pressed through WebDriver's actions (real key events
//! in the page), never clicks. Each move to a control also checks that the focus shows.

use anyhow::{Context, bail};
use fantoccini::Locator;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde_json::{Value, json};

use crate::harness::Browser;

/// How many presses of Tab may lead from one control to the next before a test gives up.
const MAX_TABS: usize = 80;

/// Presses and releases `keys` in order, each with the modifiers held (e.g. `[Key::Shift]`).
async fn send(browser: &Browser, modifiers: &[Key], keys: &[char]) -> anyhow::Result<()> {
    let mut actions = KeyActions::new("keyboard".into());
    for modifier in modifiers {
        actions = actions.then(KeyAction::Down {
            value: (*modifier).into(),
        });
    }
    for key in keys {
        actions = actions
            .then(KeyAction::Down { value: *key })
            .then(KeyAction::Up { value: *key });
    }
    for modifier in modifiers.iter().rev() {
        actions = actions.then(KeyAction::Up {
            value: (*modifier).into(),
        });
    }
    browser
        .client
        .perform_actions(actions)
        .await
        .context("cannot press keys in the browser")?;
    Ok(())
}

/// Presses one key (Tab, Enter, Space as `' '`, an arrow...).
pub async fn press(browser: &Browser, key: impl Into<char>) -> anyhow::Result<()> {
    send(browser, &[], &[key.into()]).await
}

/// Presses Shift+Tab.
pub async fn shift_tab(browser: &Browser) -> anyhow::Result<()> {
    send(browser, &[Key::Shift], &[Key::Tab.into()]).await
}

/// Types `text` into the focused field, key by key.
pub async fn type_text(browser: &Browser, text: &str) -> anyhow::Result<()> {
    let keys: Vec<char> = text.chars().collect();
    send(browser, &[], &keys).await
}

/// What has the focus: its id (or tag) and text, for messages.
async fn focused(browser: &Browser) -> anyhow::Result<String> {
    let described = browser
        .client
        .execute(
            "const e = document.activeElement;
             if (!e || e === document.body) return 'nothing (the page itself)';
             return (e.id ? '#' + e.id : e.tagName.toLowerCase()) + ' ' +
                 JSON.stringify((e.innerText || e.value || '').trim().slice(0, 40));",
            vec![],
        )
        .await?;
    Ok(described.as_str().unwrap_or("?").to_owned())
}

/// The CSS selector of a control's locator (`find`'s are CSS selectors or ids).
fn css_of(what: Locator<'_>) -> anyhow::Result<String> {
    match what {
        Locator::Css(css) => Ok(css.to_owned()),
        Locator::Id(id) => Ok(format!("#{id}")),
        other => bail!("the focus can be checked on CSS selectors and ids, not {other:?}"),
    }
}

/// Whether the focused element matches `css`.
async fn focus_matches(browser: &Browser, css: &str) -> anyhow::Result<bool> {
    let matches = browser
        .client
        .execute(
            "const e = document.activeElement; return !!e && e.matches(arguments[0]);",
            vec![json!(css)],
        )
        .await?;
    Ok(matches.as_bool().unwrap_or(false))
}

/// Fails unless the focused element shows that it has the focus (an outline or a ring).
pub async fn focus_is_visible(browser: &Browser) -> anyhow::Result<()> {
    let shown = browser
        .client
        .execute(
            "const e = document.activeElement;
             if (!e || e === document.body) return false;
             const s = getComputedStyle(e);
             const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
             return outline || (s.boxShadow && s.boxShadow !== 'none');",
            vec![],
        )
        .await?;
    if shown != Value::Bool(true) {
        bail!("the focus on {} does not show", focused(browser).await?);
    }
    Ok(())
}

/// Presses Tab (or Shift+Tab when `backwards`) until the control `what` has the focus, and
/// checks that the focus shows on it; `name` says what it is in the message.
async fn move_to(
    browser: &Browser,
    what: Locator<'_>,
    name: &str,
    backwards: bool,
) -> anyhow::Result<()> {
    let css = css_of(what)?;
    let css = css.as_str();
    for _ in 0..MAX_TABS {
        if backwards {
            shift_tab(browser).await?;
        } else {
            press(browser, Key::Tab).await?;
        }
        if focus_matches(browser, css).await? {
            return focus_is_visible(browser)
                .await
                .with_context(|| format!("on {name}"));
        }
    }
    bail!(
        "{MAX_TABS} presses of {} did not reach {name} ({css}); the focus is on {}",
        if backwards { "Shift+Tab" } else { "Tab" },
        focused(browser).await?
    )
}

/// Tabs forward to the control `what`.
pub async fn tab_to(browser: &Browser, what: Locator<'_>, name: &str) -> anyhow::Result<()> {
    move_to(browser, what, name, false).await
}

/// Tabs backwards (Shift+Tab) to the control `what`.
pub async fn shift_tab_to(browser: &Browser, what: Locator<'_>, name: &str) -> anyhow::Result<()> {
    move_to(browser, what, name, true).await
}

/// Waits until the focus is on `what` (e.g. moved there by the page).
pub async fn focus_is_on(browser: &Browser, what: Locator<'_>, name: &str) -> anyhow::Result<()> {
    let css = css_of(what)?;
    let css = css.as_str();
    crate::check::until(&format!("the focus to be on {name}"), || async {
        match focus_matches(browser, css).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!(
                "the focus is on {}",
                focused(browser).await.unwrap_or_default()
            )),
            Err(err) => Err(err.to_string()),
        }
    })
    .await
}
