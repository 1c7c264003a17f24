//! System views: server and client status as `get_system_info` and `check_status` report them.

use serde::{Deserialize, Serialize};

/// `ServerInfo`: the server's run status and start time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// e.g. `"started"`.
    pub status: String,
    /// Unix seconds.
    pub start_time: f64,
}

/// `ClientInfo`: a connected site and when it last connected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientInfo {
    pub name: String,
    /// Unix seconds.
    pub last_connect_time: f64,
}

/// `JobInfo`: a job the server is running.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    pub job_id: String,
    pub app_name: String,
}

/// `SystemInfo`, as `get_system_info()` returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SystemInfo {
    pub server_info: ServerInfo,
    pub client_info: Vec<ClientInfo>,
    pub job_info: Vec<JobInfo>,
}

/// One row of `get_client_job_status()`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientJobStatus {
    pub client_name: String,
    #[serde(default)]
    pub app_name: String,
    #[serde(default)]
    pub job_id: String,
    #[serde(default)]
    pub status: String,
}

/// A stretch of time in which a site was continuously connected or not, as the relay saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSpan {
    /// Unix milliseconds, inclusive.
    pub from_ms: u64,
    /// Unix milliseconds; the last span of a site ends at the history's `until_ms`.
    pub to_ms: u64,
    pub connected: bool,
}

/// One site's connectivity over the history window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteTimeline {
    pub site: String,
    pub spans: Vec<SiteSpan>,
}

/// Site connectivity sampled by the relay's hub (`GET /api/site-history`): bounded, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteHistory {
    /// Unix milliseconds of the oldest sample kept.
    pub since_ms: u64,
    /// Unix milliseconds of the newest sample.
    pub until_ms: u64,
    /// How often the hub samples, in milliseconds.
    pub sample_every_ms: u64,
    pub sites: Vec<SiteTimeline>,
}
