//! Warnings about the served TLS certificate: expired, expiring soon, or not naming the
//! host the exporter listens on. They are warnings only: the exporter keeps serving, since
//! refusing to start over a certificate that expires next week would be worse.

use std::net::{IpAddr, SocketAddr};

use tokio_rustls::rustls::pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer as _;

/// A certificate that expires within this long gets a warning.
pub const EXPIRY_WARNING_SECONDS: i64 = 14 * 24 * 3600;

/// What is wrong with `leaf` for a server on `listen` at Unix time `now`; empty when
/// nothing is.
pub fn warnings(leaf: &CertificateDer<'_>, listen: SocketAddr, now: i64) -> Vec<String> {
    let Ok((_, cert)) = x509_parser::certificate::X509Certificate::from_der(leaf.as_ref()) else {
        return vec!["the certificate cannot be parsed to check its dates and names".to_owned()];
    };
    let mut out = Vec::new();
    let not_after = cert.validity().not_after.timestamp();
    let not_before = cert.validity().not_before.timestamp();
    if not_after <= now {
        out.push(format!(
            "the certificate expired {} days ago (not after {}); clients will refuse it",
            (now - not_after) / 86_400,
            cert.validity().not_after
        ));
    } else if not_after - now <= EXPIRY_WARNING_SECONDS {
        out.push(format!(
            "the certificate expires in {} days (not after {}); renew it",
            (not_after - now) / 86_400,
            cert.validity().not_after
        ));
    }
    if not_before > now {
        out.push(format!(
            "the certificate is not valid yet (not before {})",
            cert.validity().not_before
        ));
    }
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => dns.push(n.to_ascii_lowercase()),
                GeneralName::IPAddress(b) => {
                    if let Some(ip) = ip_from(b) {
                        ips.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    if dns.is_empty() && ips.is_empty() {
        out.push(
            "the certificate has no subjectAltName; clients ignore the common name and will refuse it"
                .to_owned(),
        );
    } else if let Some(host) = unmatched_host(listen.ip(), &dns, &ips) {
        out.push(format!(
            "the certificate names neither {host} nor a name for it (it names {}); clients that connect to {host} will refuse it",
            names(&dns, &ips)
        ));
    }
    out
}

fn ip_from(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

fn names(dns: &[String], ips: &[IpAddr]) -> String {
    let mut all: Vec<String> = dns.to_vec();
    all.extend(ips.iter().map(ToString::to_string));
    all.join(", ")
}

/// The listen host the certificate does not name, if any. A specific address must be in
/// the certificate (a loopback one may be named `localhost`). On the unspecified address
/// clients may use any of the machine's names and addresses; only the host name can be
/// checked, and only when the certificate names no address at all.
fn unmatched_host(listen: IpAddr, dns: &[String], ips: &[IpAddr]) -> Option<String> {
    if listen.is_unspecified() {
        if !ips.is_empty() {
            return None;
        }
        let host = host_name()?;
        let named = dns.iter().any(|d| {
            dns_matches(d, &host)
                || host
                    .split('.')
                    .next()
                    .is_some_and(|short| d.split('.').next() == Some(short))
        });
        return (!named).then_some(host);
    }
    let named = ips.contains(&listen)
        || (listen.is_loopback() && dns.iter().any(|d| d == "localhost"))
        || ips.iter().any(|ip| mapped_equal(*ip, listen));
    (!named).then(|| listen.to_string())
}

fn mapped_equal(a: IpAddr, b: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    };
    canon(a) == canon(b)
}

/// A certificate name against a host name: exact, or a wildcard for one left-most label.
fn dns_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
        None => pattern == host,
    }
}

/// This machine's host name (Linux), if it can be read.
fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair};

    const DAY: i64 = 86_400;

    fn cert(sans: &[&str], not_after: i64) -> CertificateDer<'static> {
        let mut p =
            CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
                .unwrap();
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after =
            rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(not_after as u64);
        p.self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .clone()
    }

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_good_certificate_gets_no_warning() {
        let c = cert(&["127.0.0.1", "localhost"], NOW + 90 * DAY);
        assert!(warnings(&c, at("127.0.0.1:10058"), NOW).is_empty());
        let c = cert(&["localhost"], NOW + 90 * DAY);
        assert!(warnings(&c, at("127.0.0.1:10058"), NOW).is_empty());
        let c = cert(&["10.1.2.3"], NOW + 90 * DAY);
        assert!(warnings(&c, at("0.0.0.0:10058"), NOW).is_empty());
    }

    #[test]
    fn expired_and_expiring_certificates_are_named() {
        let c = cert(&["127.0.0.1"], NOW - 3 * DAY);
        let w = warnings(&c, at("127.0.0.1:1"), NOW);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("expired 3 days ago"), "{w:?}");
        let c = cert(&["127.0.0.1"], NOW + 5 * DAY);
        let w = warnings(&c, at("127.0.0.1:1"), NOW);
        assert!(w[0].contains("expires in 5 days"), "{w:?}");
        let c = cert(&["127.0.0.1"], NOW + 15 * DAY);
        assert!(warnings(&c, at("127.0.0.1:1"), NOW).is_empty());
    }

    #[test]
    fn a_certificate_for_another_host_is_named() {
        let c = cert(&["metrics.example.com", "10.0.0.9"], NOW + 90 * DAY);
        let w = warnings(&c, at("192.168.1.5:10058"), NOW);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("192.168.1.5"), "{w:?}");
        assert!(w[0].contains("metrics.example.com, 10.0.0.9"), "{w:?}");
        let c = cert(&["127.0.0.1"], NOW + 90 * DAY);
        assert!(warnings(&c, at("[::ffff:127.0.0.1]:1"), NOW).is_empty());
    }

    #[test]
    fn wildcards_match_one_label() {
        assert!(dns_matches("*.example.com", "box.example.com"));
        assert!(!dns_matches("*.example.com", "a.box.example.com"));
        assert!(!dns_matches("*.example.com", "example.com"));
        assert!(dns_matches("box.example.com", "BOX.example.com."));
    }

    #[test]
    fn garbage_is_a_warning_not_a_panic() {
        let w = warnings(
            &CertificateDer::from(vec![0x30, 0x03, 1, 2]),
            at("127.0.0.1:1"),
            0,
        );
        assert_eq!(w.len(), 1);
    }
}
