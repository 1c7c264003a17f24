//! The relay's HTTP session endpoints: `/api/login`, `/api/logout`, `/api/session`.

use flare_model::Role;
use gloo_net::http::Request;
use serde::{Deserialize, Serialize};

/// Who is signed in, as the relay reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The console user name.
    pub user: String,
    pub role: Role,
    /// The NVFlare identity the relay acts as.
    pub identity: String,
    pub study: String,
    /// The largest upload the relay accepts (relays before this field: unknown).
    #[serde(default)]
    pub max_upload_bytes: Option<u64>,
}

/// Whether this tab is signed in at the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Asking `/api/session`.
    Checking,
    /// Not signed in; `by_user` when the user signed out (then no "come back here" link).
    SignedOut {
        by_user: bool,
    },
    SignedIn(SessionInfo),
    /// The relay did not answer the session check; the message says so.
    Unreachable(String),
}

/// Why a session call failed, worded for the person at the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// 401: not signed in, or wrong credentials (the relay's message).
    Unauthorized(String),
    /// The relay could not be reached or answered something unexpected.
    Failed(String),
}

impl ApiError {
    /// The message to show, as a sentence.
    pub fn sentence(&self) -> String {
        match self {
            ApiError::Unauthorized(m) | ApiError::Failed(m) => sentence(m),
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

#[derive(Serialize)]
struct LoginBody<'a> {
    user: &'a str,
    password: &'a str,
}

/// Turns a lowercase wire message into a sentence: capital first letter, final full stop.
pub fn sentence(message: &str) -> String {
    let message = message.trim();
    let mut chars = message.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

fn unreachable(err: gloo_net::Error) -> ApiError {
    ApiError::Failed(format!(
        "cannot reach the relay ({err}); check that it is running and try again"
    ))
}

async fn session_reply(resp: gloo_net::http::Response) -> Result<SessionInfo, ApiError> {
    match resp.status() {
        200 => resp.json::<SessionInfo>().await.map_err(|e| {
            ApiError::Failed(format!(
                "the relay sent a session this console does not understand ({e})"
            ))
        }),
        401 => {
            let message = resp
                .json::<ErrorBody>()
                .await
                .map(|b| b.error)
                .unwrap_or_else(|_| "you are not signed in".to_owned());
            Err(ApiError::Unauthorized(message))
        }
        code => {
            let detail = resp
                .json::<ErrorBody>()
                .await
                .map(|b| b.error)
                .unwrap_or_else(|_| resp.status_text());
            Err(ApiError::Failed(format!(
                "the relay answered {code} ({detail}); try again in a moment"
            )))
        }
    }
}

/// `POST /api/login`.
pub async fn login(user: &str, password: &str) -> Result<SessionInfo, ApiError> {
    let req = Request::post("/api/login")
        .json(&LoginBody { user, password })
        .map_err(|e| ApiError::Failed(e.to_string()))?;
    session_reply(req.send().await.map_err(unreachable)?).await
}

/// `GET /api/session`: who is signed in, or `Unauthorized`.
pub async fn session() -> Result<SessionInfo, ApiError> {
    session_reply(
        Request::get("/api/session")
            .send()
            .await
            .map_err(unreachable)?,
    )
    .await
}

/// `POST /api/logout`. The console forgets the session whatever the relay answers.
pub async fn logout() {
    // Ignored on purpose: signing out locally must work even when the relay is gone.
    let _ = Request::post("/api/logout").send().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_messages_become_sentences() {
        assert_eq!(
            sentence("wrong user name or password"),
            "Wrong user name or password."
        );
        assert_eq!(sentence("Already fine."), "Already fine.");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn session_body_parses() {
        let info: SessionInfo = serde_json::from_str(
            r#"{"user":"ada","role":"viewer","identity":"admin@nvidia.com","study":"default"}"#,
        )
        .unwrap();
        assert_eq!(info.role, Role::Viewer);
        assert_eq!(info.study, "default");
        assert_eq!(info.max_upload_bytes, None);
        let info: SessionInfo = serde_json::from_str(
            r#"{"user":"ada","role":"operator","identity":"a","study":"s","max_upload_bytes":1024}"#,
        )
        .unwrap();
        assert_eq!(info.max_upload_bytes, Some(1024));
    }
}
