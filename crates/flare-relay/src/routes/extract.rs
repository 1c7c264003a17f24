//! The extractors handlers share: a logged-in session ([`Login`]), the `Origin` rules
//! ([`OriginChecked`], [`OriginRequired`]), the operator role ([`Operator`]), the login routes' gate
//! ([`LoginGate`]), a login's study ([`StudyScope`]) and a checked JSON body ([`Checked`]).
//!
//! An extractor refuses with an [`ApiError`]; axum runs a handler's extractors in argument order,
//! so the order of the arguments is the order of the checks.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::auth::LoginSession;
use crate::origin;
use crate::routes::ApiError;
use crate::state::AppState;
use crate::study;

/// The live login named by the request's session cookie; 401 `not logged in` without one.
pub struct Login(pub Arc<LoginSession>);

impl FromRequestParts<AppState> for Login {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state
            .sessions
            .from_headers(&parts.headers)
            .map(Login)
            .ok_or_else(ApiError::not_logged_in)
    }
}

/// The API rule for `Origin`: passes without one (non-browser clients), refuses (403) one that
/// is not exactly on the allowlist.
pub struct OriginChecked;

impl FromRequestParts<AppState> for OriginChecked {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        origin::check_if_present(&parts.headers, &state.origins)?;
        Ok(OriginChecked)
    }
}

/// The rule for the WebSocket and for requests that change something: an `Origin` exactly on the
/// allowlist is required (403 without one).
pub struct OriginRequired;

impl FromRequestParts<AppState> for OriginRequired {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        origin::check_required(&parts.headers, &state.origins)?;
        Ok(OriginRequired)
    }
}

/// What [`Operator`] answers anyone else with.
pub const OPERATORS_ONLY: &str = "only operators manage kiosk tokens";

/// An operator's login (never a kiosk's) whose request passed the `Origin` rule `O`. The checks
/// run in this order: the login (401), the origin (403), the role (403 [`OPERATORS_ONLY`]).
pub struct Operator<O = OriginChecked>(pub Arc<LoginSession>, pub O);

impl<O> FromRequestParts<AppState> for Operator<O>
where
    O: FromRequestParts<AppState, Rejection = ApiError> + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Login(login) = Login::from_request_parts(parts, state).await?;
        let origin = O::from_request_parts(parts, state).await?;
        if !login.is_operator() {
            return Err(ApiError::new(StatusCode::FORBIDDEN, OPERATORS_ONLY));
        }
        Ok(Operator(login, origin))
    }
}

/// What every login route checks first: an `Origin` (when sent) on the allowlist (403), then the
/// per-address attempt limit (429 with `Retry-After`). Holds the client's address.
pub struct LoginGate {
    pub client: SocketAddr,
}

impl FromRequestParts<AppState> for LoginGate {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ConnectInfo(client) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::internal(e.body_text()))?;
        OriginChecked::from_request_parts(parts, state).await?;
        if let Err(wait) = state.login_limiter.attempt(client.ip()) {
            return Err(too_many_attempts(wait));
        }
        Ok(LoginGate { client })
    }
}

/// 429 with `Retry-After` for a login attempt past a limit (of an address or of an account).
pub fn too_many_attempts(wait: std::time::Duration) -> ApiError {
    let secs = wait.as_secs() + 1;
    let message = format!("too many login attempts: try again in {secs} s");
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, message).with_header(RETRY_AFTER, secs.into())
}

/// A login and the study its request works in: `?study=<name>`, else the login's own (see
/// [`study::resolve`]). 401 without a login, then 400 for a bad name and 403 for a kiosk login
/// asking for another study than its token's.
pub struct StudyScope {
    pub login: Arc<LoginSession>,
    pub study: String,
}

impl FromRequestParts<AppState> for StudyScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Query(query) = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        let Login(login) = Login::from_request_parts(parts, state).await?;
        let asked = query.get("study").map(String::as_str);
        let study = study::resolve(asked, &login.user.study, login.kiosk.is_some())?;
        Ok(StudyScope { login, study })
    }
}

/// A request body that is one JSON object; `SHAPE` says what it should look like in the 400 a
/// malformed one gets (`"<SHAPE>: <serde's reason>"`).
pub trait JsonBody: DeserializeOwned {
    const SHAPE: &'static str;
}

/// A JSON body `T` of a request that passed the checks `C`. The body is read first (axum's own
/// 413 past the body limit, as before any check), then `C` runs on the request's head, then the
/// body is parsed (400 `"<T::SHAPE>: <reason>"`).
pub struct Checked<C, T> {
    pub check: C,
    pub body: T,
}

