//! `DELETE /api/kiosk-tokens/<id>`: revokes a kiosk token of the operator's identity. Its logins
//! end at once and their sockets close with 4003 `kiosk token revoked`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use flare_model::KioskTokenRevoked;

use crate::routes::kiosk_tokens::audit;
use crate::routes::{ApiError, Operator, OriginRequired};
use crate::state::AppState;

pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Operator(login, _): Operator<OriginRequired>,
) -> Result<Json<KioskTokenRevoked>, ApiError> {
    match state.kiosk.revoke(&login.user.identity, &id) {
        Ok(Some(token)) => {
            let sessions = state.sessions.revoke_kiosk(&token.id);
            audit(
                &state,
                &login,
                "revoke_kiosk_token",
                &token.study,
                &format!("{} ({})", token.id, token.label),
            );
            Ok(Json(KioskTokenRevoked {
                ok: true,
                sessions_ended: sessions,
            }))
        }
        Ok(None) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no such kiosk token: {}",
                id.chars().take(64).collect::<String>()
            ),
        )),
        Err(e) => {
            tracing::error!("cannot revoke a kiosk token: {e}");
            // The token is gone from memory even if the file could not be written: end its logins.
            state.sessions.revoke_kiosk(&id);
            Err(ApiError::internal(
                "the token is revoked until the relay restarts, but the tokens file could not be written",
            ))
        }
    }
}
