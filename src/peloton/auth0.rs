//! Peloton's Auth0 tenant as its web app uses it: the client, audience, scope and redirect
//! URI that the token exchange and the sign-in present.

/// Public SPA client of members.onepeloton.com (API.md §2.2).
pub const CLIENT_ID: &str = "WVoJxVDdPoFx4RNewvvg6ch2mZ7bwnsM";

/// Peloton's own callback page, the only redirect URI registered for the web client.
pub const REDIRECT_URI: &str = "https://members.onepeloton.com/callback";
pub const AUDIENCE: &str = "https://api.onepeloton.com/";
pub const SCOPE: &str = "offline_access openid peloton-api.members:default";
pub const CONNECTION: &str = "pelo-user-password";
pub const TENANT: &str = "peloton-prod";
pub const AUTH0_CLIENT: &str = r#"{"name":"auth0.js-ulp","version":"9.14.3"}"#;
