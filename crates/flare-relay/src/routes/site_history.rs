//! `GET /api/site-history[?study=<name>]`: the site connectivity history of the hub of (the
//! login's identity, the study), as [`flare_model::SiteHistory`]. Any live session, kiosks
//! included; study rules as on `/ws`. Never logs in: without a hub the history is empty.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use flare_model::SiteHistory;

use crate::routes::error;
use crate::routes::ws::requested_study;
use crate::state::AppState;

pub async fn handler(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(login) = state.sessions.from_headers(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "not logged in");
    };
    let study = match requested_study(&login, query.get("study").map(String::as_str)) {
        Ok(study) => study,
        Err((status, message)) => return error(status, &message),
    };
    let history = match state.hubs.existing(&login.user.identity, &study) {
        Some(hub) => hub.site_history(),
        None => SiteHistory {
            sample_every_ms: state.hubs.settings().history.sample_every().as_millis() as u64,
            ..SiteHistory::default()
        },
    };
    Json(history).into_response()
}
