//! End-to-end harness: the shared POC, a relay per test, chromedriver + headless Chromium per test,
//! raw HTTP/WebSocket helpers, and polling with deadlines.

use std::fs;
use std::future::Future;
use std::net::TcpListener;
use std::panic::{AssertUnwindSafe, resume_unwind};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::error::NewSessionError;
use fantoccini::{Client, ClientBuilder, Locator};
use flare_model::{FlareError, Reply, ServerFrame};
use flare_poc::Poc;
use futures_util::{FutureExt, SinkExt, StreamExt};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};

/// The console user with the operator role, mapped to the POC's project admin kit.
pub(crate) const OPERATOR: Login = Login {
    name: "operator",
    password: "operator-e2e-secret",
};
/// The console user with the viewer role, same NVFlare identity.
pub(crate) const VIEWER: Login = Login {
    name: "viewer",
    password: "viewer-e2e-secret",
};
/// The NVFlare identity both console users act as.
pub(crate) const ADMIN: &str = "admin@nvidia.com";
/// An operator console user acting as the POC's org admin (`org-admin@nvidia.com`, org_admin);
/// only in relays started with [`Relay::start_with_users`].
#[allow(
    dead_code,
    reason = "the harness is shared by several test crates; not every one uses this"
)]
pub(crate) const ORG_ADMIN: KitUser = KitUser {
    login: Login {
        name: "org-admin",
        password: "org-admin-e2e-secret",
    },
    identity: "org-admin@nvidia.com",
};
/// An operator console user acting as the POC's lead (`lead@nvidia.com`); only in relays started
/// with [`Relay::start_with_users`].
#[allow(
    dead_code,
    reason = "the harness is shared by several test crates; not every one uses this"
)]
pub(crate) const LEAD: KitUser = KitUser {
    login: Login {
        name: "lead",
        password: "lead-e2e-secret",
    },
    identity: "lead@nvidia.com",
};

/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(250);
/// How long a command may wait for the relay's upstream login.
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug)]
pub(crate) struct Login {
    pub(crate) name: &'static str,
    pub(crate) password: &'static str,
}

/// An extra operator console user mapped to the admin kit of `identity`.
#[derive(Clone, Copy, Debug)]
#[allow(
    dead_code,
    reason = "the harness is shared by several test crates; not every one uses this"
)]
pub(crate) struct KitUser {
    pub(crate) login: Login,
    pub(crate) identity: &'static str,
}

pub(crate) type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                repo_root().join(p)
            }
        })
        .unwrap_or_else(|| repo_root().join("target"))
}

