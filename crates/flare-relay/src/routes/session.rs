//! `GET /api/session`: who the cookie belongs to, or 401.

use axum::Json;
use axum::extract::State;
use flare_model::SessionInfo;

use crate::routes::Login;
use crate::state::AppState;

pub async fn handler(State(state): State<AppState>, Login(login): Login) -> Json<SessionInfo> {
    Json(login.body(state.transfers.max_upload_bytes))
}
