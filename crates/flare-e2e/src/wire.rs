//! Raw HTTP and WebSocket access to a relay: logins and their session cookie, sockets, frames and
//! commands.

use std::path::Path;
use std::time::{Duration, Instant};

use flare_model::{FlareError, Reply, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::{Deadline, Login, Relay};

/// How long a command may wait for the relay's upstream login.
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// A client WebSocket to the relay.
pub type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `POST <path>` with a JSON body and the relay's Origin, as a login does; returns the status and
/// the `flare_session` cookie pair (`name=value`), if set.
pub async fn post_for_session(relay: &Relay, path: &str, body: Value) -> (u16, Option<String>) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", relay.base))
        .header("Origin", &relay.base)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.trim_start().starts_with("flare_session="))
        .map(|pair| pair.trim().to_owned());
    (response.status().as_u16(), cookie)
}

/// `POST /api/login`; returns the status and the `flare_session` cookie pair (`name=value`), if set.
pub async fn api_login(relay: &Relay, login: Login) -> (u16, Option<String>) {
    post_for_session(
        relay,
        "/api/login",
        json!({"user": login.name, "password": login.password}),
    )
    .await
}

/// The session cookie of a successful login.
pub async fn session_cookie(relay: &Relay, login: Login) -> String {
    let (status, cookie) = api_login(relay, login).await;
    assert_eq!(status, 200, "POST /api/login as {}", login.name);
    cookie.unwrap_or_else(|| panic!("no flare_session cookie for {}", login.name))
}

/// `POST /api/upload` of the job zip at `zip` with the session `cookie`; asserts a 200 and returns
/// the upload id.
pub async fn upload_zip(relay: &Relay, cookie: &str, zip: &Path) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/api/upload", relay.base))
        .header("Origin", &relay.base)
        .header("Cookie", cookie)
        .header("Content-Type", "application/zip")
        .body(std::fs::read(zip).expect("read the zip"))
        .send()
        .await
        .expect("POST /api/upload");
    assert_eq!(response.status().as_u16(), 200, "upload");
    let upload: Value = response.json().await.expect("upload reply");
    upload["upload_id"].as_str().expect("upload_id").to_owned()
}

/// Opens the socket at `url` with the given cookie and Origin; `Err(status)` when the relay
/// refused the upgrade.
async fn connect(url: &str, cookie: Option<&str>, origin: &str) -> Result<WsStream, u16> {
    let mut request = url.into_client_request().expect("ws request");
    let headers = request.headers_mut();
    headers.insert("Origin", HeaderValue::from_str(origin).expect("origin"));
    if let Some(cookie) = cookie {
        headers.insert("Cookie", HeaderValue::from_str(cookie).expect("cookie"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("websocket to {url}: {e}"),
    }
}

/// Opens `/ws` with the given cookie and Origin; `Err(status)` when the relay refused the upgrade.
pub async fn open_ws(relay: &Relay, cookie: Option<&str>, origin: &str) -> Result<WsStream, u16> {
    connect(&relay.ws_url(), cookie, origin).await
}

/// Opens `/ws?study=<study>` with the given cookie and the relay's own Origin.
pub async fn open_ws_study(relay: &Relay, cookie: &str, study: &str) -> WsStream {
    let url = format!("{}?study={study}", relay.ws_url());
    connect(&url, Some(cookie), &relay.base)
        .await
        .unwrap_or_else(|status| panic!("websocket to {url}: the relay answered {status}"))
}

/// The next frame the relay sends, parsed with the shared model.
pub async fn next_frame(ws: &mut WsStream, limit: Duration) -> ServerFrame {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = tokio::time::timeout(left, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no frame from the relay within {limit:?}"))
            .expect("the relay closed the websocket")
            .expect("websocket read");
        match message {
            Message::Text(text) => {
                return serde_json::from_str(text.as_str())
                    .unwrap_or_else(|e| panic!("unparsable frame {text}: {e}"));
            }
            Message::Close(frame) => panic!("the relay closed the websocket: {frame:?}"),
            _ => {}
        }
    }
}

/// Sends `{"id": id, "command": command}` and returns the `ok`/`error` frame with that id,
/// skipping pushed events.
pub async fn command(ws: &mut WsStream, id: u64, command: Value) -> ServerFrame {
    let frame = json!({"id": id, "command": command}).to_string();
    ws.send(Message::text(frame)).await.expect("send a frame");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no reply to command {id} within 60s");
        let frame = next_frame(ws, left).await;
        if let ServerFrame::Ok { id: got, .. } | ServerFrame::Error { id: got, .. } = &frame
            && *got == id
        {
            return frame;
        }
    }
}

/// The reply of a command that must succeed.
pub async fn command_ok(ws: &mut WsStream, id: u64, cmd: Value) -> Reply {
    match command(ws, id, cmd.clone()).await {
        ServerFrame::Ok { ok, .. } => ok,
        other => panic!("command {cmd} failed: {other:?}"),
    }
}

/// The reply of a command that must succeed once the relay's upstream login is up (a fresh
/// socket's hub may still be connecting).
pub async fn command_when_connected(ws: &mut WsStream, cmd: Value) -> Reply {
    let deadline = Deadline::new("the relay's upstream connection", COMMAND_LIMIT);
    let mut id = 500;
    loop {
        id += 1;
        match command(ws, id, cmd.clone()).await {
            ServerFrame::Ok { ok, .. } => return ok,
            ServerFrame::Error {
                error: error @ FlareError::NoConnection { .. },
                ..
            } => deadline.tick(error).await,
            other => panic!("command {cmd} failed: {other:?}"),
        }
    }
}

/// Polls the job's status over the relay's socket (up to `limit`) until it is FINISHED; returns
/// that status.
pub async fn wait_job_finished(ws: &mut WsStream, job_id: &str, limit: Duration) -> String {
    let deadline = Deadline::new("the job to finish", limit);
    let mut id = 1000;
    loop {
        id += 1;
        let status = match command_ok(ws, id, json!({"get_job_status": {"job_id": job_id}})).await {
            Reply::JobStatus(s) => s,
            other => panic!("get_job_status answered {other:?}"),
        };
        if status.starts_with("FINISHED") {
            return status;
        }
        deadline.tick(status).await;
    }
}
