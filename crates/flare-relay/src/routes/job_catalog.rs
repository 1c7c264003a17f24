//! `GET /api/job-catalog`: flare-job's catalog of nvflare component classes and their arguments
//! (`data/catalog.json`), served to operators and viewers (not kiosks) so the console's wasm need
//! not embed it.

use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::routes::compose::ComposerReader;

pub async fn handler(_login: ComposerReader) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        flare_job::CATALOG_JSON,
    )
}
