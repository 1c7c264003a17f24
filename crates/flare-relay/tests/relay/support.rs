//! Test support: a relay with a fake upstream, and small HTTP/WebSocket client helpers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use flare_model::{ClientBody, ClientFrame, Command, Event, Role, ServerFrame, Topic};
use flare_relay::AppState;
use flare_relay::config::{Config, UserConfig};
use flare_relay::fake::FakeNvflare;
use flare_relay::hub::Hub;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(crate) const OPERATOR: &str = "olga";
pub(crate) const VIEWER: &str = "victor";
pub(crate) const PASSWORD: &str = "correct horse";
pub(crate) const IDENTITY: &str = "admin@nvidia.com";

/// An argon2id hash with OWASP's minimum parameters (the relay refuses weaker ones), made once
/// per password for the whole test binary.
pub(crate) fn hash(password: &str) -> String {
    static MADE: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    let mut made = MADE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, hash)) = made.iter().find(|(p, _)| p == password) {
        return hash.clone();
    }
    let params = Params::new(19_456, 2, 1, None).expect("params");
    let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .expect("hash")
        .to_string();
    made.push((password.to_owned(), hash.clone()));
    hash
}

pub(crate) struct TestRelay {
    pub(crate) addr: SocketAddr,
    pub(crate) fake: FakeNvflare,
    pub(crate) state: AppState,
    pub(crate) dir: tempfile::TempDir,
    server: JoinHandle<std::io::Result<()>>,
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestRelay {
    pub(crate) async fn start() -> TestRelay {
        TestRelay::start_with(|_| {}).await
    }

    /// A relay with an operator and a viewer on one kit, fast polling, and a console folder.
    pub(crate) async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestRelay {
        let dir = tempfile::tempdir().expect("tempdir");
        let dist = dir.path().join("dist");
        std::fs::create_dir_all(&dist).expect("dist");
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>Flare Console</title>",
        )
        .expect("index");
        std::fs::write(dist.join("app-0123456789abcdef.js"), "console.log(1)").expect("asset");
        let kit = dir.path().join(IDENTITY);
        let mut config = Config {
            console_dir: dist,
            audit_file: Some(dir.path().join("audit.jsonl")),
            work_dir: Some(dir.path().join("work")),
            ..Config::default()
        };
        config.poll.system_secs = 0.1;
        config.poll.jobs_secs = 0.1;
        config.poll.job_secs = 0.1;
        for (name, role) in [(OPERATOR, Role::Operator), (VIEWER, Role::Viewer)] {
            config.users.push(UserConfig {
                name: name.into(),
                password_hash: hash(PASSWORD),
                role,
                kit: kit.clone(),
                study: "default".into(),
            });
        }
        tweak(&mut config);
        config.validate().expect("valid config");
        let fake = FakeNvflare::new();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = AppState::new(&config, Arc::new(fake.clone()), addr).expect("state");
        let server = tokio::spawn(flare_relay::serve(listener, state.clone()));
        TestRelay {
            addr,
            fake,
            state,
            dir,
            server,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    pub(crate) fn hub(&self) -> Arc<Hub> {
        let kit: PathBuf = self.dir.path().join(IDENTITY);
        self.state.hubs.get(IDENTITY, &kit, "default")
    }

    pub(crate) fn audit_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
            .collect()
    }

    pub(crate) async fn post_login(&self, user: &str, password: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url("/api/login"))
            .json(&serde_json::json!({ "user": user, "password": password }))
            .send()
            .await
            .expect("login request")
    }

    /// Logs in and returns the `flare_session` cookie pair (`flare_session=...`).
    pub(crate) async fn login(&self, user: &str) -> String {
        let response = self.post_login(user, PASSWORD).await;
        assert_eq!(response.status(), 200, "login of {user}");
        let cookie = response
            .headers()
            .get("set-cookie")
            .expect("set-cookie")
            .to_str()
            .expect("ascii");
        cookie.split(';').next().expect("pair").to_owned()
    }

    /// Opens `/ws` with the given cookie and origin; the handshake's error if refused.
    pub(crate) async fn connect(
        &self,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Tab, tungstenite::Error> {
        self.connect_to("/ws", cookie, origin).await
    }

    /// Opens a WebSocket at `path` (e.g. `/ws?study=s`) with the given cookie and origin.
    pub(crate) async fn connect_to(
        &self,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Tab, tungstenite::Error> {
        let mut request = format!("ws://{}{path}", self.addr)
            .into_client_request()
            .expect("request");
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert("cookie", HeaderValue::from_str(cookie).expect("header"));
        }
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(origin).expect("header"));
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Tab { ws })
    }

    /// Logs in as `user` and opens a socket past the hello and the first upstream state.
    pub(crate) async fn tab(&self, user: &str) -> Tab {
        let cookie = self.login(user).await;
        self.tab_for(&cookie).await
    }

    /// Opens a socket for an existing login past the hello and the first upstream state.
    pub(crate) async fn tab_for(&self, cookie: &str) -> Tab {
        let mut tab = self
            .connect(Some(cookie), Some(&self.origin()))
            .await
            .expect("websocket");
        assert!(matches!(tab.next().await, ServerFrame::Hello { .. }));
        assert!(matches!(
            tab.next().await,
            ServerFrame::Event {
                event: Event::Upstream(_)
            }
        ));
        tab
    }
}

impl TestRelay {
    /// `method path` with an optional cookie, the relay's origin and a JSON body; the status and
    /// JSON body.
    pub(crate) async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut request = reqwest::Client::new()
            .request(method, self.url(path))
            .header("origin", self.origin());
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("api request");
        let status = response.status();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// `GET path` with an optional cookie and the relay's origin; the status and JSON body.
    pub(crate) async fn get(
        &self,
        path: &str,
        cookie: Option<&str>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.api(reqwest::Method::GET, path, cookie, None).await
    }

