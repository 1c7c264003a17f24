//! A fake NVFlare for the relay's own fast tests: an in-memory server whose state tests set, which
//! counts every command it sees and can be taken down and brought back. The real proof is the
//! tests against a real POC.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use flare_model::{
    ClientInfo, Command, FlareError, JobMeta, JobSummary, MonitorReturnCode, MutateCommand,
    ReadCommand, Reply, ServerInfo, SystemInfo, TargetType,
};
use serde_json::{Value, json};

use crate::sync::lock;
use crate::upstream::{BoxFuture, Connector, UpstreamSession};

/// Counts a `wait_for_job` / `monitor_job` under way until it ends or is dropped.
struct Waiting(FakeNvflare);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.lock().waiting -= 1;
    }
}

/// The fake server; clones share it.
#[derive(Clone, Default)]
pub struct FakeNvflare {
    inner: Arc<Mutex<FakeState>>,
    /// Downloads wait for a read lock: a test holding the write lock holds them all.
    downloads_gate: Arc<tokio::sync::RwLock<()>>,
}

#[derive(Default)]
struct FakeState {
    down: bool,
    /// Bumped when the server goes down: sessions of older epochs are closed.
    epoch: u64,
    logins: usize,
    /// Successful logins per study.
    study_logins: HashMap<String, usize>,
    /// Studies logins may use besides `default` (like NVFlare's study registry).
    studies: Vec<String>,
    /// Sessions logged out (`close`).
    logouts: usize,
    /// Logins refused with an `AuthenticationError`.
    refusals: usize,
    jobs: Vec<JobSummary>,
    metas: HashMap<String, JobMeta>,
    clients: Vec<ClientInfo>,
    commands: Vec<Command>,
    submissions: Vec<FakeSubmission>,
    /// submit_token → job id, as the server's submit records dedupe.
    tokens: HashMap<String, String>,
    next_job: u64,
    /// job id → what `show_stats` / `show_errors` answer while that job runs.
    live: HashMap<String, FakeLive>,
    /// command name → the error every such command fails with.
    failing: HashMap<String, FlareError>,
    /// Polls of a job's meta made by `wait_for_job` / `monitor_job`.
    job_polls: usize,
    /// `wait_for_job` / `monitor_job` calls under way.
    waiting: usize,
}

impl FakeState {
    /// Job `job_id`'s meta, or NVFlare's answer for a job it does not know.
    fn meta(&self, job_id: &str) -> Result<JobMeta, FlareError> {
        self.metas
            .get(job_id)
            .cloned()
            .ok_or_else(|| job_not_found(job_id))
    }
}

/// NVFlare's answer for a job it does not know.
fn job_not_found(job_id: &str) -> FlareError {
    FlareError::JobNotFound {
        message: format!("job {job_id} does not exist"),
    }
}

/// A running job's `show_stats` and `show_errors` maps: site → component → value.
#[derive(Clone, Debug, Default)]
struct FakeLive {
    stats: BTreeMap<String, Value>,
    errors: BTreeMap<String, Value>,
}

/// A job folder the fake received through `submit_job`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeSubmission {
    /// The folder's name: the job folder name NVFlare sees.
    pub folder_name: String,
    /// Its files, relative and `/`-separated, sorted.
    pub files: Vec<String>,
    pub submit_token: Option<String>,
    pub job_id: String,
}

fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            list_files(root, &path, out);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
}

impl FakeNvflare {
    /// A fake server with two sites and no jobs.
    pub fn new() -> Self {
        let fake = FakeNvflare::default();
        fake.lock().clients = vec![
            ClientInfo {
                name: "site-1".into(),
                last_connect_time: 1.0,
            },
            ClientInfo {
                name: "site-2".into(),
                last_connect_time: 1.0,
            },
        ];
        fake
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        lock(&self.inner)
    }

    /// Takes the server down (open sessions close, logins fail) or brings it back.
    pub fn set_up(&self, up: bool) {
        let mut state = self.lock();
        if !up && !state.down {
            state.epoch += 1;
        }
        state.down = !up;
    }

