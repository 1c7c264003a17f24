//! N independent Python FLARE API sessions polling like open notebooks or CLI watchers, one
//! process each (`py/poll_sessions.py`).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

const READY_DEADLINE: Duration = Duration::from_secs(180);
/// Processes starting their session at once (each import + login costs about a second of CPU).
const START_CONCURRENCY: usize = 10;

/// Running poller processes.
pub(crate) struct Pollers {
    children: Vec<Child>,
}

impl Pollers {
    /// Starts `n` pollers of `user` (kit `kit`) every `interval`; returns once all are logged in.
    pub(crate) async fn start(
        python: &Path,
        kit: &Path,
        user: &str,
        interval: Duration,
        n: usize,
    ) -> anyhow::Result<Pollers> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("py/poll_sessions.py");
        let mut pollers = Pollers {
            children: Vec::new(),
        };
        let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<()>();
        let deadline = tokio::time::Instant::now() + READY_DEADLINE;
        let mut ready = 0;
        for i in 0..n {
            // Keep at most START_CONCURRENCY logins in flight.
            while i - ready >= START_CONCURRENCY {
                tokio::time::timeout_at(deadline, ready_rx.recv())
                    .await
                    .context("python pollers not logged in within 180 s")?
                    .context("poller readiness channel closed")?;
                ready += 1;
            }
            let mut child = Command::new(python)
                .arg(&script)
                .arg(kit)
                .arg(user)
                .arg(interval.as_secs_f64().to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("cannot run {}", python.display()))?;
            let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
            let tx = ready_tx.clone();
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    if line.trim() == "READY" {
                        let _ = tx.send(());
                    }
                }
            });
            pollers.children.push(child);
        }
        while ready < n {
            match tokio::time::timeout_at(deadline, ready_rx.recv()).await {
                Ok(Some(())) => ready += 1,
                _ => bail!("only {ready} of {n} python pollers logged in within 180 s"),
            }
        }
        Ok(pollers)
    }

    pub(crate) fn pids(&self) -> Vec<u32> {
        self.children.iter().filter_map(Child::id).collect()
    }

    /// Closes their stdin (they log out and exit); kills whoever is left after 20 s.
    pub(crate) async fn stop(mut self) {
        for child in &mut self.children {
            drop(child.stdin.take());
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        for child in &mut self.children {
            if tokio::time::timeout_at(deadline, child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }
}
