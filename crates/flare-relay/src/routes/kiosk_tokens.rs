//! `GET /api/kiosk-tokens` (list) and `POST /api/kiosk-tokens` (create): the kiosk tokens of the
//! operator's NVFlare identity. Operators only (403 for viewers and kiosks, 401 without a session);
//! a POST needs an exactly allowed `Origin`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use flare_model::{CreatedKioskToken, KioskToken, NewKioskToken};

use crate::audit::AuditRecord;
use crate::auth::LoginSession;
use crate::clock::now_ms;
use crate::kiosk::{KioskError, NewToken};
use crate::routes::{ApiError, Checked, JsonBody, Operator, OriginRequired};
use crate::state::AppState;
use crate::study::{self, StudyError};

impl JsonBody for NewKioskToken {
    const SHAPE: &'static str =
        "a kiosk token request is {\"label\": ..., \"study\": ..., \"expires_in_secs\": ...}";
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

pub async fn list(
    State(state): State<AppState>,
    Operator(login, _): Operator,
) -> Json<Vec<KioskToken>> {
    Json(state.kiosk.list(&login.user.identity))
}

pub async fn create(
    State(state): State<AppState>,
    Checked {
        check: Operator(login, _),
        body: request,
    }: Checked<Operator<OriginRequired>, NewKioskToken>,
) -> Result<impl IntoResponse, ApiError> {
    let study = request
        .study
        .clone()
        .unwrap_or_else(|| login.user.study.clone());
    if !study::is_valid(&study) {
        return Err(StudyError::Invalid(study.chars().take(80).collect()).into());
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
            Ok(Json(CreatedKioskToken {
                token,
                url: format!("/kiosk#token={secret}"),
            }))
        }
        Err(KioskError::Invalid(message)) => Err(ApiError::new(StatusCode::BAD_REQUEST, message)),
        Err(e) => {
            tracing::error!("cannot create a kiosk token: {e}");
            Err(ApiError::internal("cannot create the kiosk token"))
        }
    }
}
