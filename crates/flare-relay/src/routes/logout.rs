//! `POST /api/logout`: ends the console session and closes its sockets.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use axum::response::IntoResponse;
use flare_model::Done;

use crate::auth::{clear_cookie, session_cookie};
use crate::routes::OriginChecked;
use crate::state::AppState;

pub async fn handler(
    State(state): State<AppState>,
    _: OriginChecked,
    headers: HeaderMap,
) -> impl IntoResponse {
    if let Some(token) = session_cookie(&headers) {
        if let Some(session) = state.sessions.get(&token) {
            tracing::info!(target: "audit", user = %session.user.name, "logout");
            state.transfers.forget(&session.id);
        }
        state.sessions.remove(&token);
    }
    (
        [(SET_COOKIE, clear_cookie(state.secure_cookies))],
        Json(Done { ok: true }),
    )
}
