//! Golden JSON for every variant of the wire model: a change of format is a visible diff.
//!
//! Each enum has a sample list with one value per variant, checked against `tests/golden/<name>.json`
//! both ways (serialize equals the file; the file deserializes to the samples). The exhaustive
//! `match`es below stop the build when a variant is added without a sample.
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test -p flare-model`.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::PathBuf;

use flare_model::command::SiteSelection;
use flare_model::studies::Identity;
use flare_model::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(name: &str, samples: &[T]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.json"));
    let text = serde_json::to_string_pretty(samples).expect("samples serialize") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).expect("write golden file");
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "read {}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert_eq!(
        text,
        golden,
        "{name}: serialized samples differ from {}",
        path.display()
    );
    let parsed: Vec<T> = serde_json::from_str(&golden).expect("golden file deserializes");
    assert_eq!(parsed, samples, "{name}: golden file does not round-trip");
}

fn job_id() -> String {
    "8d1a4c5e-6f0b-4f7e-9f38-1c2d3e4f5a6b".to_owned()
}

fn summary() -> JobSummary {
    JobSummary {
        job_id: job_id(),
        job_name: "hello-numpy".to_owned(),
        status: "RUNNING".to_owned(),
        submit_time: "2026-11-22T03:12:48.690105".to_owned(),
        duration: "0:00:07.512".to_owned(),
        study: "default".to_owned(),
    }
}

fn meta() -> JobMeta {
    let mut extra = serde_json::Map::new();
    extra.insert("job_folder_name".to_owned(), json!("hello-numpy"));
    JobMeta {
        job_id: job_id(),
        name: "hello-numpy".to_owned(),
        status: "FINISHED:COMPLETED".to_owned(),
        study: Some("default".to_owned()),
        submit_time: Some(1_795_317_168.5),
        submit_time_iso: Some("2026-11-22T03:12:48.500000".to_owned()),
        start_time: Some(json!("2026-11-22 03:12:50.100000")),
        duration: Some("0:00:15.004".to_owned()),
        submitter_name: Some("admin@nvidia.com".to_owned()),
        submitter_org: Some("nvidia".to_owned()),
        submitter_role: Some("project_admin".to_owned()),
        deploy_map: Some(json!({"app": ["@ALL"]})),
        min_sites: Some(2),
        mandatory_clients: Some(vec![]),
        extra,
    }
}

fn system() -> SystemInfo {
    SystemInfo {
        server_info: ServerInfo {
            status: "started".to_owned(),
            start_time: 1_795_317_000.25,
        },
        client_info: vec![
            ClientInfo {
                name: "site-1".to_owned(),
                last_connect_time: 1_795_317_160.5,
            },
            ClientInfo {
                name: "site-2".to_owned(),
                last_connect_time: 1_795_317_161.5,
            },
        ],
        job_info: vec![JobInfo {
            job_id: job_id(),
            app_name: "app".to_owned(),
        }],
    }
}

fn detail() -> JobDetail {
    JobDetail {
        meta: meta(),
        timeline: vec![
            StatusChange {
                status: "SUBMITTED".to_owned(),
                at_ms: 1_795_317_168_500,
            },
            StatusChange {
                status: "RUNNING".to_owned(),
                at_ms: 1_795_317_170_000,
            },
        ],
        live: Some(JobLive {
            stats: BTreeMap::from([(
                "server".to_owned(),
                json!({
                    "ScatterAndGather": {"phase": "train", "current_round": 2, "num_rounds": 5, "tasks": {"train": ["site-1", "site-2"]}},
                    "ServerRunner": {"job_id": job_id(), "status": "started", "workflow": "scatter_and_gather"}
                }),
            )]),
            errors: BTreeMap::from([
                ("server".to_owned(), json!({})),
                (
                    "site-1".to_owned(),
                    json!({"NPTrainer": ["train failed once"]}),
                ),
            ]),
        }),
    }
}

fn read_commands() -> Vec<ReadCommand> {
    let s = |v: &str| v.to_owned();
    let samples = vec![
        ReadCommand::CheckStatus {
            target_type: TargetType::Client,
            targets: vec![s("site-1")],
        },
        ReadCommand::GetSystemInfo,
        ReadCommand::GetConnectedClientList,
        ReadCommand::GetClientJobStatus {
            client_names: vec![s("site-2")],
        },
        ReadCommand::ListJobs(ListJobsFilter {
            detailed: true,
            limit: Some(10),
            id_prefix: Some(s("8d1a")),
            name_prefix: Some(s("hello")),
            reverse: true,
            submit_token: Some(s("tok-1")),
        }),
        ReadCommand::GetJobMeta { job_id: job_id() },
        ReadCommand::GetJobStatus { job_id: job_id() },
        ReadCommand::ListJobComponents { job_id: job_id() },
        ReadCommand::DownloadJobResult { job_id: job_id() },
        ReadCommand::DownloadJobComponents { job_id: job_id() },
        ReadCommand::GetJobLogs {
            job_id: job_id(),
            target: s("all"),
            tail_lines: Some(100),
            grep_pattern: Some(s("round")),
            log_file_name: None,
        },
        ReadCommand::ShowStats {
            job_id: job_id(),
            target_type: TargetType::Server,
            targets: vec![],
        },
        ReadCommand::ShowErrors {
            job_id: job_id(),
            target_type: TargetType::All,
            targets: vec![],
        },
        ReadCommand::WaitForJob {
            job_id: job_id(),
            timeout: 60.0,
            poll_interval: 2.0,
        },
        ReadCommand::MonitorJob {
            job_id: job_id(),
            timeout: 0.0,
            poll_interval: 1.0,
        },
        ReadCommand::ReportResources {
            target_type: TargetType::All,
            targets: vec![],
        },
        ReadCommand::ReportVersion {
            target_type: TargetType::All,
            targets: vec![],
        },
        ReadCommand::GetClientEnv {
            client_names: vec![s("site-1")],
        },
        ReadCommand::GetAvailableAppsToUpload,
        ReadCommand::LsTarget {
            target: s("server"),
            options: Some(s("-l")),
            path: None,
        },
        ReadCommand::CatTarget {
            target: s("site-1"),
            options: None,
            file: s("log.txt"),
        },
        ReadCommand::HeadTarget {
            target: s("site-1"),
            options: Some(s("-n 5")),
            file: s("log.txt"),
        },
        ReadCommand::TailTarget {
            target: s("server"),
            options: None,
            file: s("log.txt"),
        },
        ReadCommand::HeadTargetLog {
            target: s("server"),
            options: None,
        },
        ReadCommand::TailTargetLog {
            target: s("site-2"),
            options: Some(s("-n 20")),
        },
        ReadCommand::GrepTarget {
            target: s("server"),
            options: Some(s("-i")),
            pattern: s("error"),
            file: s("log.txt"),
        },
        ReadCommand::GetWorkingDirectory {
            target: s("server"),
        },
        ReadCommand::ListStudies,
        ReadCommand::ShowStudy {
            study: s("cancer-study"),
        },
    ];
    for c in &samples {
        // Exhaustive: a new variant without a sample stops the build here.
        match c {
            ReadCommand::CheckStatus { .. }
            | ReadCommand::GetSystemInfo
            | ReadCommand::GetConnectedClientList
            | ReadCommand::GetClientJobStatus { .. }
            | ReadCommand::ListJobs(_)
            | ReadCommand::GetJobMeta { .. }
            | ReadCommand::GetJobStatus { .. }
            | ReadCommand::ListJobComponents { .. }
            | ReadCommand::DownloadJobResult { .. }
            | ReadCommand::DownloadJobComponents { .. }
            | ReadCommand::GetJobLogs { .. }
            | ReadCommand::ShowStats { .. }
            | ReadCommand::ShowErrors { .. }
            | ReadCommand::WaitForJob { .. }
            | ReadCommand::MonitorJob { .. }
            | ReadCommand::ReportResources { .. }
            | ReadCommand::ReportVersion { .. }
            | ReadCommand::GetClientEnv { .. }
            | ReadCommand::GetAvailableAppsToUpload
            | ReadCommand::LsTarget { .. }
            | ReadCommand::CatTarget { .. }
            | ReadCommand::HeadTarget { .. }
            | ReadCommand::TailTarget { .. }
            | ReadCommand::HeadTargetLog { .. }
            | ReadCommand::TailTargetLog { .. }
            | ReadCommand::GrepTarget { .. }
            | ReadCommand::GetWorkingDirectory { .. }
            | ReadCommand::ListStudies
            | ReadCommand::ShowStudy { .. } => {}
        }
    }
    samples
}

fn mutate_commands() -> Vec<MutateCommand> {
    let s = |v: &str| v.to_owned();
    let samples = vec![
        MutateCommand::SubmitJob {
            upload_id: s("up-42"),
            submit_token: Some(s("tok-1")),
        },
        MutateCommand::CloneJob { job_id: job_id() },
        MutateCommand::AbortJob { job_id: job_id() },
        MutateCommand::DeleteJob { job_id: job_id() },
        MutateCommand::ResetErrors { job_id: job_id() },
        MutateCommand::DoAppCommand {
            job_id: job_id(),
            topic: s("stop"),
            cmd_data: json!({"now": true}),
        },
        MutateCommand::ConfigureJobLog {
            job_id: job_id(),
            config: json!("DEBUG"),
            target: s("all"),
        },
        MutateCommand::ConfigureSiteLog {
            config: json!("INFO"),
            target: s("server"),
        },
        MutateCommand::Restart {
            target_type: TargetType::Client,
            client_names: vec![s("site-1")],
            wait: true,
            timeout: 30.0,
        },
        MutateCommand::Shutdown {
            target_type: TargetType::Client,
            client_names: vec![s("site-2")],
            wait: false,
            timeout: 30.0,
        },
        MutateCommand::ShutdownSystem,
        MutateCommand::RemoveClient {
            client_name: s("site-2"),
        },
        MutateCommand::DisableClient {
            client_name: s("site-2"),
        },
        MutateCommand::EnableClient {
            client_name: s("site-2"),
        },
        MutateCommand::SetTimeout { seconds: 20.0 },
        MutateCommand::UnsetTimeout,
        MutateCommand::RegisterStudy {
            study: s("cancer-study"),
            sites: SiteSelection::SiteOrgs(vec![s("nvidia:site-1")]),
        },
        MutateCommand::AddStudySite {
            study: s("cancer-study"),
            sites: SiteSelection::Sites(vec![s("site-2")]),
        },
        MutateCommand::RemoveStudySite {
            study: s("cancer-study"),
            sites: SiteSelection::Sites(vec![s("site-2")]),
        },
        MutateCommand::RemoveStudy {
            study: s("cancer-study"),
        },
        MutateCommand::AddStudyUser {
            study: s("cancer-study"),
            user: s("lead@nvidia.com"),
        },
        MutateCommand::RemoveStudyUser {
            study: s("cancer-study"),
            user: s("lead@nvidia.com"),
        },
        MutateCommand::DoCommand {
            command: s("sys_info server"),
            props: None,
        },
    ];
    for c in &samples {
        match c {
            MutateCommand::SubmitJob { .. }
            | MutateCommand::CloneJob { .. }
            | MutateCommand::AbortJob { .. }
            | MutateCommand::DeleteJob { .. }
            | MutateCommand::ResetErrors { .. }
            | MutateCommand::DoAppCommand { .. }
            | MutateCommand::ConfigureJobLog { .. }
            | MutateCommand::ConfigureSiteLog { .. }
            | MutateCommand::Restart { .. }
            | MutateCommand::Shutdown { .. }
            | MutateCommand::ShutdownSystem
            | MutateCommand::RemoveClient { .. }
            | MutateCommand::DisableClient { .. }
            | MutateCommand::EnableClient { .. }
            | MutateCommand::SetTimeout { .. }
            | MutateCommand::UnsetTimeout
            | MutateCommand::RegisterStudy { .. }
            | MutateCommand::AddStudySite { .. }
            | MutateCommand::RemoveStudySite { .. }
            | MutateCommand::RemoveStudy { .. }
            | MutateCommand::AddStudyUser { .. }
            | MutateCommand::RemoveStudyUser { .. }
            | MutateCommand::DoCommand { .. } => {}
        }
    }
    samples
}

fn replies() -> Vec<Reply> {
    let s = |v: &str| v.to_owned();
    let samples = vec![
        Reply::SystemInfo(system()),
        Reply::Status(json!({"server_status": "started", "server_start_time": 1_795_317_000.25})),
        Reply::Clients(system().client_info),
        Reply::ClientJobStatus(vec![ClientJobStatus {
            client_name: s("site-1"),
            app_name: s("app"),
            job_id: job_id(),
            status: s("started"),
        }]),
        Reply::Jobs(vec![summary()]),
        Reply::JobMetas(vec![meta()]),
        Reply::JobMeta(meta()),
        Reply::JobStatus(s("RUNNING")),
        Reply::JobId(job_id()),
        Reply::Names(vec![s("ERRORLOG_site-1"), s("LOG_log.txt_site-1")]),
        Reply::Logs(LogsReply {
            logs: BTreeMap::from([(s("server"), s("2026-11-22 round 1 started\n"))]),
            unavailable: BTreeMap::from([(s("site-2"), s("no log received from site-2"))]),
        }),
        Reply::SiteMap(BTreeMap::from([(
            s("server"),
            json!({"ScatterAndGather": {"phase": "train", "current_round": 2, "num_rounds": 5}}),
        )])),
        Reply::Envs(vec![json!({"client_name": "site-1", "secure_mode": true})]),
        Reply::Text(s("Abort signal has been sent to the server app.")),
        Reply::Monitor {
            code: MonitorReturnCode::JobFinished,
            meta: meta(),
        },
        Reply::Deleted {
            job_id: job_id(),
            submit_records_marked_deleted: 1,
        },
        Reply::Download {
            download_id: s("dl-7"),
            file_name: s("result.zip"),
            size: 133_000,
        },
        Reply::Studies(StudyList {
            identity: Identity {
                name: s("admin@nvidia.com"),
                org: s("nvidia"),
                role: s("project_admin"),
            },
            studies: vec![s("default"), s("cancer-study")],
            study_details: vec![StudyInfo {
                name: s("cancer-study"),
                role: s("project_admin"),
                can_submit_job: false,
                reason: Some(s("no sites enrolled")),
            }],
        }),
        Reply::Study(StudyDetail {
            name: s("cancer-study"),
            site_orgs: BTreeMap::from([(s("nvidia"), vec![s("site-1")])]),
            sites: vec![s("site-1")],
            users: vec![s("admin@nvidia.com")],
        }),
        Reply::StudySites(StudySiteChange {
            study: s("cancer-study"),
            added: vec![s("site-2")],
            already_enrolled: vec![s("site-1")],
            removed: vec![],
            not_enrolled: vec![],
            site_orgs: BTreeMap::from([(s("nvidia"), vec![s("site-1"), s("site-2")])]),
            sites: vec![s("site-1"), s("site-2")],
        }),
        Reply::StudyUser(StudyUserChange {
            study: s("cancer-study"),
            user: s("lead@nvidia.com"),
            removed: Some(true),
        }),
        Reply::StudyRemoved {
            name: s("cancer-study"),
            removed: true,
        },
        Reply::Map(json!({"clients": [{"client_name": "site-2", "state": "disabled"}]})),
        Reply::Raw(json!({"status": "ok", "data": [{"type": "string", "data": "OK"}]})),
        Reply::Done,
    ];
    for r in &samples {
        match r {
            Reply::SystemInfo(_)
            | Reply::Status(_)
            | Reply::Clients(_)
            | Reply::ClientJobStatus(_)
            | Reply::Jobs(_)
            | Reply::JobMetas(_)
            | Reply::JobMeta(_)
            | Reply::JobStatus(_)
            | Reply::JobId(_)
            | Reply::Names(_)
            | Reply::Logs(_)
            | Reply::SiteMap(_)
            | Reply::Envs(_)
            | Reply::Text(_)
            | Reply::Monitor { .. }
            | Reply::Deleted { .. }
            | Reply::Download { .. }
            | Reply::Studies(_)
            | Reply::Study(_)
            | Reply::StudySites(_)
            | Reply::StudyUser(_)
            | Reply::StudyRemoved { .. }
            | Reply::Map(_)
            | Reply::Raw(_)
            | Reply::Done => {}
        }
    }
    samples
}

fn errors() -> Vec<FlareError> {
    let m = |v: &str| v.to_owned();
    let samples = vec![
        FlareError::NoConnection {
            message: m("cannot reach the nvflare server at localhost:8002"),
        },
        FlareError::SessionClosed {
            message: m("session is inactive"),
        },
        FlareError::SessionExpired {
            message: m("session expired after 1800 s idle"),
        },
        FlareError::InvalidArgument {
            message: m("exactly one of sites or site_orgs must be given"),
        },
        FlareError::InvalidJobDefinition {
            message: m("job folder has no meta.json"),
        },
        FlareError::SubmitTokenConflict {
            message: m("token used with other content"),
            existing_job_id: Some(job_id()),
        },
        FlareError::SubmitTokenJobDeleted {
            message: m("the job of this token was deleted"),
            job_id: Some(job_id()),
            state: Some(m("job_deleted")),
            deleted_time: Some(m("2026-11-22T04:00:00")),
        },
        FlareError::JobNotFound {
            message: m("no such job: 1234"),
        },
        FlareError::JobNotRunning {
            message: m("job is not running"),
        },
        FlareError::JobNotDone {
            message: m("job is still running"),
        },
        FlareError::InternalError {
            message: m("server error"),
        },
        FlareError::JobTimeout {
            message: m("job did not finish in 60 s"),
        },
        FlareError::AuthenticationError {
            message: m("user not mapped to study"),
            auth_code: Some(m("AUTH_STUDY_USER_NOT_MAPPED")),
        },
        FlareError::AuthorizationError {
            message: m("not authorized for get_job_log"),
        },
        FlareError::NoClientsAvailable {
            message: m("no clients"),
        },
        FlareError::ClientsStillRunning {
            message: m("clients are still running"),
        },
        FlareError::InvalidTarget {
            message: m("invalid target site-9"),
        },
        FlareError::NoReply {
            message: m("no reply from site-2"),
        },
        FlareError::CommandError {
            error_code: m("STUDY_HAS_JOBS"),
            message: m("study cancer-study still has jobs"),
            hint: m("delete its jobs first"),
            exit_code: 1,
        },
        FlareError::UnsupportedVersion {
            message: m(
                "nvflare server 2.8.1 is not supported: this console speaks the 2.9 admin protocol",
            ),
            server_version: m("2.8.1"),
        },
        FlareError::ReadOnlySession {
            message: m("viewer sessions are read-only: abort_job was refused"),
        },
        FlareError::BadRequest {
            message: m("expected a json object with id and command"),
        },
        FlareError::RateLimited {
            message: m("more than 20 commands per second"),
        },
        FlareError::Unsupported {
            message: m("submit_job is not implemented by the native client yet"),
        },
    ];
    for e in &samples {
        match e {
            FlareError::NoConnection { .. }
            | FlareError::SessionClosed { .. }
            | FlareError::SessionExpired { .. }
            | FlareError::InvalidArgument { .. }
            | FlareError::InvalidJobDefinition { .. }
            | FlareError::SubmitTokenConflict { .. }
            | FlareError::SubmitTokenJobDeleted { .. }
            | FlareError::JobNotFound { .. }
            | FlareError::JobNotRunning { .. }
            | FlareError::JobNotDone { .. }
            | FlareError::InternalError { .. }
            | FlareError::JobTimeout { .. }
            | FlareError::AuthenticationError { .. }
            | FlareError::AuthorizationError { .. }
            | FlareError::NoClientsAvailable { .. }
            | FlareError::ClientsStillRunning { .. }
            | FlareError::InvalidTarget { .. }
            | FlareError::NoReply { .. }
            | FlareError::CommandError { .. }
            | FlareError::UnsupportedVersion { .. }
            | FlareError::ReadOnlySession { .. }
            | FlareError::BadRequest { .. }
            | FlareError::RateLimited { .. }
            | FlareError::Unsupported { .. } => {}
        }
    }
    samples
}

fn client_frames() -> Vec<ClientFrame> {
    vec![
        ClientFrame {
            id: 1,
            body: ClientBody::Command(ReadCommand::GetSystemInfo.into()),
        },
        ClientFrame {
            id: 2,
            body: ClientBody::Command(MutateCommand::AbortJob { job_id: job_id() }.into()),
        },
        ClientFrame {
            id: 3,
            body: ClientBody::Subscribe(Topic::Jobs),
        },
        ClientFrame {
            id: 4,
            body: ClientBody::Subscribe(Topic::Job { job_id: job_id() }),
        },
        ClientFrame {
            id: 5,
            body: ClientBody::Unsubscribe(Topic::System),
        },
    ]
}

fn server_frames() -> Vec<ServerFrame> {
    let at_ms = 1_795_317_170_000;
    let upstream = UpstreamState {
        state: LinkState::Connected,
        server_version: Some("2.9.0".to_owned()),
        message: None,
        at_ms,
    };
    vec![
        ServerFrame::Hello {
            hello: Hello {
                protocol: PROTOCOL_VERSION,
                role: Role::Viewer,
                user: "wall-screen".to_owned(),
                identity: "admin@nvidia.com".to_owned(),
                study: "default".to_owned(),
                relay_version: "0.1.0".to_owned(),
            },
        },
        ServerFrame::Ok {
            id: 1,
            ok: Reply::SystemInfo(system()),
        },
        ServerFrame::Error {
            id: 2,
            error: FlareError::ReadOnlySession {
                message: "viewer sessions are read-only: abort_job was refused".to_owned(),
            },
        },
        ServerFrame::Event {
            event: Event::Snapshot {
                topic: Topic::System,
                data: TopicData::System(system()),
                at_ms,
            },
        },
        ServerFrame::Event {
            event: Event::Snapshot {
                topic: Topic::Jobs,
                data: TopicData::Jobs(vec![summary()]),
                at_ms,
            },
        },
        ServerFrame::Event {
            event: Event::Snapshot {
                topic: Topic::Job { job_id: job_id() },
                data: TopicData::Job(detail()),
                at_ms,
            },
        },
        ServerFrame::Event {
            event: Event::Delta {
                topic: Topic::System,
                delta: TopicDelta::Unchanged,
                at_ms,
            },
        },
        ServerFrame::Event {
            event: Event::Delta {
                topic: Topic::System,
                delta: TopicDelta::System(system()),
                at_ms,
            },
        },
        ServerFrame::Event {
            event: Event::Delta {
                topic: Topic::Jobs,
                delta: TopicDelta::Jobs {
                    upserted: vec![summary()],
                    removed: vec!["0000-gone".to_owned()],
                },
                at_ms,
            },
        },
        ServerFrame::Event {
            event: Event::Delta {
                topic: Topic::Job { job_id: job_id() },
                delta: TopicDelta::Job(detail()),
                at_ms,
            },
        },
        ServerFrame::Event {
            event: Event::Resync {
                topic: Topic::Jobs,
                reason: "tab lagged 64 events behind".to_owned(),
            },
        },
        ServerFrame::Event {
            event: Event::TopicError {
                topic: Topic::Jobs,
                error: FlareError::NoConnection {
                    message: "relay is reconnecting to nvflare".to_owned(),
                },
                at_ms,
            },
        },
        ServerFrame::Event {
            event: Event::Upstream(upstream),
        },
    ]
}

#[test]
fn read_commands_match_golden() {
    let samples: Vec<Command> = read_commands().into_iter().map(Command::from).collect();
    assert!(samples.iter().all(|c| !c.is_mutating()));
    check("read_commands", &samples);
}

#[test]
fn mutate_commands_match_golden() {
    let samples: Vec<Command> = mutate_commands().into_iter().map(Command::from).collect();
    assert!(samples.iter().all(Command::is_mutating));
    check("mutate_commands", &samples);
}

#[test]
fn command_names_are_the_flare_api_method_names_and_unique() {
    let mut names: Vec<&str> = read_commands().iter().map(ReadCommand::name).collect();
    names.extend(mutate_commands().iter().map(MutateCommand::name));
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "two commands share a name");
    // The wire tag is the method name.
    for c in read_commands() {
        let v = serde_json::to_value(Command::from(c.clone())).unwrap();
        let tag = v
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.as_object().unwrap().keys().next().unwrap().clone());
        assert_eq!(tag, c.name());
    }
}

#[test]
fn replies_match_golden() {
    check("replies", &replies());
}

#[test]
fn errors_match_golden_and_carry_their_kind() {
    let samples = errors();
    for e in &samples {
        let v = serde_json::to_value(e).unwrap();
        assert_eq!(v["kind"], e.kind(), "{e:?}");
        assert_eq!(v["message"], e.message(), "{e:?}");
    }
    check("errors", &samples);
}

#[test]
fn client_frames_match_golden() {
    check("client_frames", &client_frames());
}

#[test]
fn server_frames_match_golden() {
    check("server_frames", &server_frames());
}

#[test]
fn a_mutating_command_does_not_parse_as_a_read_command() {
    let abort = json!({"abort_job": {"job_id": "x"}});
    assert!(serde_json::from_value::<ReadCommand>(abort.clone()).is_err());
    let parsed: Command = serde_json::from_value(abort).unwrap();
    assert!(parsed.is_mutating());
}

#[test]
fn round_progress_and_error_counts_are_read_from_live_stats() {
    let live = detail().live.unwrap();
    let progress = live
        .round_progress()
        .expect("ScatterAndGather reports rounds");
    assert_eq!(progress.workflow, "ScatterAndGather");
    assert_eq!(progress.phase.as_deref(), Some("train"));
    assert_eq!(
        (progress.current_round, progress.num_rounds),
        (Some(2), Some(5))
    );
    assert_eq!(progress.tasks["train"], ["site-1", "site-2"]);
    assert_eq!(
        live.error_counts(),
        BTreeMap::from([("server".to_owned(), 0), ("site-1".to_owned(), 1)])
    );
    assert_eq!(JobLive::default().round_progress(), None);
    let quiet = JobLive {
        errors: BTreeMap::from([("server".to_owned(), json!("No Error"))]),
        ..JobLive::default()
    };
    assert_eq!(
        quiet.error_counts(),
        BTreeMap::from([("server".to_owned(), 0)])
    );
}

#[test]
fn http_payloads_match_golden() {
    let history = SiteHistory {
        since_ms: 1_795_310_000_000,
        until_ms: 1_795_317_000_000,
        sample_every_ms: 5_000,
        sites: vec![SiteTimeline {
            site: "site-1".to_owned(),
            spans: vec![
                SiteSpan {
                    from_ms: 1_795_310_000_000,
                    to_ms: 1_795_312_000_000,
                    connected: true,
                },
                SiteSpan {
                    from_ms: 1_795_312_000_000,
                    to_ms: 1_795_317_000_000,
                    connected: false,
                },
            ],
        }],
    };
    check("site_history", &[history]);
    let token = KioskToken {
        id: "k-1".to_owned(),
        label: "Lab wall screen".to_owned(),
        identity: "admin@nvidia.com".to_owned(),
        study: "default".to_owned(),
        created_by: "operator".to_owned(),
        created_at_ms: 1_795_317_000_000,
        expires_at_ms: 1_795_403_400_000,
    };
    check(
        "kiosk_new",
        &[NewKioskToken {
            label: "Lab wall screen".to_owned(),
            study: None,
            expires_in_secs: 86_400,
        }],
    );
    check(
        "kiosk_created",
        &[CreatedKioskToken {
            token,
            url: "/kiosk#token=3f9a".to_owned(),
        }],
    );
}

#[test]
fn http_bodies_match_golden() {
    check(
        "http_login",
        &[LoginRequest {
            user: "operator".to_owned(),
            password: "correct horse".to_owned(),
        }],
    );
    check(
        "http_kiosk_login",
        &[KioskLoginRequest {
            token: "3f9a".to_owned(),
        }],
    );
    let session = SessionInfo {
        user: "operator".to_owned(),
        role: Role::Operator,
        identity: "admin@nvidia.com".to_owned(),
        study: "default".to_owned(),
        max_upload_bytes: 268_435_456,
        kiosk: false,
    };
    let kiosk = SessionInfo {
        user: "kiosk:k-1".to_owned(),
        role: Role::Viewer,
        kiosk: true,
        ..session.clone()
    };
    check("http_session", &[session, kiosk]);
    check(
        "http_uploaded",
        &[Uploaded {
            upload_id: "u-5b2f".to_owned(),
            folder_name: "hello-numpy".to_owned(),
            files: 4,
            bytes: 2_048,
        }],
    );
    check("http_done", &[Done { ok: true }]);
    check(
        "http_kiosk_revoked",
        &[KioskTokenRevoked {
            ok: true,
            sessions_ended: 2,
        }],
    );
    check(
        "http_error",
        &[ErrorBody {
            error: "not logged in".to_owned(),
        }],
    );
}

#[test]
fn close_codes_match_golden() {
    let codes: BTreeMap<String, u16> = BTreeMap::from(
        [
            ("lagging", wire::close_code::LAGGING),
            ("session_ended", wire::close_code::SESSION_ENDED),
            ("kiosk_revoked", wire::close_code::KIOSK_REVOKED),
            ("too_big", wire::close_code::TOO_BIG),
        ]
        .map(|(name, code)| (name.to_owned(), code)),
    );
    check("close_codes", &[codes]);
}

#[test]
fn secrets_stay_out_of_debug() {
    let login = format!(
        "{:?}",
        LoginRequest {
            user: "operator".to_owned(),
            password: "correct horse".to_owned(),
        }
    );
    assert!(
        login.contains("operator") && !login.contains("correct horse"),
        "{login}"
    );
    let kiosk = format!(
        "{:?}",
        KioskLoginRequest {
            token: "3f9a".to_owned(),
        }
    );
    assert!(!kiosk.contains("3f9a"), "{kiosk}");
}

#[test]
fn terminal_statuses_are_recognised() {
    for s in [
        "FINISHED:COMPLETED",
        "FINISHED:ABORTED",
        "FINISHED_OK",
        "ABANDONED",
    ] {
        assert!(jobs::is_terminal_status(s), "{s}");
    }
    for s in ["SUBMITTED", "DISPATCHED", "RUNNING", "APPROVED"] {
        assert!(!jobs::is_terminal_status(s), "{s}");
    }
}
