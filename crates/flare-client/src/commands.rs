//! Typed commands → HCI command lines, and HCI replies → typed [`Reply`] values, as the Python
//! `flare_api.Session` methods build and read them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use flare_model::jobs::is_terminal_status;
use flare_model::{
    ClientInfo, ClientJobStatus, Command, FlareError, JobInfo, JobMeta, JobSummary, ListJobsFilter,
    LogsReply, MonitorReturnCode, MutateCommand, ReadCommand, Reply, ServerInfo, SystemInfo,
    TargetType,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::hci::{HciReply, check_reply, check_study_payload, join_args};
use crate::session::Session;

fn internal(message: impl Into<String>) -> FlareError {
    FlareError::InternalError {
        message: message.into(),
    }
}

fn unsupported(name: &str) -> FlareError {
    FlareError::Unsupported {
        message: format!("{name} is not implemented by the native client yet"),
    }
}

fn invalid(message: impl Into<String>) -> FlareError {
    FlareError::InvalidArgument {
        message: message.into(),
    }
}

fn parse<T: DeserializeOwned>(v: Value, what: &str) -> Result<T, FlareError> {
    serde_json::from_value(v).map_err(|e| internal(format!("unexpected {what} from server: {e}")))
}

fn require_job_id(job_id: &str) -> Result<(), FlareError> {
    if job_id.is_empty() {
        return Err(FlareError::JobNotFound {
            message: "job_id is required but not specified".to_owned(),
        });
    }
    Ok(())
}

/// `[cmd, target_type, targets…]` (targets only for the client target type).
fn targeted(cmd: &str, target_type: TargetType, targets: &[String]) -> Vec<String> {
    let mut parts = vec![cmd.to_owned(), target_type.as_str().to_owned()];
    if target_type == TargetType::Client {
        parts.extend(targets.iter().cloned());
    }
    parts
}

/// The `list_jobs` command line for a filter.
pub(crate) fn list_jobs_command(f: &ListJobsFilter) -> String {
    let mut parts = vec!["list_jobs".to_owned()];
    if f.detailed {
        parts.push("-d".to_owned());
    }
    if f.reverse {
        parts.push("-r".to_owned());
    }
    if let Some(limit) = f.limit.filter(|l| *l > 0) {
        parts.extend(["-m".to_owned(), limit.to_string()]);
    }
    if let Some(name) = f.name_prefix.as_deref().filter(|s| !s.is_empty()) {
        parts.extend(["-n".to_owned(), name.to_owned()]);
    }
    if let Some(id) = f.id_prefix.as_deref().filter(|s| !s.is_empty()) {
        parts.push(id.to_owned());
    }
    if let Some(token) = f.submit_token.as_deref().filter(|s| !s.is_empty()) {
        parts.extend(["--submit-token".to_owned(), token.to_owned()]);
    }
    join_args(&parts)
}

impl Session {
    /// Runs a command line and applies the FLARE API error mapping.
    async fn checked(&self, parts: &[String], enforce_meta: bool) -> Result<HciReply, FlareError> {
        self.checked_with(parts, enforce_meta, Map::new()).await
    }

    async fn checked_with(
        &self,
        parts: &[String],
        enforce_meta: bool,
        meta: Map<String, Value>,
    ) -> Result<HciReply, FlareError> {
        let line = join_args(parts);
        let reply = self.command(&line, meta).await?;
        check_reply(&reply, &line, enforce_meta)?;
        Ok(reply)
    }

    async fn job_meta(&self, job_id: &str) -> Result<JobMeta, FlareError> {
        require_job_id(job_id)?;
        let r = self
            .checked(&["get_job_meta".into(), job_id.into()], true)
            .await?;
        match r.meta_field("job_meta") {
            Some(m) if m.as_object().is_some_and(|o| !o.is_empty()) => parse(m.clone(), "job meta"),
            _ => Err(internal("server failed to return job meta")),
        }
    }

    async fn system_info(&self) -> Result<SystemInfo, FlareError> {
        let r = self
            .checked(&["check_status".into(), "server".into()], true)
            .await?;
        Ok(system_info_from(&r))
    }

    async fn site_map(&self, parts: Vec<String>) -> Result<Reply, FlareError> {
        let r = self.checked(&parts, false).await?;
        Ok(Reply::SiteMap(object_map(r.dict_data())))
    }

    async fn study_payload(&self, parts: Vec<String>) -> Result<Value, FlareError> {
        let r = self.checked(&parts, true).await?;
        let payload = r.dict_data();
        if !payload.is_object() {
            return Err(internal("study payload must be a dict"));
        }
        check_study_payload(&payload)?;
        Ok(payload)
    }

    async fn monitor(
        &self,
        job_id: &str,
        timeout: f64,
        poll_interval: f64,
    ) -> Result<(MonitorReturnCode, JobMeta), FlareError> {
        let start = Instant::now();
        let poll = Duration::from_secs_f64(poll_interval.max(0.1));
        loop {
            let meta = self.job_meta(job_id).await?;
            if is_terminal_status(&meta.status) {
                return Ok((MonitorReturnCode::JobFinished, meta));
            }
            if timeout > 0.0 && start.elapsed().as_secs_f64() >= timeout {
                return Ok((MonitorReturnCode::Timeout, meta));
            }
            tokio::time::sleep(poll).await;
        }
    }
}

/// `get_system_info` from a `check_status server` reply.
pub(crate) fn system_info_from(r: &HciReply) -> SystemInfo {
    let meta = r.meta().cloned().unwrap_or_default();
    let f64_of = |v: Option<&Value>| v.and_then(Value::as_f64).unwrap_or(0.0);
    let str_of = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let clients = meta
        .get("clients")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|c| ClientInfo {
                    name: str_of(c.get("client_name")),
                    last_connect_time: f64_of(c.get("client_last_conn_time")),
                })
                .collect()
        })
        .unwrap_or_default();
    let jobs = meta
        .get("jobs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|j| JobInfo {
                    job_id: str_of(j.get("job_id")),
                    app_name: str_of(j.get("app_name")),
                })
                .collect()
        })
        .unwrap_or_default();
    SystemInfo {
        server_info: ServerInfo {
            status: str_of(meta.get("server_status")),
            start_time: f64_of(meta.get("server_start_time")),
        },
        client_info: clients,
        job_info: jobs,
    }
}

