//! Live-monitoring fan-out of the relay against a real NVFlare POC, compared with N Python
//! sessions polling on their own. A program that prints figures (`harness = false`), run by
//! `scripts/bench-fanout.sh`.
//!
//! Per viewer count N, a fresh relay gets one probe viewer socket, then N viewer sockets (sharing a
//! few viewer logins), all subscribed to `jobs` and `system`. Over a fixed window it measures the
//! NVFlare commands the relay sends (counted outside the relay, in the server's `audit.log`, by
//! the relay's NVFlare identity), the relay's RSS (probe only vs probe + N) and CPU, and the
//! server's CPU; then it submits a job and records when each socket receives each new status.
//! Per Python count N, N processes each hold one `Session` calling `list_jobs` +
//! `get_system_info` every 2 s; the same window measures their commands, RSS and the server CPU.
//!
//! Settings (environment): `FLARE_RELAY_BIN` (required), `FLARE_BENCH_WINDOW_SECS` (30),
//! `FLARE_BENCH_VIEWERS` ("1,100,1000"), `FLARE_BENCH_PY_SESSIONS` ("1,10,50"),
//! `FLARE_BENCH_LOGINS` (8), `FLARE_BENCH_RELAY_USER` (lead@nvidia.com),
//! `FLARE_BENCH_PY_USER` (org-admin@nvidia.com), `FLARE_BENCH_SUBMIT_USER` (admin@nvidia.com);
//! the POC comes from `flare_poc::Poc::shared()` (`FLARE_TEST_POC_DIR` / `FLARE_TEST_POC_PORT`).

mod pollers;
mod relay;
mod viewers;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use flare_bench::audit::AuditLog;
use flare_bench::procfs;
use flare_bench::stats::percentile;
use flare_poc::Poc;

use crate::pollers::Pollers;
use crate::relay::Relay;
use crate::viewers::{Arrival, Fleet};

const PASSWORD: &str = "bench-viewer-password";
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Quiet time after sockets or pollers are up, before memory is read and the window starts.
const SETTLE: Duration = Duration::from_secs(3);
/// From submitting a job until the probe must have seen it finish.
const JOB_DEADLINE: Duration = Duration::from_secs(150);

struct Settings {
    relay_bin: PathBuf,
    window: Duration,
    viewers: Vec<usize>,
    py_sessions: Vec<usize>,
    logins: usize,
    relay_user: String,
    py_user: String,
    submit_user: String,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn counts(name: &str, default: &str) -> anyhow::Result<Vec<usize>> {
    env_or(name, default)
        .split(',')
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .with_context(|| format!("{name}: {s:?} is not a count"))
        })
        .collect()
}

impl Settings {
    fn from_env() -> anyhow::Result<Settings> {
        Ok(Settings {
            relay_bin: PathBuf::from(
                std::env::var_os("FLARE_RELAY_BIN")
                    .context("set FLARE_RELAY_BIN to the flare-relay binary")?,
            ),
            window: Duration::from_secs_f64(env_or("FLARE_BENCH_WINDOW_SECS", "30").parse()?),
            viewers: counts("FLARE_BENCH_VIEWERS", "1,100,1000")?,
            py_sessions: counts("FLARE_BENCH_PY_SESSIONS", "1,10,50")?,
            logins: env_or("FLARE_BENCH_LOGINS", "8").parse::<usize>()?.max(1),
            relay_user: env_or("FLARE_BENCH_RELAY_USER", "lead@nvidia.com"),
            py_user: env_or("FLARE_BENCH_PY_USER", "org-admin@nvidia.com"),
            submit_user: env_or("FLARE_BENCH_SUBMIT_USER", "admin@nvidia.com"),
        })
    }
}

/// The POC and how to watch it.
struct Target {
    poc: &'static Poc,
    audit: AuditLog,
    server_pid: u32,
    ticks_per_sec: u64,
}

/// What one window measured.
struct WindowFigures {
    secs: f64,
    commands: BTreeMap<String, u64>,
    client_cpu_pct: f64,
    server_cpu_pct: f64,
}

impl WindowFigures {
    fn commands_per_sec(&self) -> f64 {
        self.commands.values().sum::<u64>() as f64 / self.secs
    }

