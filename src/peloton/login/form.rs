//! HTML: forms and their hidden inputs, and Auth0's `window.injectedConfig`. A tolerant
//! scanner, not a parser: quoted, single-quoted and bare attributes, any case, tags over
//! several lines, entities in values.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

#[derive(Debug, Default)]
pub(super) struct Form {
    pub(super) action: Option<String>,
    /// Hidden inputs, in document order.
    pub(super) hidden: Vec<(String, String)>,
}

pub(super) fn forms(html: &str) -> Vec<Form> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = lower
        .get(at..)
        .and_then(|s| s.find("<form"))
        .map(|i| i + at)
    {
        let Some((attrs, after)) = tag_attributes(html, start) else {
            break;
        };
        let end = lower
            .get(after..)
            .and_then(|s| s.find("</form"))
            .map_or(html.len(), |i| i + after);
        let mut form = Form {
            action: attr(&attrs, "action").map(str::to_owned),
            hidden: Vec::new(),
        };
        let inner_lower = lower.get(after..end).unwrap_or_default();
        let mut i = 0;
        while let Some(pos) = inner_lower.get(i..).and_then(|s| s.find("<input")) {
            let input_at = after + i + pos;
            let Some((input, next)) = tag_attributes(html, input_at) else {
                break;
            };
            if attr(&input, "type").is_some_and(|t| t.eq_ignore_ascii_case("hidden"))
                && let Some(name) = attr(&input, "name")
            {
                form.hidden.push((
                    name.to_owned(),
                    attr(&input, "value").unwrap_or_default().to_owned(),
                ));
            }
            i = next - after;
        }
        out.push(form);
        at = end.max(start + 5);
    }
    out
}

pub(super) fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The attributes of the tag starting at byte `start` (`<name …>`), names lower-cased and
/// values entity-decoded, and the byte after its `>`.
pub(super) fn tag_attributes(html: &str, start: usize) -> Option<(Vec<(String, String)>, usize)> {
    let bytes = html.as_bytes();
    let mut i = start + 1;
    // Skip the tag name.
    while bytes
        .get(i)
        .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>' && *b != b'/')
    {
        i += 1;
    }
    let mut attrs = Vec::new();
    loop {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            i += 1;
        }
        match bytes.get(i) {
            None => return None,
            Some(b'>') => return Some((attrs, i + 1)),
            Some(_) => {}
        }
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let name = html.get(name_start..i)?.to_ascii_lowercase();
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match bytes.get(i) {
                Some(q @ (b'"' | b'\'')) => {
                    let close = html.get(i + 1..)?.find(char::from(*q))? + i + 1;
                    value = decode_entities(html.get(i + 1..close)?);
                    i = close + 1;
                }
                Some(_) => {
                    let v_start = i;
                    while bytes
                        .get(i)
                        .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                    {
                        i += 1;
                    }
                    value = decode_entities(html.get(v_start..i)?);
                }
                None => return None,
            }
        }
        if !name.is_empty() {
            attrs.push((name, value));
        }
    }
}

pub(super) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let tail = rest.get(amp..).unwrap_or_default();
        let decoded = tail.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let entity = tail.get(1..semi)?;
            let c = match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => '\u{a0}',
                e if e.starts_with("#x") || e.starts_with("#X") => {
                    char::from_u32(u32::from_str_radix(e.get(2..)?, 16).ok()?)?
                }
                e if e.starts_with('#') => char::from_u32(e.get(1..)?.parse().ok()?)?,
                _ => return None,
            };
            Some((c, semi + 1))
        });
        if let Some((c, len)) = decoded {
            out.push(c);
            rest = tail.get(len..).unwrap_or_default();
        } else {
            out.push('&');
            rest = tail.get(1..).unwrap_or_default();
        }
    }
    out.push_str(rest);
    out
}

/// Auth0's classic login page carries its config as a base64 JSON literal next to
/// `injectedConfig`, seen written two ways:
/// `window.injectedConfig = JSON.parse(decodeURIComponent(escape(window.atob('BASE64'))))`
/// and `window.injectedConfig = window.injectedConfig || "BASE64";`. The first quoted
/// literal after a mention that decodes to a JSON object is it.
pub(super) fn injected_config(html: &str) -> Option<Value> {
    /// The literal follows the name closely; a page is not scanned to its end.
    const WINDOW: usize = 200;
    let mut from = 0;
    while let Some(at) = html.get(from..)?.find("injectedConfig").map(|i| i + from) {
        let mut rest = html.get(at..)?;
        let limit = at + WINDOW;
        while let Some(open) = rest.find(['\'', '"']) {
            let start = html.len() - rest.len() + open;
            if start > limit {
                break;
            }
            let quote = rest.get(open..)?.chars().next()?;
            let inner = rest.get(open + 1..)?;
            let Some(close) = inner.find(quote) else {
                break;
            };
            let literal = inner.get(..close)?.trim();
            if let Ok(decoded) = STANDARD.decode(literal)
                && let Ok(v @ Value::Object(_)) = serde_json::from_slice(&decoded)
            {
                return Some(v);
            }
            rest = inner.get(close + 1..)?;
        }
        from = at + "injectedConfig".len();
    }
    None
}
