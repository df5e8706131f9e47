//! Making user-controlled text safe to show.
//!
//! Resource ids, tags, AWS error messages and the text of user rule folders
//! all reach the reports. A name can carry an escape sequence that recolours
//! or rewrites the reader's terminal, a newline that forges a table row or a
//! Markdown heading, or characters that XML 1.0 cannot hold even escaped.
//! Every renderer passes such text through here before formatting it.

use std::borrow::Cow;
use std::iter::Peekable;
use std::str::Chars;

/// `text` on one line without escape sequences or control characters: line
/// breaks and tabs become spaces, everything else invisible is dropped.
pub fn one_line(text: &str) -> Cow<'_, str> {
    clean(text, false)
}

/// Like [`one_line`], but keeps line breaks (as `\n`).
pub fn multi_line(text: &str) -> Cow<'_, str> {
    clean(text, true)
}

fn clean(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    // Nearly every name and message is printable ASCII, which stays as it
    // is: checked a byte at a time, a large report's millions of texts are
    // not taken apart character by character.
    let as_is = |b: &u8| matches!(b, b' '..=b'~') || (keep_newlines && *b == b'\n');
    if text.as_bytes().iter().all(as_is) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // The 8-bit forms of CSI, DCS, SOS, OSC, PM and APC: some
            // terminals honour them, so drop what they introduce too.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                out.push(if keep_newlines { '\n' } else { ' ' });
            }
            '\t' | '\u{0b}' | '\u{0c}' => out.push(' '),
            c if is_invisible(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Characters that have no business in a report: controls (C0, DEL, C1);
/// bidirectional overrides, which make a name read differently from what it
/// is; and U+FFFE / U+FFFF, which XML 1.0 forbids.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{fffe}'
                | '\u{ffff}'
        )
}

/// Skips what follows an ESC (ECMA-48): a control sequence, a control
/// string, or intermediate bytes and one final byte.
fn skip_escape(chars: &mut Peekable<Chars<'_>>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        _ => {
            while chars
                .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                .is_some()
            {}
            chars.next_if(|c| ('\u{30}'..='\u{7e}').contains(c));
        }
    }
}

/// Skips the parameter and intermediate bytes and the final byte of a
/// control sequence. Anything else ends it early, as it does in a terminal,
/// and is then shown (or dropped) as ordinary text.
fn skip_csi(chars: &mut Peekable<Chars<'_>>) {
    while chars
        .next_if(|c| ('\u{20}'..='\u{3f}').contains(c))
        .is_some()
    {}
    chars.next_if(|c| ('\u{40}'..='\u{7e}').contains(c));
}

