//! Retry-safe job submission: a submit token minted per submission and kept (with the upload id)
//! in sessionStorage before the command goes out, so a reload or a dropped socket looks the job up
//! by token first and resubmits (same token) only when NVFlare has none.
//!
//! The decisions are plain functions ([`after_lookup`], [`after_submit`]); the browser glue that
//! stores and runs them lives in the submit page.

use flare_model::{FlareError, Reply};
use serde::{Deserialize, Serialize};

use crate::connection::outcome_unknown;

/// The sessionStorage key of the pending submission.
pub const STORAGE_KEY: &str = "flare-console.pending-submit";

/// How many look-up/submit rounds a submission gets before it gives up.
pub const MAX_ROUNDS: u32 = 5;

/// A submission that was started and has not been confirmed yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub token: String,
    /// `upload id` from `/api/upload`, or `library:<name>`.
    pub upload_id: String,
    /// What the user submitted (folder or library name), for messages.
    pub label: String,
    /// The study the token is scoped to.
    pub study: String,
}

/// `console-<32 hex>` from 16 random bytes; matches NVFlare's `^[A-Za-z0-9._:-]{1,128}$`.
pub fn token_from_bytes(bytes: &[u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("console-{hex}")
}

/// The next thing to do for a pending submission.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Ask `list_jobs {submit_token}` whether NVFlare already has the job.
    LookUp,
    /// Send `submit_job {upload_id, submit_token}` (again).
    Submit,
    /// The job exists: forget the pending state and open it.
    Done(String),
    /// The submission failed for good: forget the pending state and show why.
    Fail(FlareError),
}

/// Where a pending submission found after a reload starts.
pub fn on_resume(pending: Option<&Pending>) -> Option<Step> {
    pending.map(|_| Step::LookUp)
}

/// What to do after the `list_jobs {submit_token}` look-up answered `reply`.
pub fn after_lookup(reply: Result<Reply, FlareError>) -> Step {
    match reply {
        Ok(Reply::Jobs(jobs)) => match jobs.into_iter().next() {
            Some(job) => Step::Done(job.job_id),
            None => Step::Submit,
        },
        Ok(Reply::JobMetas(metas)) => match metas.into_iter().next() {
            Some(meta) => Step::Done(meta.job_id),
            None => Step::Submit,
        },
        // Connection trouble: ask again once the link is back.
        Err(e) if outcome_unknown(&e) => Step::LookUp,
        Err(e) => Step::Fail(e),
        Ok(other) => Step::Fail(FlareError::InternalError {
            message: format!("the relay answered the job look-up with {other:?}"),
        }),
    }
}

/// What to do after `submit_job` answered `reply`.
pub fn after_submit(reply: Result<Reply, FlareError>) -> Step {
    match reply {
        Ok(Reply::JobId(id)) => Step::Done(id),
        // The job may or may not exist now: look it up before trying again.
        Err(e) if outcome_unknown(&e) => Step::LookUp,
        Err(e) => Step::Fail(e),
        Ok(other) => Step::Fail(FlareError::InternalError {
            message: format!("the relay answered the submission with {other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flare_model::JobSummary;

    fn summary(id: &str) -> JobSummary {
        JobSummary {
            job_id: id.to_owned(),
            job_name: "hello".to_owned(),
            status: "SUBMITTED".to_owned(),
            submit_time: String::new(),
            duration: String::new(),
            study: "default".to_owned(),
        }
    }

    #[test]
    fn tokens_are_console_hex_and_valid_for_nvflare() {
        let t = token_from_bytes(&[0xab; 16]);
        assert_eq!(t, format!("console-{}", "ab".repeat(16)));
        assert!(t.len() <= 128);
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c))
        );
    }

    #[test]
    fn a_reload_with_a_pending_submission_looks_it_up_first() {
        let p = Pending {
            token: "console-1".to_owned(),
            upload_id: "u1".to_owned(),
            label: "hello".to_owned(),
            study: "default".to_owned(),
        };
        assert_eq!(on_resume(Some(&p)), Some(Step::LookUp));
        assert_eq!(on_resume(None), None);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Pending>(&json).unwrap(), p);
    }

    #[test]
    fn lookup_finds_the_job_or_asks_to_submit() {
        assert_eq!(
            after_lookup(Ok(Reply::Jobs(vec![summary("j1")]))),
            Step::Done("j1".to_owned())
        );
        assert_eq!(after_lookup(Ok(Reply::Jobs(vec![]))), Step::Submit);
        let lost = FlareError::NoConnection {
            message: "x".to_owned(),
        };
        assert_eq!(after_lookup(Err(lost)), Step::LookUp);
        let denied = FlareError::AuthorizationError {
            message: "no".to_owned(),
        };
        assert_eq!(after_lookup(Err(denied.clone())), Step::Fail(denied));
    }

    #[test]
    fn a_lost_submit_reply_is_looked_up_never_blindly_resent() {
        assert_eq!(
            after_submit(Ok(Reply::JobId("j2".to_owned()))),
            Step::Done("j2".to_owned())
        );
        assert_eq!(
            after_submit(Err(FlareError::NoReply {
                message: "timeout".to_owned()
            })),
            Step::LookUp
        );
        let bad = FlareError::BadRequest {
            message: "entry ../evil is outside the job folder".to_owned(),
        };
        assert_eq!(after_submit(Err(bad.clone())), Step::Fail(bad));
    }
}
