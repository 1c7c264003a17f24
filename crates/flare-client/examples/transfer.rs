//! Measures job upload and download with the native client against a running POC.
//!
//! Usage: `transfer <admin-kit-dir> <job-folder> [iterations]`. Each iteration submits the folder
//! (`submit_job`: sign, zip, stream), aborts the job, waits until it is finished, downloads its
//! result (`download_job`, unzipped) and deletes it. Prints one JSON line with the best upload and
//! download times and the bytes they moved (job folder bytes, downloaded folder bytes).

use std::path::Path;
use std::time::{Duration, Instant};

use flare_client::{AdminKit, Session};
use flare_model::{Command, MutateCommand, ReadCommand, Reply};

fn dir_bytes(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => dir_bytes(&e.path()),
                    _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                })
                .sum()
        })
        .unwrap_or(0)
}

async fn status(s: &Session, job_id: &str) -> Result<String, Box<dyn std::error::Error>> {
    let c = Command::Read(ReadCommand::GetJobStatus {
        job_id: job_id.to_owned(),
    });
    match s.execute(&c).await? {
        Reply::JobStatus(st) => Ok(st),
        other => Err(format!("unexpected reply {other:?}").into()),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: transfer <admin-kit-dir> <job-folder> [iterations]";
    let kit_dir = args.next().ok_or(usage)?;
    let folder = args.next().ok_or(usage)?;
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let kit = AdminKit::load(&kit_dir)?;
    let s = Session::login(&kit, "default").await?;
    s.set_timeout(Some(Duration::from_secs(60)));
    let up_bytes = dir_bytes(Path::new(&folder));
    let (mut best_up, mut best_down, mut down_bytes) = (f64::MAX, f64::MAX, 0);
    for _ in 0..n {
        let t = Instant::now();
        let id = s.submit_job(Path::new(&folder), None).await?;
        best_up = best_up.min(t.elapsed().as_secs_f64());
        s.execute(&Command::Mutate(MutateCommand::AbortJob {
            job_id: id.clone(),
        }))
        .await?;
        let deadline = Instant::now() + Duration::from_secs(300);
        while !status(&s, &id).await?.starts_with("FINISHED") {
            if Instant::now() > deadline {
                return Err(format!("job {id} did not finish").into());
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let dest = std::env::temp_dir().join(format!("flare-transfer-{}", std::process::id()));
        let t = Instant::now();
        let path = s.download_job(&id, &dest, false).await?;
        best_down = best_down.min(t.elapsed().as_secs_f64());
        down_bytes = dir_bytes(&path);
        std::fs::remove_dir_all(&dest)?;
        s.execute(&Command::Mutate(MutateCommand::DeleteJob { job_id: id }))
            .await?;
    }
    s.close().await;
    println!(
        "{{\"client\":\"rust\",\"upload_bytes\":{up_bytes},\"upload_s\":{best_up:.3},\"download_bytes\":{down_bytes},\"download_s\":{best_down:.3}}}"
    );
    Ok(())
}