/// Skips a control string (an OSC title or hyperlink, say) up to its
/// terminator: BEL, ST, or an ESC that starts something else. An
/// unterminated one swallows the rest, as it would in the terminal.
fn skip_string(chars: &mut Peekable<Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

/// `text` as inline Markdown (CommonMark / GFM) that renders as exactly that
/// text: on one line, with HTML and Markdown metacharacters escaped.
///
/// Callers place it after fixed text of their own, never at the start of a
/// line; the leading list markers are escaped all the same.
pub fn markdown(text: &str) -> String {
    let text = one_line(text);
    let leading_digits = text.chars().take_while(char::is_ascii_digit).count();
    let mut out = String::with_capacity(text.len() + 16);
    for (i, c) in text.chars().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A resource named or tagged `@team` must not notify anybody when
            // the report is posted as a pull-request comment: a zero-width
            // space after `@` keeps the text and breaks the mention.
            '@' => out.push_str("@&#8203;"),
            // `$` starts GitHub's inline maths; `~` its strikethrough.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if i == leading_digits && i > 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` as an inline code span when that shows it faithfully, otherwise as
/// escaped text ([`markdown`]).
///
/// Nothing can be escaped inside a code span: a backtick would end it,
/// `&lt;` would show literally, a `|` still splits a GFM table cell, and
/// edge spaces are trimmed. Names holding any of these fall back to text.
pub fn markdown_code(text: &str) -> String {
    let text = one_line(text);
    let unsafe_in_span = text.is_empty()
        || text.starts_with(' ')
        || text.ends_with(' ')
        || text.contains(['`', '<', '>', '&', '|']);
    if unsafe_in_span {
        markdown(&text)
    } else {
        format!("`{text}`")
    }
}

/// A Markdown link to `target` (a relative path with an optional
/// `#fragment`) showing `text`: the text escaped as [`markdown`], the
/// target percent-encoded so that no character of a path can end the link
/// or start markup.
pub fn markdown_link(text: &str, target: &str) -> String {
    format!("[{}]({})", markdown(text), percent_encode(target, b"/.-_#"))
}

/// A file path as a URI reference (RFC 3986): relative paths stay relative,
/// absolute ones become `file://` URIs, and every byte but unreserved
/// characters and `/` is percent-encoded.
pub fn uri(path: &str) -> String {
    let encoded = percent_encode(path, b"/.-_~");
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

/// `text` with every byte but ASCII letters, digits and `keep` percent-encoded.
fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `text` as a SARIF plain-text message: on one line, and with square
/// brackets escaped, which would otherwise start an embedded link
/// (`[text](uri)`) that viewers such as GitHub code scanning render.
pub fn sarif_text(text: &str) -> String {
    let text = one_line(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as HTML on one line: safe as element content and inside a quoted
/// attribute value, so a name can neither open a tag nor end an attribute.
pub fn html_text(text: &str) -> String {
    html_escape(&one_line(text))
}

/// Like [`html_text`], but keeps line breaks, for a `<pre>` block.
pub fn html_block(text: &str) -> String {
    html_escape(&multi_line(text))
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as a fenced code block indented by `indent` (to sit inside a list
/// item), shown exactly as written so that a command can be copied as is:
/// nothing inside a fence is Markdown, HTML or a mention, and the fence is
/// longer than any run of backticks in the text, so no line can close it.
pub fn fenced(text: &str, indent: &str) -> String {
    let text = multi_line(text);
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let mut out = format!("{indent}{fence}\n");
    for line in text.trim_end().lines() {
        out.push_str(indent);
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!("{indent}{fence}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_outlasts_any_backticks_inside() {
        let block = fenced("run `a` then ````b````\n````", "  ");
        assert_eq!(
            block,
            "  `````\n  run `a` then ````b````\n  ````\n  `````\n"
        );
    }

    #[test]
    fn links_cannot_be_broken_out_of() {
        assert_eq!(
            markdown_link("a](x) <b>", "mods/a b)(c.tf#L3"),
            "[a\\](x) &lt;b&gt;](mods/a%20b%29%28c.tf#L3)"
        );
    }

    #[test]
    fn drops_escape_sequences_and_controls() {
        assert_eq!(one_line("a\u{1b}[1;31mred\u{1b}[0m b"), "ared b");
        // An OSC 8 hyperlink: the target is hidden, the label stays.
        assert_eq!(
            one_line("\u{1b}]8;;https://evil\u{1b}\\click\u{1b}]8;;\u{7}"),
            "click"
        );
        assert_eq!(one_line("title\u{1b}]0;pwned\u{7}!"), "title!");
        assert_eq!(one_line("x\u{9b}2Jy"), "xy");
        assert_eq!(one_line("keypad\u{1b}=on\u{1b}(B"), "keypadon");
        assert_eq!(one_line("bell\u{7}\u{0}\u{7f}\u{85}end"), "bell end");
        assert_eq!(one_line("trailing\u{1b}"), "trailing");
        assert_eq!(one_line("unterminated\u{1b}]0;rest"), "unterminated");
        assert_eq!(one_line("abc\u{202e}fed\u{fffe}"), "abcfed");
    }

    #[test]
    fn turns_line_breaks_into_spaces_or_keeps_them() {
        assert_eq!(one_line("a\r\nb\nc\td\u{2028}e"), "a b c d e");
        assert_eq!(multi_line("a\r\nb\rc\u{1b}[2Kd"), "a\nb\ncd");
    }

    #[test]
    fn keeps_ordinary_text() {
        let text = "/aws/lambda/api-#1 ünïcödé 日本 <&> \"quoted\"";
        assert_eq!(one_line(text), text);
    }

    #[test]
    fn escapes_markdown_metacharacters() {
        assert_eq!(
            markdown("a_b *c* [x](y) <b>&amp; |t| #h !i ~s~ $m$ `c` \\"),
            "a\\_b \\*c\\* \\[x\\](y) &lt;b&gt;&amp;amp; \\|t\\| \\#h \\!i \\~s\\~ \\$m\\$ \\`c\\` \\\\"
        );
        assert_eq!(markdown("- item"), "\\- item");
        assert_eq!(markdown("+ item"), "\\+ item");
        assert_eq!(markdown("12. item 3.5"), "12\\. item 3.5");
        assert_eq!(markdown("1) item"), "1\\) item");
        assert_eq!(markdown("a\n# b"), "a \\# b");
        // No @mention when posted as a pull-request comment (code spans
        // never notify, so `markdown_code` keeps `@` as it is).
        assert_eq!(markdown("owner @org/team"), "owner @&#8203;org/team");
        assert_eq!(markdown_code("@org/team"), "`@org/team`");
    }

    #[test]
    fn uses_code_spans_only_when_faithful() {
        assert_eq!(markdown_code("db-1"), "`db-1`");
        assert_eq!(markdown_code("/aws/x#y_z*"), "`/aws/x#y_z*`");
        assert_eq!(markdown_code("a`b"), "a\\`b");
        assert_eq!(markdown_code("a<b"), "a&lt;b");
        assert_eq!(markdown_code("a|b"), "a\\|b");
        assert_eq!(markdown_code("a\nb"), "`a b`");
        assert_eq!(markdown_code(" a"), " a");
    }

    #[test]
    fn fences_hold_any_backticks() {
        assert_eq!(fenced("aws s3 ls\n", ""), "```\naws s3 ls\n```\n");
        assert_eq!(
            fenced("a ``` b\n```\nc\u{1b}[31m", ""),
            "````\na ``` b\n```\nc\n````\n"
        );
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("rules/rds/x.yaml"), "rules/rds/x.yaml");
        assert_eq!(uri("infra/a b#1.tf"), "infra/a%20b%231.tf");
        assert_eq!(uri("/abs/ü.yaml"), "file:///abs/%C3%BC.yaml");
    }

    #[test]
    fn html_text_cannot_open_tags_or_end_attributes() {
        assert_eq!(
            html_text("<script>alert('x')</script> a=\"b\" &amp;\n<!--"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; a=&quot;b&quot; &amp;amp; &lt;!--"
        );
        assert_eq!(html_text("red\u{1b}[31m\u{202e}x"), "redx");
        assert_eq!(html_block("a <b>\r\nc"), "a &lt;b&gt;\nc");
    }

    #[test]
    fn sarif_text_cannot_embed_links() {
        assert_eq!(sarif_text("a [x](1)\nb"), "a \\[x\\](1) b");
    }
}
