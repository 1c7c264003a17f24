//! `POST /api/upload`: an operator sends a job as one zip (`Content-Type: application/zip`) or as
//! a folder's files (`multipart/form-data`, each part's file name its relative path). The body is
//! streamed to a fresh temporary folder under the size cap, unpacked with every check of
//! [`crate::upload`], and kept as an upload `submit_job` can name.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, BodyDataStream};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use flare_model::Uploaded;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use tokio_util::io::ReaderStream;

use crate::auth::LoginSession;
use crate::routes::{ApiError, Login, OriginRequired};
use crate::state::AppState;
use crate::transfers::{ReceivedJob, Transfers, UploadSlot};
use crate::upload::{self, UploadError};

/// After refusing a request, the relay reads (and drops) at most this much more of its body, so
/// the client sees the answer instead of a reset connection.
const DRAIN_BYTES: u64 = 16 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

#[derive(Deserialize)]
pub struct UploadParams {
    /// Names the job when its files sit at the root of the upload (e.g. the zip's file name).
    name: Option<String>,
}

enum Kind {
    Zip,
    Multipart { boundary: String },
}

/// An upload that passed every check on the request's head, with the place it will take.
struct Admitted {
    login: std::sync::Arc<LoginSession>,
    params: UploadParams,
    kind: Kind,
    slot: UploadSlot,
}

/// The login and `Origin` are taken as `Result`s: every refusal, theirs included, reads a bounded
/// rest of the body first (see [`drained`]).
pub async fn handler(
    State(state): State<AppState>,
    params: Result<Query<UploadParams>, QueryRejection>,
    login: Result<Login, ApiError>,
    origin: Result<OriginRequired, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Uploaded>, ApiError> {
    let mut stream = body.into_data_stream();
    let Admitted {
        login,
        params,
        kind,
        slot,
    } = match admit(&state, login, origin, params, &headers) {
        Ok(admitted) => admitted,
        Err(e) => return Err(drained(&mut stream, e).await),
    };
    let transfers = &state.transfers;
    let dir = match transfers.temp_dir("flare-upload-") {
        Ok(dir) => dir,
        Err(e) => {
            tracing::error!("cannot create an upload folder: {e}");
            let message = "cannot store the upload: the relay cannot create a temporary folder";
            return Err(drained(&mut stream, ApiError::internal(message)).await);
        }
    };
    let body_path = dir.path().join("body");
    if let Err(e) = save_body(&mut stream, &body_path, transfers.max_upload_bytes).await {
        return Err(match e {
            UploadError::TooLarge(_) => drained(&mut stream, e.into()).await,
            other => other.into(),
        });
    }
    let raw = dir.path().join("raw");
    let limits = transfers.upload_limits;
    let unpacked = async {
        tokio::fs::create_dir(&raw)
            .await
            .map_err(|e| UploadError::Internal(format!("cannot store the upload: {e}")))?;
        match kind {
            Kind::Zip => {
                let (body_path, raw) = (body_path.clone(), raw.clone());
                let unpacked = tokio::task::spawn_blocking(move || {
                    upload::extract_zip(&body_path, &raw, limits)
                })
                .await
                .map_err(|e| UploadError::Internal(format!("the unzip task failed: {e}")))??;
                Ok((unpacked, None))
            }
            Kind::Multipart { boundary } => {
                let file = tokio::fs::File::open(&body_path)
                    .await
                    .map_err(|e| UploadError::Internal(format!("cannot reopen the upload: {e}")))?;
                upload::extract_multipart(ReaderStream::new(file), &boundary, &raw, limits).await
            }
        }
    }
    .await;
    let _ = tokio::fs::remove_file(&body_path).await;
    let (unpacked, name_field) = unpacked?;
    let fallback = name_field
        .or(params.name)
        .unwrap_or_else(|| "job".to_owned());
    let parent: PathBuf = dir.path().join("job");
    let placed = tokio::task::spawn_blocking(move || upload::place_job(&raw, &parent, &fallback))
        .await
        .map_err(|e| UploadError::Internal(format!("the upload task failed: {e}")))
        .and_then(|placed| placed);
    let (folder_name, job_dir) = placed?;
    let upload_id = transfers
        .add_reserved_upload(
            slot,
            ReceivedJob {
                dir,
                job_dir,
                folder_name: folder_name.clone(),
                files: unpacked.files,
                bytes: unpacked.bytes,
            },
        )
        .map_err(|e| {
            tracing::error!("cannot draw an upload id: {e}");
            ApiError::internal("cannot store the upload")
        })?;
    tracing::info!(
        user = %login.user.name, upload_id = %upload_id, folder = %folder_name,
        files = unpacked.files, bytes = unpacked.bytes, "upload stored"
    );
    audit(&state, &login, "ok", None);
    Ok(Json(Uploaded {
        upload_id,
        folder_name,
        files: unpacked.files as u64,
        bytes: unpacked.bytes,
    }))
}

/// The checks before the body, in order: login (401), `Origin` (403), operator (403, audited),
/// query (400), declared size (413), a place among the login's uploads (429, taken here: kept
/// and in-flight uploads count), content type (415).
fn admit(
    state: &AppState,
    login: Result<Login, ApiError>,
    origin: Result<OriginRequired, ApiError>,
    params: Result<Query<UploadParams>, QueryRejection>,
    headers: &HeaderMap,
) -> Result<Admitted, ApiError> {
    let Login(login) = login?;
    origin?;
    if !login.is_operator() {
        let message = "viewers cannot upload jobs: log in as an operator to upload and submit";
        audit(state, &login, "refused", Some(message));
        return Err(ApiError::new(StatusCode::FORBIDDEN, message));
    }
    let Ok(Query(params)) = params else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad query: the only parameter is name=<job name>",
        ));
    };
    let transfers = &state.transfers;
    let cap = transfers.max_upload_bytes;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, too_large(cap)));
    }
    let slot = upload_slot(transfers, &login.id)?;
    let kind = content_kind(headers)
        .map_err(|message| ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message))?;
    Ok(Admitted {
        login,
        params,
        kind,
        slot,
    })
}