/// Where relay, chromedriver and browser logs of this run go.
fn log_dir() -> PathBuf {
    let dir = std::env::var_os("FLARE_E2E_LOG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("e2e-logs"));
    fs::create_dir_all(&dir).expect("create the e2e log dir");
    dir
}

/// A fresh scratch folder for one test's files (relay config, browser profile).
fn scratch_dir(name: &str) -> PathBuf {
    let dir = target_dir()
        .join("e2e-tmp")
        .join(format!("{name}-{}", std::process::id()));
    if dir.exists() {
        fs::remove_dir_all(&dir).expect("clear the e2e scratch dir");
    }
    fs::create_dir_all(&dir).expect("create the e2e scratch dir");
    dir
}

/// Screenshots for people to look at, in `<target>/e2e-screenshots/`.
pub(crate) async fn screenshot(client: &Client, name: &str) {
    let dir = target_dir().join("e2e-screenshots");
    fs::create_dir_all(&dir).expect("create the screenshot dir");
    let png = client.screenshot().await.expect("take a screenshot");
    fs::write(dir.join(format!("{name}.png")), png).expect("write the screenshot");
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// A time limit for a condition polled in a loop: `tick` waits one poll interval, or panics once
/// the limit has passed.
pub(crate) struct Deadline {
    what: &'static str,
    limit: Duration,
    end: Instant,
}

impl Deadline {
    pub(crate) fn new(what: &'static str, limit: Duration) -> Deadline {
        Deadline {
            what,
            limit,
            end: Instant::now() + limit,
        }
    }

    /// Waits before the next poll; `seen` says what the last poll found, for the failure message.
    pub(crate) async fn tick(&self, seen: impl std::fmt::Debug) {
        assert!(
            Instant::now() < self.end,
            "timed out after {:?} waiting for {} (last seen: {seen:?})",
            self.limit,
            self.what
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Blocking-style polling for the harness's own process start-up.
fn poll_blocking<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(POLL);
    }
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {cmd:?} {}",
        out.status
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

// --- the shared POC ------------------------------------------------------------------------------

/// The POC every test of this run shares (started once, or reused from `FLARE_TEST_POC_DIR`).
pub(crate) async fn poc() -> &'static Poc {
    tokio::task::spawn_blocking(Poc::shared)
        .await
        .expect("start the shared POC")
}

/// Submits jobs/hello-numpy through nvflare's own Python FLARE API into the default study, with
/// `sleep_time` seconds per round per site; returns the job id.
pub(crate) async fn submit_hello_numpy(
    poc: &'static Poc,
    num_rounds: u32,
    sleep_time: f64,
) -> String {
    tokio::task::spawn_blocking(move || {
        poc.submit_hello_numpy_with(ADMIN, "default", num_rounds, sleep_time)
    })
    .await
    .expect("submit hello-numpy")
}

// --- relay binary and console build --------------------------------------------------------------

/// A separate target dir for what the tests build themselves, so they never wait on the lock of
/// the `cargo test` that runs them.
fn tools_target() -> PathBuf {
    target_dir().join("e2e-tools")
}

/// The relay binary: `FLARE_RELAY_BIN` (scripts/test.sh builds it), else built here.
fn relay_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("FLARE_RELAY_BIN") {
            return PathBuf::from(bin);
        }
        run(
            Command::new(env!("CARGO"))
                .current_dir(repo_root())
                .args(["build", "--quiet", "-p", "flare-relay", "--target-dir"])
                .arg(tools_target()),
            "building the relay",
        );
        tools_target().join("debug").join("flare-relay")
    })
}

/// The built console: `FLARE_CONSOLE_DIST`, else `<repo>/dist`, built with trunk if missing.
fn console_dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        if let Some(dist) = std::env::var_os("FLARE_CONSOLE_DIST") {
            return PathBuf::from(dist);
        }
        let dist = repo_root().join("dist");
        if !dist.join("index.html").exists() {
            run(
                Command::new("bash")
                    .current_dir(repo_root())
                    .env("CARGO_TARGET_DIR", tools_target())
                    .args(["-c", "source scripts/lib.sh && build_console >&2"]),
                "building the console (needs ./scripts/setup.sh once)",
            );
        }
        dist
    })
}

/// Argon2 hashes of the test passwords, made by the relay itself.
fn password_hashes() -> &'static (String, String) {
    static HASHES: OnceLock<(String, String)> = OnceLock::new();
    HASHES.get_or_init(|| {
        let hash = |password: &str| {
            let mut child = Command::new(relay_bin())
                .arg("hash-password")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("run flare-relay hash-password");
            {
                use std::io::Write as _;
                let mut stdin = child.stdin.take().expect("stdin");
                stdin
                    .write_all(password.as_bytes())
                    .expect("write password");
            }
            let out = child.wait_with_output().expect("flare-relay hash-password");
            assert!(out.status.success(), "flare-relay hash-password failed");
            let hash = String::from_utf8(out.stdout).expect("utf-8 hash");
            let hash = hash.trim().to_owned();
            assert!(hash.starts_with("$argon2"), "not a PHC argon2 hash: {hash}");
            hash
        };
        (hash(OPERATOR.password), hash(VIEWER.password))
    })
}

/// The argon2 hash of `password`, made by the relay itself (cached per password).
#[allow(
    dead_code,
    reason = "the harness is shared by several test crates; not every one uses this"
)]
fn password_hash(password: &'static str) -> String {
    static HASHES: std::sync::Mutex<Vec<(&'static str, String)>> =
        std::sync::Mutex::new(Vec::new());
    if let Some((_, hash)) = HASHES
        .lock()
        .expect("hash cache")
        .iter()
        .find(|(p, _)| *p == password)
    {
        return hash.clone();
    }
    let mut child = Command::new(relay_bin())
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run flare-relay hash-password");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(password.as_bytes())
            .expect("write password");
    }
    let out = child.wait_with_output().expect("flare-relay hash-password");
    assert!(out.status.success(), "flare-relay hash-password failed");
    let hash = String::from_utf8(out.stdout)
        .expect("utf-8 hash")
        .trim()
        .to_owned();
    assert!(hash.starts_with("$argon2"), "not a PHC argon2 hash: {hash}");
    HASHES
        .lock()
        .expect("hash cache")
        .push((password, hash.clone()));
    hash
}

