//! Token bookkeeping of the fake Auth0 tenant: issued access tokens, live refresh tokens,
//! authorization codes and in-flight login transactions.

use std::collections::HashMap;
use std::time::Duration;

use fastrand::Rng;
use serde_json::{Value, json};

use super::jwt;
use super::util::{now_millis, random_token};

pub const CLIENT_ID: &str = "WVoJxVDdPoFx4RNewvvg6ch2mZ7bwnsM";
pub const AUDIENCE: &str = "https://api.onepeloton.com/";
/// The scope as the web client requests it.
pub(crate) const REQUEST_SCOPE: &str = "offline_access openid peloton-api.members:default";
/// The scope as the token endpoint echoes it (`fixtures/oauth_token_response_RECONSTRUCTED.json`).
pub(crate) const GRANTED_SCOPE: &str = "openid peloton-api.members:default offline_access";
pub(crate) const ISSUER: &str = "https://auth.onepeloton.com/";
pub const REDIRECT_URI: &str = "https://members.onepeloton.com/callback";
/// Authorization codes are short-lived; ten minutes covers any test.
const CODE_TTL_MS: i64 = 600_000;
const ID_TOKEN_TTL_S: i64 = 36_000;

/// What `/authorize` remembered for the hosted login page.
#[derive(Clone, Debug)]
pub(crate) struct LoginTx {
    pub(crate) client_state: String,
    pub(crate) nonce: String,
    pub(crate) code_challenge: String,
    pub(crate) redirect_uri: String,
    /// Set when the login page was served.
    pub(crate) csrf: Option<String>,
    /// The page also set the `_csrf` cookie, so the credentials POST must send it back.
    pub(crate) csrf_cookie: bool,
    /// Set once the credentials were accepted and the callback form was posted.
    pub(crate) authenticated: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct CodeGrant {
    pub(crate) code_challenge: String,
    pub(crate) redirect_uri: String,
    pub(crate) nonce: String,
    pub(crate) expires_ms: i64,
}

/// Refresh tokens retired by rotation are remembered (for reuse detection) up to this many.
const MAX_RETIRED: usize = 10_000;

pub(crate) struct TokenBook {
    rng: Rng,
    key: Vec<u8>,
    /// The client id that tokens are issued to (`azp`).
    client_id: String,
    access: HashMap<String, i64>,
    /// Live refresh tokens → their family: a sign-in starts one, each rotation continues it.
    refresh: HashMap<String, u64>,
    /// Refresh tokens already exchanged → their family.
    retired: HashMap<String, u64>,
    next_family: u64,
    latest_refresh: Option<String>,
    pub(crate) codes: HashMap<String, CodeGrant>,
    /// Keyed by the Auth0 transaction `state` (not the client's state).
    pub(crate) logins: HashMap<String, LoginTx>,
    /// `wresult` of the hidden callback form → transaction state.
    pub(crate) callbacks: HashMap<String, String>,
}

impl std::fmt::Debug for TokenBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBook")
            .field("access_tokens", &self.access.len())
            .field("refresh_tokens", &self.refresh.len())
            .field("retired_refresh_tokens", &self.retired.len())
            .field("codes", &self.codes.len())
            .field("logins", &self.logins.len())
            .finish_non_exhaustive()
    }
}

impl TokenBook {
    pub(crate) fn new(client_id: &str) -> Self {
        // Token material is random per instance: a token of one fake must not work on another.
        let mut rng = Rng::new();
        let key = random_token(&mut rng, 48).into_bytes();
        Self {
            rng,
            key,
            client_id: client_id.to_owned(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            retired: HashMap::new(),
            next_family: 0,
            latest_refresh: None,
            codes: HashMap::new(),
            logins: HashMap::new(),
            callbacks: HashMap::new(),
        }
    }

    pub(crate) fn random(&mut self, len: usize) -> String {
        random_token(&mut self.rng, len)
    }

    /// A JWT access token valid for `ttl` (expiry at whole seconds, like `exp`).
    pub(crate) fn mint_access(&mut self, user_id: &str, ttl: Duration) -> String {
        let now_ms = now_millis();
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 4);
        let exp = now_ms.saturating_add(ttl_ms).div_euclid(1000);
        let claims = json!({
            "iss": ISSUER,
            "sub": format!("auth0|{user_id}"),
            "aud": [AUDIENCE, "https://auth.onepeloton.com/userinfo"],
            "iat": now_ms.div_euclid(1000),
            "exp": exp,
            "azp": self.client_id,
            "scope": GRANTED_SCOPE,
            "jti": self.random(16),
        });
        let token = jwt::encode(&claims, &self.key);
        if self.access.len() > 10_000 {
            self.access.retain(|_, e| *e > now_ms);
        }
        self.access.insert(token.clone(), exp.saturating_mul(1000));
        token
    }

    pub(crate) fn access_valid(&self, token: &str) -> bool {
        self.access.get(token).is_some_and(|e| *e > now_millis())
    }

