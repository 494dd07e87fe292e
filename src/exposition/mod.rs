//! Content negotiation between OpenMetrics and the classic text format.

pub mod classic;
pub mod openmetrics;

use crate::metrics::family::Family;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenMetrics,
    Classic,
}

/// OpenMetrics when the Accept header lists it with a non-zero quality; Prometheus sends
/// it first with the highest weight. Anything else (curl's `*/*`, no header) gets the
/// classic format, which every client understands.
pub fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::Classic;
    };
    let mut best: Option<(Format, f32)> = None;
    for (media, q) in weighted(accept) {
        let format = if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else if ["text/plain", "*/*", "text/*"]
            .iter()
            .any(|m| media.eq_ignore_ascii_case(m))
        {
            Format::Classic
        } else {
            continue;
        };
        if q <= 0.0 {
            continue;
        }
        if best.is_none_or(|(_, bq)| q > bq) {
            best = Some((format, q));
        }
    }
    best.map_or(Format::Classic, |(f, _)| f)
}

/// gzip when `Accept-Encoding` lists it (or `*`) with a non-zero quality.
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|value| {
        weighted(value).any(|(coding, q)| {
            ["gzip", "x-gzip", "*"]
                .iter()
                .any(|c| coding.eq_ignore_ascii_case(c))
                && q > 0.0
        })
    })
}

/// The entries of an `Accept`-style header, trimmed (compare them ignoring ASCII case),
/// with their quality (1 unless `q=` says otherwise). Borrowed from the header: a scrape
/// allocates nothing to negotiate.
fn weighted(header: &str) -> impl Iterator<Item = (&str, f32)> + '_ {
    header.split(',').map(|part| {
        let mut params = part.split(';').map(str::trim);
        let name = params.next().unwrap_or("");
        let q = params
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        (name, q)
    })
}

/// The body and its content type.
pub fn content_type(format: Format) -> &'static str {
    match format {
        Format::OpenMetrics => openmetrics::CONTENT_TYPE,
        Format::Classic => classic::CONTENT_TYPE,
    }
}

/// The body of `families` in `format`, and its content type. Writing into memory cannot
/// fail; the `Result` stays for the callers that handle one.
pub fn render(
    format: Format,
    families: &[Family],
) -> Result<(String, &'static str), std::fmt::Error> {
    match format {
        Format::OpenMetrics => Ok((openmetrics::render(families), openmetrics::CONTENT_TYPE)),
        Format::Classic => Ok((classic::render(families), classic::CONTENT_TYPE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_accept_headers_get_openmetrics() {
        // Captured from Prometheus 2.42 and 3.5.
        let p2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        let p3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        assert_eq!(negotiate(Some(p2)), Format::OpenMetrics);
        assert_eq!(negotiate(Some(p3)), Format::OpenMetrics);
        assert_eq!(
            negotiate(Some("application/openmetrics-text")),
            Format::OpenMetrics
        );
    }

    #[test]
    fn everything_else_gets_classic() {
        assert_eq!(negotiate(None), Format::Classic);
        assert_eq!(negotiate(Some("*/*")), Format::Classic);
        assert_eq!(negotiate(Some("text/plain;version=0.0.4")), Format::Classic);
        assert_eq!(
            negotiate(Some("application/openmetrics-text;q=0,text/plain")),
            Format::Classic
        );
        assert_eq!(negotiate(Some("application/json")), Format::Classic);
    }

    #[test]
    fn gzip_is_used_when_the_client_accepts_it() {
        let accepts = |v: &str| accepts_gzip(Some(v));
        assert!(accepts("gzip"));
        assert!(accepts("deflate, gzip;q=0.5"));
        assert!(accepts("br, *"));
        assert!(accepts("GZIP"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("identity"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts_gzip(None));
    }
}
