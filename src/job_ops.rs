//! Running a confirmed job action: the command over the socket, then what follows (checking that
//! an abort took, leaving a deleted job, opening a clone, fetching a download with progress).

use std::time::Duration;

use flare_model::{FlareError, MutateCommand, ReadCommand, Reply};
use leptos::prelude::*;
use web_sys::XmlHttpRequest;

use crate::api::AuthorizedApi;
use crate::browser::{self, Progress};
use crate::components::toasts::Toasts;
use crate::connection::{Connection, sleep};
use crate::errors::describe;
use crate::logs::human_bytes;
use crate::policy::{JobAction, is_finished};
use crate::time::now_ms;

/// How long the console checks that an aborted job really stopped.
pub const ABORT_CHECK_MS: u64 = 45_000;

/// The colour of an action's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Info,
    Ok,
    Warn,
    Error,
}

/// A progress bar under the actions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bar {
    /// Waiting on the relay or NVFlare, with no measure.
    Busy,
    Bytes(Progress),
}

/// What the last action is doing or did.
#[derive(Clone, Debug, PartialEq)]
pub struct OpStatus {
    pub action: JobAction,
    pub tone: Tone,
    pub text: String,
    pub detail: Option<String>,
    pub bar: Option<Bar>,
}

impl OpStatus {
    fn new(action: JobAction, tone: Tone, text: impl Into<String>) -> Self {
        OpStatus {
            action,
            tone,
            text: text.into(),
            detail: None,
            bar: None,
        }
    }

    fn busy(action: JobAction, text: impl Into<String>) -> Self {
        OpStatus {
            bar: Some(Bar::Busy),
            ..OpStatus::new(action, Tone::Info, text)
        }
    }

    /// An error worded for people (NVFlare's refusals included).
    pub fn failed(action: JobAction, error: &FlareError) -> Self {
        let d = describe(error);
        OpStatus {
            detail: d.detail,
            ..OpStatus::new(action, Tone::Error, d.summary)
        }
    }
}

/// "1.2 MB of 3.4 MB" (or just the bytes when the total is unknown).
pub fn progress_text(p: &Progress) -> String {
    match p.total {
        Some(t) if t > 0.0 => format!(
            "{} of {} ({:.0} %)",
            human_bytes(p.loaded),
            human_bytes(t),
            100.0 * p.loaded / t
        ),
        _ => human_bytes(p.loaded),
    }
}

/// The state the job page's actions share.
#[derive(Clone, Copy)]
pub struct JobOps {
    pub status: RwSignal<Option<OpStatus>>,
    pub busy: RwSignal<bool>,
    /// The running download, aborted when the page goes away.
    xhr: StoredValue<Option<XmlHttpRequest>, LocalStorage>,
}

impl Default for JobOps {
    fn default() -> Self {
        JobOps {
            status: RwSignal::new(None),
            busy: RwSignal::new(false),
            xhr: StoredValue::new_local(None),
        }
    }
}

impl JobOps {
    /// Stops a running download (on unmount).
    pub fn cancel(self) {
        if let Some(Some(x)) = self.xhr.try_get_value() {
            let _ = x.abort();
        }
    }

    fn set(self, s: OpStatus) {
        let _ = self.status.try_set(Some(s));
    }

