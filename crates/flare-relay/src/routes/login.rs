//! `POST /api/login`: checks a user name and password and starts a console session.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::IntoResponse;
use flare_model::LoginRequest;

use crate::auth::{WRONG_LOGIN, set_cookie};
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
