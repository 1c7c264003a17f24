//! `POST /api/compose/zip`: the composition exported by flare-job and zipped (`<name>/...`, as
//! nvflare's job folder), for "Download job folder (zip)". Operators only, audited.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use flare_job::compose::Composition;

use crate::routes::compose::{Composer, export_audited};
use crate::routes::{ApiError, Checked, audit};
use crate::state::AppState;

pub async fn handler(
    State(state): State<AppState>,
    Checked {
        check: Composer(login),
        body: composition,
    }: Checked<Composer, Composition>,
) -> Result<Response, ApiError> {
    let job = export_audited(&state, &login, "compose_zip", composition).await?;
    let zip = job.to_zip().map_err(|e| {
        tracing::error!("cannot zip a composed job: {e}");
        ApiError::internal("cannot zip the job on the relay")
    })?;
    audit(&state, &login, "compose_zip", "ok", None);
    // The job name passed flare-job's name check: letters, digits, '.', '_' and '-' only.
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}.zip\"", job.name))
        .map_err(|_| ApiError::internal("the job name cannot be a file name"))?;
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/zip")),
            (CONTENT_DISPOSITION, disposition),
        ],
        zip,
    )
        .into_response())
}