/// A place for one more upload of `owner`, taken atomically, or 429 when its uploads fill
/// `max_uploads_per_session`. Every way a job folder becomes an upload (`/api/upload`,
/// `/api/compose`) takes one before its work.
pub(crate) fn upload_slot(transfers: &Arc<Transfers>, owner: &str) -> Result<UploadSlot, ApiError> {
    transfers.reserve_upload(owner).ok_or_else(|| {
        let message = format!(
            "this login already keeps {} uploads: submit them or wait until they expire",
            transfers.max_uploads_per_session()
        );
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, message)
    })
}

/// Records an upload (or its refusal) in the audit trail as the `upload_job` action.
fn audit(state: &AppState, login: &LoginSession, outcome: &str, message: Option<&str>) {
    crate::routes::audit(state, login, "upload_job", outcome, message);
}

fn too_large(cap: u64) -> String {
    format!(
        "the upload is too big: the relay accepts at most {cap} bytes ({} MiB); remove large \
         files (data sets, checkpoints) from the job or raise [limits] max_upload_bytes",
        cap / (1024 * 1024)
    )
}

fn content_kind(headers: &HeaderMap) -> Result<Kind, String> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/zip" | "application/x-zip-compressed" | "application/x-zip" => Ok(Kind::Zip),
        "multipart/form-data" => multer::parse_boundary(content_type)
            .map(|boundary| Kind::Multipart { boundary })
            .map_err(|e| format!("bad multipart content type: {e}")),
        _ => Err(format!(
            "unsupported content type {:?}: send the job as application/zip (one zip archive) or \
             multipart/form-data (a folder's files, each named by its relative path)",
            content_type.chars().take(100).collect::<String>()
        )),
    }
}

/// Streams the body to `path`, refusing it past `cap` bytes.
async fn save_body(
    stream: &mut BodyDataStream,
    path: &std::path::Path,
    cap: u64,
) -> Result<u64, UploadError> {
    let io = |e: std::io::Error| UploadError::Internal(format!("cannot store the upload: {e}"));
    let mut file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            UploadError::Invalid(format!("the upload broke off ({e}): send it again"))
        })?;
        total += chunk.len() as u64;
        if total > cap {
            return Err(UploadError::TooLarge(too_large(cap)));
        }
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    Ok(total)
}

/// Reads a bounded rest of the body before a refusal is answered, so the client gets the answer
/// rather than a connection reset.
async fn drained(stream: &mut BodyDataStream, refusal: ApiError) -> ApiError {
    let deadline = tokio::time::Instant::now() + DRAIN_TIME;
    let mut left = DRAIN_BYTES;
    while left > 0 {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(chunk))) => left = left.saturating_sub(chunk.len() as u64),
            _ => break,
        }
    }
    refusal
}

/// A checked upload's refusal: 400 for what the job holds, 413 past a size limit, 500 (logged)
/// for the relay's own failures.
impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Invalid(message) => ApiError::new(StatusCode::BAD_REQUEST, message),
            UploadError::TooLarge(message) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message),
            UploadError::Internal(message) => {
                tracing::error!("{message}");
                ApiError::internal(message)
            }
        }
    }
}
