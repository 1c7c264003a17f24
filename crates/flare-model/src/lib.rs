//! The shared Flare Console model: one typed command per FLARE API `Session` method, typed replies,
//! the FLARE API error family, the browser↔relay wire (frames, topics, events) and the relay's HTTP
//! bodies.
//!
//! This crate knows nothing about transport: it compiles for wasm32 and native and depends on serde
//! (and serde_json for free-form values such as job meta) alone.

pub mod command;
pub mod error;
pub mod http;
pub mod jobs;
pub mod kiosk;
pub mod studies;
pub mod system;
pub mod wire;

pub use command::{Command, MutateCommand, ReadCommand, SiteSelection, TargetType};
pub use error::FlareError;
pub use http::{
    Done, ErrorBody, KioskLoginRequest, KioskTokenRevoked, LoginRequest, SessionInfo, Uploaded,
};
pub use jobs::{
    JobDetail, JobLive, JobMeta, JobSummary, ListJobsFilter, LogsReply, MonitorReturnCode,
    RoundProgress, StatusChange,
};
pub use kiosk::{CreatedKioskToken, KioskToken, NewKioskToken};
pub use studies::{StudyDetail, StudyInfo, StudyList, StudySiteChange, StudyUserChange};
pub use system::{
    ClientInfo, ClientJobStatus, JobInfo, ServerInfo, SiteHistory, SiteSpan, SiteTimeline,
    SystemInfo,
};
pub use wire::{
    ClientBody, ClientFrame, Event, Hello, LinkState, PROTOCOL_VERSION, Reply, Role, ServerFrame,
    Topic, TopicData, TopicDelta, UpstreamState,
};
