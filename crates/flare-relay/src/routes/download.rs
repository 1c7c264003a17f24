//! `GET /api/download/<id>`: streams a job zip a `download_job_result` or
//! `download_job_components` command built, to the console login that asked for it, with
//! `Content-Length` and `Content-Disposition: attachment` so the browser shows progress.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::IntoResponse;
use futures_util::StreamExt;
use tokio_util::io::ReaderStream;

use crate::routes::{ApiError, Login, OriginChecked};
use crate::state::AppState;

pub async fn handler(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Login(login): Login,
    _: OriginChecked,
) -> Result<impl IntoResponse, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no such download: it expired or belongs to another login; download the job again",
        )
    };
    let download = state
        .transfers
        .download(&login.id, &id)
        .ok_or_else(not_found)?;
    let file = tokio::fs::File::open(&download.path).await.map_err(|e| {
        tracing::warn!("cannot open download {}: {e}", download.path.display());
        not_found()
    })?;
    tracing::info!(
        target: "audit", user = %login.user.name, file = %download.file_name,
        size = download.size, "download"
    );
    // The stream holds the download's folder so a sweep cannot delete it mid-transfer.
    let keep = download.dir.clone();
    let stream = ReaderStream::new(file).map(move |chunk| {
        let _ = &keep;
        chunk
    });
    Ok((
        [
            (CONTENT_TYPE, "application/zip".to_owned()),
            (CONTENT_LENGTH, download.size.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", download.file_name),
            ),
        ],
        Body::from_stream(stream),
    ))
}
