//! `POST /api/login`: checks a user name and password and starts a console session.
//!
//! After the per-address gate ([`LoginGate`]), an attempt takes one from the account's bucket
//! (429 past it), then waits for one of the relay's bounded password checks: 503 with
//! `Retry-After` when none frees up within `limits.password_check_wait_secs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::response::IntoResponse;
use flare_model::LoginRequest;

use crate::auth::{WRONG_LOGIN, set_cookie};
use crate::routes::extract::too_many_attempts;
use crate::routes::{ApiError, Checked, JsonBody, LoginGate};
use crate::state::AppState;

impl JsonBody for LoginRequest {
    const SHAPE: &'static str = "a login is a JSON object {\"user\": ..., \"password\": ...}";
}

pub async fn handler(
    State(state): State<AppState>,
    Checked { check, body }: Checked<LoginGate, LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let (client, request) = (check.client, body);
    if let Err(wait) = state.login_limiter.attempt_account(&request.user) {
        tracing::info!(
            target: "audit", user = %request.user, client = %client.ip(),
            "login refused: too many attempts at this account"
        );
        return Err(too_many_attempts(wait));
    }
    let permit =
        tokio::time::timeout(state.password_check_wait, state.password_checks.acquire()).await;
    let Ok(Ok(permit)) = permit else {
        let secs = state.password_check_wait.as_secs().max(1);
        tracing::warn!(client = %client.ip(), "login refused: every password check is busy");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the relay is busy checking other logins: try again in {secs} s"),
        )
        .with_header(RETRY_AFTER, secs.into()));
    };
    let verifier = state.clone();
    let name = request.user.clone();
    let verified = tokio::task::spawn_blocking(move || {
        verifier.users.verify(&request.user, &request.password)
    })
    .await;
    drop(permit);
    let user = match verified {
        Ok(Some(user)) => user,
        Ok(None) => {
            tracing::info!(target: "audit", user = %name, client = %client.ip(), "login refused");
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, WRONG_LOGIN));
        }
        Err(e) => {
            tracing::error!("password check failed: {e}");
            return Err(ApiError::internal("the password check failed"));
        }
    };
    let (token, session) = state.sessions.create(user).map_err(|e| {
        tracing::error!("cannot draw a session token: {e}");
        ApiError::internal("cannot start a session")
    })?;
    tracing::info!(
        target: "audit", user = %session.user.name, role = ?session.user.role,
        identity = %session.user.identity, client = %client.ip(), "login"
    );
    let cookie = set_cookie(&token, state.secure_cookies, state.session_ttl);
    Ok((
        [(SET_COOKIE, cookie)],
        Json(session.body(state.transfers.max_upload_bytes)),
    ))
}
