//! `GET /api/session`: who the cookie belongs to, or 401.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::routes::error;
use crate::state::AppState;

pub async fn handler(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.sessions.from_headers(&headers) {
        Some(session) => Json(session.body(state.transfers.max_upload_bytes)).into_response(),
        None => error(StatusCode::UNAUTHORIZED, "not logged in"),
    }
}
