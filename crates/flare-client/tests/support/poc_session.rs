//! Shared helpers of the real-POC test binaries: the POC, a logged-in session, commands and
//! polling a job's status with a deadline.

use std::time::{Duration, Instant};

use flare_client::{AdminKit, Session};
use flare_model::{Command, FlareError, JobMeta, MutateCommand, ReadCommand, Reply};
use flare_poc::Poc;

pub(crate) const ADMIN: &str = "admin@nvidia.com";

/// The shared POC (started on first use, off the async runtime).
pub(crate) async fn poc() -> &'static Poc {
    tokio::task::spawn_blocking(Poc::shared)
        .await
        .expect("poc setup panicked")
}

/// A session of the project admin in `study`.
pub(crate) async fn login_to(study: &str) -> Session {
    let kit = AdminKit::load(poc().await.admin_kit(ADMIN)).expect("admin kit loads");
    Session::login(&kit, study).await.expect("login succeeds")
}

pub(crate) async fn run(s: &Session, c: impl Into<Command>) -> Result<Reply, FlareError> {
    s.execute(&c.into()).await
}

/// `abort_job(job_id)`.
pub(crate) fn abort(job_id: &str) -> MutateCommand {
    MutateCommand::AbortJob {
        job_id: job_id.to_owned(),
    }
}

/// `delete_job(job_id)`.
pub(crate) fn delete(job_id: &str) -> MutateCommand {
    MutateCommand::DeleteJob {
        job_id: job_id.to_owned(),
    }
}

pub(crate) async fn job_meta(s: &Session, job_id: &str) -> Result<JobMeta, FlareError> {
    match run(
        s,
        ReadCommand::GetJobMeta {
            job_id: job_id.to_owned(),
        },
    )
    .await?
    {
        Reply::JobMeta(m) => Ok(m),
        other => panic!("get_job_meta gave {other:?}"),
    }
}

/// Polls the job's status until `pred` holds (deadline 180 s); returns the last meta.
pub(crate) async fn wait_status(s: &Session, job_id: &str, pred: impl Fn(&str) -> bool) -> JobMeta {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let meta = job_meta(s, job_id).await.expect("job meta");
        if pred(&meta.status) {
            return meta;
        }
        assert!(
            Instant::now() < deadline,
            "job {job_id} stuck in {}",
            meta.status
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Asserts that `result` is an error matching `pattern` (with an optional `if` guard), and shows
/// the error otherwise.
macro_rules! assert_err {
    ($result:expr, $pattern:pat $(if $guard:expr)?) => {{
        let err = $result.unwrap_err();
        assert!(matches!(&err, $pattern $(if $guard)?), "got {err:?}");
    }};
}
pub(crate) use assert_err;

/// Runs `command` in session `s`, which must succeed with a `variant(value)` reply; evaluates to
/// `value`.
macro_rules! expect_reply {
    ($s:expr, $command:expr, $variant:path) => {
        match crate::support::run($s, $command).await {
            Ok($variant(value)) => value,
            other => panic!("expected {}, got {other:?}", stringify!($variant)),
        }
    };
}
pub(crate) use expect_reply;
