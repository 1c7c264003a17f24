//! The relay's HTTP endpoints as two capability types: [`UnauthorizedApi`] (`/api/login`,
//! `/api/kiosk-login`, `/api/session`) hands out an [`AuthorizedApi`] for a signed-in session, and
//! only that one calls `/api/logout`, `/api/site-history`, `/api/kiosk-tokens`, `/api/upload` and
//! `/api/download` (the last two on an XMLHttpRequest, for progress and abort).

use flare_job::compose::{ComposePreview, ComposeStart, Composition};
use flare_model::{
    CreatedKioskToken, ErrorBody, KioskLoginRequest, KioskToken, LoginRequest, NewKioskToken,
    SessionInfo, SiteHistory, Uploaded,
};
use gloo_net::http::{Request, Response};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, FormData, XmlHttpRequest, XmlHttpRequestResponseType};

use crate::browser::{Body, Picked, Progress, js_err, run_xhr, xhr_error_text};

/// Whether this tab is signed in at the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Asking `/api/session`.
    Checking,
    /// Not signed in; `by_user` when the user signed out (then no "come back here" link).
    SignedOut { by_user: bool },
    /// Signed in: the client for the signed-in endpoints, which knows its session.
    SignedIn(AuthorizedApi),
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

/// The endpoints anyone may call; each way in returns an [`AuthorizedApi`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnauthorizedApi;

impl UnauthorizedApi {
    /// `POST /api/login`.
    pub async fn login(self, user: &str, password: &str) -> Result<AuthorizedApi, ApiError> {
        let body = LoginRequest {
            user: user.to_owned(),
            password: password.to_owned(),
        };
        signed_in(send(Request::post("/api/login").json(&body)).await?).await
    }

    /// `POST /api/kiosk-login`: trades a kiosk token for a read-only session cookie.
    pub async fn kiosk_login(self, token: &str) -> Result<AuthorizedApi, ApiError> {
        let body = KioskLoginRequest {
            token: token.to_owned(),
        };
        signed_in(send(Request::post("/api/kiosk-login").json(&body)).await?).await
    }

    /// `GET /api/session`: the session this tab's cookie holds, or `Unauthorized`.
    pub async fn session(self) -> Result<AuthorizedApi, ApiError> {
        signed_in(send(Request::get("/api/session").build()).await?).await
    }
}

/// The endpoints of a signed-in session; made only by [`UnauthorizedApi`] (and tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizedApi {
    session: SessionInfo,
}

impl AuthorizedApi {
    /// A client for `session` without asking the relay: for the in-browser tests.
    #[cfg(all(test, target_arch = "wasm32"))]
    pub(crate) fn signed_in_as(session: SessionInfo) -> Self {
        AuthorizedApi { session }
    }

    /// Who is signed in, as the relay said at login.
    pub fn session(&self) -> &SessionInfo {
        &self.session
    }

    /// `POST /api/logout`. The console forgets the session whatever the relay answers.
    pub async fn logout(self) -> UnauthorizedApi {
        // Ignored on purpose: signing out locally must work even when the relay is gone.
        let _ = Request::post("/api/logout").send().await;
        UnauthorizedApi
    }

    /// `GET /api/site-history[?study=]`.
    pub async fn site_history(&self, study: Option<&str>) -> Result<SiteHistory, ApiError> {
        let url = match study {
            Some(s) => format!(
                "/api/site-history?study={}",
                crate::connection::encode_component(s)
            ),
            None => "/api/site-history".to_owned(),
        };
        json_reply(send(Request::get(&url).build()).await?).await
    }

    /// `GET /api/kiosk-tokens`.
    pub async fn kiosk_tokens(&self) -> Result<Vec<KioskToken>, ApiError> {
        json_reply(send(Request::get("/api/kiosk-tokens").build()).await?).await
    }

    /// `POST /api/kiosk-tokens`.
    pub async fn create_kiosk_token(
        &self,
        new: &NewKioskToken,
    ) -> Result<CreatedKioskToken, ApiError> {
        json_reply(send(Request::post("/api/kiosk-tokens").json(new)).await?).await
    }

