//! `GET /api/kiosk-tokens` (list) and `POST /api/kiosk-tokens` (create): the kiosk tokens of the
//! operator's NVFlare identity. Operators only (403 for viewers and kiosks, 401 without a session);
//! a POST needs an exactly allowed `Origin`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use flare_model::{CreatedKioskToken, NewKioskToken, Role};

use crate::audit::AuditRecord;
use crate::auth::LoginSession;
use crate::hub::now_ms;
use crate::kiosk::{KioskError, NewToken};
use crate::origin;
use crate::routes::{Refusal, error};
use crate::state::AppState;
use crate::study;

/// The operator's login, or the refusal. `origin_required` for requests that change something.
pub fn operator(
    state: &AppState,
    headers: &HeaderMap,
    origin_required: bool,
) -> Result<Arc<LoginSession>, Refusal> {
    let Some(login) = state.sessions.from_headers(headers) else {
        return Err((StatusCode::UNAUTHORIZED, "not logged in".to_owned()));
    };
    let checked = if origin_required {
        origin::check_required(headers, &state.origins)
    } else {
        origin::check_if_present(headers, &state.origins)
    };
    if let Err(e) = checked {
        return Err((StatusCode::FORBIDDEN, e.to_string()));
    }
    if login.user.role != Role::Operator || login.kiosk.is_some() {
        return Err((
            StatusCode::FORBIDDEN,
            "only operators manage kiosk tokens".to_owned(),
        ));
    }
    Ok(login)
}

/// Audits a kiosk token action of an operator.
pub fn audit(state: &AppState, login: &LoginSession, command: &str, study: &str, token: &str) {
    state.audit.record(&AuditRecord {
        at_ms: now_ms(),
        user: &login.user.name,
        role: login.user.role,
        identity: &login.user.identity,
        study,
        command,
        outcome: "ok",
        message: None,
        kiosk_token: Some(token),
    });
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match operator(&state, &headers, false) {
        Ok(login) => Json(state.kiosk.list(&login.user.identity)).into_response(),
        Err((status, message)) => error(status, &message),
    }
}

pub async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let login = match operator(&state, &headers, true) {
        Ok(login) => login,
        Err((status, message)) => return error(status, &message),
    };
    let request: NewKioskToken = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "a kiosk token request is {{\"label\": ..., \"study\": ..., \"expires_in_secs\": ...}}: {e}"
                ),
            );
        }
    };
    let study = request
        .study
        .clone()
        .unwrap_or_else(|| login.user.study.clone());
    if !study::is_valid(&study) {
        return error(
            StatusCode::BAD_REQUEST,
            &study::StudyError::Invalid(study.chars().take(80).collect()).to_string(),
        );
    }
    let created = state.kiosk.create(&NewToken {
        label: &request.label,
        identity: &login.user.identity,
        study: &study,
        created_by: &login.user.name,
        expires_in_secs: request.expires_in_secs,
    });
    match created {
        Ok((token, secret)) => {
            audit(
                &state,
                &login,
                "create_kiosk_token",
                &study,
                &format!("{} ({})", token.id, token.label),
            );
            Json(CreatedKioskToken {
                token,
                url: format!("/kiosk#token={secret}"),
            })
            .into_response()
        }
        Err(KioskError::Invalid(message)) => error(StatusCode::BAD_REQUEST, &message),
        Err(e) => {
            tracing::error!("cannot create a kiosk token: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot create the kiosk token",
            )
        }
    }
}
