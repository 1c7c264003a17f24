//! `GET /ws[?study=<name>]`: the tab's WebSocket. Refused before the upgrade without a live session
//! cookie (401), with an invalid study name (400), with another study than a kiosk login's (403)
//! or without an allowed `Origin` (403), when the login has `limits.max_sockets_per_session`
//! sockets open (429) or the relay `limits.max_sockets` (503); upgraded with explicit size and
//! buffer limits. The socket is attached to the hub of (the login's identity, the study asked for,
//! else the login's own).

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use crate::routes::{ApiError, OriginRequired, StudyScope};
use crate::session::{Actor, TabFiles, TabSession};
use crate::state::AppState;
use crate::ws::{self, SocketRefusal, Tab};

pub async fn handler(
    State(state): State<AppState>,
    StudyScope { login, study }: StudyScope,
    origin: Result<OriginRequired, ApiError>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // Taken as `Result`s so that the refusal names the user and the origin is checked before the
    // upgrade headers are.
    origin.inspect_err(|e| tracing::warn!(user = %login.user.name, "websocket refused: {e}"))?;
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        // Not a WebSocket handshake: axum's own answer, as for any upgrade route.
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let user = &login.user;
    let slot = state.sockets.take(&login.id).map_err(|refusal| {
        tracing::warn!(user = %user.name, "websocket refused: {refusal}");
        let status = match refusal {
            SocketRefusal::Login { .. } => StatusCode::TOO_MANY_REQUESTS,
            SocketRefusal::Relay { .. } => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, refusal.to_string())
    })?;
    let lease = state.hubs.attach(&user.identity, &user.kit, &study);
    let actor = Actor {
        user: user.name.clone(),
        role: user.role,
        identity: user.identity.clone(),
        study,
        kiosk: login
            .kiosk
            .as_ref()
            .map(|k| format!("{} ({})", k.id, k.label)),
    };
    let tab = Tab {
        session: std::sync::Arc::new(
            TabSession::new(
                lease.hub().clone(),
                actor,
                state.audit.clone(),
                TabFiles {
                    transfers: state.transfers.clone(),
                    owner: login.id.clone(),
                },
            )
            .with_activity(login.activity()),
        ),
        limits: state.limits.clone(),
        ended: login.ended(),
        revoked: login.revoked.clone(),
        expires_at: login.expires_at,
    };
    let limits = &state.limits;
    let max_write = limits.max_write_buffer_bytes;
    Ok(upgrade
        .max_message_size(limits.max_message_bytes)
        .max_frame_size(limits.max_message_bytes)
        // Browser frames are small commands: a 128 KiB preallocated read buffer per idle tab
        // was most of a viewer's memory (benchmark: ~140 KiB per idle viewer). It still grows
        // for a larger message, up to max_message_bytes.
        .read_buffer_size(8 * 1024)
        .write_buffer_size((max_write / 2).min(128 * 1024))
        .max_write_buffer_size(max_write)
        .on_upgrade(move |socket| async move {
            let (sink, stream) = socket.split();
            ws::run(sink, stream, tab).await;
            drop(lease);
            drop(slot);
        }))
}