    /// Adds or replaces a job (summary and meta).
    pub fn put_job(&self, job_id: &str, name: &str, status: &str) {
        let mut state = self.lock();
        let summary = JobSummary {
            job_id: job_id.into(),
            job_name: name.into(),
            status: status.into(),
            submit_time: "2026-01-01T00:00:00".into(),
            duration: "N/A".into(),
            study: "default".into(),
        };
        match state.jobs.iter_mut().find(|j| j.job_id == job_id) {
            Some(existing) => *existing = summary,
            None => state.jobs.push(summary),
        }
        let meta = JobMeta {
            job_id: job_id.into(),
            name: name.into(),
            status: status.into(),
            submit_time: Some(1_767_225_600.0),
            ..JobMeta::default()
        };
        state.metas.insert(job_id.into(), meta);
    }

    /// Sets a job's round progress as a real server's `show_stats` reports it: the server's
    /// `ServerRunner` and `ScatterAndGather` (phase `train`, the `train` task at both sites) and a
    /// `ClientRunner` per site. Only a `RUNNING` job answers stats and errors; any other is
    /// `JobNotRunning`. Like NVFlare 2.9, `show_errors` says `"No Error"` for a server without
    /// errors and `{}` for such a site.
    pub fn set_round(&self, job_id: &str, current_round: u64, num_rounds: u64) {
        let mut state = self.lock();
        let sites: Vec<String> = state.clients.iter().map(|c| c.name.clone()).collect();
        let live = state.live.entry(job_id.to_owned()).or_default();
        live.stats.insert(
            "server".into(),
            json!({
                "ServerRunner": {"job_id": job_id, "status": "started", "workflow": "scatter_and_gather"},
                "ScatterAndGather": {
                    "phase": "train",
                    "current_round": current_round,
                    "num_rounds": num_rounds,
                    "tasks": {"train": sites},
                },
            }),
        );
        for site in &sites {
            live.stats.insert(
                site.clone(),
                json!({"ClientRunner": {"current_tasks": ["train"], "job_id": job_id}}),
            );
            live.errors.entry(site.clone()).or_insert_with(|| json!({}));
        }
        live.errors
            .entry("server".into())
            .or_insert_with(|| json!("No Error"));
    }

    /// Records an error of a running job's `component` at `site` as NVFlare 2.9 lists it:
    /// component → kind (`"error"`, `"warning"`) → latest message.
    pub fn add_error(&self, job_id: &str, site: &str, component: &str, kind: &str, message: &str) {
        let mut state = self.lock();
        let live = state.live.entry(job_id.to_owned()).or_default();
        let site = live
            .errors
            .entry(site.to_owned())
            .or_insert_with(|| json!({}));
        if !site.is_object() {
            *site = json!({});
        }
        site[component][kind] = json!(message);
    }

    /// Makes every command named `name` (e.g. `"show_stats"`) fail with `error`, or work again
    /// with `None`. The command still counts as executed.
    pub fn set_failing(&self, name: &str, error: Option<FlareError>) {
        let mut state = self.lock();
        match error {
            Some(error) => state.failing.insert(name.to_owned(), error),
            None => state.failing.remove(name),
        };
    }

    /// Removes a job.
    pub fn remove_job(&self, job_id: &str) {
        let mut state = self.lock();
        state.jobs.retain(|j| j.job_id != job_id);
        state.metas.remove(job_id);
    }

    /// How many commands named `name` (e.g. `"list_jobs"`) the server executed.
    pub fn calls(&self, name: &str) -> usize {
        self.lock()
            .commands
            .iter()
            .filter(|c| c.name() == name)
            .count()
    }

    /// How often `wait_for_job` / `monitor_job` polled a job's meta so far.
    pub fn job_polls(&self) -> usize {
        self.lock().job_polls
    }

    /// `wait_for_job` / `monitor_job` calls under way now (one that was dropped is not).
    pub fn waiting(&self) -> usize {
        self.lock().waiting
    }

