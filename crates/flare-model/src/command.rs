//! Commands: one typed value per FLARE API `Session` method, split by whether it changes anything.
//!
//! A [`ReadCommand`] never changes federation state; a [`MutateCommand`] may. The relay hands viewer
//! sessions a type that only accepts `ReadCommand`, so a viewer cannot build a mutating command.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jobs::ListJobsFilter;

/// Which part of the federation a command addresses (`TargetType` in the FLARE API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    Server,
    Client,
    All,
}

impl TargetType {
    /// The word the admin protocol uses for this target.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Server => "server",
            TargetType::Client => "client",
            TargetType::All => "all",
        }
    }
}

/// The sites of a study change: exactly one of `sites` or `site_orgs`, as the server requires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteSelection {
    /// Plain site names (an org_admin's own org).
    Sites(Vec<String>),
    /// `"org:site1,site2"` groups, one per org (a project_admin).
    SiteOrgs(Vec<String>),
}

/// Any command: read-only or mutating. On the wire this is the inner command object itself,
/// e.g. `{"list_jobs": {...}}` or `{"abort_job": {"job_id": "..."}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Command {
    Read(ReadCommand),
    Mutate(MutateCommand),
}

impl Command {
    /// The FLARE API method name, e.g. `"list_jobs"`; used for audit lines and error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Read(c) => c.name(),
            Command::Mutate(c) => c.name(),
        }
    }

    /// True when the command may change federation or session state.
    pub fn is_mutating(&self) -> bool {
        matches!(self, Command::Mutate(_))
    }
}

impl From<ReadCommand> for Command {
    fn from(c: ReadCommand) -> Self {
        Command::Read(c)
    }
}

impl From<MutateCommand> for Command {
    fn from(c: MutateCommand) -> Self {
        Command::Mutate(c)
    }
}

/// Commands that only read. Each variant names the `Session` method it mirrors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadCommand {
    /// `check_status(target_type, targets)` → [`crate::Reply::Status`].
    CheckStatus {
        target_type: TargetType,
        #[serde(default)]
        targets: Vec<String>,
    },
    /// `get_system_info()` → [`crate::Reply::SystemInfo`].
    GetSystemInfo,
    /// `get_connected_client_list()` → [`crate::Reply::Clients`].
    GetConnectedClientList,
    /// `get_client_job_status(client_names)` → [`crate::Reply::ClientJobStatus`].
    GetClientJobStatus {
        #[serde(default)]
        client_names: Vec<String>,
    },
    /// `list_jobs(...)` → [`crate::Reply::Jobs`], or [`crate::Reply::JobMetas`] when detailed.
    ListJobs(ListJobsFilter),
    /// `get_job_meta(job_id)` → [`crate::Reply::JobMeta`].
    GetJobMeta { job_id: String },
    /// `get_job_status(job_id)` → [`crate::Reply::JobStatus`].
    GetJobStatus { job_id: String },
    /// `list_job_components(job_id)` → [`crate::Reply::Names`].
    ListJobComponents { job_id: String },
    /// `download_job_result(job_id)` → [`crate::Reply::Download`] (the files stay on the relay).
    DownloadJobResult { job_id: String },
    /// `download_job_components(job_id)` → [`crate::Reply::Download`].
    DownloadJobComponents { job_id: String },
    /// `get_job_logs(job_id, target, tail_lines, grep_pattern, log_file_name)` → [`crate::Reply::Logs`].
    GetJobLogs {
        job_id: String,
        /// `server`, `all` or one site name.
        #[serde(default = "default_log_target")]
        target: String,
        #[serde(default)]
        tail_lines: Option<u32>,
        #[serde(default)]
        grep_pattern: Option<String>,
        #[serde(default)]
        log_file_name: Option<String>,
    },
    /// `show_stats(job_id, target_type, targets)` → [`crate::Reply::SiteMap`].
    ShowStats {
        job_id: String,
        target_type: TargetType,
        #[serde(default)]
        targets: Vec<String>,
    },
    /// `show_errors(job_id, target_type, targets)` → [`crate::Reply::SiteMap`].
    ShowErrors {
        job_id: String,
        target_type: TargetType,
        #[serde(default)]
        targets: Vec<String>,
    },
    /// `wait_for_job(job_id, timeout, poll_interval)` → [`crate::Reply::JobMeta`].
    WaitForJob {
        job_id: String,
        /// Seconds; 0 waits forever.
        #[serde(default)]
        timeout: f64,
        #[serde(default = "default_poll_interval")]
        poll_interval: f64,
    },
    /// `monitor_job(job_id, timeout, poll_interval)` → [`crate::Reply::Monitor`].
    MonitorJob {
        job_id: String,
        #[serde(default)]
        timeout: f64,
        #[serde(default = "default_poll_interval")]
        poll_interval: f64,
    },
    /// `report_resources(target_type, targets)` → [`crate::Reply::SiteMap`].
    ReportResources {
        target_type: TargetType,
        #[serde(default)]
        targets: Vec<String>,
    },
    /// `report_version(target_type, targets)` → [`crate::Reply::SiteMap`].
    ReportVersion {
        target_type: TargetType,
        #[serde(default)]
        targets: Vec<String>,
    },
    /// `get_client_env(client_names)` → [`crate::Reply::Envs`].
    GetClientEnv {
        #[serde(default)]
        client_names: Vec<String>,
    },
    /// `get_available_apps_to_upload()` → [`crate::Reply::Names`] (the relay's job library).
    GetAvailableAppsToUpload,
    /// `ls_target(target, options, path)` → [`crate::Reply::Text`].
    LsTarget {
        target: String,
        #[serde(default)]
        options: Option<String>,
        #[serde(default)]
        path: Option<String>,
    },
    /// `cat_target(target, options, file)` → [`crate::Reply::Text`].
    CatTarget {
        target: String,
        #[serde(default)]
        options: Option<String>,
        file: String,
    },
    /// `head_target(target, options, file)` → [`crate::Reply::Text`].
    HeadTarget {
        target: String,
        #[serde(default)]
        options: Option<String>,
        file: String,
    },
    /// `tail_target(target, options, file)` → [`crate::Reply::Text`].
    TailTarget {
        target: String,
        #[serde(default)]
        options: Option<String>,
        file: String,
    },
    /// `head_target_log(target, options)` → [`crate::Reply::Text`].
    HeadTargetLog {
        target: String,
        #[serde(default)]
        options: Option<String>,
    },
    /// `tail_target_log(target, options)` → [`crate::Reply::Text`].
    TailTargetLog {
        target: String,
        #[serde(default)]
        options: Option<String>,
    },
    /// `grep_target(target, options, pattern, file)` → [`crate::Reply::Text`].
    GrepTarget {
        target: String,
        #[serde(default)]
        options: Option<String>,
        pattern: String,
        file: String,
    },
    /// `get_working_directory(target)` → [`crate::Reply::Text`].
    GetWorkingDirectory { target: String },
    /// `list_studies()` → [`crate::Reply::Studies`].
    ListStudies,
    /// `show_study(study)` → [`crate::Reply::Study`].
    ShowStudy { study: String },
}

