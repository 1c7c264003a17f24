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

/// A watched job: its meta, the status changes seen since watching began (or since submission
/// when the relay saw it), and while it runs, its live stats and errors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    pub meta: JobMeta,
    pub timeline: Vec<StatusChange>,
    /// `show_stats` / `show_errors` of a running job; `None` when the job is not running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<JobLive>,
}

/// What a running job reports about itself: per-site `show_stats` and `show_errors` maps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobLive {
    /// Site (`server`, `site-1`, …) → component → stats.
    #[serde(default)]
    pub stats: BTreeMap<String, Value>,
    /// Site → component → errors; empty maps when nothing failed.
    #[serde(default)]
    pub errors: BTreeMap<String, Value>,
}

/// A workflow's round progress, read from the server's `show_stats` (e.g. `ScatterAndGather`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundProgress {
    /// The server component that reports rounds, e.g. `"ScatterAndGather"`.
    pub workflow: String,
    pub phase: Option<String>,
    pub current_round: Option<u64>,
    pub num_rounds: Option<u64>,
    /// Task name → sites that hold it.
    pub tasks: BTreeMap<String, Vec<String>>,
}

impl JobLive {
    /// The first server component that reports `current_round` or `num_rounds`.
    pub fn round_progress(&self) -> Option<RoundProgress> {
        let server = self.stats.get("server")?.as_object()?;
        server.iter().find_map(|(workflow, stats)| {
            let stats = stats.as_object()?;
            if !stats.contains_key("current_round") && !stats.contains_key("num_rounds") {
                return None;
            }
            let tasks = stats
                .get("tasks")
                .and_then(Value::as_object)
                .map(|tasks| {
                    tasks
                        .iter()
                        .map(|(task, sites)| {
                            let sites = sites
                                .as_array()
                                .map(|a| {
                                    a.iter()
                                        .filter_map(|s| s.as_str().map(str::to_owned))
                                        .collect()
                                })
                                .unwrap_or_default();
                            (task.clone(), sites)
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some(RoundProgress {
                workflow: workflow.clone(),
                phase: stats
                    .get("phase")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                current_round: stats.get("current_round").and_then(Value::as_u64),
                num_rounds: stats.get("num_rounds").and_then(Value::as_u64),
                tasks,
            })
        })
    }

    /// Number of error entries per site (a site with an empty or missing map has none).
    pub fn error_counts(&self) -> BTreeMap<String, usize> {
        self.errors
            .iter()
            .map(|(site, errors)| {
                let n = match errors {
                    Value::Object(components) => components
                        .values()
                        .map(|v| match v {
                            Value::Array(a) => a.len(),
                            Value::Object(o) => o.len(),
                            Value::Null => 0,
                            _ => 1,
                        })
                        .sum(),
                    Value::Array(a) => a.len(),
                    Value::Null => 0,
                    // NVFlare 2.9 answers "No Error" for a server without errors.
                    Value::String(s) if s.is_empty() || s.eq_ignore_ascii_case("no error") => 0,
                    _ => 1,
                };
                (site.clone(), n)
            })
            .collect()
    }
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
