//! `GET /api/download/<id>`: streams a job zip a `download_job_result` or
//! `download_job_components` command built, to the console login that asked for it, with
//! `Content-Length` and `Content-Disposition: attachment` so the browser shows progress.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio_util::io::ReaderStream;

use crate::origin;
use crate::routes::error;
use crate::state::AppState;

pub async fn handler(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(login) = state.sessions.from_headers(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "not logged in");
    };
    if let Err(e) = origin::check_if_present(&headers, &state.origins) {
        return error(StatusCode::FORBIDDEN, &e.to_string());
    }
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            "no such download: it expired or belongs to another login; download the job again",
        )
    };
    let Some(download) = state.transfers.download(&login.id, &id) else {
        return not_found();
    };
    let file = match tokio::fs::File::open(&download.path).await {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!("cannot open download {}: {e}", download.path.display());
            return not_found();
        }
    };
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
    (
        [
            (CONTENT_TYPE, "application/zip".to_owned()),
            (CONTENT_LENGTH, download.size.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", download.file_name),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
