//! Release notes: Markdown from the vendor, rendered to HTML and sanitized before any browser
//! sees it (a `<script>` or an `onerror=` in the notes must never run).

use pulldown_cmark::{Options, Parser, html};

/// Renders Markdown to sanitized HTML.
pub fn render(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_becomes_html() {
        let html =
            render("## Fixes\n\n- **CVE-2026-0001**: fixed\n\n| a | b |\n|---|---|\n| 1 | 2 |");
        assert!(html.contains("<h2>Fixes</h2>"), "{html}");
        assert!(html.contains("<strong>CVE-2026-0001</strong>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
    }

    #[test]
    fn scripts_and_handlers_are_removed() {
        let html = render(
            "Hi <script>alert(1)</script> <img src=x onerror=\"alert(2)\"> \
             [link](javascript:alert(3)) <a href=\"https://example.com\" onclick=\"x()\">ok</a>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(html.contains("https://example.com"), "{html}");
    }
}
