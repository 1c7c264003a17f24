//! The relay under test: the relay binary and the console build (made here when not given), the
//! users' argon2 hashes, and a relay process per test with its config, log and audit file.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use flare_poc::Poc;
use serde_json::{Value, json};

use crate::{
    ADMIN, KitUser, OPERATOR, VIEWER, log_dir, poll_blocking, repo_root, run, scratch_dir,
    target_dir,
};

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

/// The argon2 hash of `password`, made by the relay itself (cached per password).
fn password_hash(password: &'static str) -> String {
    static HASHES: Mutex<Vec<(&'static str, String)>> = Mutex::new(Vec::new());
    // Held while hashing, so that tests starting together hash each password once.
    let mut hashes = HASHES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, hash)) = hashes.iter().find(|(p, _)| *p == password) {
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
    hashes.push((password, hash.clone()));
    hash
}

/// A relay process serving the console, with an operator and a viewer user; killed on drop.
pub struct Relay {
    child: Child,
    /// `http://127.0.0.1:<port>` with the port the relay chose; one of the two Origins it allows
    /// (with `http://localhost:<port>`).
    pub base: String,
    name: String,
    config: PathBuf,
    log: PathBuf,
    audit: PathBuf,
}

impl Relay {
    pub async fn start(name: &str, poc: &'static Poc) -> Relay {
        Relay::start_with(name, poc, Vec::new()).await
    }

    /// Like [`Relay::start`], with extra top-level config settings such as `job_library` or
    /// `work_dir`.
    pub async fn start_with(
        name: &str,
        poc: &'static Poc,
        extra: Vec<(&'static str, Value)>,
    ) -> Relay {
        Relay::start_with_users(name, poc, extra, Vec::new()).await
    }

    /// Like [`Relay::start_with`], plus operator users mapped to other admin kits of the POC
    /// (e.g. [`crate::ORG_ADMIN`], [`crate::LEAD`]).
    pub async fn start_with_users(
        name: &str,
        poc: &'static Poc,
        extra: Vec<(&'static str, Value)>,
        users: Vec<KitUser>,
    ) -> Relay {
        let name = name.to_owned();
        let users = users
            .into_iter()
            .map(|u| (u, poc.admin_kit(u.identity)))
            .collect::<Vec<_>>();
        let kit = poc.admin_kit(ADMIN);
        tokio::task::spawn_blocking(move || Relay::start_blocking(&name, &kit, &extra, &users))
            .await
            .expect("start the relay")
    }

    /// Like [`Relay::start_with`], with the operator and viewer mapped to the admin kit in `kit`
    /// (e.g. a copy pointed at a [`crate::faults::FaultProxy`]).
    pub async fn start_with_kit(
        name: &str,
        kit: PathBuf,
        extra: Vec<(&'static str, Value)>,
    ) -> Relay {
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || Relay::start_blocking(&name, &kit, &extra, &[]))
            .await
            .expect("start the relay")
    }

    fn start_blocking(
        name: &str,
        kit: &Path,
        extra: &[(&'static str, Value)],
        users: &[(KitUser, PathBuf)],
    ) -> Relay {
        let operator_hash = password_hash(OPERATOR.password);
        let viewer_hash = password_hash(VIEWER.password);
        let dist = console_dist();
        assert!(
            dist.join("index.html").exists(),
            "no console build at {}",
            dist.display()
        );
        let dir = scratch_dir(&format!("relay-{name}"));
        // Port 0: the relay binds a port of its own and announces it; without `allowed_origins`
        // it allows its own address.
        let config = toml_config(&[
            ("listen", json!("127.0.0.1:0")),
            ("console_dir", json!(dist)),
            ("audit_file", json!(dir.join("audit.jsonl"))),
        ]) + &toml_config(extra)
            + &format!(
                "\n[poll]\nsystem_secs = 1.0\njobs_secs = 1.0\njob_secs = 1.0\n{}{}",
                user_table(OPERATOR.name, &operator_hash, "operator", kit),
                user_table(VIEWER.name, &viewer_hash, "viewer", kit),
            )
            + &users
                .iter()
                .map(|(u, kit)| {
                    user_table(
                        u.login.name,
                        &password_hash(u.login.password),
                        "operator",
                        kit,
                    )
                })
                .collect::<String>();
        let config_path = dir.join("relay.toml");
        fs::write(&config_path, config).expect("write the relay config");
        Relay::spawn(name, config_path, dir.join("audit.jsonl"))
    }

    /// Runs the relay binary with `config_path` and waits until it announces its address.
    fn spawn(name: &str, config_path: PathBuf, audit: PathBuf) -> Relay {
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
        let mut relay = Relay {
            child,
            base: String::new(),
            name: name.to_owned(),
            config: config_path,
            log,
            audit,
        };
        relay.base = poll_blocking("the relay to listen", Duration::from_secs(60), || {
            if let Ok(Some(status)) = relay.child.try_wait() {
                panic!("the relay exited ({status}):\n{}", relay.log_text());
            }
            announced_base(&relay.log_text())
        });
        relay
    }

    /// Kills this relay process with SIGKILL (no clean shutdown: what it held in memory and its
    /// temporary folders are left as a crash leaves them).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the relay again after [`Relay::kill`], with the same config, work dir and audit
    /// file, on the same address, so that open tabs find it again.
    pub async fn restart(&mut self) {
        self.kill();
        let addr = self.base.trim_start_matches("http://").to_owned();
        let config = fs::read_to_string(&self.config).expect("read the relay config");
        let config = config.replacen(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = {}", json!(addr)),
            1,
        );
        fs::write(&self.config, config).expect("write the relay config");
        let name = format!("{}-restarted", self.name);
        let (config, audit) = (self.config.clone(), self.audit.clone());
        let restarted = tokio::task::spawn_blocking(move || Relay::spawn(&name, config, audit))
            .await
            .expect("restart the relay");
        assert_eq!(restarted.base, self.base, "the restarted relay's address");
        // The old child is reaped; dropping it changes nothing.
        *self = restarted;
    }

    /// The relay's process id (to read its memory in /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The relay's audit file (one JSON line per audited action), empty when none was written.
    pub fn audit_text(&self) -> String {
        fs::read_to_string(&self.audit).unwrap_or_default()
    }

    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http://", "ws://", 1))
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in the relay's `flare-relay listening on http://<addr>` line.
fn announced_base(log: &str) -> Option<String> {
    log.lines()
        .find_map(|l| l.split_once("flare-relay listening on "))
        .map(|(_, url)| url.trim().to_owned())
        .filter(|url| {
            url.starts_with("http://") && url.rsplit(':').next().is_some_and(|p| p != "0")
        })
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
