//! Cookies: just enough of RFC 6265 for one sign-in (host-only and Domain cookies, Path,
//! deletion by Max-Age/Expires in the past). Values are never formatted.

use std::fmt;

use reqwest::header::{self, HeaderMap};
use url::Url;

#[derive(Clone)]
pub(super) struct Cookie {
    name: String,
    value: String,
    /// Lower-case host, or domain when `host_only` is false.
    domain: String,
    host_only: bool,
    path: String,
}

#[derive(Default)]
pub(super) struct Jar {
    cookies: Vec<Cookie>,
}

impl fmt::Debug for Jar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jar")
            .field("cookies", &self.cookies.len())
            .finish()
    }
}

impl Jar {
    pub(super) fn store(&mut self, url: &Url, headers: &HeaderMap) {
        for value in headers.get_all(header::SET_COOKIE) {
            if let Ok(text) = value.to_str() {
                self.store_one(url, text);
            }
        }
    }

    pub(super) fn store_one(&mut self, url: &Url, text: &str) {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return;
        };
        let mut parts = text.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
            return;
        };
        let name = name.trim().to_owned();
        if name.is_empty() {
            return;
        }
        let mut cookie = Cookie {
            name,
            value: value.trim().trim_matches('"').to_owned(),
            domain: host.clone(),
            host_only: true,
            path: default_path(url),
        };
        let mut delete = false;
        for attr in parts {
            let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "path" if v.starts_with('/') => v.clone_into(&mut cookie.path),
                "domain" if !v.is_empty() => {
                    let d = v.trim_start_matches('.').to_ascii_lowercase();
                    // A server may only set cookies for its own domain or a parent of it.
                    if !domain_matches(&host, &d) {
                        return;
                    }
                    cookie.domain = d;
                    cookie.host_only = false;
                }
                "max-age" => delete |= v.parse::<i64>().is_ok_and(|s| s <= 0),
                "expires" => {
                    delete |= humantime::parse_rfc3339_weak(v)
                        .is_ok_and(|t| t < std::time::SystemTime::now())
                        || v.contains("1970");
                }
                _ => {}
            }
        }
        self.cookies.retain(|c| {
            !(c.name == cookie.name && c.domain == cookie.domain && c.path == cookie.path)
        });
        if !delete {
            self.cookies.push(cookie);
        }
    }

    pub(super) fn matching<'a>(&'a self, url: &'a Url) -> impl Iterator<Item = &'a Cookie> + 'a {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let path = url.path().to_owned();
        self.cookies.iter().filter(move |c| {
            let host_ok = if c.host_only {
                c.domain == host
            } else {
                domain_matches(&host, &c.domain)
            };
            host_ok && path_matches(&path, &c.path)
        })
    }

    pub(super) fn header(&self, url: &Url) -> Option<String> {
        let pairs: Vec<String> = self
            .matching(url)
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    pub(super) fn get<'a>(&'a self, url: &'a Url, name: &str) -> Option<&'a str> {
        self.matching(url)
            .find(|c| c.name == name)
            .map(|c| c.value.as_str())
    }
}

pub(super) fn domain_matches(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

pub(super) fn path_matches(request: &str, cookie: &str) -> bool {
    request == cookie
        || request
            .strip_prefix(cookie)
            .is_some_and(|rest| cookie.ends_with('/') || rest.starts_with('/'))
}

pub(super) fn default_path(url: &Url) -> String {
    let path = url.path();
    match path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => path.get(..i).unwrap_or("/").to_owned(),
    }
}
