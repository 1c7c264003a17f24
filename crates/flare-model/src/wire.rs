//! The browser↔relay wire: JSON text frames on one WebSocket per tab.
//!
//! Browser → relay: [`ClientFrame`] `{"id": n, "command": ...}`, `{"id": n, "subscribe": topic}`,
//! `{"id": n, "unsubscribe": topic}`.
//! Relay → browser: [`ServerFrame`]: first `{"hello": ...}`, then `{"id": n, "ok": reply}`,
//! `{"id": n, "error": {...}}` and pushed `{"event": ...}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::command::Command;
use crate::error::FlareError;
use crate::jobs::{JobDetail, JobMeta, JobSummary, LogsReply, MonitorReturnCode};
use crate::studies::{StudyDetail, StudyList, StudySiteChange, StudyUserChange};
use crate::system::{ClientInfo, ClientJobStatus, SystemInfo};

/// Bumped on every incompatible change of this wire; the relay announces it in [`Hello`].
pub const PROTOCOL_VERSION: u32 = 1;

/// The WebSocket close codes the relay ends a tab's socket with (4000–4999 are the application's).
pub mod close_code {
    /// The tab fell behind too often; reconnecting gets a fresh snapshot.
    pub const LAGGING: u16 = 4000;
    /// The console login ended (logout or expiry): sign in again.
    pub const SESSION_ENDED: u16 = 4001;
    /// The kiosk token of the login was revoked: the screen needs a new link.
    pub const KIOSK_REVOKED: u16 = 4003;
    /// A message exceeded the relay's size limit (RFC 6455 "message too big").
    pub const TOO_BIG: u16 = 1009;
}

/// A console user's role at the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May send any command its NVFlare identity is authorized for.
    Operator,
    /// May only subscribe and read.
    Viewer,
}

/// A frame from the browser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientFrame {
    /// Chosen by the browser; echoed in the reply.
    pub id: u64,
    #[serde(flatten)]
    pub body: ClientBody,
}

/// What a browser frame asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientBody {
    Command(Command),
    Subscribe(Topic),
    Unsubscribe(Topic),
}

/// Something a tab can watch. The relay polls each topic once per (identity, study), however many
/// tabs watch it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Server status and connected sites.
    System,
    /// The job list of the session's study.
    Jobs,
    /// One job's meta and status timeline.
    Job { job_id: String },
}

/// The state of a topic, as a snapshot carries it.
// Events are built once per poll and shared by reference with every tab; boxing would only
// complicate construction for a size that never sits in a hot array.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicData {
    System(SystemInfo),
    Jobs(Vec<JobSummary>),
    Job(JobDetail),
}

/// A change of a topic since the previous snapshot or delta.
// Events are built once per poll and shared by reference with every tab; boxing would only
// complicate construction for a size that never sits in a hot array.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicDelta {
    /// The poll found nothing new: the data is fresh as of the event's time.
    Unchanged,
    /// The whole system view, replaced (it is small).
    System(SystemInfo),
    /// Jobs added or changed, and job ids gone from the list.
    Jobs {
        upserted: Vec<JobSummary>,
        removed: Vec<String>,
    },
    /// The watched job, replaced.
    Job(JobDetail),
}

/// Upstream connection state of the session's NVFlare link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Connecting,
    Connected,
    Reconnecting,
    Down,
}

/// Pushed whenever the relay's link to NVFlare changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamState {
    pub state: LinkState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// Why the link is not connected, readable by a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Unix milliseconds.
    pub at_ms: u64,
}

/// A pushed event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The full state of a topic: sent on subscribe and on resync.
    Snapshot {
        topic: Topic,
        data: TopicData,
        at_ms: u64,
    },
    /// A change since the last event of that topic; `Unchanged` still stamps freshness.
    Delta {
        topic: Topic,
        delta: TopicDelta,
        at_ms: u64,
    },
    /// The tab lagged: drop what you have of this topic, a snapshot follows.
    Resync { topic: Topic, reason: String },
    /// A topic could not be polled; the data the tab has is as stale as its last stamp.
    TopicError {
        topic: Topic,
        error: FlareError,
        at_ms: u64,
    },
    /// The relay's link to NVFlare changed.
    Upstream(UpstreamState),
}

/// The first frame the relay sends on a new socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub role: Role,
    /// The console user who logged in to the relay.
    pub user: String,
    /// The NVFlare identity (admin cert CN) the relay acts as.
    pub identity: String,
    pub study: String,
    pub relay_version: String,
}

/// The reply to a command. Each command's doc names the variant it yields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    SystemInfo(SystemInfo),
    /// `check_status`: the server's status meta as it sent it.
    Status(Value),
    Clients(Vec<ClientInfo>),
    ClientJobStatus(Vec<ClientJobStatus>),
    Jobs(Vec<JobSummary>),
    JobMetas(Vec<JobMeta>),
    JobMeta(JobMeta),
    JobStatus(String),
    JobId(String),
    /// Names: job components, job library entries.
    Names(Vec<String>),
    Logs(LogsReply),
    /// Per-site maps: `show_stats`, `show_errors`, `report_resources`, `report_version`.
    SiteMap(BTreeMap<String, Value>),
    Envs(Vec<Value>),
    Text(String),
    Monitor {
        code: MonitorReturnCode,
        meta: JobMeta,
    },
    Deleted {
        job_id: String,
        #[serde(default)]
        submit_records_marked_deleted: u64,
    },
    /// A job result or components the relay holds, to fetch over HTTP.
    Download {
        download_id: String,
        file_name: String,
        size: u64,
    },
    Studies(StudyList),
    Study(StudyDetail),
    StudySites(StudySiteChange),
    StudyUser(StudyUserChange),
    StudyRemoved {
        name: String,
        removed: bool,
    },
    /// A dict reply with no more specific type (restart, disable_client, app commands).
    Map(Value),
    /// `do_command`: the raw HCI reply.
    Raw(Value),
    /// A command with no result.
    Done,
}

/// A frame from the relay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServerFrame {
    Hello { hello: Hello },
    Ok { id: u64, ok: Reply },
    Error { id: u64, error: FlareError },
    Event { event: Event },
}
