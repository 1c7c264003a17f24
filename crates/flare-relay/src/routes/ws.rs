//! `GET /ws`: the tab's WebSocket. Refused before the upgrade without a live session cookie (401)
//! or without an allowed `Origin` (403); upgraded with explicit size and buffer limits.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use crate::origin;
use crate::routes::error;
use crate::session::{Actor, TabFiles, TabSession};
use crate::state::AppState;
use crate::ws::{self, Tab};

pub async fn handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Some(login) = state.sessions.from_headers(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "not logged in");
    };
    if let Err(e) = origin::check_required(&headers, &state.origins) {
        tracing::warn!(user = %login.user.name, "websocket refused: {e}");
        return error(StatusCode::FORBIDDEN, &e.to_string());
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let user = &login.user;
    let hub = state.hubs.get(&user.identity, &user.kit, &user.study);
    let actor = Actor {
        user: user.name.clone(),
        role: user.role,
        identity: user.identity.clone(),
        study: user.study.clone(),
    };
    let tab = Tab {
        session: std::sync::Arc::new(TabSession::new(
            hub.clone(),
            actor.clone(),
            state.audit.clone(),
            TabFiles {
                transfers: state.transfers.clone(),
                owner: login.id.clone(),
            },
        )),
        actor,
        hub,
        audit: state.audit.clone(),
        limits: state.limits.clone(),
        ended: login.ended(),
        expires_at: login.expires_at,
    };
    let limits = &state.limits;
    let max_write = limits.max_write_buffer_bytes;
    upgrade
        .max_message_size(limits.max_message_bytes)
        .max_frame_size(limits.max_message_bytes)
        .write_buffer_size((max_write / 2).min(128 * 1024))
        .max_write_buffer_size(max_write)
        .on_upgrade(move |socket| async move {
            let (sink, stream) = socket.split();
            ws::run(sink, stream, tab).await;
        })
}
