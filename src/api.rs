//! The relay's HTTP endpoints: `/api/login`, `/api/logout`, `/api/session`, `/api/kiosk-login`,
//! `/api/kiosk-tokens` and `/api/site-history`.

use flare_model::{
    CreatedKioskToken, ErrorBody, KioskLoginRequest, KioskToken, LoginRequest, NewKioskToken,
    SessionInfo, SiteHistory,
};
use gloo_net::http::Request;

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
        .json(&LoginRequest {
            user: user.to_owned(),
            password: password.to_owned(),
        })
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

/// `POST /api/kiosk-login`: trades a kiosk token for a read-only session cookie.
pub async fn kiosk_login(token: &str) -> Result<SessionInfo, ApiError> {
    let req = Request::post("/api/kiosk-login")
        .json(&KioskLoginRequest {
            token: token.to_owned(),
        })
        .map_err(|e| ApiError::Failed(e.to_string()))?;
    session_reply(req.send().await.map_err(unreachable)?).await
}

/// Reads a JSON reply, or the relay's `{"error"}` worded as an [`ApiError`].
async fn json_reply<T: serde::de::DeserializeOwned>(
    resp: gloo_net::http::Response,
) -> Result<T, ApiError> {
    let code = resp.status();
    if (200..300).contains(&code) {
        return resp.json::<T>().await.map_err(|e| {
            ApiError::Failed(format!(
                "the relay sent a reply this console does not understand ({e})"
            ))
        });
    }
    let detail = resp
        .json::<ErrorBody>()
        .await
        .map(|b| b.error)
        .unwrap_or_else(|_| resp.status_text());
    Err(match code {
        401 => ApiError::Unauthorized(detail),
        404 => ApiError::Failed(format!(
            "this relay does not offer that yet (404 {detail}); update the relay"
        )),
        _ => ApiError::Failed(format!("the relay answered {code} ({detail})")),
    })
}

/// `GET /api/site-history[?study=]`.
pub async fn site_history(study: Option<&str>) -> Result<SiteHistory, ApiError> {
    let url = match study {
        Some(s) => format!(
            "/api/site-history?study={}",
            crate::connection::encode_component(s)
        ),
        None => "/api/site-history".to_owned(),
    };
    json_reply(Request::get(&url).send().await.map_err(unreachable)?).await
}

/// `GET /api/kiosk-tokens`.
pub async fn kiosk_tokens() -> Result<Vec<KioskToken>, ApiError> {
    json_reply(
        Request::get("/api/kiosk-tokens")
            .send()
            .await
            .map_err(unreachable)?,
    )
    .await
}

/// `POST /api/kiosk-tokens`.
pub async fn create_kiosk_token(new: &NewKioskToken) -> Result<CreatedKioskToken, ApiError> {
    let req = Request::post("/api/kiosk-tokens")
        .json(new)
        .map_err(|e| ApiError::Failed(e.to_string()))?;
    json_reply(req.send().await.map_err(unreachable)?).await
}

/// `DELETE /api/kiosk-tokens/<id>`.
pub async fn revoke_kiosk_token(id: &str) -> Result<(), ApiError> {
    let url = format!(
        "/api/kiosk-tokens/{}",
        crate::connection::encode_component(id)
    );
    let resp = Request::delete(&url).send().await.map_err(unreachable)?;
    if (200..300).contains(&resp.status()) {
        return Ok(());
    }
    json_reply::<serde_json::Value>(resp).await.map(|_| ())
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
}
