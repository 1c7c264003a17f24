//! HTTP routes: one file each under `routes/`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use flare_model::ErrorBody;

pub mod download;
pub mod kiosk_login;
pub mod kiosk_token;
pub mod kiosk_tokens;
pub mod login;
pub mod logout;
pub mod session;
pub mod site_history;
pub mod upload;
pub mod ws;

/// A refusal before any work: its status and message, turned into a response by [`error`].
pub type Refusal = (StatusCode, String);

/// A JSON error body `{"error": message}` with a status.
pub fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            error: message.to_owned(),
        }),
    )
        .into_response()
}

/// `/api/*` paths that are no endpoint: a JSON 404, never the console's index.html.
pub async fn api_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such endpoint")
}
