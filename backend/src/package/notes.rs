//! Release notes: Markdown from the vendor, rendered to HTML and sanitized before any browser
//! sees it (a `<script>` or an `onerror=` in the notes must never run).

use pulldown_cmark::{Options, Parser, html};

/// The only elements release notes keep: text structure, lists, tables, code, links, images.
const TAGS: [&str; 29] = [
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Renders Markdown to sanitized HTML, with a strict allowlist: the elements of [`TAGS`] with
/// no attributes but a link's `href` and `title` and an image's `src`, `alt` and `title`;
/// links only to `http`, `https` and `mailto` addresses, opening in a new tab with
/// `rel="noopener noreferrer nofollow"`; images only from `data:image/` URLs, so reading the
/// notes never makes the browser fetch from anywhere (no tracking, no remote content).
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::empty()
        .add_tags(TAGS)
        .add_tag_attributes("a", ["href", "title"])
        .add_tag_attributes("img", ["src", "alt", "title"])
        .url_schemes(["http", "https", "mailto", "data"].into())
        .url_relative(ammonia::UrlRelative::Deny)
        .attribute_filter(|element, attribute, value| {
            let is_data = value
                .trim_start()
                .get(..5)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("data:"));
            let keep = match (element, attribute) {
                ("img", "src") => value.trim_start().starts_with("data:image/"),
                (_, "href") => !is_data,
                _ => true,
            };
            keep.then(|| value.into())
        })
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank")
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
        // A bulleted list keeps its list: screen readers announce it as one.
        assert!(html.contains("<ul>\n<li>"), "{html}");
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

    #[test]
    fn remote_images_and_styles_are_dropped_and_links_open_safely() {
        let html = render(
            "![tracker](https://evil.example/pixel.png) ![inline](data:image/png;base64,iVBORw0KGgo=) \
             [doc](https://vendor.example/kb) [data](data:text/html,<b>x</b>) \
             <span style=\"color:red\">styled</span> <iframe src=\"https://x\"></iframe> \
             <form action=\"/api\"><input name=a></form>\n\n| a |\n|:-:|\n| 1 |",
        );
        assert!(!html.contains("evil.example"), "{html}");
        assert!(html.contains("src=\"data:image/png;base64,"), "{html}");
        assert!(
            html.contains(
                "href=\"https://vendor.example/kb\" rel=\"noopener noreferrer nofollow\""
            ) || html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
        assert!(html.contains("target=\"_blank\""), "{html}");
        assert!(!html.contains("data:text"), "{html}");
        assert!(!html.contains("style="), "{html}");
        assert!(!html.contains("<iframe"), "{html}");
        assert!(!html.contains("<form"), "{html}");
        assert!(!html.contains("<input"), "{html}");
        assert!(!html.contains("<span"), "{html}");
        assert!(html.contains("styled"), "{html}");
    }
}
