//! `POST /api/login`: checks a user name and password and starts a console session.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use flare_model::LoginRequest;

use crate::auth::{WRONG_LOGIN, set_cookie};
use crate::origin;
use crate::routes::error;
use crate::state::AppState;

/// What every login route checks first: an `Origin` (when sent) on the allowlist, and the
/// per-address attempt limit. `Some` is the refusal to send.
pub(crate) fn refusal(
    state: &AppState,
    client: SocketAddr,
    headers: &HeaderMap,
) -> Option<Response> {
    if let Err(e) = origin::check_if_present(headers, &state.origins) {
        return Some(error(StatusCode::FORBIDDEN, &e.to_string()));
    }
    if let Err(wait) = state.login_limiter.attempt(client.ip()) {
        let secs = wait.as_secs() + 1;
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("too many login attempts: try again in {secs} s"),
        );
        response.headers_mut().insert(RETRY_AFTER, secs.into());
        return Some(response);
    }
    None
}

pub async fn handler(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refusal(&state, client, &headers) {
        return refusal;
    }
    let request: LoginRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("a login is a JSON object {{\"user\": ..., \"password\": ...}}: {e}"),
            );
        }
    };
    let verifier = state.clone();
    let name = request.user.clone();
    let verified = tokio::task::spawn_blocking(move || {
        verifier.users.verify(&request.user, &request.password)
    })
    .await;
    let user = match verified {
        Ok(Some(user)) => user,
        Ok(None) => {
            tracing::info!(target: "audit", user = %name, client = %client.ip(), "login refused");
            return error(StatusCode::UNAUTHORIZED, WRONG_LOGIN);
        }
        Err(e) => {
            tracing::error!("password check failed: {e}");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the password check failed",
            );
        }
    };
    let (token, session) = match state.sessions.create(user) {
        Ok(created) => created,
        Err(e) => {
            tracing::error!("cannot draw a session token: {e}");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "cannot start a session");
        }
    };
    tracing::info!(
        target: "audit", user = %session.user.name, role = ?session.user.role,
        identity = %session.user.identity, client = %client.ip(), "login"
    );
    let cookie = set_cookie(&token, state.secure_cookies, state.session_ttl);
    (
        [(SET_COOKIE, cookie)],
        Json(session.body(state.transfers.max_upload_bytes)),
    )
        .into_response()
}
