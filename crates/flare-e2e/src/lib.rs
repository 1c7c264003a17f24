//! End-to-end test support, shared by the root package's `tests/e2e*.rs` binaries: the shared POC,
//! a relay per test, chromedriver + headless Chromium per test, raw HTTP/WebSocket helpers, and
//! polling with deadlines.

mod browser;
pub mod faults;
mod relay;
mod wire;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use flare_poc::Poc;

pub use browser::{
    click_button, click_css, click_nav_link, click_xpath, current_path, field_value,
    input_labelled, mark_page, not_reloaded, screenshot, sign_in, sign_in_to_overview, wait_css,
    wait_path, wait_xpath, with_browser,
};
pub use relay::Relay;
pub use wire::{
    WsStream, api_login, command, command_ok, command_when_connected, next_frame, open_ws,
    open_ws_study, post_for_session, session_cookie, upload_zip, wait_job_finished,
};

/// The console user with the operator role, mapped to the POC's project admin kit.
pub const OPERATOR: Login = Login {
    name: "operator",
    password: "operator-e2e-secret",
};
/// The console user with the viewer role, same NVFlare identity.
pub const VIEWER: Login = Login {
    name: "viewer",
    password: "viewer-e2e-secret",
};
/// The NVFlare identity both console users act as.
pub const ADMIN: &str = "admin@nvidia.com";
/// An operator console user acting as the POC's org admin (`org-admin@nvidia.com`, org_admin);
/// only in relays started with [`Relay::start_with_users`].
pub const ORG_ADMIN: KitUser = KitUser {
    login: Login {
        name: "org-admin",
        password: "org-admin-e2e-secret",
    },
    identity: "org-admin@nvidia.com",
};
/// An operator console user acting as the POC's lead (`lead@nvidia.com`); only in relays started
/// with [`Relay::start_with_users`].
pub const LEAD: KitUser = KitUser {
    login: Login {
        name: "lead",
        password: "lead-e2e-secret",
    },
    identity: "lead@nvidia.com",
};

/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(250);

/// A console user's name and password.
#[derive(Clone, Copy, Debug)]
pub struct Login {
    pub name: &'static str,
    pub password: &'static str,
}

/// An extra operator console user mapped to the admin kit of `identity`.
#[derive(Clone, Copy, Debug)]
pub struct KitUser {
    pub login: Login,
    pub identity: &'static str,
}

/// The repository: the workspace root, two levels above this crate.
fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/flare-e2e sits two levels below the repository root")
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

/// A fresh scratch folder for one test's files (relay config, browser profile, a kit copy) in
/// `<target>/e2e-tmp/`.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = target_dir()
        .join("e2e-tmp")
        .join(format!("{name}-{}", std::process::id()));
    if dir.exists() {
        fs::remove_dir_all(&dir).expect("clear the e2e scratch dir");
    }
    fs::create_dir_all(&dir).expect("create the e2e scratch dir");
    dir
}

/// A time limit for a condition polled in a loop: `tick` waits one poll interval, or panics once
/// the limit has passed.
pub struct Deadline {
    what: &'static str,
    limit: Duration,
    end: Instant,
}

impl Deadline {
    pub fn new(what: &'static str, limit: Duration) -> Deadline {
        Deadline {
            what,
            limit,
            end: Instant::now() + limit,
        }
    }

    /// Waits before the next poll; `seen` says what the last poll found, for the failure message.
    pub async fn tick(&self, seen: impl std::fmt::Debug) {
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
pub async fn poc() -> &'static Poc {
    tokio::task::spawn_blocking(Poc::shared)
        .await
        .expect("start the shared POC")
}

/// Aborts a job a test started when dropped (test end or failure), with nvflare's own Python
/// client; a job that already finished is left alone.
pub struct AbortOnDrop {
    poc: &'static Poc,
    job_id: String,
}

impl AbortOnDrop {
    pub fn new(poc: &'static Poc, job_id: &str) -> AbortOnDrop {
        AbortOnDrop {
            poc,
            job_id: job_id.to_owned(),
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        const CODE: &str = r#"
import sys
from nvflare.fuel.flare_api.flare_api import new_secure_session
s = new_secure_session(sys.argv[1], sys.argv[2], timeout=30)
try:
    if not str(s.get_job_meta(sys.argv[3]).get("status", "")).startswith("FINISHED"):
        s.abort_job(sys.argv[3])
finally:
    s.close()
"#;
        let _ = Command::new(Poc::venv_python())
            .args(["-c", CODE, ADMIN])
            .arg(self.poc.admin_kit(ADMIN))
            .arg(&self.job_id)
            .output();
    }
}

/// Submits jobs/hello-numpy through nvflare's own Python FLARE API into the default study, with
/// `sleep_time` seconds per round per site; returns the job id.
pub async fn submit_hello_numpy(poc: &'static Poc, num_rounds: u32, sleep_time: f64) -> String {
    submit_hello_numpy_into(poc, "default", num_rounds, sleep_time).await
}

/// Like [`submit_hello_numpy`], into `study` as the project admin (a user of every study it
/// registered).
pub async fn submit_hello_numpy_into(
    poc: &'static Poc,
    study: &str,
    num_rounds: u32,
    sleep_time: f64,
) -> String {
    let study = study.to_owned();
    tokio::task::spawn_blocking(move || {
        poc.submit_hello_numpy_with(ADMIN, &study, num_rounds, sleep_time)
    })
    .await
    .expect("submit hello-numpy")
}
