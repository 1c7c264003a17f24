//! Typed commands → HCI command lines, and HCI replies → typed [`Reply`] values, as the Python
//! `flare_api.Session` methods build and read them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use flare_model::jobs::is_terminal_status;
use flare_model::{
    ClientInfo, ClientJobStatus, Command, FlareError, JobInfo, JobMeta, JobSummary, ListJobsFilter,
    LogsReply, MonitorReturnCode, MutateCommand, ReadCommand, Reply, ServerInfo, SiteSelection,
    SystemInfo, TargetType,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::args;
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
        args::push_option(&mut parts, "--submit-token", token);
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
        args::job_id(job_id)?;
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

    async fn shell(&self, parts: Vec<String>) -> Result<Reply, FlareError> {
        let r = self.checked(&parts, false).await?;
        Ok(Reply::Text(r.strings()))
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
        if timeout.is_nan() || timeout < 0.0 {
            return Err(invalid("timeout must be >= 0"));
        }
        if !(poll_interval > 0.0 && poll_interval.is_finite()) {
            return Err(invalid("poll_interval must be > 0"));
        }
        let start = Instant::now();
        let poll = Duration::from_secs_f64(poll_interval);
        loop {
            let meta = self.job_meta(job_id).await?;
            if meta.status.is_empty() {
                return Err(internal(format!("missing status in job {job_id}")));
            }
            if is_terminal_status(&meta.status) {
                return Ok((MonitorReturnCode::JobFinished, meta));
            }
            // Python checks the deadline before each poll; checking after it returns the last meta
            // seen, which the typed reply carries.
            if timeout > 0.0 && start.elapsed().as_secs_f64() + poll_interval > timeout {
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
    let list = |key: &str| {
        meta.get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let clients = list("clients")
        .iter()
        .map(|c| ClientInfo {
            name: str_of(c.get("client_name")),
            last_connect_time: f64_of(c.get("client_last_conn_time")),
        })
        .collect();
    let jobs = list("jobs")
        .iter()
        .map(|j| JobInfo {
            job_id: str_of(j.get("job_id")),
            app_name: str_of(j.get("app_name")),
        })
        .collect();
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

/// `_filter_job_log_text`: the last `tail` lines (none for 0), then the lines containing `grep`
/// (a plain substring); line endings are kept.
pub(crate) fn filter_log(text: &str, tail: Option<u32>, grep: Option<&str>) -> String {
    let grep = grep.filter(|g| !g.is_empty());
    if tail.is_none() && grep.is_none() {
        return text.to_owned();
    }
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    if let Some(n) = tail {
        let n = n as usize;
        lines = lines.split_off(lines.len().saturating_sub(n));
    }
    if let Some(g) = grep {
        lines.retain(|l| l.contains(g));
    }
    lines.concat()
}

/// `_shell_command_on_target`: `<cmd> <target> [options] [pattern] [path]`.
fn shell_parts(
    cmd: &str,
    target: &str,
    options: Option<&str>,
    pattern: Option<&str>,
    path: Option<&str>,
    is_file: bool,
) -> Result<Vec<String>, FlareError> {
    args::shell_target(target)?;
    let mut parts = vec![cmd.to_owned(), target.to_owned()];
    if let Some(o) = options.filter(|o| !o.is_empty()) {
        args::shell_options(o)?;
        parts.push(o.to_owned());
    }
    if cmd == "grep" {
        match pattern.filter(|p| !p.is_empty()) {
            Some(p) => parts.push(p.to_owned()),
            None => return Err(invalid("pattern is required but not specified")),
        }
    }
    match path.filter(|p| !p.is_empty()) {
        Some(p) => {
            if is_file {
                args::shell_file(p)?;
            } else {
                args::shell_path(p)?;
            }
            parts.push(p.to_owned());
        }
        None if is_file => {
            return Err(invalid("file is required but not specified"));
        }
        None => {}
    }
    Ok(parts)
}

/// The site-selection arguments of the study commands.
fn study_site_args(parts: &mut Vec<String>, sites: &SiteSelection) -> Result<(), FlareError> {
    match sites {
        SiteSelection::SiteOrgs(items) => {
            if items.is_empty() {
                return Err(invalid("site_orgs are required but not specified."));
            }
            for item in items {
                if item.is_empty() {
                    return Err(invalid(format!("invalid site_org value: {item}")));
                }
                parts.extend(["--site-org".to_owned(), item.clone()]);
            }
        }
        SiteSelection::Sites(items) => {
            if items.is_empty() {
                return Err(invalid("sites are required but not specified."));
            }
            if items.iter().any(String::is_empty) {
                return Err(invalid("invalid site value: "));
            }
            args::push_option(parts, "--sites", &items.join(","));
        }
    }
    Ok(())
}

/// `validate_site_log_config`: a log level (name or 0-50) or a built-in log mode.
fn site_log_config(config: &Value) -> Result<String, FlareError> {
    let err = || invalid("configure_site_log only supports log levels and built-in log modes");
    let c = config.as_str().map(str::trim).ok_or_else(err)?;
    let ok = matches!(c, "reload" | "full" | "concise" | "msg_only" | "verbose")
        || c.parse::<u32>().is_ok_and(|n| n <= 50)
        || matches!(
            c.to_ascii_uppercase().as_str(),
            "CRITICAL" | "FATAL" | "ERROR" | "WARN" | "WARNING" | "INFO" | "DEBUG" | "NOTSET"
        );
    if !ok {
        return Err(err());
    }
    Ok(c.to_owned())
}

/// `configure_job_log`'s config argument: a dict as JSON, anything else as its string.
fn job_log_config(config: &Value) -> String {
    match config {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) async fn execute(s: &Session, command: &Command) -> Result<Reply, FlareError> {
    args::check(command)?;
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
            args::job_id(job_id)?;
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
            args::job_id(job_id)?;
            if target.is_empty() {
                return Err(invalid("target must be a non-empty string"));
            }
            let mut parts = vec!["get_job_log".to_owned(), job_id.clone()];
            args::push_positional(&mut parts, target);
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
            args::job_id(job_id)?;
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
            args::study_name(study)?;
            let p = s
                .study_payload(vec!["show_study".into(), study.clone()])
                .await?;
            Ok(Reply::Study(parse(p, "study")?))
        }
        ReadCommand::GetAvailableAppsToUpload => Ok(Reply::Names(s.available_apps_to_upload()?)),
        ReadCommand::LsTarget {
            target,
            options,
            path,
        } => {
            let parts = shell_parts(
                "ls",
                target,
                options.as_deref(),
                None,
                path.as_deref(),
                false,
            )?;
            s.shell(parts).await
        }
        ReadCommand::CatTarget {
            target,
            options,
            file,
        }
        | ReadCommand::HeadTarget {
            target,
            options,
            file,
        }
        | ReadCommand::TailTarget {
            target,
            options,
            file,
        } => {
            let cmd = match c {
                ReadCommand::CatTarget { .. } => "cat",
                ReadCommand::HeadTarget { .. } => "head",
                _ => "tail",
            };
            let parts = shell_parts(cmd, target, options.as_deref(), None, Some(file), true)?;
            s.shell(parts).await
        }
        ReadCommand::HeadTargetLog { target, options }
        | ReadCommand::TailTargetLog { target, options } => {
            let cmd = if matches!(c, ReadCommand::HeadTargetLog { .. }) {
                "head"
            } else {
                "tail"
            };
            let parts = shell_parts(cmd, target, options.as_deref(), None, Some("log.txt"), true)?;
            s.shell(parts).await
        }
        ReadCommand::GrepTarget {
            target,
            options,
            pattern,
            file,
        } => {
            let parts = shell_parts(
                "grep",
                target,
                options.as_deref(),
                Some(pattern),
                Some(file),
                true,
            )?;
            s.shell(parts).await
        }
        ReadCommand::GetWorkingDirectory { target } => {
            let parts = shell_parts("pwd", target, None, None, None, false)?;
            s.shell(parts).await
        }
        ReadCommand::DownloadJobResult { .. } | ReadCommand::DownloadJobComponents { .. } => {
            Err(FlareError::Unsupported {
                message: format!(
                    "{} yields files, not a reply: use Session::download_job (the relay keeps the \
                     files and answers with a download id)",
                    c.name()
                ),
            })
        }
    }
}

async fn mutate(s: &Session, c: &MutateCommand) -> Result<Reply, FlareError> {
    match c {
        MutateCommand::CloneJob { job_id } => {
            args::job_id(job_id)?;
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
            args::job_id(job_id)?;
            // `abort_job` is retried on connection failure, 3 attempts in all, backing off
            // 0.5 s and 1 s (`_CONNECTION_RETRY_COMMANDS`). Python's "connection failure" is the
            // server not answering in time, which this client reports as `NoReply`.
            let parts = ["abort_job".to_owned(), job_id.clone()];
            let mut attempt = 0;
            let r = loop {
                attempt += 1;
                match s.checked(&parts, true).await {
                    Err(FlareError::NoConnection { message } | FlareError::NoReply { message })
                        if attempt < 3 && !s.is_closed() =>
                    {
                        tracing::warn!("abort_job {job_id}: {message}; retrying");
                        tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
                    }
                    other => break other?,
                }
            };
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
            args::job_id(job_id)?;
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
            args::job_id(job_id)?;
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
            args::job_id(job_id)?;
            if topic.is_empty() {
                return Err(invalid("topic is required but not specified"));
            }
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
        MutateCommand::SubmitJob { .. } => Err(FlareError::Unsupported {
            message: "submit_job names an upload only the relay can resolve: use \
                      Session::submit_job or Session::submit_job_zip"
                .to_owned(),
        }),
        MutateCommand::ConfigureJobLog {
            job_id,
            config,
            target,
        } => {
            args::job_id(job_id)?;
            let mut parts = vec!["configure_job_log".to_owned(), job_id.clone()];
            if target == "all" || target == "server" {
                parts.push(target.clone());
            } else {
                parts.extend(["client".to_owned(), target.clone()]);
            }
            parts.push(job_log_config(config));
            s.checked(&parts, false).await?;
            Ok(Reply::Done)
        }
        MutateCommand::ConfigureSiteLog { config, target } => {
            let config = site_log_config(config)?;
            // Python passes the target through, so a site name reaches the server as an unknown
            // target type; a site is sent as `client <site>`, as configure_job_log does.
            let mut parts = vec!["configure_site_log".to_owned()];
            if target == "all" || target == "server" || target == "client" {
                parts.push(target.clone());
            } else {
                parts.extend(["client".to_owned(), target.clone()]);
            }
            parts.push(config);
            s.checked(&parts, false).await?;
            Ok(Reply::Done)
        }
        MutateCommand::RegisterStudy { study, sites } => {
            args::study_name(study)?;
            let mut parts = vec!["register_study".to_owned(), study.clone()];
            study_site_args(&mut parts, sites)?;
            Ok(Reply::Study(parse(s.study_payload(parts).await?, "study")?))
        }
        MutateCommand::AddStudySite { study, sites }
        | MutateCommand::RemoveStudySite { study, sites } => {
            args::study_name(study)?;
            let mut parts = vec![c.name().to_owned(), study.clone()];
            study_site_args(&mut parts, sites)?;
            Ok(Reply::StudySites(parse(
                s.study_payload(parts).await?,
                "study sites",
            )?))
        }
        MutateCommand::RemoveStudy { study } => {
            args::study_name(study)?;
            let p = s
                .study_payload(vec!["remove_study".into(), study.clone()])
                .await?;
            Ok(Reply::StudyRemoved {
                name: p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(study)
                    .to_owned(),
                removed: p.get("removed").and_then(Value::as_bool).unwrap_or(false),
            })
        }
        MutateCommand::AddStudyUser { study, user }
        | MutateCommand::RemoveStudyUser { study, user } => {
            args::study_name(study)?;
            args::admin_name(user)?;
            let mut parts = vec![c.name().to_owned(), study.clone()];
            args::push_positional(&mut parts, user);
            let p = s.study_payload(parts).await?;
            Ok(Reply::StudyUser(parse(p, "study user")?))
        }
        other => Err(unsupported(other.name())),
    }
}
