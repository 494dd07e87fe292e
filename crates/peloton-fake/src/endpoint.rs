//! Which logical endpoint a request path belongs to (for fault queues and the request log).

/// A Peloton API or Auth0 endpoint of the fake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /api/me`
    Me,
    /// `GET /api/user/{id}/overview`
    Overview,
    /// `GET /api/user/{id}/workouts`
    Workouts,
    /// `GET /api/workout/{id}`
    Workout,
    /// `GET /api/workout/{id}/performance_graph`
    PerformanceGraph,
    /// `GET /api/user/{id}/challenges/current`
    Challenges,
    /// `GET /api/user/{id}/challenge/{challenge_id}`
    Challenge,
    /// `GET /api/user/{id}/achievements`
    Achievements,
    /// `POST /oauth/token` (auth server)
    Token,
    /// `GET /authorize` and `GET /authorize/resume` (auth server)
    Authorize,
    /// `GET /login`, `GET /u/login`, `POST /usernamepassword/login` and the verification page
    /// (auth server)
    Login,
    /// `POST /login/callback` (auth server)
    LoginCallback,
    /// Anything else, on either server.
    Other,
}

/// Which of the two listeners served a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServerKind {
    Api,
    Auth,
}

pub(crate) fn classify(server: ServerKind, path: &str) -> Endpoint {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match server {
        ServerKind::Api => match segs.as_slice() {
            ["api", "me"] => Endpoint::Me,
            ["api", "user", _, "overview"] => Endpoint::Overview,
            ["api", "user", _, "workouts"] => Endpoint::Workouts,
            ["api", "workout", _] => Endpoint::Workout,
            ["api", "workout", _, "performance_graph"] => Endpoint::PerformanceGraph,
            ["api", "user", _, "challenges", "current"] => Endpoint::Challenges,
            ["api", "user", _, "challenge", _] => Endpoint::Challenge,
            ["api", "user", _, "achievements"] => Endpoint::Achievements,
            _ => Endpoint::Other,
        },
        ServerKind::Auth => match segs.as_slice() {
            ["oauth", "token"] => Endpoint::Token,
            ["authorize"] | ["authorize", "resume"] => Endpoint::Authorize,
            ["login", "callback"] => Endpoint::LoginCallback,
            ["login"] | ["u", _] | ["u", "login", ..] | ["usernamepassword", "login"] => {
                Endpoint::Login
            }
            _ => Endpoint::Other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let api = |p| classify(ServerKind::Api, p);
        assert_eq!(api("/api/me"), Endpoint::Me);
        assert_eq!(api("/api/user/abc/overview"), Endpoint::Overview);
        assert_eq!(api("/api/user/abc/workouts"), Endpoint::Workouts);
        assert_eq!(api("/api/workout/abc"), Endpoint::Workout);
        assert_eq!(
            api("/api/workout/abc/performance_graph"),
            Endpoint::PerformanceGraph
        );
        assert_eq!(
            api("/api/user/abc/challenges/current"),
            Endpoint::Challenges
        );
        assert_eq!(api("/api/user/abc/challenge/def"), Endpoint::Challenge);
        assert_eq!(api("/api/user/abc/achievements"), Endpoint::Achievements);
        assert_eq!(api("/api/user/abc/challenges/past"), Endpoint::Other);
        assert_eq!(api("/api/instructor"), Endpoint::Other);
        let auth = |p| classify(ServerKind::Auth, p);
        assert_eq!(auth("/oauth/token"), Endpoint::Token);
        assert_eq!(auth("/authorize/resume"), Endpoint::Authorize);
        assert_eq!(auth("/login/callback"), Endpoint::LoginCallback);
        assert_eq!(auth("/u/login"), Endpoint::Login);
        assert_eq!(auth("/usernamepassword/login"), Endpoint::Login);
        assert_eq!(auth("/api/me"), Endpoint::Other);
    }
}