    /// Runs `action` (already confirmed) on `job_id`; `navigate` opens a path.
    pub fn run(
        self,
        api: AuthorizedApi,
        conn: Connection,
        toasts: Toasts,
        navigate: impl Fn(&str) + 'static,
        action: JobAction,
        job_id: String,
    ) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        leptos::task::spawn_local(async move {
            match action {
                JobAction::Abort => self.abort(conn, &job_id).await,
                JobAction::Delete => {
                    self.set(OpStatus::busy(action, "Deleting the job…"));
                    match conn
                        .command(MutateCommand::DeleteJob {
                            job_id: job_id.clone(),
                        })
                        .await
                    {
                        Ok(_) => {
                            toasts.show(format!("Job {job_id} deleted."), "ok", 10);
                            navigate("/jobs");
                        }
                        Err(e) => self.set(OpStatus::failed(action, &e)),
                    }
                }
                JobAction::Clone => {
                    self.set(OpStatus::busy(action, "Cloning the job…"));
                    match conn
                        .command(MutateCommand::CloneJob {
                            job_id: job_id.clone(),
                        })
                        .await
                    {
                        Ok(Reply::JobId(new_id)) => {
                            let _ = self.status.try_set(None);
                            toasts.ok(format!("Cloned job {job_id} as {new_id}."));
                            navigate(&format!("/jobs/{new_id}"));
                        }
                        Ok(other) => self.set(OpStatus::new(
                            action,
                            Tone::Warn,
                            format!("NVFlare answered the clone with {other:?}"),
                        )),
                        Err(e) => self.set(OpStatus::failed(action, &e)),
                    }
                }
                JobAction::ResetErrors => {
                    self.set(OpStatus::busy(action, "Resetting the job's errors…"));
                    match conn
                        .command(MutateCommand::ResetErrors {
                            job_id: job_id.clone(),
                        })
                        .await
                    {
                        Ok(_) => {
                            self.set(OpStatus::new(
                                action,
                                Tone::Ok,
                                "Errors reset on the server and every site.",
                            ));
                            toasts.ok("Errors reset.");
                        }
                        Err(e) => self.set(OpStatus::failed(action, &e)),
                    }
                }
                JobAction::DownloadResult | JobAction::DownloadComponents => {
                    self.download(&api, conn, action, &job_id).await
                }
                JobAction::Submit | JobAction::Logs => {}
            }
            let _ = self.busy.try_set(false);
        });
    }

    async fn abort(self, conn: Connection, job_id: &str) {
        let action = JobAction::Abort;
        self.set(OpStatus::busy(action, "Asking NVFlare to abort the job…"));
        let reply = conn
            .command(MutateCommand::AbortJob {
                job_id: job_id.to_owned(),
            })
            .await;
        let said = match reply {
            Ok(Reply::Text(t)) if !t.trim().is_empty() => format!("NVFlare: {}", t.trim()),
            Ok(_) => "NVFlare accepted the abort.".to_owned(),
            Err(e) => return self.set(OpStatus::failed(action, &e)),
        };
        self.set(OpStatus {
            detail: Some(said.clone()),
            ..OpStatus::busy(action, "Abort sent. Checking that the job stopped…")
        });
        let deadline = now_ms() + ABORT_CHECK_MS;
        let mut last = String::new();
        loop {
            if let Ok(Reply::JobMeta(meta)) = conn
                .command(ReadCommand::GetJobMeta {
                    job_id: job_id.to_owned(),
                })
                .await
            {
                if is_finished(&meta.status) {
                    let tone = if meta.status == "FINISHED:ABORTED" {
                        Tone::Ok
                    } else {
                        Tone::Warn
                    };
                    return self.set(OpStatus {
                        detail: Some(said),
                        ..OpStatus::new(action, tone, format!("Job aborted: {}", meta.status))
                    });
                }
                last = meta.status;
            }
            if now_ms() >= deadline || self.status.try_get_untracked().is_none() {
                break;
            }
            sleep(1_000).await;
        }
        let state = if last.is_empty() {
            "unknown".to_owned()
        } else {
            last
        };
        self.set(OpStatus {
            detail: Some(said),
            ..OpStatus::new(
                action,
                Tone::Warn,
                format!(
                    "The job has not stopped yet: it is still {state} {} s after the abort. \
                     NVFlare may still be stopping it (a site that left can hold it in RUNNING); \
                     watch its status or abort again.",
                    ABORT_CHECK_MS / 1_000
                ),
            )
        });
    }

    async fn download(
        self,
        api: &AuthorizedApi,
        conn: Connection,
        action: JobAction,
        job_id: &str,
    ) {
        let what = if action == JobAction::DownloadResult {
            "result"
        } else {
            "components"
        };
        self.set(OpStatus::busy(
            action,
            format!("The relay is pulling the job {what} from NVFlare…"),
        ));
        let command = if action == JobAction::DownloadResult {
            ReadCommand::DownloadJobResult {
                job_id: job_id.to_owned(),
            }
        } else {
            ReadCommand::DownloadJobComponents {
                job_id: job_id.to_owned(),
            }
        };
        let (download_id, file_name, size) = match conn.command(command).await {
            Ok(Reply::Download {
                download_id,
                file_name,
                size,
            }) => (download_id, file_name, size),
            Ok(other) => {
                return self.set(OpStatus::new(
                    action,
                    Tone::Error,
                    format!("The relay answered the download with {other:?}"),
                ));
            }
            Err(e) => return self.set(OpStatus::failed(action, &e)),
        };
        let Ok(xhr) = XmlHttpRequest::new() else {
            return self.set(OpStatus::new(
                action,
                Tone::Error,
                "This browser cannot download files",
            ));
        };
        self.xhr.set_value(Some(xhr.clone()));
        let status = self.status;
        let name = file_name.clone();
        let start = Progress {
            loaded: 0.0,
            total: Some(size as f64),
        };
        self.set(OpStatus {
            bar: Some(Bar::Bytes(start)),
            ..OpStatus::new(action, Tone::Info, format!("Downloading {name}…"))
        });
        let result = api
            .download(&xhr, &download_id, move |p| {
                let p = Progress {
                    loaded: p.loaded,
                    total: p.total.or(Some(size as f64)),
                };
                let _ = status.try_set(Some(OpStatus {
                    bar: Some(Bar::Bytes(p)),
                    ..OpStatus::new(action, Tone::Info, format!("Downloading {name}…"))
                }));
            })
            .await;
        self.xhr.set_value(None);
        match result.and_then(|blob| browser::save_blob(&blob, &file_name)) {
            Ok(()) => self.set(OpStatus::new(
                action,
                Tone::Ok,
                format!("Saved {file_name} ({}).", human_bytes(size as f64)),
            )),
            Err(e) => self.set(OpStatus::new(
                action,
                Tone::Error,
                format!("The download failed: {e}."),
            )),
        }
    }
}

/// Waits `ms` (re-exported for pages that poll).
pub async fn pause(ms: u64) {
    sleep(ms).await;
}

/// The interval of the logs' live tail.
pub const TAIL_EVERY: Duration = Duration::from_secs(3);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_as_bytes_of_total() {
        let p = Progress {
            loaded: 1_572_864.0,
            total: Some(3_145_728.0),
        };
        assert_eq!(progress_text(&p), "1.5 MB of 3.0 MB (50 %)");
        let p = Progress {
            loaded: 2048.0,
            total: None,
        };
        assert_eq!(progress_text(&p), "2.0 KB");
    }
}
