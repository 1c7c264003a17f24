//! `POST /api/kiosk-login` `{"token": "<secret>"}`: starts a viewer session for a kiosk token's
//! identity and study, with the normal session cookie. Rate-limited like `/api/login`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::IntoResponse;
use flare_model::{KioskLoginRequest, Role};

use crate::auth::{User, set_cookie};
use crate::routes::{ApiError, Checked, JsonBody, LoginGate};
use crate::state::AppState;

/// The one answer for an unknown, expired or revoked token.
pub const INVALID_KIOSK_LINK: &str =
    "this kiosk link is no longer valid: ask an operator for a new one";

impl JsonBody for KioskLoginRequest {
    const SHAPE: &'static str = "a kiosk login is a JSON object {\"token\": ...}";
}

fn invalid_link() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, INVALID_KIOSK_LINK)
}

pub async fn handler(
    State(state): State<AppState>,
    Checked { check, body }: Checked<LoginGate, KioskLoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let (client, request) = (check.client, body);
    let Some(token) = state.kiosk.check(&request.token) else {
        tracing::info!(target: "audit", client = %client.ip(), "kiosk login refused");
        return Err(invalid_link());
    };
    // The kit of the identity: the creator's when still configured with it, else any user's.
    let kit = state
        .users
        .iter()
        .filter(|u| u.identity == token.identity)
        .max_by_key(|u| u.name == token.created_by)
        .map(|u| u.kit.clone());
    let Some(kit) = kit else {
        tracing::warn!(
            token = %token.id, identity = %token.identity,
            "kiosk login refused: no configured user has the token's identity any more"
        );
        return Err(invalid_link());
    };
    let user = Arc::new(User::new(
        format!("kiosk:{}", token.label),
        Role::Viewer,
        token.identity.clone(),
        kit,
        token.study.clone(),
        String::new(),
    ));
    let (cookie_token, session) =
        state
            .sessions
            .create_kiosk(user, token.clone())
            .map_err(|e| {
                tracing::error!("cannot draw a session token: {e}");
                ApiError::internal("cannot start a session")
            })?;
    // A revocation between the check and the new session: the revocation may have missed it.
    if state.kiosk.check(&request.token).is_none() {
        state.sessions.remove(&cookie_token);
        return Err(invalid_link());
    }
    tracing::info!(
        target: "audit", user = %session.user.name, kiosk_token = %token.id,
        identity = %token.identity, study = %token.study, client = %client.ip(), "kiosk login"
    );
    let lifetime = session
        .expires_at
        .saturating_duration_since(tokio::time::Instant::now());
    let cookie = set_cookie(&cookie_token, state.secure_cookies, lifetime);
    Ok((
        [(SET_COOKIE, cookie)],
        Json(session.body(state.transfers.max_upload_bytes)),
    ))
}