// --- the relay -----------------------------------------------------------------------------------

/// A relay process serving the console, with an operator and a viewer user; killed on drop.
pub(crate) struct Relay {
    child: Child,
    /// `http://127.0.0.1:<port>`, also the one allowed Origin.
    pub(crate) base: String,
    log: PathBuf,
    audit: PathBuf,
}

impl Relay {
    pub(crate) async fn start(name: &str, poc: &'static Poc) -> Relay {
        Relay::start_with(name, poc, Vec::new()).await
    }

    /// Like [`Relay::start`], with extra top-level config settings such as `job_library` or
    /// `work_dir`.
    pub(crate) async fn start_with(
        name: &str,
        poc: &'static Poc,
        extra: Vec<(&'static str, Value)>,
    ) -> Relay {
        Relay::start_with_users(name, poc, extra, Vec::new()).await
    }

    /// Like [`Relay::start_with`], plus operator users mapped to other admin kits of the POC
    /// (e.g. [`ORG_ADMIN`], [`LEAD`]).
    #[allow(
        dead_code,
        reason = "the harness is shared by several test crates; not every one uses this"
    )]
    pub(crate) async fn start_with_users(
        name: &str,
        poc: &'static Poc,
        extra: Vec<(&'static str, Value)>,
        users: Vec<KitUser>,
    ) -> Relay {
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || Relay::start_blocking(&name, poc, &extra, &users))
            .await
            .expect("start the relay")
    }

    fn start_blocking(
        name: &str,
        poc: &'static Poc,
        extra: &[(&'static str, Value)],
        users: &[KitUser],
    ) -> Relay {
        let (operator_hash, viewer_hash) = password_hashes();
        let dist = console_dist();
        assert!(
            dist.join("index.html").exists(),
            "no console build at {}",
            dist.display()
        );
        let kit = poc.admin_kit(ADMIN);
        let dir = scratch_dir(&format!("relay-{name}"));
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let config = toml_config(&[
            ("listen", json!(format!("127.0.0.1:{port}"))),
            ("console_dir", json!(dist)),
            ("allowed_origins", json!([base])),
            ("audit_file", json!(dir.join("audit.jsonl"))),
        ]) + &toml_config(extra)
            + &format!(
                "\n[poll]\nsystem_secs = 1.0\njobs_secs = 1.0\njob_secs = 1.0\n{}{}",
                user_table(OPERATOR.name, operator_hash, "operator", &kit),
                user_table(VIEWER.name, viewer_hash, "viewer", &kit),
            )
            + &users
                .iter()
                .map(|u| {
                    user_table(
                        u.login.name,
                        &password_hash(u.login.password),
                        "operator",
                        &poc.admin_kit(u.identity),
                    )
                })
                .collect::<String>();
        let config_path = dir.join("relay.toml");
        fs::write(&config_path, config).expect("write the relay config");
        let log = log_dir().join(format!("relay-{name}.log"));
        let log_file = fs::File::create(&log).expect("create the relay log");
        let child = Command::new(relay_bin())
            .arg("--config")
            .arg(&config_path)
            .env("RUST_LOG", "info")
            .stdout(log_file.try_clone().expect("clone the log handle"))
            .stderr(log_file)
            .spawn()
            .expect("spawn flare-relay");
        let audit = dir.join("audit.jsonl");
        let mut relay = Relay {
            child,
            base,
            log,
            audit,
        };
        let want = format!("flare-relay listening on {}", relay.base);
        poll_blocking("the relay to listen", Duration::from_secs(60), || {
            if let Ok(Some(status)) = relay.child.try_wait() {
                panic!("the relay exited ({status}):\n{}", relay.log_text());
            }
            fs::read_to_string(&relay.log)
                .ok()
                .filter(|text| text.contains(&want))
                .map(|_| ())
        });
        relay
    }

    pub(crate) fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The relay's audit file (one JSON line per audited action), empty when none was written.
    #[allow(
        dead_code,
        reason = "the harness is shared by several test crates; not every one uses this"
    )]
    pub(crate) fn audit_text(&self) -> String {
        fs::read_to_string(&self.audit).unwrap_or_default()
    }

    pub(crate) fn ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http://", "ws://", 1))
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `key = value` lines; JSON strings and string arrays are valid TOML.
fn toml_config(entries: &[(&str, Value)]) -> String {
    entries
        .iter()
        .map(|(key, value)| format!("{key} = {value}\n"))
        .collect()
}