impl<C, T> FromRequest<AppState> for Checked<C, T>
where
    C: FromRequestParts<AppState, Rejection = ApiError> + Send,
    T: JsonBody,
{
    // A `Response` rather than an `ApiError`: the body limit's refusal stays axum's own.
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let check = C::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let body = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, format!("{}: {e}", T::SHAPE)).into_response()
        })?;
        Ok(Checked { check, body })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use axum::body::{Body, to_bytes};
    use axum::http::header::{COOKIE, ORIGIN};
    use flare_model::{ErrorBody, KioskToken, Role};

    use super::*;
    use crate::auth::User;
    use crate::config::Config;
    use crate::fake::FakeNvflare;

    /// Request headers of a test case.
    type Headers<'a> = &'a [(axum::http::HeaderName, &'a str)];

    const ALLOWED: &str = "http://127.0.0.1:8080";
    const FOREIGN: &str = "http://evil.example";

    fn state() -> AppState {
        let mut config = Config {
            allowed_origins: Some(vec![ALLOWED.to_owned()]),
            ..Config::default()
        };
        config.limits.login_attempts_per_min = 2.0;
        let bound = "127.0.0.1:8080".parse().expect("addr");
        AppState::new(&config, Arc::new(FakeNvflare::new()), bound).expect("state")
    }

    fn user(role: Role) -> Arc<User> {
        Arc::new(User::new(
            "ann".into(),
            role,
            "admin@nvidia.com".into(),
            PathBuf::from("kit"),
            "default".into(),
            String::new(),
        ))
    }

    /// A session cookie header value for a new login of `role`.
    fn cookie(state: &AppState, role: Role) -> String {
        let (token, _) = state.sessions.create(user(role)).expect("session");
        format!("flare_session={token}")
    }

    fn kiosk_cookie(state: &AppState) -> String {
        let token = KioskToken {
            id: "k1".into(),
            label: "wall".into(),
            identity: "admin@nvidia.com".into(),
            study: "default".into(),
            created_by: "ann".into(),
            created_at_ms: 0,
            expires_at_ms: u64::MAX,
        };
        let (token, _) = state
            .sessions
            .create_kiosk(user(Role::Viewer), token)
            .expect("session");
        format!("flare_session={token}")
    }

    /// Runs the extractor `E` on a request for `uri` with `headers` from 10.0.0.1:5000; a refusal
    /// as its status and message.
    async fn extract<E>(
        state: &AppState,
        uri: &str,
        headers: Headers<'_>,
    ) -> Result<E, (u16, String)>
    where
        E: FromRequestParts<AppState, Rejection = ApiError>,
    {
        let mut request = Request::builder().uri(uri);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        let (mut parts, ()) = request.body(()).expect("request").into_parts();
        let client: SocketAddr = "10.0.0.1:5000".parse().expect("addr");
        parts.extensions.insert(ConnectInfo(client));
        E::from_request_parts(&mut parts, state)
            .await
            .map_err(|e| (e.status().as_u16(), e.message().to_owned()))
    }

    #[tokio::test]
    async fn login_needs_a_live_session_cookie() {
        let state = state();
        let refused = extract::<Login>(&state, "/", &[]).await.err();
        assert_eq!(refused, Some((401, "not logged in".into())));
        let forged = [(COOKIE, "flare_session=00ff")];
        let refused = extract::<Login>(&state, "/", &forged).await.err();
        assert_eq!(refused, Some((401, "not logged in".into())));
        let live = cookie(&state, Role::Viewer);
        let Ok(Login(login)) = extract::<Login>(&state, "/", &[(COOKIE, &live)]).await else {
            panic!("a live session is a login");
        };
        assert_eq!(login.user.name, "ann");
    }

    #[tokio::test]
    async fn origin_rules_differ_only_without_an_origin() {
        let state = state();
        let no_origin = "the request has no Origin header".to_owned();
        let foreign = "origin \"http://evil.example\" is not allowed".to_owned();
        let cases: [(Headers<'_>, Option<&String>, Option<&String>); 3] = [
            (&[], None, Some(&no_origin)),
            (&[(ORIGIN, FOREIGN)], Some(&foreign), Some(&foreign)),
            (&[(ORIGIN, ALLOWED)], None, None),
        ];
        for (headers, if_present, required) in cases {
            let checked = extract::<OriginChecked>(&state, "/", headers).await;
            assert_eq!(checked.err(), if_present.map(|m| (403, m.clone())));
            let checked = extract::<OriginRequired>(&state, "/", headers).await;
            assert_eq!(checked.err(), required.map(|m| (403, m.clone())));
        }
    }

    #[tokio::test]
    async fn operator_checks_login_then_origin_then_role() {
        let state = state();
        let viewer = cookie(&state, Role::Viewer);
        let operator = cookie(&state, Role::Operator);
        let kiosk = kiosk_cookie(&state);
        let cases: [(Headers<'_>, Option<(u16, &str)>); 6] = [
            (&[(ORIGIN, FOREIGN)], Some((401, "not logged in"))),
            (
                &[(COOKIE, &viewer), (ORIGIN, FOREIGN)],
                Some((403, "origin \"http://evil.example\" is not allowed")),
            ),
            (
                &[(COOKIE, &operator)],
                Some((403, "the request has no Origin header")),
            ),
            (
                &[(COOKIE, &viewer), (ORIGIN, ALLOWED)],
                Some((403, OPERATORS_ONLY)),
            ),
            (
                &[(COOKIE, &kiosk), (ORIGIN, ALLOWED)],
                Some((403, OPERATORS_ONLY)),
            ),
            (&[(COOKIE, &operator), (ORIGIN, ALLOWED)], None),
        ];
        for (headers, want) in cases {
            let got = extract::<Operator<OriginRequired>>(&state, "/", headers).await;
            let want = want.map(|(status, message)| (status, message.to_owned()));
            assert_eq!(got.err(), want, "{headers:?}");
        }
        // Reads take an absent Origin.
        let got = extract::<Operator>(&state, "/", &[(COOKIE, &operator)]).await;
        assert!(got.is_ok());
    }

    #[tokio::test]
    async fn study_scope_checks_the_login_before_the_study() {
        let state = state();
        let viewer = cookie(&state, Role::Viewer);
        let kiosk = kiosk_cookie(&state);
        let cases: [(&str, Headers<'_>, Result<&str, u16>); 6] = [
            ("/ws?study=Bad%20Name", &[], Err(401)),
            ("/ws?study=Bad%20Name", &[(COOKIE, &viewer)], Err(400)),
            ("/ws?study=other", &[(COOKIE, &kiosk)], Err(403)),
            ("/ws", &[(COOKIE, &viewer)], Ok("default")),
            (
                "/ws?study=cancer-2026",
                &[(COOKIE, &viewer)],
                Ok("cancer-2026"),
            ),
            ("/ws?study=default", &[(COOKIE, &kiosk)], Ok("default")),
        ];
        for (uri, headers, want) in cases {
            let got = extract::<StudyScope>(&state, uri, headers).await;
            let got = got.as_ref().map(|s| s.study.as_str()).map_err(|e| e.0);
            assert_eq!(got, want, "{uri}");
        }
    }

    #[tokio::test]
    async fn the_login_gate_checks_the_origin_before_counting_an_attempt() {
        let state = state();
        for _ in 0..3 {
            let refused = extract::<LoginGate>(&state, "/", &[(ORIGIN, FOREIGN)]).await;
            assert_eq!(refused.err().map(|e| e.0), Some(403));
        }
        // Two attempts a minute: the refusals above took none of them.
        for _ in 0..2 {
            let gate = extract::<LoginGate>(&state, "/", &[(ORIGIN, ALLOWED)]).await;
            assert_eq!(gate.map(|g| g.client.port()).ok(), Some(5000));
        }
        let mut parts = Request::builder().body(()).expect("request").into_parts().0;
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 5000))));
        let Err(limited) = LoginGate::from_request_parts(&mut parts, &state).await else {
            panic!("the third attempt is limited");
        };
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        let message = limited.message().to_owned();
        assert!(
            message.starts_with("too many login attempts: try again in "),
            "{message}"
        );
        let response = limited.into_response();
        let secs: u64 = response.headers()[RETRY_AFTER]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!(message.ends_with(&format!(" {secs} s")), "{message}");
        assert!((1..=31).contains(&secs), "{secs}");
    }

    #[derive(serde::Deserialize)]
    struct Probe {
        user: String,
    }

    impl JsonBody for Probe {
        const SHAPE: &'static str = "a test login";
    }

    async fn checked(origin: &str, body: &str) -> Result<String, (u16, String)> {
        let mut request = Request::builder()
            .uri("/api/login")
            .header(ORIGIN, origin)
            .body(Body::from(body.to_owned()))
            .expect("request");
        let client: SocketAddr = "10.0.0.2:5000".parse().expect("addr");
        request.extensions_mut().insert(ConnectInfo(client));
        match Checked::<OriginChecked, Probe>::from_request(request, &state()).await {
            Ok(Checked { body, .. }) => Ok(body.user),
            Err(response) => {
                let status = response.status().as_u16();
                let bytes = to_bytes(response.into_body(), 1 << 16).await.expect("body");
                let body: ErrorBody = serde_json::from_slice(&bytes).expect("an ErrorBody");
                Err((status, body.error))
            }
        }
    }

    #[tokio::test]
    async fn a_checked_body_is_parsed_after_the_check() {
        let good = r#"{"user": "ann"}"#;
        assert_eq!(checked(ALLOWED, good).await, Ok("ann".to_owned()));
        let (status, message) = checked(FOREIGN, "{not json").await.expect_err("foreign");
        assert_eq!(status, 403, "{message}");
        let (status, message) = checked(ALLOWED, "{not json").await.expect_err("malformed");
        assert_eq!(status, 400);
        assert!(
            message.starts_with("a test login: key must be a string"),
            "{message}"
        );
    }
}
