//! Peloton's Auth0 tenant as its web app uses it: the client, audience, scope and redirect
//! URI that the token exchange and the sign-in present. Today's values are the defaults of
//! `--peloton.auth0.*`: Peloton changed them once (peloton-to-garmin made them settings
//! then), and a flag is quicker than a release.

/// Public SPA client of members.onepeloton.com (API.md §2.2).
pub const CLIENT_ID: &str = "WVoJxVDdPoFx4RNewvvg6ch2mZ7bwnsM";

/// Peloton's own callback page, the only redirect URI registered for the web client.
pub const REDIRECT_URI: &str = "https://members.onepeloton.com/callback";
pub const AUDIENCE: &str = "https://api.onepeloton.com/";
pub const SCOPE: &str = "offline_access openid peloton-api.members:default";
pub const CONNECTION: &str = "pelo-user-password";
pub const TENANT: &str = "peloton-prod";
pub const AUTH0_CLIENT: &str = r#"{"name":"auth0.js-ulp","version":"9.14.3"}"#;

/// The User-Agent of the sign-in's page requests (authorize, login page, credentials,
/// hidden form, redirects). Those pages are made for browsers and sit behind Auth0's bot
/// detection and Cloudflare, which score a non-browser agent as a bot; peloton-to-garmin
/// sends a desktop Firefox agent on its form POST for that reason. The API and the token
/// endpoint keep the honest `peloton-exporter/<version>` (`wire::user_agent`).
pub const BROWSER_USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";

/// The Auth0 client the exporter presents: `--peloton.auth0.*`, today's values by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth0Client {
    pub client_id: String,
    pub audience: String,
    pub scope: String,
    pub redirect_uri: String,
}

impl Default for Auth0Client {
    fn default() -> Self {
        Self {
            client_id: CLIENT_ID.to_owned(),
            audience: AUDIENCE.to_owned(),
            scope: SCOPE.to_owned(),
            redirect_uri: REDIRECT_URI.to_owned(),
        }
    }
}
