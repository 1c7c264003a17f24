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
