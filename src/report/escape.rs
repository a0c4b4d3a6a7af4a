//! Escaping for every output: input-derived text (DNS names, SNI, file
//! names, evidence) must never become markup or terminal control.

use std::borrow::Cow;

/// Escape for HTML text and attribute values (also valid for XML).
pub fn html(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) && !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 forbids most control characters even as references:
            // show them as visible escapes instead.
            c if c.is_control() && c != '\n' && c != '\t' => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escape for XML (JUnit): the same rules as [`html`].
pub fn xml(s: &str) -> Cow<'_, str> {
    html(s)
}

/// Visible escapes for control and bidi characters, for terminals and plain
/// text; clipped to `max` characters.
pub fn terminal(s: &str, max: usize) -> String {
    crate::error::sanitize(s, max)
}

/// Escape for a Markdown table cell or line: control characters made
/// visible, then HTML-significant and Markdown-significant characters escaped
/// so that a name can neither inject markup nor break the table.
pub fn markdown(s: &str) -> String {
    let s = terminal(s, 500);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_controls() {
        assert_eq!(
            html("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(html("a&b\u{1b}"), "a&amp;b\\u{1b}");
        assert!(matches!(html("s3.amazonaws.com"), Cow::Borrowed(_)));
    }

    #[test]
    fn markdown_escapes_table_breakers() {
        assert_eq!(markdown("a|b<i>*x*"), "a\\|b&lt;i&gt;\\*x\\*");
        assert_eq!(markdown("line\nbreak"), "line\\\\nbreak");
    }

    #[test]
    fn terminal_shows_escapes() {
        assert_eq!(terminal("<script>\u{1b}[2J", 80), "<script>\\u{1b}[2J");
    }
}
