//! The fake Auth0 tenant (API.md §2.2): `POST /oauth/token` for the refresh and
//! authorization-code grants, plus the hosted login routes from [`super::login`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::post;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::endpoint::ServerKind;
use super::faults;
use super::login;
use super::server::{self, LayerCtx, Shared};
use super::util::{b64url, body_fields, lock, now_millis};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let ctx = LayerCtx {
        shared: Arc::clone(&shared),
        server: ServerKind::Auth,
    };
    Router::new()
        .route("/oauth/token", post(token))
        .merge(login::routes())
        .fallback(not_found)
        .layer(from_fn_with_state(ctx, server::layer))
        .with_state(shared)
}

async fn not_found() -> Response {
    faults::json(
        StatusCode::NOT_FOUND,
        &json!({"error": "not_found", "error_description": "Not Found"}),
    )
}

pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    faults::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn missing(key: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        &format!("Missing required parameter: {key}"),
    )
}

fn field<'a>(p: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    p.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(p) = body_fields(&headers, &body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Could not parse the request body",
        );
    };
    let Some(grant_type) = field(&p, "grant_type") else {
        return missing("grant_type");
    };
    let Some(client_id) = field(&p, "client_id") else {
        return missing("client_id");
    };
    // Auth0's answer to a client id it does not know.
    if client_id != shared.opts.client_id {
        return oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    }
    match grant_type {
        "refresh_token" => refresh_grant(&shared, &p),
        "authorization_code" => code_grant(&shared, &p),
        "password" => faults::json(
            StatusCode::FORBIDDEN,
            &json!({
                "error": "unauthorized_client",
                "error_description": "Grant type 'password' not allowed for the client.",
                "error_uri": "https://manage.onepeloton.auth0.com/docs/clients/client-grant-types",
            }),
        ),
        other => oauth_error(
            StatusCode::FORBIDDEN,
            "unsupported_grant_type",
            &format!("Unsupported grant type: {other}"),
        ),
    }
}

fn member_ids(shared: &Shared) -> (String, String) {
    let m = lock(&shared.member);
    (m.user_id.clone(), m.username.clone())
}

fn refresh_grant(shared: &Shared, p: &HashMap<String, String>) -> Response {
    let Some(refresh) = field(p, "refresh_token") else {
        return missing("refresh_token");
    };
    let (user_id, username) = member_ids(shared);
    let reuse_detection = shared.faults.reuse_detection();
    let mut book = lock(&shared.tokens);
    let Some(family) = book.take_refresh(refresh, reuse_detection) else {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "invalid_grant",
            "Unknown or invalid refresh token.",
        );
    };
    let v = book.token_response(
        &user_id,
        &username,
        shared.opts.access_token_ttl,
        None,
        Some(family),
    );
    faults::json(StatusCode::OK, &v)
}

fn code_grant(shared: &Shared, p: &HashMap<String, String>) -> Response {
    let Some(code) = field(p, "code") else {
        return missing("code");
    };
    let Some(verifier) = field(p, "code_verifier") else {
        return missing("code_verifier");
    };
    let (user_id, username) = member_ids(shared);
    let mut book = lock(&shared.tokens);
    // A code is single-use, even when the exchange fails.
    let grant = book
        .codes
        .remove(code)
        .filter(|g| g.expires_ms > now_millis());
    let Some(grant) = grant else {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "invalid_grant",
            "Invalid authorization code",
        );
    };
    if p.get("redirect_uri")
        .is_some_and(|r| *r != grant.redirect_uri)
    {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "invalid_grant",
            "Invalid redirect_uri",
        );
    }
    if b64url(&Sha256::digest(verifier.as_bytes())) != grant.code_challenge {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "invalid_grant",
            "Failed to verify code verifier",
        );
    }
    let nonce = Some(grant.nonce.as_str()).filter(|n| !n.is_empty());
    let v = book.token_response(
        &user_id,
        &username,
        shared.opts.access_token_ttl,
        nonce,
        None,
    );
    faults::json(StatusCode::OK, &v)
}
