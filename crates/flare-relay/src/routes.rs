//! HTTP routes: one file each under `routes/`, the extractors they share in `routes/extract.rs`,
//! and [`ApiError`], the one refusal every handler answers with.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flare_model::ErrorBody;

use crate::audit::AuditRecord;
use crate::auth::LoginSession;
use crate::clock::now_ms;
use crate::origin::OriginError;
use crate::state::AppState;
use crate::study::StudyError;

pub mod compose;
pub mod compose_import;
pub mod compose_preview;
pub mod compose_starts;
pub mod compose_zip;
pub mod download;
pub mod extract;
pub mod job_catalog;
pub mod kiosk_login;
pub mod kiosk_token;
pub mod kiosk_tokens;
pub mod login;
pub mod logout;
pub mod session;
pub mod site_history;
pub mod upload;
pub mod ws;

pub use extract::{
    Checked, JsonBody, Login, LoginGate, Operator, OriginChecked, OriginRequired, StudyScope,
};

/// A refused request: its status, its lowercase message (sent as the JSON body
/// `{"error": message}`, [`ErrorBody`]) and any extra headers such as `Retry-After`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// Few and rare: a `Vec` keeps the error (and every `Result` holding it) small.
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// A refusal with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// 401 for a request without a live session cookie.
    pub fn not_logged_in() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "not logged in")
    }

    /// 500 after logging the cause; `message` is what the browser sees.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// The same refusal with one more response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The status the refusal answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message of the JSON body.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(ErrorBody {
            error: self.message,
        });
        let mut response = (self.status, body).into_response();
        response.headers_mut().extend(self.headers);
        response
    }
}

/// A refused `Origin` is a 403.
impl From<OriginError> for ApiError {
    fn from(e: OriginError) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, e.to_string())
    }
}

/// A bad study name is a 400; a kiosk login asking for another study than its token's, a 403.
impl From<StudyError> for ApiError {
    fn from(e: StudyError) -> Self {
        let status = match e {
            StudyError::Invalid(_) => StatusCode::BAD_REQUEST,
            StudyError::Pinned { .. } => StatusCode::FORBIDDEN,
        };
        ApiError::new(status, e.to_string())
    }
}

/// Records an operator's action over HTTP (an upload, a composer action) or its refusal in the
/// audit trail.
pub fn audit(
    state: &AppState,
    login: &LoginSession,
    command: &str,
    outcome: &str,
    message: Option<&str>,
) {
    let user = &login.user;
    state.audit.record(&AuditRecord {
        at_ms: now_ms(),
        user: &user.name,
        role: user.role,
        identity: &user.identity,
        study: &user.study,
        command,
        outcome,
        message,
        kiosk_token: None,
    });
}

/// `/api/*` paths that are no endpoint: a JSON 404, never the console's index.html.
pub async fn api_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such endpoint")
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use axum::http::HeaderMap;
    use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};

    use super::*;

    /// The status, headers and decoded `{"error": …}` body of a refusal.
    async fn parts(error: ApiError) -> (StatusCode, HeaderMap, ErrorBody) {
        let response = error.into_response();
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, 1 << 16).await.expect("body");
        let body = serde_json::from_slice(&bytes).expect("an ErrorBody");
        (parts.status, parts.headers, body)
    }

    #[tokio::test]
    async fn an_api_error_is_its_status_headers_and_a_json_error_body() {
        let error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too many login attempts")
            .with_header(RETRY_AFTER, HeaderValue::from(3u64));
        assert_eq!(error.to_string(), "too many login attempts");
        let (status, headers, body) = parts(error).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[RETRY_AFTER], "3");
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(body.error, "too many login attempts");
    }

    #[tokio::test]
    async fn origin_and_study_refusals_keep_their_statuses() {
        let cases = [
            (ApiError::not_logged_in(), 401, "not logged in"),
            (
                OriginError::Missing.into(),
                403,
                "the request has no Origin header",
            ),
            (
                StudyError::Invalid("a b".into()).into(),
                400,
                &StudyError::Invalid("a b".into()).to_string(),
            ),
            (
                StudyError::Pinned {
                    asked: "x".into(),
                    pinned: "y".into(),
                }
                .into(),
                403,
                &StudyError::Pinned {
                    asked: "x".into(),
                    pinned: "y".into(),
                }
                .to_string(),
            ),
            (api_not_found().await, 404, "no such endpoint"),
        ];
        for (error, want_status, want_message) in cases {
            let (status, _, body) = parts(error).await;
            assert_eq!(status.as_u16(), want_status, "{want_message}");
            assert_eq!(body.error, want_message);
        }
    }
}
