//! `POST /api/logout`: ends the console session and closes its sockets.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use flare_model::Done;

use crate::auth::{clear_cookie, session_cookie};
use crate::origin;
use crate::routes::error;
use crate::state::AppState;

pub async fn handler(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = origin::check_if_present(&headers, &state.origins) {
        return error(StatusCode::FORBIDDEN, &e.to_string());
    }
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
        .into_response()
}
