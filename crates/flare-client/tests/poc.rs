//! Integration tests of the native client against a real NVFlare 2.9 POC (started by `flare-poc`,
//! or the one named by `FLARE_TEST_POC_DIR`).

use std::sync::Arc;

use flare_client::{AdminKit, Session};
use flare_model::{
    Command, FlareError, ListJobsFilter, MutateCommand, ReadCommand, Reply, TargetType,
};
use tokio::sync::OnceCell;

#[path = "support/poc_session.rs"]
mod support;

use support::{
    ADMIN, abort, assert_err, delete, expect_reply, job_meta, login_to as login, poc, run,
    wait_status,
};

async fn submit(num_rounds: u32, sleep_time: f64) -> String {
    let poc = poc().await;
    tokio::task::spawn_blocking(move || {
        poc.submit_hello_numpy_with(ADMIN, "default", num_rounds, sleep_time)
    })
    .await
    .expect("submit panicked")
}

/// One finished hello-numpy job shared by the tests that need a job that is not running.
async fn finished_job() -> &'static str {
    static JOB: OnceCell<String> = OnceCell::const_new();
    JOB.get_or_init(|| async {
        let id = submit(1, 0.0).await;
        let s = login("default").await;
        wait_status(&s, &id, |st| st.starts_with("FINISHED")).await;
        s.close().await;
        id
    })
    .await
}

fn jobs(reply: Reply) -> Vec<flare_model::JobSummary> {
    match reply {
        Reply::Jobs(j) => j,
        other => panic!("list_jobs gave {other:?}"),
    }
}