    /// `DELETE /api/kiosk-tokens/<id>`.
    pub async fn revoke_kiosk_token(&self, id: &str) -> Result<(), ApiError> {
        let url = format!(
            "/api/kiosk-tokens/{}",
            crate::connection::encode_component(id)
        );
        let resp = send(Request::delete(&url).build()).await?;
        if (200..300).contains(&resp.status()) {
            return Ok(());
        }
        json_reply::<serde_json::Value>(resp).await.map(|_| ())
    }

    /// `POST /api/upload` of `picked` on `xhr` (the caller keeps it to abort), reporting bytes sent.
    pub async fn upload(
        &self,
        xhr: &XmlHttpRequest,
        picked: &Picked,
        on_progress: impl Fn(Progress) + 'static,
    ) -> Result<Uploaded, String> {
        xhr.open("POST", "/api/upload").map_err(js_err)?;
        let body = match picked {
            Picked::Zip(file) => {
                xhr.set_request_header("Content-Type", "application/zip")
                    .map_err(js_err)?;
                Body::Blob(file.clone().into())
            }
            Picked::Folder(files) => {
                let form = FormData::new().map_err(js_err)?;
                for (path, file) in files {
                    form.append_with_blob_and_filename("file", file, path)
                        .map_err(js_err)?;
                }
                Body::Form(form)
            }
        };
        let status = run_xhr(xhr, Some(body), true, on_progress).await?;
        if status != 200 {
            return Err(xhr_error_text(xhr, status));
        }
        let text = xhr.response_text().map_err(js_err)?.unwrap_or_default();
        serde_json::from_str(&text)
            .map_err(|e| format!("the relay's upload answer is unreadable ({e})"))
    }

    /// `GET /api/download/<download_id>` as a blob on `xhr`, reporting bytes received.
    pub async fn download(
        &self,
        xhr: &XmlHttpRequest,
        download_id: &str,
        on_progress: impl Fn(Progress) + 'static,
    ) -> Result<Blob, String> {
        xhr.open("GET", &format!("/api/download/{download_id}"))
            .map_err(js_err)?;
        xhr.set_response_type(XmlHttpRequestResponseType::Blob);
        let status = run_xhr(xhr, None, false, on_progress).await?;
        let response = xhr.response().map_err(js_err)?;
        if status != 200 {
            // The error body is a blob too: read it as text.
            let text = match response.dyn_into::<Blob>() {
                Ok(b) => JsFuture::from(b.text())
                    .await
                    .ok()
                    .and_then(|t| t.as_string())
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            return Err(serde_json::from_str::<ErrorBody>(&text)
                .map(|b| b.error)
                .unwrap_or_else(|_| format!("the relay answered {status}")));
        }
        response
            .dyn_into::<Blob>()
            .map_err(|_| "the download is not a file".to_owned())
    }
}

/// The composer's endpoints (`/api/job-catalog`, `/api/compose/*`).
impl AuthorizedApi {
    /// `GET /api/job-catalog`: the component catalog's JSON text, fetched once per page.
    pub async fn job_catalog(&self) -> Result<String, ApiError> {
        let resp = send(Request::get("/api/job-catalog").build()).await?;
        if resp.status() != 200 {
            return json_reply::<serde_json::Value>(resp)
                .await
                .map(|_| String::new());
        }
        resp.text()
            .await
            .map_err(|e| ApiError::Failed(format!("cannot read the catalog ({e})")))
    }

    /// `GET /api/compose/starts`: empty, patterns, library jobs.
    pub async fn compose_starts(&self) -> Result<Vec<ComposeStart>, ApiError> {
        json_reply(send(Request::get("/api/compose/starts").build()).await?).await
    }

    /// `GET /api/compose/import?upload=`: an uploaded job folder as a composition.
    pub async fn compose_import(&self, upload_id: &str) -> Result<Composition, ApiError> {
        let url = format!(
            "/api/compose/import?upload={}",
            crate::connection::encode_component(upload_id)
        );
        compose_reply(send(Request::get(&url).build()).await?).await
    }

