//! Accessibility checks: axe-core (the npm package, installed by `scripts/setup.sh`) injected
//! into the page under test and run there, as an auditor's browser extension would.

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::harness::Browser;

/// The impacts a page must not have a single violation of.
const REFUSED_IMPACTS: [&str; 2] = ["serious", "critical"];

fn axe_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../node_modules/axe-core/axe.min.js")
}

/// axe-core's script, read once per test binary.
fn axe_source() -> anyhow::Result<&'static str> {
    static SOURCE: OnceLock<String> = OnceLock::new();
    if let Some(source) = SOURCE.get() {
        return Ok(source);
    }
    let path = axe_path();
    let source = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read axe-core at {}: run `make test` (scripts/setup.sh installs it with npm)",
            path.display()
        )
    })?;
    Ok(SOURCE.get_or_init(|| source))
}

/// Runs axe-core on the page as it is now and fails, listing each rule, its help and the
/// elements it found, when anything of impact serious or critical is wrong. `page` names the
/// page in the message.
pub async fn audit(browser: &Browser, page: &str) -> anyhow::Result<()> {
    let inject = format!("if (!window.axe) {{ {} }}", axe_source()?);
    browser
        .client
        .execute(&inject, vec![])
        .await
        .context("cannot inject axe-core into the page")?;
    let result = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then((r) => done({ violations: r.violations.map((v) => ({
                   id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary) })) }))
               .catch((e) => done({ error: String(e) }));",
            vec![],
        )
        .await
        .context("axe-core did not run")?;
    if let Some(error) = result.get("error") {
        bail!("axe-core failed on {page}: {error}");
    }
    let violations = result
        .get("violations")
        .and_then(Value::as_array)
        .context("axe-core gave no list of violations")?;
    let refused: Vec<String> = violations
        .iter()
        .filter(|v| {
            v.get("impact")
                .and_then(Value::as_str)
                .is_some_and(|impact| REFUSED_IMPACTS.contains(&impact))
        })
        .map(|v| {
            let field = |name: &str| {
                v.get(name)
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned()
            };
            let nodes: Vec<String> = v
                .get("nodes")
                .and_then(Value::as_array)
                .map(|nodes| {
                    nodes
                        .iter()
                        .filter_map(|n| n.as_str().map(|s| format!("      {s}")))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "  {} ({}): {}\n{}",
                field("id"),
                field("impact"),
                field("help"),
                nodes.join("\n")
            )
        })
        .collect();
    if !refused.is_empty() {
        bail!(
            "{page} has {} accessibility violation(s) of impact serious or critical:\n{}",
            refused.len(),
            refused.join("\n")
        );
    }
    Ok(())
}