    /// `wait_for_job` / `monitor_job` as flare-client runs them: polls the job's meta every
    /// `poll_interval` seconds until it is finished or a positive `timeout` passed.
    async fn wait(
        &self,
        epoch: u64,
        job_id: &str,
        timeout: f64,
        poll_interval: f64,
        monitor: bool,
    ) -> Result<Reply, FlareError> {
        self.lock().waiting += 1;
        let _waiting = Waiting(self.clone());
        let start = tokio::time::Instant::now();
        loop {
            let meta = {
                let mut state = self.lock();
                if state.down || state.epoch != epoch {
                    return Err(FlareError::SessionClosed {
                        message: "the fake server went away".into(),
                    });
                }
                state.job_polls += 1;
                state.meta(job_id)?
            };
            let finished = meta.status.starts_with("FINISHED");
            let timed_out = timeout > 0.0 && start.elapsed().as_secs_f64() >= timeout;
            match (finished || timed_out, monitor) {
                (false, _) => {}
                (true, true) => {
                    let code = if finished {
                        MonitorReturnCode::JobFinished
                    } else {
                        MonitorReturnCode::Timeout
                    };
                    return Ok(Reply::Monitor { code, meta });
                }
                (true, false) if finished => return Ok(Reply::JobMeta(meta)),
                (true, false) => {
                    return Err(FlareError::JobTimeout {
                        message: format!("job {job_id} did not finish within {timeout}s"),
                    });
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs_f64(poll_interval.max(0.001))).await;
        }
    }

    /// Holds every download until the guard is dropped.
    pub async fn hold_downloads(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.downloads_gate.clone().write_owned().await
    }

    /// Every command the server executed, in order.
    pub fn commands(&self) -> Vec<Command> {
        self.lock().commands.clone()
    }

    /// Every job folder submitted, in order.
    pub fn submissions(&self) -> Vec<FakeSubmission> {
        self.lock().submissions.clone()
    }

    fn submit(
        &self,
        epoch: u64,
        job_dir: &Path,
        submit_token: Option<&str>,
    ) -> Result<String, FlareError> {
        let folder_name = job_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut files = Vec::new();
        list_files(job_dir, job_dir, &mut files);
        files.sort();
        let job_id = {
            let mut state = self.lock();
            if state.down || state.epoch != epoch {
                return Err(FlareError::SessionClosed {
                    message: "the fake server went away".into(),
                });
            }
            state
                .commands
                .push(Command::Mutate(MutateCommand::SubmitJob {
                    upload_id: job_dir.display().to_string(),
                    submit_token: submit_token.map(str::to_owned),
                }));
            if !files.iter().any(|f| f == "meta.json") {
                return Err(FlareError::InvalidJobDefinition {
                    message: "job has no meta.json".into(),
                });
            }
            let existing = submit_token.and_then(|t| state.tokens.get(t).cloned());
            let job_id = match existing {
                Some(job_id) => job_id,
                None => {
                    state.next_job += 1;
                    let job_id = format!("fake-job-{}", state.next_job);
                    if let Some(token) = submit_token {
                        state.tokens.insert(token.to_owned(), job_id.clone());
                    }
                    job_id
                }
            };
            state.submissions.push(FakeSubmission {
                folder_name: folder_name.clone(),
                files,
                submit_token: submit_token.map(str::to_owned),
                job_id: job_id.clone(),
            });
            job_id
        };
        if !self.lock().metas.contains_key(&job_id) {
            self.put_job(&job_id, &folder_name, "SUBMITTED");
        }
        Ok(job_id)
    }

    /// Writes a job's files as NVFlare 2.9's `download_job` leaves them: `<dest>/<job_id>/` with
    /// `meta.json`, `job/<name>/` and the server's run `workspace/`; components: `ERRORLOG_site-1`.
    fn download(
        &self,
        epoch: u64,
        job_id: &str,
        dest_dir: &Path,
        components: bool,
    ) -> Result<PathBuf, FlareError> {
        let meta = {
            let mut state = self.lock();
            if state.down || state.epoch != epoch {
                return Err(FlareError::SessionClosed {
                    message: "the fake server went away".into(),
                });
            }
            let command = if components {
                ReadCommand::DownloadJobComponents {
                    job_id: job_id.into(),
                }
            } else {
                ReadCommand::DownloadJobResult {
                    job_id: job_id.into(),
                }
            };
            state.commands.push(Command::Read(command));
            state.meta(job_id)?
        };
        let folder = dest_dir.join(job_id);
        let write = |relative: &str, text: &str| -> std::io::Result<()> {
            let path = folder.join(relative);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, text)
        };
        let meta_json = serde_json::to_string_pretty(&meta).unwrap_or_default();
        let written = if components {
            write("ERRORLOG_site-1", "no errors\n")
        } else {
            let name = &meta.name;
            write("meta.json", &meta_json)
                .and_then(|()| write(&format!("job/{name}/meta.json"), "{}"))
                .and_then(|()| write("workspace/app_server/config/config_fed_server.json", "{}"))
                .and_then(|()| write("workspace/log.txt", "server log\n"))
                .and_then(|()| write("workspace/models/server.npy", "model"))
        };
        written.map_err(|e| FlareError::InternalError {
            message: format!("the fake cannot write the download: {e}"),
        })?;
        Ok(folder)
    }

