//! A real `flare-relay` process for the benchmark: config with viewer logins, start, login, stop.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// A running relay.
pub(crate) struct Relay {
    child: Child,
    pid: u32,
    /// `127.0.0.1:<port>` it is bound to.
    pub(crate) addr: String,
    /// The exact `Origin` it allows (derived from its bound address).
    pub(crate) origin: String,
}

/// The argon2 PHC string of `password`, from `flare-relay hash-password`.
pub(crate) async fn hash_password(bin: &Path, password: &str) -> anyhow::Result<String> {
    let mut child = Command::new(bin)
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    stdin.write_all(format!("{password}\n").as_bytes()).await?;
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .context("hash-password took too long")??;
    if !out.status.success() {
        bail!("hash-password failed: {}", out.status);
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// Writes `<dir>/relay.toml`: `logins` viewers `viewer-<i>` of the NVFlare identity of `kit`,
/// per-address login limit raised so they can all log in at once, and the sockets per login
/// raised so a few logins can hold every viewer socket.
pub(crate) fn write_config(
    dir: &Path,
    kit: &Path,
    hash: &str,
    logins: usize,
) -> anyhow::Result<PathBuf> {
    let console = dir.join("console");
    std::fs::create_dir_all(&console)?;
    std::fs::write(
        console.join("index.html"),
        "<!doctype html><title>bench</title>\n",
    )?;
    let quote = |s: &str| serde_json::to_string(s).expect("a string serializes");
    let mut toml = String::from(
        "listen = \"127.0.0.1:0\"\nconsole_dir = \"console\"\n\n\
         [poll]\nsystem_secs = 2.0\njobs_secs = 2.0\njob_secs = 1.0\n\n\
         [limits]\nlogin_attempts_per_min = 100000.0\nhub_idle_secs = 3600.0\n\
         max_sockets_per_session = 100000\n",
    );
    for i in 0..logins {
        toml.push_str(&format!(
            "\n[[users]]\nname = \"viewer-{i}\"\npassword_hash = {}\nrole = \"viewer\"\nkit = {}\n",
            quote(hash),
            quote(&kit.display().to_string()),
        ));
    }
    let path = dir.join("relay.toml");
    std::fs::write(&path, toml)?;
    Ok(path)
}

impl Relay {
    /// Starts `bin --config <config>` and waits for its "listening on" line.
    pub(crate) async fn start(bin: &Path, config: &Path, log: &Path) -> anyhow::Result<Relay> {
        let log = std::fs::File::create(log)?;
        let mut child = Command::new(bin)
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {}", bin.display()))?;
        let pid = child.id().context("relay exited at once")?;
        let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let addr = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(addr) = line.trim().strip_prefix("flare-relay listening on http://") {
                    return Ok(addr.to_owned());
                }
            }
            bail!("the relay exited before listening")
        })
        .await
        .context("the relay did not announce its address within 30 s")??;
        // Keep draining stdout so the relay never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Relay {
            child,
            pid,
            origin: format!("http://{addr}"),
            addr,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Logs `user` in; returns the `flare_session=...` cookie pair.
    pub(crate) async fn login(
        &self,
        http: &reqwest::Client,
        user: &str,
        password: &str,
    ) -> anyhow::Result<String> {
        let resp = http
            .post(format!("http://{}/api/login", self.addr))
            .header("Origin", &self.origin)
            .json(&serde_json::json!({ "user": user, "password": password }))
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("login of {user} refused: {}", resp.status());
        }
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("flare_session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .context("no flare_session cookie")
    }

    /// SIGTERM, then SIGKILL when it is not gone within 10 s.
    pub(crate) async fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}
