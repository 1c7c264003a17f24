//! `POST /api/compose`: an operator's composition (a flare-job `Composition`: the job spec and
//! its uploaded files, base64) is checked again with flare-job, exported to the exact folder
//! nvflare's FedJob writes and kept as an upload; the answer is [`flare_model::Uploaded`], which
//! the console submits through the retry-safe `submit_job` path. Also the [`Composer`] extractor
//! and the checks the other composer endpoints share.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use flare_job::compose::Composition;
use flare_job::{ExportedJob, JobError};
use flare_model::Uploaded;

use crate::auth::LoginSession;
use crate::routes::upload::upload_slot;
use crate::routes::{ApiError, Checked, JsonBody, Login, OriginRequired, audit};
use crate::state::AppState;
use crate::transfers::ReceivedJob;

impl JsonBody for Composition {
    const SHAPE: &'static str = "a composition is {\"job\": {\"name\": ..., \"min_clients\": ..., \"steps\": [...]}, \"files\": [{\"path\": ..., \"data\": <base64>}]}";
}

/// What a viewer or kiosk asking for a composer endpoint is told.
pub const COMPOSERS_ONLY: &str =
    "viewers cannot compose jobs: log in as an operator to compose, download and submit jobs";

/// An operator's login on a request with an allowed `Origin`: 401 without a login, 403 for a
/// foreign or missing `Origin`, 403 [`COMPOSERS_ONLY`] (audited) for viewers and kiosks.
pub struct Composer(pub Arc<LoginSession>);

impl FromRequestParts<AppState> for Composer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Login(login) = Login::from_request_parts(parts, state).await?;
        OriginRequired::from_request_parts(parts, state).await?;
        if !login.is_operator() || login.kiosk.is_some() {
            audit(
                state,
                &login,
                "compose_job",
                "refused",
                Some(COMPOSERS_ONLY),
            );
            return Err(ApiError::new(StatusCode::FORBIDDEN, COMPOSERS_ONLY));
        }
        Ok(Composer(login))
    }
}

/// What a kiosk screen asking for the composer's catalog or starting points is told.
pub const NOT_FOR_KIOSKS: &str =
    "kiosk screens show the wall only: the composer needs an operator or viewer login";

/// A login that is not a kiosk's (kiosk screens read only what the wall shows): 401 without a
/// login, 403 [`NOT_FOR_KIOSKS`] for a kiosk.
pub struct ComposerReader(pub Arc<LoginSession>);

impl FromRequestParts<AppState> for ComposerReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Login(login) = Login::from_request_parts(parts, state).await?;
        if login.kiosk.is_some() {
            return Err(ApiError::new(StatusCode::FORBIDDEN, NOT_FOR_KIOSKS));
        }
        Ok(ComposerReader(login))
    }
}

/// A composition flare-job refuses: 400 with flare-job's message.
fn refused(e: &JobError) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, e.to_string())
}

/// [`export`], with a refusal audited as `action` of `login`.
pub async fn export_audited(
    state: &AppState,
    login: &LoginSession,
    action: &str,
    composition: Composition,
) -> Result<ExportedJob, ApiError> {
    let exported = export(composition).await;
    if let Err(e) = &exported {
        audit(state, login, action, "refused", Some(e.message()));
    }
    exported
}

/// The form's checks again (without the study's sites, which the console checks), then the
/// replay of every `to` and the export; 400 with the first problem.
pub async fn export(composition: Composition) -> Result<ExportedJob, ApiError> {
    tokio::task::spawn_blocking(move || {
        let problems = flare_job::compose::check(
            &composition.job,
            flare_job::catalog(),
            None,
            &composition.file_paths(),
        );
        if let Some(p) = problems.first() {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, p.message.clone()));
        }
        composition.export().map_err(|e| refused(&e))
    })
    .await
    .map_err(|e| ApiError::internal(format!("the export task failed: {e}")))?
}

pub async fn handler(
    State(state): State<AppState>,
    Checked {
        check: Composer(login),
        body: composition,
    }: Checked<Composer, Composition>,
) -> Result<Json<Uploaded>, ApiError> {
    let transfers = &state.transfers;
    let slot = upload_slot(transfers, &login.id)?;
    let job = export_audited(&state, &login, "compose_job", composition).await?;
    // An upload like any other: the start-up sweep of a killed run's folders knows the prefix.
    let dir = transfers.temp_dir("flare-upload-").map_err(|e| {
        tracing::error!("cannot create a compose folder: {e}");
        ApiError::internal("cannot store the job: the relay cannot create a temporary folder")
    })?;
    let parent = dir.path().join("job");
    let (files, bytes) = (
        job.files.len(),
        job.files.values().map(|b| b.len() as u64).sum(),
    );
    let job_dir = {
        let job = job.clone();
        tokio::task::spawn_blocking(move || job.write_to(&parent))
            .await
            .map_err(|e| ApiError::internal(format!("the export task failed: {e}")))?
            .map_err(|e| {
                tracing::error!("cannot write a composed job: {e}");
                ApiError::internal("cannot store the job on the relay")
            })?
    };
    let upload_id = transfers
        .add_reserved_upload(
            slot,
            ReceivedJob {
                dir,
                job_dir,
                folder_name: job.name.clone(),
                files,
                bytes,
            },
        )
        .map_err(|e| {
            tracing::error!("cannot draw an upload id: {e}");
            ApiError::internal("cannot store the job")
        })?;
    tracing::info!(user = %login.user.name, upload_id = %upload_id, job = %job.name, files, bytes, "composed job stored");
    audit(&state, &login, "compose_job", "ok", None);
    Ok(Json(Uploaded {
        upload_id,
        folder_name: job.name,
        files: files as u64,
        bytes,
    }))
}