    /// Successful logins so far.
    pub fn logins(&self) -> usize {
        self.lock().logins
    }

    /// Successful logins to `study` so far.
    pub fn logins_to(&self, study: &str) -> usize {
        self.lock().study_logins.get(study).copied().unwrap_or(0)
    }

    /// Logins refused for an unknown study so far.
    pub fn refusals(&self) -> usize {
        self.lock().refusals
    }

    /// Sessions closed (logged out) so far.
    pub fn logouts(&self) -> usize {
        self.lock().logouts
    }

    /// Registers a study logins may use; any other but `default` is refused like NVFlare does
    /// (`AuthenticationError` with `AUTH_STUDY_NOT_CONFIGURED`).
    pub fn add_study(&self, study: &str) {
        self.lock().studies.push(study.to_owned());
    }

    /// Sets which sites are connected (what `get_system_info` lists).
    pub fn set_sites(&self, sites: &[&str]) {
        self.lock().clients = sites
            .iter()
            .map(|name| ClientInfo {
                name: (*name).to_owned(),
                last_connect_time: 1.0,
            })
            .collect();
    }

    fn execute(&self, epoch: u64, command: &Command) -> Result<Reply, FlareError> {
        let mut state = self.lock();
        if state.down || state.epoch != epoch {
            return Err(FlareError::SessionClosed {
                message: "the fake server went away".into(),
            });
        }
        state.commands.push(command.clone());
        if let Some(error) = state.failing.get(command.name()) {
            return Err(error.clone());
        }
        match command {
            Command::Read(ReadCommand::GetSystemInfo) => Ok(Reply::SystemInfo(SystemInfo {
                server_info: ServerInfo {
                    status: "started".into(),
                    start_time: 1.0,
                },
                client_info: state.clients.clone(),
                job_info: Vec::new(),
            })),
            Command::Read(ReadCommand::ListJobs(filter)) => {
                let jobs = match filter.submit_token.as_deref().filter(|t| !t.is_empty()) {
                    Some(token) => {
                        let job_id = state.tokens.get(token);
                        state
                            .jobs
                            .iter()
                            .filter(|j| Some(&j.job_id) == job_id)
                            .cloned()
                            .collect()
                    }
                    None => state.jobs.clone(),
                };
                Ok(Reply::Jobs(jobs))
            }
            Command::Read(ReadCommand::GetJobMeta { job_id }) => {
                state.meta(job_id).map(Reply::JobMeta)
            }
            Command::Mutate(MutateCommand::AbortJob { job_id }) => {
                let Some(meta) = state.metas.get_mut(job_id) else {
                    return Err(job_not_found(job_id));
                };
                meta.status = "FINISHED:ABORTED".into();
                state.live.remove(job_id);
                if let Some(job) = state.jobs.iter_mut().find(|j| &j.job_id == job_id) {
                    job.status = "FINISHED:ABORTED".into();
                }
                Ok(Reply::Text("Abort signal has been sent".into()))
            }
            Command::Read(
                ReadCommand::ShowStats {
                    job_id,
                    target_type,
                    targets,
                }
                | ReadCommand::ShowErrors {
                    job_id,
                    target_type,
                    targets,
                },
            ) => {
                let Some(meta) = state.metas.get(job_id) else {
                    return Err(job_not_found(job_id));
                };
                if meta.status != "RUNNING" {
                    return Err(FlareError::JobNotRunning {
                        message: format!("job {job_id} is not running"),
                    });
                }
                let live = state.live.get(job_id).cloned().unwrap_or_default();
                let map = if matches!(command, Command::Read(ReadCommand::ShowStats { .. })) {
                    live.stats
                } else {
                    live.errors
                };
                let wanted = |site: &str| match target_type {
                    TargetType::All => true,
                    TargetType::Server => site == "server",
                    TargetType::Client => {
                        site != "server"
                            && (targets.is_empty() || targets.iter().any(|t| t == site))
                    }
                };
                Ok(Reply::SiteMap(
                    map.into_iter().filter(|(site, _)| wanted(site)).collect(),
                ))
            }
            Command::Read(ReadCommand::ReportVersion { .. }) => Ok(Reply::SiteMap(BTreeMap::from(
                [("server".to_owned(), serde_json::json!("2.9.0"))],
            ))),
            _ => Ok(Reply::Done),
        }
    }
}