    /// `POST /api/kiosk-login` with a secret: the status, the JSON body and the cookie pair.
    pub(crate) async fn kiosk_login(
        &self,
        secret: &str,
    ) -> (reqwest::StatusCode, serde_json::Value, Option<String>) {
        let response = reqwest::Client::new()
            .post(self.url("/api/kiosk-login"))
            .json(&serde_json::json!({ "token": secret }))
            .send()
            .await
            .expect("kiosk login");
        let status = response.status();
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        let body = response.json().await.expect("a JSON body");
        (status, body, cookie)
    }

    /// The folder uploads and downloads are unpacked in (`work_dir`).
    pub(crate) fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Everything under the work folder, relative, sorted.
    pub(crate) fn work_entries(&self) -> Vec<String> {
        fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let relative = path.strip_prefix(root).expect("inside");
                out.push(relative.display().to_string());
                if path.is_dir() {
                    walk(root, &path, out);
                }
            }
        }
        let mut out = Vec::new();
        let root = self.work_dir();
        walk(&root, &root, &mut out);
        out.sort();
        out
    }

    /// `POST /api/upload` with a cookie and the relay's origin; the status and JSON body.
    pub(crate) async fn upload(
        &self,
        cookie: Option<&str>,
        path_and_query: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut request = reqwest::Client::new()
            .post(self.url(path_and_query))
            .header("origin", self.origin())
            .header("content-type", content_type)
            .body(body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("upload request");
        let status = response.status();
        let body = response.json().await.expect("a JSON body");
        (status, body)
    }

    /// `POST /api/upload` of a multipart form (a dropped folder) with a cookie and the relay's
    /// origin; the status and JSON body.
    pub(crate) async fn upload_form(
        &self,
        cookie: &str,
        form: reqwest::multipart::Form,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let response = reqwest::Client::new()
            .post(self.url("/api/upload"))
            .header("origin", self.origin())
            .header("cookie", cookie)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let status = response.status();
        let body = response.json().await.expect("json");
        (status, body)
    }

    /// Uploads a zip as `cookie`'s login and returns the upload id.
    pub(crate) async fn upload_zip(&self, cookie: &str, zip: Vec<u8>) -> String {
        let (status, body) = self
            .upload(Some(cookie), "/api/upload", "application/zip", zip)
            .await;
        assert_eq!(status, 200, "{body}");
        body["upload_id"].as_str().expect("upload_id").to_owned()
    }
}

/// A zip archive of `(name, content)` entries, deflated.
pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        if name.ends_with('/') {
            zip.add_directory(*name, options).expect("dir");
        } else {
            zip.start_file(*name, options).expect("entry");
            zip.write_all(content).expect("write");
        }
    }
    zip.finish().expect("finish").into_inner()
}

/// A small valid job as a zip: `hello-numpy/meta.json` and one app config.
pub(crate) fn job_zip() -> Vec<u8> {
    zip_of(&[
        ("hello-numpy/meta.json", br#"{"name": "hello-numpy"}"#),
        (
            "hello-numpy/app/config/config_fed_server.json",
            br#"{"format_version": 2}"#,
        ),
    ])
}

/// Polls `condition` every 20 ms until it holds, for at most 10 s.
pub(crate) async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) struct Tab {
    pub(crate) ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Tab {
    pub(crate) async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    pub(crate) async fn command(&mut self, id: u64, command: impl Into<Command>) {
        self.send(ClientFrame {
            id,
            body: ClientBody::Command(command.into()),
        })
        .await;
    }

    pub(crate) async fn subscribe(&mut self, id: u64, topic: Topic) {
        self.send(ClientFrame {
            id,
            body: ClientBody::Subscribe(topic),
        })
        .await;
    }

    pub(crate) async fn unsubscribe(&mut self, id: u64, topic: Topic) {
        self.send(ClientFrame {
            id,
            body: ClientBody::Unsubscribe(topic),
        })
        .await;
    }

    pub(crate) async fn send(&mut self, frame: ClientFrame) {
        let text = serde_json::to_string(&frame).expect("json");
        self.send_text(&text).await;
    }

    /// The next message, whatever it is, within 10 s.
    pub(crate) async fn raw(&mut self) -> Option<Result<Message, tungstenite::Error>> {
        tokio::time::timeout(Duration::from_secs(10), self.ws.next())
            .await
            .expect("a message within 10 s")
    }

    /// The next server frame within 10 s.
    pub(crate) async fn next(&mut self) -> ServerFrame {
        loop {
            match self.raw().await {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(&text).expect("a server frame");
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The reply (ok or error) with `id`, skipping events.
    pub(crate) async fn reply(&mut self, id: u64) -> ServerFrame {
        loop {
            match self.next().await {
                frame @ (ServerFrame::Ok { id: got, .. } | ServerFrame::Error { id: got, .. })
                    if got == id =>
                {
                    return frame;
                }
                ServerFrame::Ok { .. } | ServerFrame::Error { .. } => {}
                ServerFrame::Hello { .. } | ServerFrame::Event { .. } => {}
            }
        }
    }

    /// The next event that `want` accepts, skipping others.
    pub(crate) async fn event(&mut self, mut want: impl FnMut(&Event) -> bool) -> Event {
        loop {
            if let ServerFrame::Event { event } = self.next().await
                && want(&event)
            {
                return event;
            }
        }
    }
}