/// Commands that may change federation or session state. Viewer sessions can never send these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MutateCommand {
    /// `submit_job(job_definition_path, submit_token)` → [`crate::Reply::JobId`]. `upload_id` names a
    /// job folder the relay received through its upload endpoint or keeps in its job library.
    SubmitJob {
        upload_id: String,
        #[serde(default)]
        submit_token: Option<String>,
    },
    /// `clone_job(job_id)` → [`crate::Reply::JobId`].
    CloneJob { job_id: String },
    /// `abort_job(job_id)` → [`crate::Reply::Text`].
    AbortJob { job_id: String },
    /// `delete_job(job_id)` → [`crate::Reply::Deleted`].
    DeleteJob { job_id: String },
    /// `reset_errors(job_id)` → [`crate::Reply::Done`].
    ResetErrors { job_id: String },
    /// `do_app_command(job_id, topic, cmd_data)` → [`crate::Reply::Map`].
    DoAppCommand {
        job_id: String,
        topic: String,
        #[serde(default)]
        cmd_data: Value,
    },
    /// `configure_job_log(job_id, config, target)` → [`crate::Reply::Done`]. `config` is a level
    /// name, a mode, or a logging dict.
    ConfigureJobLog {
        job_id: String,
        config: Value,
        #[serde(default = "default_all")]
        target: String,
    },
    /// `configure_site_log(config, target)` → [`crate::Reply::Done`].
    ConfigureSiteLog {
        config: Value,
        #[serde(default = "default_all")]
        target: String,
    },
    /// `restart(target_type, client_names, wait, timeout)` → [`crate::Reply::Map`].
    Restart {
        target_type: TargetType,
        #[serde(default)]
        client_names: Vec<String>,
        #[serde(default = "default_true")]
        wait: bool,
        #[serde(default = "default_restart_timeout")]
        timeout: f64,
    },
    /// `shutdown(target_type, client_names, wait, timeout)` → [`crate::Reply::Map`].
    Shutdown {
        target_type: TargetType,
        #[serde(default)]
        client_names: Vec<String>,
        #[serde(default = "default_true")]
        wait: bool,
        #[serde(default = "default_restart_timeout")]
        timeout: f64,
    },
    /// `shutdown_system()` → [`crate::Reply::Done`].
    ShutdownSystem,
    /// `remove_client(client_name)` → [`crate::Reply::Done`].
    RemoveClient { client_name: String },
    /// `disable_client(client_name)` → [`crate::Reply::Map`].
    DisableClient { client_name: String },
    /// `enable_client(client_name)` → [`crate::Reply::Map`].
    EnableClient { client_name: String },
    /// `set_timeout(value)` → [`crate::Reply::Done`]: the upstream session's command timeout.
    SetTimeout { seconds: f64 },
    /// `unset_timeout()` → [`crate::Reply::Done`].
    UnsetTimeout,
    /// `register_study(study, sites | site_orgs)` → [`crate::Reply::Study`].
    RegisterStudy { study: String, sites: SiteSelection },
    /// `add_study_site(study, sites | site_orgs)` → [`crate::Reply::StudySites`].
    AddStudySite { study: String, sites: SiteSelection },
    /// `remove_study_site(study, sites | site_orgs)` → [`crate::Reply::StudySites`].
    RemoveStudySite { study: String, sites: SiteSelection },
    /// `remove_study(study)` → [`crate::Reply::StudyRemoved`].
    RemoveStudy { study: String },
    /// `add_study_user(study, user)` → [`crate::Reply::StudyUser`].
    AddStudyUser { study: String, user: String },
    /// `remove_study_user(study, user)` → [`crate::Reply::StudyUser`].
    RemoveStudyUser { study: String, user: String },
    /// `do_command(command, props)` → [`crate::Reply::Raw`]: any admin command line, unmapped.
    DoCommand {
        command: String,
        #[serde(default)]
        props: Option<Value>,
    },
}