fn list(f: ListJobsFilter) -> ReadCommand {
    ReadCommand::ListJobs(f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_learns_a_supported_server_version_and_close_is_idempotent() {
    let s = login("default").await;
    assert!(
        s.server_version().starts_with("2.9."),
        "version {}",
        s.server_version()
    );
    assert_eq!(s.identity(), ADMIN);
    assert_eq!(s.study(), "default");
    assert!(!s.is_closed());
    s.close().await;
    assert!(s.is_closed());
    s.close().await;
    assert_err!(
        run(&s, ReadCommand::GetSystemInfo).await,
        FlareError::SessionClosed { .. }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_system_info_shows_both_sites() {
    let s = login("default").await;
    let info = expect_reply!(&s, ReadCommand::GetSystemInfo, Reply::SystemInfo);
    let names: Vec<_> = info.client_info.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names.contains(&"site-1") && names.contains(&"site-2"),
        "{names:?}"
    );
    assert!(info.server_info.start_time > 0.0);
    let clients = expect_reply!(&s, ReadCommand::GetConnectedClientList, Reply::Clients);
    assert_eq!(clients.len(), info.client_info.len());
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_jobs_applies_every_filter() {
    let first = submit(1, 0.0).await;
    let second = submit(1, 0.0).await;
    let s = login("default").await;

    let all = jobs(run(&s, list(ListJobsFilter::default())).await.unwrap());
    let pos = |v: &[flare_model::JobSummary], id: &str| v.iter().position(|j| j.job_id == id);
    let (a, b) = (pos(&all, &first).unwrap(), pos(&all, &second).unwrap());
    assert!(all.iter().all(|j| j.study == "default"));

    let reversed = jobs(
        run(
            &s,
            list(ListJobsFilter {
                reverse: true,
                ..Default::default()
            }),
        )
        .await
        .unwrap(),
    );
    let (ra, rb) = (
        pos(&reversed, &first).unwrap(),
        pos(&reversed, &second).unwrap(),
    );
    assert_eq!(a < b, ra > rb, "reverse flips the order");

    let limited = jobs(
        run(
            &s,
            list(ListJobsFilter {
                limit: Some(1),
                ..Default::default()
            }),
        )
        .await
        .unwrap(),
    );
    assert_eq!(limited.len(), 1);

    let prefix = &first[..8];
    let by_id = jobs(
        run(
            &s,
            list(ListJobsFilter {
                id_prefix: Some(prefix.to_owned()),
                ..Default::default()
            }),
        )
        .await
        .unwrap(),
    );
    assert!(by_id.iter().any(|j| j.job_id == first));
    assert!(by_id.iter().all(|j| j.job_id.starts_with(prefix)));

    let by_name = jobs(
        run(
            &s,
            list(ListJobsFilter {
                name_prefix: Some("hello-num".to_owned()),
                ..Default::default()
            }),
        )
        .await
        .unwrap(),
    );
    assert!(by_name.iter().any(|j| j.job_id == second));
    assert!(by_name.iter().all(|j| j.job_name.starts_with("hello-num")));
    let none = jobs(
        run(
            &s,
            list(ListJobsFilter {
                name_prefix: Some("no-such-job-name".to_owned()),
                ..Default::default()
            }),
        )
        .await
        .unwrap(),
    );
    assert!(none.is_empty());

    let metas = expect_reply!(
        &s,
        list(ListJobsFilter {
            detailed: true,
            id_prefix: Some(first.clone()),
            ..Default::default()
        }),
        Reply::JobMetas
    );
    assert_eq!(metas.len(), 1);
    assert_eq!(metas[0].job_id, first);
    assert!(metas[0].submitter_name.as_deref() == Some(ADMIN));

    let by_token = run(
        &s,
        list(ListJobsFilter {
            submit_token: Some("no-such-token".to_owned()),
            ..Default::default()
        }),
    )
    .await;
    match by_token {
        Ok(Reply::Jobs(j)) => assert!(j.is_empty(), "unknown token matched {j:?}"),
        other => panic!("list_jobs --submit-token gave {other:?}"),
    }
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_job_meta_of_known_and_unknown_jobs() {
    let id = finished_job().await;
    let s = login("default").await;
    let meta = job_meta(&s, id).await.unwrap();
    assert_eq!(meta.job_id, id);
    assert_eq!(meta.name, "hello-numpy");
    assert_eq!(meta.study.as_deref(), Some("default"));
    let status = expect_reply!(
        &s,
        ReadCommand::GetJobStatus {
            job_id: id.to_owned(),
        },
        Reply::JobStatus
    );
    assert!(status.starts_with("FINISHED"), "{status}");
    assert_err!(
        job_meta(&s, "00000000-0000-4000-8000-000000000000").await,
        FlareError::JobNotFound { .. }
    );
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_studies_describes_the_caller() {
    let s = login("default").await;
    let list = expect_reply!(&s, ReadCommand::ListStudies, Reply::Studies);
    assert_eq!(list.identity.name, ADMIN);
    assert_eq!(list.identity.role, "project_admin");
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_version_covers_server_and_sites() {
    let s = login("default").await;
    let map = expect_reply!(
        &s,
        ReadCommand::ReportVersion {
            target_type: TargetType::All,
            targets: vec![],
        },
        Reply::SiteMap
    );
    for site in ["server", "site-1", "site-2"] {
        let v = map[site]["version"].as_str().unwrap_or_default();
        assert!(v.starts_with("2.9"), "{site}: {:?}", map[site]);
    }
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_status_client_lists_each_site() {
    let s = login("default").await;
    let meta = expect_reply!(
        &s,
        ReadCommand::CheckStatus {
            target_type: TargetType::Client,
            targets: vec![],
        },
        Reply::Status
    );
    let names: Vec<_> = meta["client_status"]
        .as_array()
        .expect("client_status")
        .iter()
        .filter_map(|c| c["client_name"].as_str())
        .collect();
    assert!(
        names.contains(&"site-1") && names.contains(&"site-2"),
        "{meta}"
    );
    let rows = expect_reply!(
        &s,
        ReadCommand::GetClientJobStatus {
            client_names: vec!["site-1".to_owned()],
        },
        Reply::ClientJobStatus
    );
    assert!(
        rows.iter().all(|r| r.client_name == "site-1") && !rows.is_empty(),
        "{rows:?}"
    );
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_reports_resources_and_env() {
    let s = login("default").await;
    let res = expect_reply!(
        &s,
        ReadCommand::ReportResources {
            target_type: TargetType::All,
            targets: vec![],
        },
        Reply::SiteMap
    );
    assert!(res.contains_key("server"), "{res:?}");
    let envs = expect_reply!(
        &s,
        ReadCommand::GetClientEnv {
            client_names: vec![],
        },
        Reply::Envs
    );
    assert_eq!(envs.len(), 2, "{envs:?}");
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_study_is_an_authentication_error_with_its_code() {
    let kit = AdminKit::load(poc().await.admin_kit(ADMIN)).unwrap();
    let err = Session::login(&kit, "no-such-study").await.unwrap_err();
    match err {
        FlareError::AuthenticationError { auth_code, message } => {
            // A POC without a study registry answers AUTH_STUDY_NOT_CONFIGURED; with one,
            // AUTH_UNKNOWN_STUDY.
            assert!(
                matches!(
                    auth_code.as_deref(),
                    Some("AUTH_STUDY_NOT_CONFIGURED" | "AUTH_UNKNOWN_STUDY")
                ),
                "{auth_code:?}: {message}"
            );
            assert!(message.contains("no-such-study"), "{message}");
        }
        other => panic!("expected an authentication error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_and_errors_of_a_job_that_is_not_running_are_job_not_running() {
    let id = finished_job().await.to_owned();
    let s = login("default").await;
    for cmd in [
        Command::from(ReadCommand::ShowStats {
            job_id: id.clone(),
            target_type: TargetType::Server,
            targets: vec![],
        }),
        Command::from(ReadCommand::ShowErrors {
            job_id: id.clone(),
            target_type: TargetType::All,
            targets: vec![],
        }),
        Command::from(MutateCommand::ResetErrors { job_id: id.clone() }),
    ] {
        let err = s.execute(&cmd).await.unwrap_err();
        assert!(
            matches!(err, FlareError::JobNotRunning { .. }),
            "{}: {err:?}",
            cmd.name()
        );
    }
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_logs_of_a_finished_job_come_back_per_site() {
    let id = finished_job().await.to_owned();
    let s = login("default").await;
    let logs = expect_reply!(
        &s,
        ReadCommand::GetJobLogs {
            job_id: id,
            target: "server".to_owned(),
            tail_lines: Some(5),
            grep_pattern: None,
            log_file_name: None,
        },
        Reply::Logs
    );
    let server = logs.logs.get("server").expect("server log");
    assert!(
        !server.is_empty() && server.lines().count() <= 5,
        "{logs:?}"
    );
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_abort_and_delete_a_job() {
    let finished = finished_job().await.to_owned();
    let long = submit(100, 1.0).await;
    let s = login("default").await;

    // Abort and delete only once a job runs: NVFlare 2.9's job runner can hang for good when a job
    // is aborted and deleted while it is still being deployed to the sites.
    wait_status(&s, &long, |st| st == "RUNNING").await;
    expect_reply!(&s, abort(&long), Reply::Text);
    wait_status(&s, &long, |st| st == "FINISHED:ABORTED").await;
    let Reply::Deleted { job_id, .. } = run(&s, delete(&long)).await.unwrap() else {
        panic!("delete_job is not deleted");
    };
    assert_eq!(job_id, long);
    assert_err!(job_meta(&s, &long).await, FlareError::JobNotFound { .. });

    let clone = expect_reply!(
        &s,
        MutateCommand::CloneJob {
            job_id: finished.clone(),
        },
        Reply::JobId
    );
    assert_ne!(clone, finished);
    assert_eq!(job_meta(&s, &clone).await.unwrap().name, "hello-numpy");
    wait_status(&s, &clone, |st| st == "RUNNING").await;
    run(&s, abort(&clone)).await.unwrap();
    wait_status(&s, &clone, |st| st.starts_with("FINISHED")).await;
    run(&s, delete(&clone)).await.unwrap();
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_serves_many_concurrent_commands() {
    let s = Arc::new(login("default").await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let cmd: Command = match i % 4 {
                0 => ReadCommand::GetSystemInfo.into(),
                1 => ReadCommand::ListJobs(ListJobsFilter::default()).into(),
                2 => ReadCommand::ListStudies.into(),
                _ => ReadCommand::CheckStatus {
                    target_type: TargetType::Server,
                    targets: vec![],
                }
                .into(),
            };
            s.execute(&cmd).await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.is_ok(), "{r:?}");
    }
    assert!(!s.is_closed());
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_do_command_returns_the_reply_document_and_unimplemented_commands_say_so() {
    let s = login("default").await;
    let doc = expect_reply!(
        &s,
        MutateCommand::DoCommand {
            command: "check_status server".to_owned(),
            props: None,
        },
        Reply::Raw
    );
    assert_eq!(doc["meta"]["status"], "ok");
    assert_err!(
        run(
            &s,
            MutateCommand::SubmitJob {
                upload_id: "x".to_owned(),
                submit_token: None,
            },
        )
        .await,
        FlareError::Unsupported { message } if message.contains("Session::submit_job")
    );
    s.close().await;
}
