//! The authorization-code + PKCE transaction: the verifier, state and nonce, the
//! `/authorize` URL a browser (or the headless flow) opens, and the callback that comes back.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use url::Url;

use super::error::LoginError;
use super::error::classify_code;
use crate::peloton::auth0::{AUTH0_CLIENT, Auth0Client};
use crate::secret::Secret;
use crate::state::labels::ErrorReason;

/// One PKCE transaction: the verifier stays here, the challenge goes to `/authorize`.
#[derive(Clone)]
pub struct Pkce {
    pub verifier: Secret,
    pub state: String,
    pub nonce: String,
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce").finish_non_exhaustive()
    }
}

impl Pkce {
    /// A new verifier (32 random bytes, base64url: 43 characters), state and nonce from
    /// the operating system's random source.
    pub fn new() -> Result<Self, LoginError> {
        Ok(Self {
            verifier: Secret::new(random_b64(32)?),
            state: random_b64(24)?,
            nonce: random_b64(24)?,
        })
    }

    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.expose().as_bytes()))
    }
}

fn random_b64(bytes: usize) -> Result<String, LoginError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| LoginError::Unavailable {
        detail: format!("no random numbers from the operating system: {e}"),
        reason: ErrorReason::Auth,
    })?;
    Ok(URL_SAFE_NO_PAD.encode(&buf))
}

/// `<auth-url>/authorize` for this transaction, as the web app builds it. Also what a
/// member opens in a browser for `login --browser`.
pub fn authorize_url(auth_url: &Url, client: &Auth0Client, pkce: &Pkce) -> Result<Url, LoginError> {
    let mut url = auth_url
        .join("/authorize")
        .map_err(|e| LoginError::changed(format!("cannot build the authorize URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("client_id", &client.client_id)
        .append_pair("audience", &client.audience)
        .append_pair("scope", &client.scope)
        .append_pair("response_type", "code")
        .append_pair("response_mode", "query")
        .append_pair("redirect_uri", &client.redirect_uri)
        .append_pair("state", &pkce.state)
        .append_pair("nonce", &pkce.nonce)
        .append_pair("code_challenge", &pkce.challenge())
        .append_pair("code_challenge_method", "S256")
        .append_pair("auth0Client", &URL_SAFE_NO_PAD.encode(AUTH0_CLIENT));
    Ok(url)
}

/// What the final redirect (or a URL pasted from a browser) says.
#[derive(Debug)]
pub enum Callback {
    Code(Secret),
    Error(LoginError),
}

/// Reads `code`/`error` and checks `state` of a callback URL.
pub fn parse_callback(url: &Url, expected_state: &str) -> Callback {
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut description = String::new();
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "code" => code = Some(Secret::new(v.into_owned())),
            "state" => state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = v.into_owned(),
            _ => {}
        }
    }
    if let Some(error) = error {
        return Callback::Error(classify_code(&error, &description));
    }
    match (code, state) {
        (Some(code), Some(state)) if state == expected_state && !code.is_empty() => {
            Callback::Code(code)
        }
        (Some(_), _) => Callback::Error(LoginError::changed(
            "the callback's state does not match this sign-in",
        )),
        (None, _) => Callback::Error(LoginError::changed("the callback carries no code")),
    }
}
