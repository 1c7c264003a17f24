//! Job files over the socket: `submit_job` by upload id or `library:<name>` with a submit token,
//! the job library listing, and result/component downloads fetched from `/api/download/<id>`.

use std::io::Read;

use flare_model::{FlareError, ListJobsFilter, MutateCommand, ReadCommand, Reply, ServerFrame};
use flare_relay::fake::FakeSubmission;
use reqwest::StatusCode;

use super::support::{OPERATOR, Tab, TestRelay, VIEWER, job_zip};

fn submit(upload_id: &str, token: Option<&str>) -> MutateCommand {
    MutateCommand::SubmitJob {
        upload_id: upload_id.into(),
        submit_token: token.map(str::to_owned),
    }
}

fn bad_request(frame: ServerFrame) -> String {
    match frame {
        ServerFrame::Error {
            error: FlareError::BadRequest { message },
            ..
        } => message,
        other => panic!("expected a bad_request error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_upload_is_submitted_with_its_token_and_a_retry_gives_the_same_job() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let upload_id = relay.upload_zip(&cookie, job_zip()).await;
    let mut tab = relay.tab_for(&cookie).await;

    tab.command(1, submit(&upload_id, Some("console:1234-abcd")))
        .await;
    let ServerFrame::Ok {
        ok: Reply::JobId(job_id),
        ..
    } = tab.reply(1).await
    else {
        panic!("expected a job id");
    };
    assert_eq!(
        relay.fake.submissions(),
        [FakeSubmission {
            folder_name: "hello-numpy".into(),
            files: vec![
                "app/config/config_fed_server.json".into(),
                "meta.json".into()
            ],
            submit_token: Some("console:1234-abcd".into()),
            job_id: job_id.clone(),
        }]
    );

    // A retry (say after a dropped reply) is safe: the same token gives the same job.
    tab.command(2, submit(&upload_id, Some("console:1234-abcd")))
        .await;
    assert_eq!(
        tab.reply(2).await,
        ServerFrame::Ok {
            id: 2,
            ok: Reply::JobId(job_id.clone())
        }
    );
    // After a reload the console finds the job by its token instead of resubmitting.
    let by_token = ListJobsFilter {
        submit_token: Some("console:1234-abcd".into()),
        ..ListJobsFilter::default()
    };
    tab.command(3, ReadCommand::ListJobs(by_token)).await;
    let ServerFrame::Ok {
        ok: Reply::Jobs(jobs),
        ..
    } = tab.reply(3).await
    else {
        panic!("expected jobs");
    };
    assert_eq!(
        jobs.iter().map(|j| j.job_id.as_str()).collect::<Vec<_>>(),
        [job_id.as_str()]
    );
    let audit = relay.audit_lines();
    assert!(
        audit
            .iter()
            .any(|a| a["command"] == "submit_job" && a["outcome"] == "ok"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn unknown_foreign_and_malformed_submissions_are_bad_requests() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let upload_id = relay.upload_zip(&cookie, job_zip()).await;
    let mut tab = relay.tab_for(&cookie).await;

    tab.command(1, submit("0123456789abcdef0123456789abcdef", None))
        .await;
    let message = bad_request(tab.reply(1).await);
    assert!(message.starts_with("unknown upload id"), "{message}");

    for token in ["", "has space", "slash/no", &"t".repeat(129)] {
        tab.command(2, submit(&upload_id, Some(token))).await;
        let message = bad_request(tab.reply(2).await);
        assert!(message.starts_with("invalid submit_token"), "{message}");
    }

    // The upload belongs to the login that made it, not to the user.
    let mut other = relay.tab(OPERATOR).await;
    other.command(3, submit(&upload_id, None)).await;
    let message = bad_request(other.reply(3).await);
    assert!(message.starts_with("unknown upload id"), "{message}");

    // Without a library, library ids are refused.
    tab.command(4, submit("library:hello-numpy", None)).await;
    let message = bad_request(tab.reply(4).await);
    assert!(message.contains("no job library"), "{message}");
    assert_eq!(relay.fake.calls("submit_job"), 0);
}

#[tokio::test]
async fn viewers_cannot_submit() {
    let relay = TestRelay::start().await;
    let mut tab = relay.tab(VIEWER).await;
    tab.command(1, submit("library:a", None)).await;
    assert!(matches!(
        tab.reply(1).await,
        ServerFrame::Error {
            error: FlareError::ReadOnlySession { .. },
            ..
        }
    ));
    assert_eq!(relay.fake.calls("submit_job"), 0);
}

#[tokio::test]
async fn the_job_library_lists_job_folders_and_submits_them() {
    let library = tempfile::tempdir().expect("library");
    for (path, text) in [
        ("alpha/meta.json", "{}"),
        ("alpha/app/config/config_fed_server.json", "{}"),
        ("gamma/meta.conf", "{}"),
        ("beta/app/readme.txt", "no meta here"),
        ("notes.txt", "a file, not a job"),
    ] {
        let path = library.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let dir = library.path().to_owned();
    let relay = TestRelay::start_with(move |c| c.job_library = Some(dir)).await;

    let mut viewer = relay.tab(VIEWER).await;
    viewer
        .command(1, ReadCommand::GetAvailableAppsToUpload)
        .await;
    assert_eq!(
        viewer.reply(1).await,
        ServerFrame::Ok {
            id: 1,
            ok: Reply::Names(vec!["alpha".into(), "gamma".into()])
        }
    );
    assert_eq!(
        relay.fake.calls("get_available_apps_to_upload"),
        0,
        "the relay answers from its own library"
    );

    let mut tab = relay.tab(OPERATOR).await;
    tab.command(2, submit("library:alpha", Some("t-1"))).await;
    assert!(matches!(
        tab.reply(2).await,
        ServerFrame::Ok {
            ok: Reply::JobId(_),
            ..
        }
    ));
    let submissions = relay.fake.submissions();
    assert_eq!(submissions[0].folder_name, "alpha");
    assert_eq!(
        submissions[0].files,
        ["app/config/config_fed_server.json", "meta.json"]
    );
    for bad in [
        "library:beta",
        "library:../alpha",
        "library:",
        "library:nope",
    ] {
        tab.command(3, submit(bad, None)).await;
        let message = bad_request(tab.reply(3).await);
        assert!(message.contains("the job library has no job"), "{message}");
    }
}

/// A relay whose fake NVFlare has one finished job, `job-1`.
async fn relay_with_a_finished_job() -> TestRelay {
    let relay = TestRelay::start().await;
    relay
        .fake
        .put_job("job-1", "hello-numpy", "FINISHED:COMPLETED");
    relay
}

/// A download the relay prepared: its id, file name and size.
struct Download {
    id: String,
    file_name: String,
    size: u64,
}

impl Download {
    fn path(&self) -> String {
        format!("/api/download/{}", self.id)
    }
}

/// Sends a download command as `id` and returns the prepared download it must answer.
async fn prepare_download(tab: &mut Tab, id: u64, command: ReadCommand) -> Download {
    tab.command(id, command).await;
    let ServerFrame::Ok {
        ok:
            Reply::Download {
                download_id,
                file_name,
                size,
            },
        ..
    } = tab.reply(id).await
    else {
        panic!("expected a download");
    };
    Download {
        id: download_id,
        file_name,
        size,
    }
}

fn result_of(job_id: &str) -> ReadCommand {
    ReadCommand::DownloadJobResult {
        job_id: job_id.into(),
    }
}

/// `GET /api/download/<id>` with `cookie`.
async fn fetch(relay: &TestRelay, download: &Download, cookie: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(relay.url(&download.path()))
        .header("cookie", cookie)
        .send()
        .await
        .expect("download")
}

#[tokio::test]
async fn a_result_download_round_trips_as_one_zip() {
    let relay = relay_with_a_finished_job().await;
    // A viewer may download: it is a read.
    let cookie = relay.login(VIEWER).await;
    let mut tab = relay.tab_for(&cookie).await;
    let download = prepare_download(&mut tab, 1, result_of("job-1")).await;
    assert_eq!(download.file_name, "job-1.zip");

    let response = fetch(&relay, &download, &cookie).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/zip");
    assert_eq!(
        headers["content-length"],
        download.size.to_string().as_str()
    );
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"job-1.zip\""
    );
    let bytes = response.bytes().await.expect("body");
    assert_eq!(bytes.len() as u64, download.size);

    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a readable zip");
    let mut names: Vec<String> = archive
        .file_names()
        .filter(|n| !n.ends_with('/'))
        .map(str::to_owned)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "job-1/job/hello-numpy/meta.json",
            "job-1/meta.json",
            "job-1/workspace/app_server/config/config_fed_server.json",
            "job-1/workspace/log.txt",
            "job-1/workspace/models/server.npy",
        ]
    );
    let mut log = String::new();
    archive
        .by_name("job-1/workspace/log.txt")
        .expect("entry")
        .read_to_string(&mut log)
        .expect("read");
    assert_eq!(log, "server log\n");

    // The same download can be fetched again until it expires (a retried browser download).
    let again = fetch(&relay, &download, &cookie).await;
    assert_eq!(again.status(), StatusCode::OK);
}

#[tokio::test]
async fn components_download_as_their_own_zip() {
    let relay = relay_with_a_finished_job().await;
    let cookie = relay.login(OPERATOR).await;
    let mut tab = relay.tab_for(&cookie).await;
    let components = ReadCommand::DownloadJobComponents {
        job_id: "job-1".into(),
    };
    let download = prepare_download(&mut tab, 1, components).await;
    assert_eq!(download.file_name, "job-1_components.zip");
    let bytes = fetch(&relay, &download, &cookie)
        .await
        .bytes()
        .await
        .expect("body");
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    assert!(
        archive
            .file_names()
            .any(|n| n == "job-1_components/ERRORLOG_site-1"),
        "{:?}",
        archive.file_names().collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn downloads_belong_to_their_login_and_bad_jobs_fail() {
    let relay = relay_with_a_finished_job().await;
    let cookie = relay.login(OPERATOR).await;
    let mut tab = relay.tab_for(&cookie).await;
    let download = prepare_download(&mut tab, 1, result_of("job-1")).await;

    // Another login of the same user does not see it.
    let other = relay.login(OPERATOR).await;
    let response = fetch(&relay, &download, &other).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = response.json().await.expect("json");
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .starts_with("no such download"),
        "{body}"
    );
    let response = reqwest::get(relay.url(&download.path()))
        .await
        .expect("download");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Unknown and malformed job ids.
    tab.command(2, result_of("nope")).await;
    assert!(matches!(
        tab.reply(2).await,
        ServerFrame::Error {
            error: FlareError::JobNotFound { .. },
            ..
        }
    ));
    tab.command(3, result_of("../etc")).await;
    assert!(bad_request(tab.reply(3).await).starts_with("invalid job id"));

    // Logging out deletes the login's downloads.
    let response = reqwest::Client::new()
        .post(relay.url("/api/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("logout");
    assert_eq!(response.status(), StatusCode::OK);
    super::support::eventually("the download folder is deleted", || {
        relay.work_entries().is_empty()
    })
    .await;
}
