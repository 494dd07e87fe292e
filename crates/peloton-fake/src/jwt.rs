//! JWTs shaped like Auth0's (`header.payload.signature`, base64url without padding).
//!
//! Signed with HMAC-SHA256 under a per-instance key: the exporter only decodes the payload
//! (for `exp`); the fake itself recognises its tokens by bookkeeping, not by the signature.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::util::{b64url, b64url_decode};

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        let digest = Sha256::digest(key);
        for (dst, src) in k.iter_mut().zip(digest.iter()) {
            *dst = *src;
        }
    } else {
        for (dst, src) in k.iter_mut().zip(key) {
            *dst = *src;
        }
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

pub(crate) fn encode(claims: &Value, key: &[u8]) -> String {
    let header = serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": "fake-peloton"});
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = hmac_sha256(key, signing_input.as_bytes());
    format!("{signing_input}.{}", b64url(&sig))
}

/// The payload of any `a.b.c` token, without verifying it.
pub fn decode_claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    serde_json::from_slice(&b64url_decode(payload)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex = mac.iter().fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        });
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn round_trip() {
        let t = encode(&serde_json::json!({"exp": 5, "sub": "x"}), b"k");
        assert_eq!(t.split('.').count(), 3);
        assert_eq!(decode_claims(&t).unwrap()["exp"], 5);
        assert!(decode_claims("nope").is_none());
    }
}