fn default_log_target() -> String {
    "server".to_owned()
}

fn default_all() -> String {
    "all".to_owned()
}

fn default_poll_interval() -> f64 {
    2.0
}

fn default_restart_timeout() -> f64 {
    30.0
}

fn default_true() -> bool {
    true
}

impl ReadCommand {
    /// The FLARE API method name.
    pub fn name(&self) -> &'static str {
        match self {
            ReadCommand::CheckStatus { .. } => "check_status",
            ReadCommand::GetSystemInfo => "get_system_info",
            ReadCommand::GetConnectedClientList => "get_connected_client_list",
            ReadCommand::GetClientJobStatus { .. } => "get_client_job_status",
            ReadCommand::ListJobs(_) => "list_jobs",
            ReadCommand::GetJobMeta { .. } => "get_job_meta",
            ReadCommand::GetJobStatus { .. } => "get_job_status",
            ReadCommand::ListJobComponents { .. } => "list_job_components",
            ReadCommand::DownloadJobResult { .. } => "download_job_result",
            ReadCommand::DownloadJobComponents { .. } => "download_job_components",
            ReadCommand::GetJobLogs { .. } => "get_job_logs",
            ReadCommand::ShowStats { .. } => "show_stats",
            ReadCommand::ShowErrors { .. } => "show_errors",
            ReadCommand::WaitForJob { .. } => "wait_for_job",
            ReadCommand::MonitorJob { .. } => "monitor_job",
            ReadCommand::ReportResources { .. } => "report_resources",
            ReadCommand::ReportVersion { .. } => "report_version",
            ReadCommand::GetClientEnv { .. } => "get_client_env",
            ReadCommand::GetAvailableAppsToUpload => "get_available_apps_to_upload",
            ReadCommand::LsTarget { .. } => "ls_target",
            ReadCommand::CatTarget { .. } => "cat_target",
            ReadCommand::HeadTarget { .. } => "head_target",
            ReadCommand::TailTarget { .. } => "tail_target",
            ReadCommand::HeadTargetLog { .. } => "head_target_log",
            ReadCommand::TailTargetLog { .. } => "tail_target_log",
            ReadCommand::GrepTarget { .. } => "grep_target",
            ReadCommand::GetWorkingDirectory { .. } => "get_working_directory",
            ReadCommand::ListStudies => "list_studies",
            ReadCommand::ShowStudy { .. } => "show_study",
        }
    }
}

impl MutateCommand {
    /// The FLARE API method name.
    pub fn name(&self) -> &'static str {
        match self {
            MutateCommand::SubmitJob { .. } => "submit_job",
            MutateCommand::CloneJob { .. } => "clone_job",
            MutateCommand::AbortJob { .. } => "abort_job",
            MutateCommand::DeleteJob { .. } => "delete_job",
            MutateCommand::ResetErrors { .. } => "reset_errors",
            MutateCommand::DoAppCommand { .. } => "do_app_command",
            MutateCommand::ConfigureJobLog { .. } => "configure_job_log",
            MutateCommand::ConfigureSiteLog { .. } => "configure_site_log",
            MutateCommand::Restart { .. } => "restart",
            MutateCommand::Shutdown { .. } => "shutdown",
            MutateCommand::ShutdownSystem => "shutdown_system",
            MutateCommand::RemoveClient { .. } => "remove_client",
            MutateCommand::DisableClient { .. } => "disable_client",
            MutateCommand::EnableClient { .. } => "enable_client",
            MutateCommand::SetTimeout { .. } => "set_timeout",
            MutateCommand::UnsetTimeout => "unset_timeout",
            MutateCommand::RegisterStudy { .. } => "register_study",
            MutateCommand::AddStudySite { .. } => "add_study_site",
            MutateCommand::RemoveStudySite { .. } => "remove_study_site",
            MutateCommand::RemoveStudy { .. } => "remove_study",
            MutateCommand::AddStudyUser { .. } => "add_study_user",
            MutateCommand::RemoveStudyUser { .. } => "remove_study_user",
            MutateCommand::DoCommand { .. } => "do_command",
        }
    }
}
