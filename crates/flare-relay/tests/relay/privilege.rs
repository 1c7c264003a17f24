//! Least privilege per session kind: a kiosk screen reads and watches only what the wall shows,
//! every other read over its socket is refused and audited; a viewer still reads everything the
//! viewer pages read.

use flare_model::{CreatedKioskToken, FlareError, ReadCommand, ServerFrame, Topic};
use reqwest::Method;
use serde_json::{Value, json};

use super::support::{OPERATOR, Tab, TestRelay, VIEWER};

/// A kiosk screen's socket (token labelled "Lobby"), with a finished job `j1` on the fake.
async fn kiosk_tab(relay: &TestRelay) -> Tab {
    relay.fake.put_job("j1", "hello", "FINISHED:COMPLETED");
    let operator = relay.login(OPERATOR).await;
    let (status, body) = relay
        .api(
            Method::POST,
            "/api/kiosk-tokens",
            Some(&operator),
            Some(json!({ "label": "Lobby", "expires_in_secs": 3600 })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let created: CreatedKioskToken = serde_json::from_value(body).expect("created token");
    let secret = created.url.strip_prefix("/kiosk#token=").expect("url");
    let (status, body, cookie) = relay.kiosk_login(secret).await;
    assert_eq!(status, 200, "{body}");
    relay.tab_for(&cookie.expect("kiosk cookie")).await
}

/// The reads the wall makes (through its topics' polls, and as single commands).
fn wall_reads() -> Vec<Value> {
    vec![
        json!("get_system_info"),
        json!({"list_jobs": {}}),
        json!({"get_job_meta": {"job_id": "j1"}}),
        json!({"get_job_status": {"job_id": "j1"}}),
        json!({"show_stats": {"job_id": "j1", "target_type": "all"}}),
        json!({"show_errors": {"job_id": "j1", "target_type": "all"}}),
    ]
}

/// Every other read, one of each class: downloads, logs, waits, environment reports, shell reads
/// of site files, site details, studies and the job library.
fn other_reads() -> Vec<Value> {
    let target = |cmd: &str, extra: Value| {
        let mut args = json!({"target": "server"});
        if let (Some(args), Some(extra)) = (args.as_object_mut(), extra.as_object()) {
            args.extend(extra.clone());
        }
        json!({ cmd: args })
    };
    vec![
        json!({"download_job_result": {"job_id": "j1"}}),
        json!({"download_job_components": {"job_id": "j1"}}),
        json!({"get_job_logs": {"job_id": "j1"}}),
        json!({"list_job_components": {"job_id": "j1"}}),
        json!({"wait_for_job": {"job_id": "j1", "timeout": 1.0}}),
        json!({"monitor_job": {"job_id": "j1", "timeout": 1.0}}),
        json!({"get_client_env": {}}),
        target("ls_target", json!({})),
        target("cat_target", json!({"file": "log.txt"})),
        target("head_target", json!({"file": "log.txt"})),
        target("tail_target", json!({"file": "log.txt"})),
        target("grep_target", json!({"file": "log.txt", "pattern": "x"})),
        target("head_target_log", json!({})),
        target("tail_target_log", json!({})),
        target("get_working_directory", json!({})),
        json!({"check_status": {"target_type": "client"}}),
        json!("get_connected_client_list"),
        json!({"get_client_job_status": {}}),
        json!({"report_resources": {"target_type": "all"}}),
        json!({"report_version": {"target_type": "all"}}),
        json!("list_studies"),
        json!({"show_study": {"study": "default"}}),
        json!("get_available_apps_to_upload"),
    ]
}

/// The name of a read in its JSON form.
fn name_of(command: &Value) -> String {
    let read: ReadCommand = serde_json::from_value(command.clone()).expect("a read command");
    read.name().to_owned()
}

/// Sends `command` as frame `id`; its reply.
async fn run(tab: &mut Tab, id: u64, command: &Value) -> ServerFrame {
    let frame = json!({ "id": id, "command": command }).to_string();
    tab.send_text(&frame).await;
    tab.reply(id).await
}

/// True when the relay refused the reply's command for the session's permissions.
fn refused_by_the_relay(reply: &ServerFrame) -> bool {
    matches!(
        reply,
        ServerFrame::Error { error: FlareError::AuthorizationError { message }, .. }
            if message.contains(" may not run ")
    )
}

#[tokio::test]
async fn a_kiosk_screen_runs_the_walls_reads_and_watches_its_topics() {
    let relay = TestRelay::start().await;
    let mut tab = kiosk_tab(&relay).await;
    for (id, command) in (1..).zip(wall_reads()) {
        let reply = run(&mut tab, id, &command).await;
        assert!(!refused_by_the_relay(&reply), "{command}: {reply:?}");
    }
    let topics = [
        Topic::System,
        Topic::Jobs,
        Topic::Job {
            job_id: "j1".into(),
        },
    ];
    for (id, topic) in (100..).zip(topics) {
        tab.subscribe(id, topic.clone()).await;
        let reply = tab.reply(id).await;
        assert!(
            matches!(reply, ServerFrame::Ok { .. }),
            "{topic:?}: {reply:?}"
        );
    }
}

#[tokio::test]
async fn a_kiosk_screen_is_refused_every_other_read_and_each_refusal_is_audited() {
    let relay = TestRelay::start().await;
    let mut tab = kiosk_tab(&relay).await;
    let reads = other_reads();
    for (id, command) in (1..).zip(&reads) {
        let name = name_of(command);
        let reply = run(&mut tab, id, command).await;
        let ServerFrame::Error {
            error: FlareError::AuthorizationError { message },
            ..
        } = &reply
        else {
            panic!("a kiosk's {name} answered {reply:?}");
        };
        assert!(
            message.starts_with(&format!("a kiosk screen may not run {name}: ")),
            "{message}"
        );
        assert_eq!(relay.fake.calls(&name), 0, "{name} reached NVFlare");
    }
    let audit = relay.audit_lines();
    for command in &reads {
        let name = name_of(command);
        let lines: Vec<_> = audit.iter().filter(|l| l["command"] == name).collect();
        assert_eq!(lines.len(), 1, "{name}: {lines:?}");
        assert_eq!(lines[0]["outcome"], "refused", "{name}");
        assert_eq!(lines[0]["user"], "kiosk:Lobby", "{name}");
        let token = lines[0]["kiosk_token"].as_str().unwrap_or_default();
        assert!(token.contains("Lobby"), "{name}: {token}");
    }
    assert!(
        relay.work_entries().is_empty(),
        "a refused download built nothing: {:?}",
        relay.work_entries()
    );
}

#[tokio::test]
async fn a_viewer_still_runs_every_read() {
    let relay = TestRelay::start().await;
    relay.fake.put_job("j1", "hello", "FINISHED:COMPLETED");
    let mut tab = relay.tab(VIEWER).await;
    for (id, command) in (1..).zip(wall_reads().iter().chain(&other_reads())) {
        let reply = run(&mut tab, id, command).await;
        assert!(!refused_by_the_relay(&reply), "{command}: {reply:?}");
    }
    let refused: Vec<_> = relay
        .audit_lines()
        .into_iter()
        .filter(|l| l["outcome"] == "refused")
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
}