    fn breakdown(&self) -> String {
        self.commands
            .iter()
            .map(|(name, n)| format!("{name} {:.2}/s", *n as f64 / self.secs))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn total_ticks(pids: &[u32]) -> u64 {
    pids.iter().filter_map(|&pid| procfs::cpu_ticks(pid)).sum()
}

fn total_rss_kib(pids: &[u32]) -> u64 {
    pids.iter().filter_map(|&pid| procfs::rss_kib(pid)).sum()
}

impl Target {
    /// Counts `user`'s commands at the server and the CPU of `clients` and the server for `window`.
    async fn measure(
        &self,
        user: &str,
        clients: &[u32],
        window: Duration,
    ) -> anyhow::Result<WindowFigures> {
        let mark = self.audit.mark();
        let (client0, server0, t0) = (
            total_ticks(clients),
            total_ticks(&[self.server_pid]),
            Instant::now(),
        );
        tokio::time::sleep(window).await;
        let (client1, server1, secs) = (
            total_ticks(clients),
            total_ticks(&[self.server_pid]),
            t0.elapsed().as_secs_f64(),
        );
        let pct = |ticks: u64| ticks as f64 / self.ticks_per_sec as f64 / secs * 100.0;
        Ok(WindowFigures {
            secs,
            commands: self
                .audit
                .commands_since(mark, user)
                .with_context(|| format!("cannot read {}", self.audit.path().display()))?,
            client_cpu_pct: pct(client1.saturating_sub(client0)),
            server_cpu_pct: pct(server1.saturating_sub(server0)),
        })
    }
}

/// One row of the final table.
struct Row {
    approach: &'static str,
    n: usize,
    window: WindowFigures,
    client_rss_kib: u64,
    per_client_kib: Option<f64>,
    delay: Option<Delays>,
}

/// Status delivery delays of one job, over every viewer and status change.
struct Delays {
    statuses: Vec<String>,
    samples: usize,
    missing: usize,
    p50_from_first: f64,
    p99_from_first: f64,
    p50_from_stamp: f64,
    p99_from_stamp: f64,
}

fn is_final(status: &str) -> bool {
    status.starts_with("FINISHED") || status.starts_with("FAILED") || status.contains("ABORT")
}

/// From each viewer's first arrival of each status of `job_id`: delay after the earliest arrival
/// of that status at any socket (probe included), and after the relay's poll stamp `at_ms`.
fn delays(arrivals: &[Arrival], job_id: &str, viewers: usize) -> Option<Delays> {
    let mut first: HashMap<(&str, usize), &Arrival> = HashMap::new();
    for a in arrivals.iter().filter(|a| a.job_id == job_id) {
        first
            .entry((a.status.as_str(), a.viewer))
            .and_modify(|e| {
                if a.arrived_us < e.arrived_us {
                    *e = a;
                }
            })
            .or_insert(a);
    }
    let mut statuses: Vec<(u64, String)> = Vec::new();
    let (mut from_first, mut from_stamp, mut missing) = (Vec::new(), Vec::new(), 0);
    let names: HashSet<&str> = first.keys().map(|(s, _)| *s).collect();
    for status in names {
        let got: Vec<&Arrival> = first
            .iter()
            .filter(|((s, _), _)| *s == status)
            .map(|(_, a)| *a)
            .collect();
        let earliest = got.iter().map(|a| a.arrived_us).min()?;
        statuses.push((earliest, status.to_owned()));
        let of_viewers: Vec<&&Arrival> = got.iter().filter(|a| a.viewer != PROBE).collect();
        missing += viewers.saturating_sub(of_viewers.len());
        for a in of_viewers {
            from_first.push((a.arrived_us - earliest) as f64 / 1000.0);
            from_stamp.push((a.arrived_us as f64 / 1000.0) - a.at_ms as f64);
        }
    }
    statuses.sort();
    Some(Delays {
        statuses: statuses.into_iter().map(|(_, s)| s).collect(),
        samples: from_first.len(),
        missing,
        p50_from_first: percentile(&from_first, 50.0)?,
        p99_from_first: percentile(&from_first, 99.0)?,
        p50_from_stamp: percentile(&from_stamp, 50.0)?,
        p99_from_stamp: percentile(&from_stamp, 99.0)?,
    })
}

/// The probe socket's viewer id; the N measured viewers are 1..=N.
const PROBE: usize = 0;

async fn relay_phase(
    target: &Target,
    settings: &Settings,
    work: &std::path::Path,
    hash: &str,
    n: usize,
) -> anyhow::Result<Row> {
    let dir = work.join(format!("relay-{n}"));
    std::fs::create_dir_all(&dir)?;
    let kit = target.poc.admin_kit(&settings.relay_user);
    let config = relay::write_config(&dir, &kit, hash, settings.logins)?;
    let relay = Relay::start(&settings.relay_bin, &config, &dir.join("relay.log")).await?;
    let result = relay_measure(target, settings, &relay, n).await;
    relay.stop().await;
    result
}

async fn relay_measure(
    target: &Target,
    settings: &Settings,
    relay: &Relay,
    n: usize,
) -> anyhow::Result<Row> {
    let http = reqwest::Client::new();
    let mut cookies = Vec::new();
    for i in 0..settings.logins {
        cookies.push(relay.login(&http, &format!("viewer-{i}"), PASSWORD).await?);
    }
    let rss_start = procfs::rss_kib(relay.pid()).unwrap_or(0);
    let mut fleet = Fleet::new();
    fleet
        .open(&relay.addr, &relay.origin, &cookies, PROBE..PROBE + 1)
        .await
        .context("probe socket")?;
    tokio::time::sleep(SETTLE).await;
    let rss_base = procfs::rss_kib(relay.pid()).context("the relay is gone")?;
    let opened = Instant::now();
    fleet
        .open(&relay.addr, &relay.origin, &cookies, 1..n + 1)
        .await
        .with_context(|| format!("{n} viewer sockets"))?;
    let open_secs = opened.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let rss_n = procfs::rss_kib(relay.pid()).context("the relay is gone")?;
    eprintln!(
        "relay N={n}: {} sockets subscribed in {open_secs:.1} s; RSS {:.1} MiB at start, {:.1} MiB with the probe, {:.1} MiB with N more",
        fleet.len(),
        rss_start as f64 / 1024.0,
        rss_base as f64 / 1024.0,
        rss_n as f64 / 1024.0
    );
    let frames0 = fleet
        .counters
        .frames
        .load(std::sync::atomic::Ordering::Relaxed);
    let window = target
        .measure(&settings.relay_user, &[relay.pid()], settings.window)
        .await?;
    let frames = fleet
        .counters
        .frames
        .load(std::sync::atomic::Ordering::Relaxed)
        - frames0;
    eprintln!(
        "relay N={n}: {:.2} upstream commands/s ({}); {:.0} frames/s delivered; relay CPU {:.1}%",
        window.commands_per_sec(),
        window.breakdown(),
        frames as f64 / window.secs,
        window.client_cpu_pct
    );

    // A job's status changes, as every socket receives them.
    let poc = target.poc;
    let submit_user = settings.submit_user.clone();
    let submitted = Instant::now();
    let job_id = tokio::task::spawn_blocking(move || poc.submit_hello_numpy(&submit_user, 1))
        .await
        .context("submit task")?;
    eprintln!("relay N={n}: submitted job {job_id}");
    let mut arrivals: Vec<Arrival> = Vec::new();
    let deadline = tokio::time::Instant::from_std(submitted + JOB_DEADLINE);
    let mut final_status: Option<String> = None;
    loop {
        let until = match &final_status {
            // Once the probe saw the end, give the others a few seconds to get it too.
            Some(status) => {
                let got = arrivals
                    .iter()
                    .filter(|a| a.job_id == job_id && &a.status == status)
                    .map(|a| a.viewer)
                    .collect::<HashSet<_>>()
                    .len();
                if got > n {
                    break;
                }
                deadline.min(tokio::time::Instant::now() + Duration::from_secs(10))
            }
            None => deadline,
        };
        match tokio::time::timeout_at(until, fleet.arrivals.recv()).await {
            Ok(Some(a)) => {
                if a.viewer == PROBE && a.job_id == job_id && is_final(&a.status) {
                    final_status = Some(a.status.clone());
                }
                arrivals.push(a);
            }
            Ok(None) | Err(_) => break,
        }
    }
    if final_status.is_none() {
        eprintln!(
            "relay N={n}: the job did not finish within {JOB_DEADLINE:?}; delays cover what arrived"
        );
    }
    let delay = delays(&arrivals, &job_id, n);
    let counters = &fleet.counters;
    let (resyncs, closed) = (
        counters.resyncs.load(std::sync::atomic::Ordering::Relaxed),
        counters
            .closed_by_relay
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    if resyncs + closed > 0 {
        eprintln!("relay N={n}: {resyncs} resyncs, {closed} sockets closed by the relay");
    }
    fleet.close().await;
    Ok(Row {
        approach: "relay",
        n,
        window,
        client_rss_kib: rss_n,
        per_client_kib: Some(rss_n.saturating_sub(rss_base) as f64 / n as f64),
        delay,
    })
}

async fn python_phase(target: &Target, settings: &Settings, n: usize) -> anyhow::Result<Row> {
    let kit = target.poc.admin_kit(&settings.py_user);
    let started = Instant::now();
    let pollers = Pollers::start(
        &Poc::venv_python(),
        &kit,
        &settings.py_user,
        POLL_INTERVAL,
        n,
    )
    .await?;
    eprintln!(
        "python N={n}: {n} sessions logged in in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(SETTLE).await;
    let pids = pollers.pids();
    let measured = target
        .measure(&settings.py_user, &pids, settings.window)
        .await;
    let rss = total_rss_kib(&pids);
    pollers.stop().await;
    let window = measured?;
    eprintln!(
        "python N={n}: {:.2} upstream commands/s ({}); RSS {:.1} MiB",
        window.commands_per_sec(),
        window.breakdown(),
        rss as f64 / 1024.0
    );
    Ok(Row {
        approach: "python",
        n,
        window,
        client_rss_kib: rss,
        per_client_kib: Some(rss as f64 / n as f64),
        delay: None,
    })
}

fn print_table(rows: &[Row], settings: &Settings, target: &Target) {
    println!();
    println!(
        "flare-bench fan-out: {} CPUs, window {:.0} s, poll every 2 s; relay acts as {}, python as {}; server audit log {}",
        procfs::cpus(),
        settings.window.as_secs_f64(),
        settings.relay_user,
        settings.py_user,
        target.audit.path().display()
    );
    println!(
        "{:<7} {:>5} {:>10} {:>11} {:>13} {:>10} {:>10} {:>9} {:>9} {:>10} {:>10}",
        "client",
        "N",
        "upstream/s",
        "client MiB",
        "KiB/viewer*",
        "client CPU",
        "server CPU",
        "p50 ms",
        "p99 ms",
        "p50 stamp",
        "p99 stamp"
    );
    let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
    for row in rows {
        let d = row.delay.as_ref();
        println!(
            "{:<7} {:>5} {:>10.2} {:>11.1} {:>13} {:>9.1}% {:>9.1}% {:>9} {:>9} {:>10} {:>10}",
            row.approach,
            row.n,
            row.window.commands_per_sec(),
            row.client_rss_kib as f64 / 1024.0,
            row.per_client_kib
                .map_or_else(|| "-".to_owned(), |v| format!("{v:.1}")),
            row.window.client_cpu_pct,
            row.window.server_cpu_pct,
            ms(d.map(|d| d.p50_from_first)),
            ms(d.map(|d| d.p99_from_first)),
            ms(d.map(|d| d.p50_from_stamp)),
            ms(d.map(|d| d.p99_from_stamp)),
        );
    }
    println!();
    for row in rows {
        println!("{} N={}: {}", row.approach, row.n, row.window.breakdown());
        if let Some(d) = &row.delay {
            println!(
                "  delays over {} samples ({} missing) of statuses {}",
                d.samples,
                d.missing,
                d.statuses.join(" → ")
            );
        }
    }
    println!();
    println!(
        "* relay: (RSS with probe + N viewers − RSS with the probe only) / N; python: total RSS of the N processes / N."
    );
    println!(
        "p50/p99 ms: a viewer's arrival of a new job status minus the earliest arrival of that status at any of the N+1 sockets \
         (the probe included); \"stamp\": minus the relay's own poll stamp at_ms (same clock, ms resolution)."
    );
    println!(
        "client CPU: relay process, or the sum of the python processes; % of one core. server CPU: the NVFlare server process."
    );
    let relay: Vec<&Row> = rows.iter().filter(|r| r.approach == "relay").collect();
    let python: Vec<&Row> = rows.iter().filter(|r| r.approach == "python").collect();
    let span = |rs: &[&Row]| {
        rs.iter()
            .map(|r| format!("{:.2}/s at N={}", r.window.commands_per_sec(), r.n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "Upstream load: the relay sends {} — constant in N (one poller per topic per identity × study); \
         N Python sessions send {} — linear in N (about {:.2}/s per session).",
        span(&relay),
        span(&python),
        python
            .iter()
            .map(|r| r.window.commands_per_sec() / r.n as f64)
            .sum::<f64>()
            / python.len().max(1) as f64
    );
}

async fn run(target: &Target, settings: &Settings) -> anyhow::Result<()> {
    let work = std::env::temp_dir().join(format!("flare-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let hash = relay::hash_password(&settings.relay_bin, PASSWORD).await?;
    let mut rows = Vec::new();
    let result = async {
        for &n in &settings.viewers {
            rows.push(relay_phase(target, settings, &work, &hash, n).await?);
        }
        for &n in &settings.py_sessions {
            rows.push(python_phase(target, settings, n).await?);
        }
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&work);
    print_table(&rows, settings, target);
    result
}

fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let poc = Poc::shared();
    let prod_dir = poc
        .admin_kit(&settings.relay_user)
        .parent()
        .context("admin kit without a parent")?
        .to_owned();
    let server = prod_dir.join("server");
    let server_pid = std::fs::read_to_string(server.join("pid.fl"))
        .context("no server pid.fl")?
        .trim()
        .parse()
        .context("bad server pid.fl")?;
    let target = Target {
        poc,
        audit: AuditLog::new(server.join("audit.log")),
        server_pid,
        ticks_per_sec: procfs::clock_ticks_per_sec(),
    };
    eprintln!(
        "POC at {} (admin port {}), server pid {server_pid}",
        poc.workspace().display(),
        poc.port()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(&target, &settings))
}