fn user_table(name: &str, hash: &str, role: &str, kit: &Path) -> String {
    format!(
        "\n[[users]]\n{}",
        toml_config(&[
            ("name", json!(name)),
            ("password_hash", json!(hash)),
            ("role", json!(role)),
            ("kit", json!(kit)),
            ("study", json!("default")),
        ])
    )
}

// --- raw HTTP and WebSocket ----------------------------------------------------------------------

/// `POST /api/login`; returns the status and the `flare_session` cookie pair (`name=value`), if set.
pub(crate) async fn api_login(relay: &Relay, login: Login) -> (u16, Option<String>) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/login", relay.base))
        .header("Origin", &relay.base)
        .json(&json!({"user": login.name, "password": login.password}))
        .send()
        .await
        .expect("POST /api/login");
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

/// The session cookie of a successful login.
pub(crate) async fn session_cookie(relay: &Relay, login: Login) -> String {
    let (status, cookie) = api_login(relay, login).await;
    assert_eq!(status, 200, "POST /api/login as {}", login.name);
    cookie.unwrap_or_else(|| panic!("no flare_session cookie for {}", login.name))
}

/// Opens `/ws` with the given cookie and Origin; `Err(status)` when the relay refused the upgrade.
pub(crate) async fn open_ws(
    relay: &Relay,
    cookie: Option<&str>,
    origin: &str,
) -> Result<WsStream, u16> {
    let mut request = relay.ws_url().into_client_request().expect("ws request");
    let headers = request.headers_mut();
    headers.insert("Origin", HeaderValue::from_str(origin).expect("origin"));
    if let Some(cookie) = cookie {
        headers.insert("Cookie", HeaderValue::from_str(cookie).expect("cookie"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("websocket to {}: {e}", relay.ws_url()),
    }
}

/// Opens `/ws?study=<study>` with the given cookie and the relay's own Origin.
#[allow(
    dead_code,
    reason = "the harness is shared by several test crates; not every one uses this"
)]
pub(crate) async fn open_ws_study(relay: &Relay, cookie: &str, study: &str) -> WsStream {
    let url = format!("{}?study={study}", relay.ws_url());
    let mut request = url.as_str().into_client_request().expect("ws request");
    let headers = request.headers_mut();
    headers.insert(
        "Origin",
        HeaderValue::from_str(&relay.base).expect("origin"),
    );
    headers.insert("Cookie", HeaderValue::from_str(cookie).expect("cookie"));
    let (ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .unwrap_or_else(|e| panic!("websocket to {url}: {e}"));
    ws
}

/// The next frame the relay sends, parsed with the shared model.
pub(crate) async fn next_frame(ws: &mut WsStream, limit: Duration) -> ServerFrame {
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
pub(crate) async fn command(ws: &mut WsStream, id: u64, command: Value) -> ServerFrame {
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

// --- the browser ---------------------------------------------------------------------------------

/// chromedriver on a free port plus the Chromium profile it uses; both cleaned up on drop.
struct Driver {
    child: Child,
    url: String,
    profile: PathBuf,
}

impl Driver {
    fn start(name: &str) -> Driver {
        let port = free_port();
        let log = fs::File::create(log_dir().join(format!("chromedriver-{name}.log")))
            .expect("create the chromedriver log");
        let child = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn chromedriver");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile: scratch_dir(&format!("chromium-{name}")),
        };
        poll_blocking("chromedriver to listen", Duration::from_secs(30), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        driver
    }

    async fn connect(&self) -> Client {
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", self.profile.display())])
        .collect::<Vec<_>>();
        let caps = json!({
            "goog:chromeOptions": {"binary": chromium(), "args": args},
            "pageLoadStrategy": "normal",
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!("a json object literal")
        };
        // chromedriver has been seen to reset the very first connection of a session request
        // under load; a request that never reached it is sent again, any answer it gave is final.
        let deadline = Deadline::new("a headless Chromium session", Duration::from_secs(60));
        loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&self.url)
                .await
            {
                Ok(client) => return client,
                Err(
                    e @ (NewSessionError::Failed(_)
                    | NewSessionError::FailedC(_)
                    | NewSessionError::Lost(_)),
                ) => deadline.tick(e).await,
                Err(e) => panic!("start a headless Chromium session: {e:?}"),
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Should the session not have been closed, end the browser processes of this profile, and
        // only those.
        kill_processes_mentioning(&self.profile.display().to_string());
    }
}

fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Kills the processes whose command line contains `needle` (a unique profile path).
fn kill_processes_mentioning(needle: &str) {
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
}

/// Runs `body` with a fresh headless Chromium; the WebDriver session is closed and the processes
/// ended whatever happens, and a failing test leaves a screenshot `<name>-failure.png`.
pub(crate) async fn with_browser<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()>,
{
    let driver = {
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || Driver::start(&name))
            .await
            .expect("start chromedriver")
    };
    let client = driver.connect().await;
    let outcome = AssertUnwindSafe(body(client.clone())).catch_unwind().await;
    if outcome.is_err() {
        let _ = AssertUnwindSafe(screenshot(&client, &format!("{name}-failure")))
            .catch_unwind()
            .await;
    }
    let _ = client.close().await;
    drop(driver);
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
}

/// The first element matching `css`, waiting for it up to `limit`.
pub(crate) async fn wait_css(
    client: &Client,
    css: &str,
    limit: Duration,
) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(limit)
        .every(POLL)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element `{css}` within {limit:?}: {e}"))
}

/// The first element matching `xpath`, waiting for it up to `limit`.
pub(crate) async fn wait_xpath(
    client: &Client,
    xpath: &str,
    limit: Duration,
) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(limit)
        .every(POLL)
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("no element `{xpath}` within {limit:?}: {e}"))
}