fn object_map(v: Value) -> BTreeMap<String, Value> {
    match v {
        Value::Object(m) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

/// Keeps the lines matching `grep` (a substring), then the last `tail` lines.
pub(crate) fn filter_log(text: &str, tail: Option<u32>, grep: Option<&str>) -> String {
    if tail.is_none() && grep.is_none_or(str::is_empty) {
        return text.to_owned();
    }
    let mut lines: Vec<&str> = text
        .lines()
        .filter(|l| grep.is_none_or(|g| l.contains(g)))
        .collect();
    if let Some(n) = tail {
        let n = n as usize;
        if lines.len() > n {
            lines = lines.split_off(lines.len() - n);
        }
    }
    lines.join("\n")
}

pub(crate) async fn execute(s: &Session, command: &Command) -> Result<Reply, FlareError> {
    match command {
        Command::Read(c) => read(s, c).await,
        Command::Mutate(c) => mutate(s, c).await,
    }
}

async fn read(s: &Session, c: &ReadCommand) -> Result<Reply, FlareError> {
    match c {
        ReadCommand::CheckStatus {
            target_type,
            targets,
        } => {
            let r = s
                .checked(&targeted("check_status", *target_type, targets), true)
                .await?;
            Ok(Reply::Status(Value::Object(
                r.meta().cloned().unwrap_or_default(),
            )))
        }
        ReadCommand::GetSystemInfo => Ok(Reply::SystemInfo(s.system_info().await?)),
        ReadCommand::GetConnectedClientList => {
            Ok(Reply::Clients(s.system_info().await?.client_info))
        }
        ReadCommand::GetClientJobStatus { client_names } => {
            let r = s
                .checked(
                    &targeted("check_status", TargetType::Client, client_names),
                    true,
                )
                .await?;
            let rows = r.meta_field("client_status").cloned().unwrap_or(json!([]));
            let rows: Vec<Value> = parse(rows, "client status")?;
            let str_of = |v: &Value, k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            Ok(Reply::ClientJobStatus(
                rows.iter()
                    .map(|v| ClientJobStatus {
                        client_name: str_of(v, "client_name"),
                        app_name: str_of(v, "app_name"),
                        job_id: str_of(v, "job_id"),
                        status: str_of(v, "status"),
                    })
                    .collect(),
            ))
        }
        ReadCommand::ListJobs(filter) => {
            let line = list_jobs_command(filter);
            let reply = s.command(&line, Map::new()).await?;
            check_reply(&reply, &line, true)?;
            let jobs = reply.meta_field("jobs").cloned().unwrap_or(json!([]));
            if filter.detailed {
                Ok(Reply::JobMetas(parse(jobs, "job list")?))
            } else {
                Ok(Reply::Jobs(parse::<Vec<JobSummary>>(jobs, "job list")?))
            }
        }
        ReadCommand::GetJobMeta { job_id } => Ok(Reply::JobMeta(s.job_meta(job_id).await?)),
        ReadCommand::GetJobStatus { job_id } => {
            Ok(Reply::JobStatus(s.job_meta(job_id).await?.status))
        }
        ReadCommand::ListJobComponents { job_id } => {
            require_job_id(job_id)?;
            let r = s
                .checked(&["list_job".into(), job_id.clone()], true)
                .await?;
            let names = r.meta_field("job_components").cloned().unwrap_or(json!([]));
            Ok(Reply::Names(parse(names, "job components")?))
        }
        ReadCommand::GetJobLogs {
            job_id,
            target,
            tail_lines,
            grep_pattern,
            log_file_name,
        } => {
            require_job_id(job_id)?;
            if target.is_empty() {
                return Err(invalid("target must be a non-empty string"));
            }
            let mut parts = vec!["get_job_log".to_owned(), job_id.clone(), target.clone()];
            if let Some(f) = log_file_name
                .as_deref()
                .filter(|f| !f.is_empty() && *f != "log.txt")
            {
                parts.push(f.to_owned());
            }
            let r = s.checked(&parts, false).await?;
            let payload = r.dict_data();
            let mut logs = if payload.get("logs").is_some() {
                parse::<LogsReply>(payload, "job logs")?
            } else {
                LogsReply {
                    logs: parse(payload, "job logs")?,
                    unavailable: BTreeMap::new(),
                }
            };
            for text in logs.logs.values_mut() {
                *text = filter_log(text, *tail_lines, grep_pattern.as_deref());
            }
            Ok(Reply::Logs(logs))
        }
        ReadCommand::ShowStats {
            job_id,
            target_type,
            targets,
        }
        | ReadCommand::ShowErrors {
            job_id,
            target_type,
            targets,
        } => {
            if job_id.is_empty() {
                return Err(invalid("job_id is required but not specified"));
            }
            let cmd = if matches!(c, ReadCommand::ShowStats { .. }) {
                "show_stats"
            } else {
                "show_errors"
            };
            let mut parts = vec![
                cmd.to_owned(),
                job_id.clone(),
                target_type.as_str().to_owned(),
            ];
            if *target_type == TargetType::Client {
                parts.extend(targets.iter().cloned());
            }
            s.site_map(parts).await
        }
        ReadCommand::WaitForJob {
            job_id,
            timeout,
            poll_interval,
        } => {
            let (rc, meta) = s.monitor(job_id, *timeout, *poll_interval).await?;
            if rc == MonitorReturnCode::Timeout {
                return Err(FlareError::JobTimeout {
                    message: format!("job {job_id} did not finish within {timeout}s"),
                });
            }
            Ok(Reply::JobMeta(meta))
        }
        ReadCommand::MonitorJob {
            job_id,
            timeout,
            poll_interval,
        } => {
            let (code, meta) = s.monitor(job_id, *timeout, *poll_interval).await?;
            Ok(Reply::Monitor { code, meta })
        }
        ReadCommand::ReportResources {
            target_type,
            targets,
        } => {
            let r = s
                .checked(&targeted("report_resources", *target_type, targets), false)
                .await?;
            let mut out = BTreeMap::new();
            for rows in r.tables() {
                for row in rows.iter().skip(1) {
                    if let Some(row) = row.as_array().filter(|r| r.len() >= 2) {
                        let key = match &row[0] {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        out.insert(key, row[1].clone());
                    }
                }
            }
            Ok(Reply::SiteMap(out))
        }
        ReadCommand::ReportVersion {
            target_type,
            targets,
        } => {
            s.site_map(targeted("report_version", *target_type, targets))
                .await
        }
        ReadCommand::GetClientEnv { client_names } => {
            let mut parts = vec!["report_env".to_owned()];
            parts.extend(client_names.iter().cloned());
            let r = s.checked(&parts, true).await?;
            match r.meta_field("clients") {
                Some(Value::Array(a)) if !a.is_empty() => Ok(Reply::Envs(a.clone())),
                _ => Err(internal("missing clients from meta")),
            }
        }
        ReadCommand::ListStudies => {
            let p = s.study_payload(vec!["list_studies".into()]).await?;
            Ok(Reply::Studies(parse(p, "study list")?))
        }
        ReadCommand::ShowStudy { study } => {
            if study.is_empty() {
                return Err(invalid("study is required but not specified"));
            }
            let p = s
                .study_payload(vec!["show_study".into(), study.clone()])
                .await?;
            Ok(Reply::Study(parse(p, "study")?))
        }
        other => Err(unsupported(other.name())),
    }
}

async fn mutate(s: &Session, c: &MutateCommand) -> Result<Reply, FlareError> {
    match c {
        MutateCommand::CloneJob { job_id } => {
            require_job_id(job_id)?;
            let r = s
                .checked(&["clone_job".into(), job_id.clone()], true)
                .await?;
            match r.meta_field("job_id").and_then(Value::as_str) {
                Some(id) if !id.is_empty() => Ok(Reply::JobId(id.to_owned())),
                _ => Err(internal(format!(
                    "server failed to return job id: {}",
                    r.meta_field("info")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                ))),
            }
        }
        MutateCommand::AbortJob { job_id } => {
            require_job_id(job_id)?;
            let r = s
                .checked(&["abort_job".into(), job_id.clone()], true)
                .await?;
            let status = r
                .meta_field("status")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let info = r
                .meta_field("info")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if status != "ok" {
                return Err(internal(format!(
                    "failed to abort job {job_id}: {status}, {info}"
                )));
            }
            Ok(Reply::Text(info))
        }
        MutateCommand::DeleteJob { job_id } => {
            require_job_id(job_id)?;
            let r = s
                .checked(&["delete_job".into(), job_id.clone()], true)
                .await?;
            Ok(Reply::Deleted {
                job_id: r
                    .meta_field("job_id")
                    .and_then(Value::as_str)
                    .unwrap_or(job_id)
                    .to_owned(),
                submit_records_marked_deleted: r
                    .meta_field("submit_records_marked_deleted")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
            })
        }
        MutateCommand::ResetErrors { job_id } => {
            if job_id.is_empty() {
                return Err(invalid("job_id is required but not specified"));
            }
            s.checked(
                &["reset_errors".into(), job_id.clone(), "all".into()],
                false,
            )
            .await?;
            Ok(Reply::Done)
        }
        MutateCommand::DoAppCommand {
            job_id,
            topic,
            cmd_data,
        } => {
            let mut meta = Map::new();
            if !cmd_data.is_null() {
                meta.insert("cmd_props".to_owned(), cmd_data.clone());
            }
            let r = s
                .checked_with(
                    &["app_command".into(), job_id.clone(), topic.clone()],
                    false,
                    meta,
                )
                .await?;
            Ok(Reply::Map(r.dict_data()))
        }
        MutateCommand::SetTimeout { seconds } => {
            if !(seconds.is_finite() && *seconds > 0.0) {
                return Err(invalid(format!(
                    "timeout must be a positive number, got {seconds}"
                )));
            }
            s.set_timeout(Some(Duration::from_secs_f64(*seconds)));
            Ok(Reply::Done)
        }
        MutateCommand::UnsetTimeout => {
            s.set_timeout(None);
            Ok(Reply::Done)
        }
        MutateCommand::DoCommand { command, props } => {
            let mut meta = Map::new();
            if let Some(p) = props.as_ref().filter(|p| !p.is_null()) {
                meta.insert("cmd_props".to_owned(), p.clone());
            }
            let r = s.command(command, meta).await?;
            Ok(Reply::Raw(r.0))
        }
        other => Err(unsupported(other.name())),
    }
}