    /// `POST /api/compose/preview`: the files NVFlare will receive.
    pub async fn compose_preview(&self, c: &Composition) -> Result<ComposePreview, ApiError> {
        compose_reply(send(Request::post("/api/compose/preview").json(c)).await?).await
    }

    /// `POST /api/compose`: the job stored as an upload, to submit by its id.
    pub async fn compose_upload(&self, c: &Composition) -> Result<Uploaded, ApiError> {
        compose_reply(send(Request::post("/api/compose").json(c)).await?).await
    }

    /// `POST /api/compose/zip`: the job folder as a zip file.
    pub async fn compose_zip(&self, c: &Composition) -> Result<Blob, ApiError> {
        let resp = send(Request::post("/api/compose/zip").json(c)).await?;
        if resp.status() != 200 {
            return compose_reply::<serde_json::Value>(resp)
                .await
                .and_then(|_| Err(ApiError::Failed("the relay sent no zip".to_owned())));
        }
        let bytes = resp
            .binary()
            .await
            .map_err(|e| ApiError::Failed(format!("cannot read the zip ({e})")))?;
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
        Blob::new_with_u8_array_sequence(&parts)
            .map_err(|_| ApiError::Failed("cannot hold the zip in the browser".to_owned()))
    }
}

/// A composer reply: the relay's own message for a refused composition (400, flare-job's words)
/// or one too big (413), else as [`json_reply`].
async fn compose_reply<T: serde::de::DeserializeOwned>(resp: Response) -> Result<T, ApiError> {
    match resp.status() {
        400 | 403 => Err(ApiError::Failed(
            error_text(&resp, || resp.status_text()).await,
        )),
        413 => Err(ApiError::Failed(
            "the job with its files is bigger than the relay accepts: remove large files or ask \
             the relay's admin to raise max_upload_bytes"
                .to_owned(),
        )),
        _ => json_reply(resp).await,
    }
}

/// Sends a built request; a request that cannot be built or sent is `Failed`.
async fn send(
    request: Result<gloo_net::http::Request, gloo_net::Error>,
) -> Result<Response, ApiError> {
    let request = request.map_err(|e| ApiError::Failed(e.to_string()))?;
    request.send().await.map_err(|err| {
        ApiError::Failed(format!(
            "cannot reach the relay ({err}); check that it is running and try again"
        ))
    })
}

/// The relay's `{"error"}` of a failed reply, or `fallback`.
async fn error_text(resp: &Response, fallback: impl FnOnce() -> String) -> String {
    resp.json::<ErrorBody>()
        .await
        .map(|b| b.error)
        .unwrap_or_else(|_| fallback())
}

/// A session reply (login, kiosk login, session check) as the signed-in client.
async fn signed_in(resp: Response) -> Result<AuthorizedApi, ApiError> {
    match resp.status() {
        200 => resp
            .json::<SessionInfo>()
            .await
            .map(|session| AuthorizedApi { session })
            .map_err(|e| {
                ApiError::Failed(format!(
                    "the relay sent a session this console does not understand ({e})"
                ))
            }),
        401 => Err(ApiError::Unauthorized(
            error_text(&resp, || "you are not signed in".to_owned()).await,
        )),
        code => {
            let detail = error_text(&resp, || resp.status_text()).await;
            Err(ApiError::Failed(format!(
                "the relay answered {code} ({detail}); try again in a moment"
            )))
        }
    }
}

/// Reads a JSON reply, or the relay's `{"error"}` worded as an [`ApiError`].
async fn json_reply<T: serde::de::DeserializeOwned>(resp: Response) -> Result<T, ApiError> {
    let code = resp.status();
    if (200..300).contains(&code) {
        return resp.json::<T>().await.map_err(|e| {
            ApiError::Failed(format!(
                "the relay sent a reply this console does not understand ({e})"
            ))
        });
    }
    let detail = error_text(&resp, || resp.status_text()).await;
    Err(match code {
        401 => ApiError::Unauthorized(detail),
        404 => ApiError::Failed(format!(
            "this relay does not offer that yet (404 {detail}); update the relay"
        )),
        _ => ApiError::Failed(format!("the relay answered {code} ({detail})")),
    })
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
