//! Measures the native client against a running POC: login time and `list_jobs` round trip.
//!
//! Usage: `compare <admin-kit-dir> [iterations]`. Prints one JSON line:
//! `{"client":"rust","login_ms":[..],"login_median_ms":..,"list_jobs_median_ms":..,"jobs":..}`.

use std::time::Instant;

use flare_client::{AdminKit, Session};
use flare_model::{Command, ListJobsFilter, ReadCommand, Reply};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let kit_dir = args
        .next()
        .ok_or("usage: compare <admin-kit-dir> [iterations]")?;
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(20);
    let kit = AdminKit::load(&kit_dir)?;

    let mut logins = Vec::new();
    let mut session = None;
    for _ in 0..3 {
        let t = Instant::now();
        let s = Session::login(&kit, "default").await?;
        logins.push(t.elapsed().as_secs_f64() * 1000.0);
        if let Some(old) = session.replace(s) {
            Session::close(&old).await;
        }
    }
    let session = session.ok_or("no session")?;
    let cmd = Command::Read(ReadCommand::ListJobs(ListJobsFilter::default()));
    let mut rtts = Vec::new();
    let mut jobs = 0;
    for _ in 0..n {
        let t = Instant::now();
        let reply = session.execute(&cmd).await?;
        rtts.push(t.elapsed().as_secs_f64() * 1000.0);
        if let Reply::Jobs(j) = reply {
            jobs = j.len();
        }
    }
    session.close().await;
    println!(
        "{{\"client\":\"rust\",\"server_version\":\"{}\",\"login_ms\":{:?},\"login_median_ms\":{:.2},\"list_jobs_median_ms\":{:.2},\"iterations\":{n},\"jobs\":{jobs}}}",
        session.server_version(),
        logins,
        median(logins.clone()),
        median(rtts)
    );
    Ok(())
}