struct FakeSession {
    server: FakeNvflare,
    epoch: u64,
}

impl UpstreamSession for FakeSession {
    fn execute<'a>(&'a self, command: &'a Command) -> BoxFuture<'a, Result<Reply, FlareError>> {
        Box::pin(async move {
            let reply = self.server.execute(self.epoch, command)?;
            let (job_id, timeout, poll_interval, monitor) = match command {
                Command::Read(ReadCommand::WaitForJob {
                    job_id,
                    timeout,
                    poll_interval,
                }) => (job_id, timeout, poll_interval, false),
                Command::Read(ReadCommand::MonitorJob {
                    job_id,
                    timeout,
                    poll_interval,
                }) => (job_id, timeout, poll_interval, true),
                _ => return Ok(reply),
            };
            let server = &self.server;
            server
                .wait(self.epoch, job_id, *timeout, *poll_interval, monitor)
                .await
        })
    }

    fn submit_job<'a>(
        &'a self,
        job_dir: &'a Path,
        submit_token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String, FlareError>> {
        Box::pin(async move { self.server.submit(self.epoch, job_dir, submit_token) })
    }

    fn download_job<'a>(
        &'a self,
        job_id: &'a str,
        dest_dir: &'a Path,
        components: bool,
    ) -> BoxFuture<'a, Result<PathBuf, FlareError>> {
        Box::pin(async move {
            let _open = self.server.downloads_gate.read().await;
            self.server
                .download(self.epoch, job_id, dest_dir, components)
        })
    }

    fn is_closed(&self) -> bool {
        let state = self.server.lock();
        state.down || state.epoch != self.epoch
    }

    fn server_version(&self) -> String {
        "2.9.0".into()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.server.lock().logouts += 1;
        })
    }
}

impl Connector for FakeNvflare {
    /// The kit folder's name is the identity, as in a POC's `prod_00/<identity>`.
    fn identity(&self, kit_dir: &Path) -> Result<String, FlareError> {
        kit_dir
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .ok_or_else(|| FlareError::InvalidArgument {
                message: "the kit path has no folder name".into(),
            })
    }

    fn login<'a>(
        &'a self,
        _kit_dir: &'a Path,
        study: &'a str,
    ) -> BoxFuture<'a, Result<Arc<dyn UpstreamSession>, FlareError>> {
        Box::pin(async move {
            let mut state = self.lock();
            if state.down {
                return Err(FlareError::NoConnection {
                    message: "cannot connect to the fake server".into(),
                });
            }
            if study != "default" && !state.studies.iter().any(|s| s == study) {
                state.refusals += 1;
                return Err(FlareError::AuthenticationError {
                    message: format!("study '{study}' is not configured"),
                    auth_code: Some("AUTH_STUDY_NOT_CONFIGURED".into()),
                });
            }
            state.logins += 1;
            *state.study_logins.entry(study.to_owned()).or_default() += 1;
            let session: Arc<dyn UpstreamSession> = Arc::new(FakeSession {
                server: self.clone(),
                epoch: state.epoch,
            });
            Ok(session)
        })
    }
}