    /// A new refresh token, continuing `family` (a rotation) or starting a new one.
    pub(crate) fn issue_refresh(&mut self, family: Option<u64>) -> String {
        let family = family.unwrap_or_else(|| {
            self.next_family += 1;
            self.next_family
        });
        let token = format!("v1.{}", self.random(86));
        self.refresh.insert(token.clone(), family);
        self.latest_refresh = Some(token.clone());
        token
    }

    /// Consumes a live refresh token (rotation) and returns its family; `None` when it is
    /// unknown, revoked or already used. With `reuse_detection`, presenting a token that
    /// was already rotated away revokes its whole family, the newest token included, as
    /// Auth0's automatic reuse detection does.
    pub(crate) fn take_refresh(&mut self, token: &str, reuse_detection: bool) -> Option<u64> {
        if let Some(family) = self.refresh.remove(token) {
            if self.retired.len() >= MAX_RETIRED {
                self.retired.clear();
            }
            self.retired.insert(token.to_owned(), family);
            return Some(family);
        }
        if reuse_detection && let Some(family) = self.retired.get(token).copied() {
            self.refresh.retain(|_, f| *f != family);
        }
        None
    }

    /// The newest refresh token if it is still live, else a fresh one.
    pub(crate) fn current_refresh(&mut self) -> String {
        match &self.latest_refresh {
            Some(t) if self.refresh.contains_key(t) => t.clone(),
            _ => self.issue_refresh(None),
        }
    }

    pub(crate) fn revoke_refresh(&mut self) {
        self.refresh.clear();
    }

    pub(crate) fn expire_access(&mut self) {
        self.access.clear();
    }

    pub(crate) fn new_code(&mut self, tx: &LoginTx) -> String {
        let code = self.random(40);
        self.codes.insert(
            code.clone(),
            CodeGrant {
                code_challenge: tx.code_challenge.clone(),
                redirect_uri: tx.redirect_uri.clone(),
                nonce: tx.nonce.clone(),
                expires_ms: now_millis() + CODE_TTL_MS,
            },
        );
        code
    }

    /// The token endpoint's success body, with a new access and a new refresh token (of
    /// `family` for a refresh, of a new family for a sign-in).
    pub(crate) fn token_response(
        &mut self,
        user_id: &str,
        username: &str,
        ttl: Duration,
        nonce: Option<&str>,
        family: Option<u64>,
    ) -> Value {
        let access = self.mint_access(user_id, ttl);
        let refresh = self.issue_refresh(family);
        let now = now_millis().div_euclid(1000);
        let mut id_claims = json!({
            "nickname": username,
            "iss": ISSUER,
            "sub": format!("auth0|{user_id}"),
            "aud": self.client_id,
            "iat": now,
            "exp": now + ID_TOKEN_TTL_S,
        });
        if let (Some(n), Some(obj)) = (nonce, id_claims.as_object_mut()) {
            obj.insert("nonce".into(), Value::from(n));
        }
        let id_token = jwt::encode(&id_claims, &self.key);
        json!({
            "access_token": access,
            "refresh_token": refresh,
            "id_token": id_token,
            "scope": GRANTED_SCOPE,
            "expires_in": ttl.as_secs(),
            "token_type": "Bearer",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_expire_and_can_be_revoked() {
        let mut b = TokenBook::new(CLIENT_ID);
        let t = b.mint_access("u", Duration::from_secs(60));
        assert!(b.access_valid(&t));
        let dead = b.mint_access("u", Duration::ZERO);
        assert!(!b.access_valid(&dead));
        assert!(!b.access_valid("garbage"));
        let claims = jwt::decode_claims(&t).unwrap();
        assert_eq!(claims["iss"], ISSUER);
        assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
        b.expire_access();
        assert!(!b.access_valid(&t));
    }

    #[test]
    fn refresh_rotation() {
        let mut b = TokenBook::new(CLIENT_ID);
        let r = b.issue_refresh(None);
        assert!(r.starts_with("v1."));
        assert_eq!(b.current_refresh(), r);
        assert!(b.take_refresh(&r, false).is_some());
        assert!(b.take_refresh(&r, false).is_none());
        let r2 = b.current_refresh();
        assert_ne!(r, r2);
        b.revoke_refresh();
        assert!(b.take_refresh(&r2, false).is_none());
    }

    #[test]
    fn reusing_a_rotated_token_revokes_its_family_only_with_reuse_detection() {
        let mut b = TokenBook::new(CLIENT_ID);
        let r1 = b.issue_refresh(None);
        let other = b.issue_refresh(None);
        let family = b.take_refresh(&r1, true).unwrap();
        let r2 = b.issue_refresh(Some(family));
        // Without detection a retired token is merely refused.
        assert!(b.take_refresh(&r1, false).is_none());
        assert!(b.refresh.contains_key(&r2));
        // With it, the newest token of the family dies too; other families live on.
        assert!(b.take_refresh(&r1, true).is_none());
        assert!(b.take_refresh(&r2, true).is_none());
        assert!(b.take_refresh(&other, true).is_some());
    }
}
