//! `flare-job export --kit` submits an exported pattern job to a real NVFlare 2.9 POC (shared
//! with the other POC tests through flare-poc), prints the job id, and the job runs to completion.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use flare_client::{AdminKit, Session};
use flare_model::{JobMeta, ReadCommand, Reply};
use flare_poc::Poc;
use serde_json::json;

const ADMIN: &str = "admin@nvidia.com";

async fn job_meta(s: &Session, job_id: &str) -> JobMeta {
    let reply = s
        .execute(
            &ReadCommand::GetJobMeta {
                job_id: job_id.to_owned(),
            }
            .into(),
        )
        .await
        .expect("get_job_meta");
    match reply {
        Reply::JobMeta(m) => m,
        other => panic!("get_job_meta gave {other:?}"),
    }
}

#[tokio::test]
async fn export_with_a_kit_submits_a_job_that_runs() {
    let poc = tokio::task::spawn_blocking(Poc::shared)
        .await
        .expect("poc setup");
    let kit = poc.admin_kit(ADMIN);
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/src/train.py");
    std::fs::copy(fixture, dir.path().join("train.py")).expect("script");
    let job = json!({
        "pattern": "fedavg",
        "name": "flare-job-submit",
        "min_clients": 2,
        "num_rounds": 1,
        "model": [[1.0, 2.0]],
        "train_script": "train.py",
    });
    let job_file = dir.path().join("job.json");
    std::fs::write(&job_file, job.to_string()).expect("job file");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_flare-job"))
            .arg("export")
            .arg(&job_file)
            .arg("--kit")
            .arg(&kit)
            .output()
            .expect("run flare-job")
    })
    .await
    .expect("flare-job");
    assert!(
        out.status.success(),
        "submit failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job_id = String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    assert_eq!(job_id.len(), 36, "a job id: {job_id:?}");

    let kit = AdminKit::load(poc.admin_kit(ADMIN)).expect("admin kit");
    let session = Session::login(&kit, "default").await.expect("login");
    let deadline = Instant::now() + Duration::from_secs(240);
    let meta = loop {
        let meta = job_meta(&session, &job_id).await;
        if meta.status.starts_with("FINISHED") {
            break meta;
        }
        assert!(
            Instant::now() < deadline,
            "job {job_id} stuck in {}",
            meta.status
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    session.close().await;
    assert_eq!(meta.name, "flare-job-submit");
    assert_eq!(meta.status, "FINISHED:COMPLETED", "{meta:?}");
}
