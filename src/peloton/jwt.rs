//! Reading the claims of a JWT access token, without verifying it: the exporter only needs
//! to know when the token expires so it can refresh in time. Peloton verifies it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Claims {
    pub exp: Option<i64>,
    pub iat: Option<i64>,
}

/// The `exp`/`iat` claims of a JWT, or `None` for an opaque token.
pub fn claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let number = |key: &str| {
        value
            .get(key)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    };
    Some(Claims {
        exp: number("exp"),
        iat: number("iat"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exp_of_the_fixture_token() {
        let fixture: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/oauth_token_response_RECONSTRUCTED.json"
        ))
        .unwrap();
        let token = fixture["access_token"].as_str().unwrap();
        let c = claims(token).unwrap();
        assert_eq!(c.exp, Some(1_767_398_400));
        assert_eq!(c.iat, Some(1_767_225_600));
    }

    #[test]
    fn opaque_tokens_have_no_claims() {
        assert_eq!(claims("v1.opaque"), None);
        assert_eq!(claims("a.b.c"), None);
        assert_eq!(claims(""), None);
    }
}