/// The text input labelled `label` (by `<label for>`, a wrapping `<label>` or `aria-label`).
pub(crate) async fn input_labelled(client: &Client, label: &str) -> fantoccini::elements::Element {
    let xpath = format!(
        "//input[@id = //label[normalize-space(.)='{label}']/@for] \
         | //label[starts-with(normalize-space(.), '{label}')]//input \
         | //input[@aria-label='{label}']"
    );
    wait_xpath(client, &xpath, Duration::from_secs(30)).await
}

/// Loads `<base>/login` and signs in through the form.
pub(crate) async fn sign_in(client: &Client, base: &str, login: Login) {
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("open /login");
    input_labelled(client, "User name")
        .await
        .send_keys(login.name)
        .await
        .expect("type the user name");
    input_labelled(client, "Password")
        .await
        .send_keys(login.password)
        .await
        .expect("type the password");
    wait_xpath(
        client,
        "//button[normalize-space(.)='Sign in']",
        Duration::from_secs(10),
    )
    .await
    .click()
    .await
    .expect("click Sign in");
}

/// The page's current path.
pub(crate) async fn current_path(client: &Client) -> String {
    client
        .current_url()
        .await
        .expect("current url")
        .path()
        .to_owned()
}

/// The reply of a command that must succeed.
#[allow(
    dead_code,
    reason = "the harness is shared by several test crates; not every one uses this"
)]
pub(crate) async fn command_ok(ws: &mut WsStream, id: u64, cmd: Value) -> Reply {
    match command(ws, id, cmd.clone()).await {
        ServerFrame::Ok { ok, .. } => ok,
        other => panic!("command {cmd} failed: {other:?}"),
    }
}

/// The reply of a command that must succeed once the relay's upstream login is up (a fresh
/// socket's hub may still be connecting).
#[allow(
    dead_code,
    reason = "the harness is shared by several test crates; not every one uses this"
)]
pub(crate) async fn command_when_connected(ws: &mut WsStream, cmd: Value) -> Reply {
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

/// Polls until the page is at `path`.
#[allow(
    dead_code,
    reason = "the harness is shared by several test crates; not every one uses this"
)]
pub(crate) async fn wait_path(client: &Client, path: &str, limit: Duration) {
    let deadline = Deadline::new("the page path", limit);
    loop {
        let now = current_path(client).await;
        if now == path {
            return;
        }
        deadline.tick((path, now)).await;
    }
}
