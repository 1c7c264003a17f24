//! Jobs: list filters, summaries, full meta, status timelines and logs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The filters of `list_jobs(detailed, limit, id_prefix, name_prefix, reverse, submit_token)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListJobsFilter {
    /// Return full meta ([`crate::Reply::JobMetas`]) instead of summaries.
    pub detailed: bool,
    pub limit: Option<u32>,
    pub id_prefix: Option<String>,
    pub name_prefix: Option<String>,
    /// Oldest first instead of newest first.
    pub reverse: bool,
    pub submit_token: Option<String>,
}

/// One row of a non-detailed `list_jobs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSummary {
    pub job_id: String,
    pub job_name: String,
    pub status: String,
    /// ISO 8601 submit time as the server formats it.
    #[serde(default)]
    pub submit_time: String,
    /// Run duration as the server formats it (`"0:00:15.123"`, or `"N/A"`).
    #[serde(default)]
    pub duration: String,
    #[serde(default)]
    pub study: String,
}

/// A job's meta: the well-known fields typed, everything else kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobMeta {
    pub job_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<String>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_time_iso: Option<String>,
    /// Unix seconds, or the server's string form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter_org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_map: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_sites: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory_clients: Option<Vec<String>>,
    /// Every other meta field, as the server sent it.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// True for a status after which a job never changes again.
pub fn is_terminal_status(status: &str) -> bool {
    status.starts_with("FINISHED")
        || matches!(
            status,
            "FINISHED_OK" | "FINISHED_EXCEPTION" | "ABORTED" | "ABANDONED" | "FAILED"
        )
}

/// A status a job was seen in, and when the relay first saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: String,
    /// Unix milliseconds.
    pub at_ms: u64,
}

/// A watched job: its meta and the status changes seen since watching began (or since submission
/// when the relay saw it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    pub meta: JobMeta,
    pub timeline: Vec<StatusChange>,
}

/// `get_job_logs` reply: log text per site and why a site has none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsReply {
    #[serde(default)]
    pub logs: BTreeMap<String, String>,
    #[serde(default)]
    pub unavailable: BTreeMap<String, String>,
}

/// `MonitorReturnCode` of `monitor_job`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorReturnCode {
    JobFinished,
    Timeout,
    EndedByCb,
}
