//! Job operations of the native client against a real NVFlare 2.9 POC: upload (`submit_job`,
//! `submit_job_zip`, submit tokens), download (result and components, unzipped or raw), job
//! components, logs, log configuration, stats/errors and app commands on a running job, waiting and
//! monitoring, the upload folder, shell commands and study commands.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use flare_client::{AdminKit, DownloadOptions, Session};
use flare_model::{
    FlareError, MonitorReturnCode, MutateCommand, ReadCommand, Reply, SiteSelection, TargetType,
};
use flare_poc::Poc;
use tokio::sync::OnceCell;

#[path = "support/poc_session.rs"]
mod support;

use support::{
    ADMIN, abort, assert_err, delete, expect_reply, job_meta, login_to, poc, run, wait_status,
};

async fn login() -> Session {
    login_to("default").await
}

/// A copy of `jobs/hello-numpy` named `name` in `parent`, with `num_rounds` and per-round
/// `sleep_time` patched.
fn hello_numpy_copy(parent: &Path, name: &str, num_rounds: u32, sleep_time: f64) -> PathBuf {
    let dest = parent.join(name);
    copy_dir(&Poc::hello_numpy_dir(), &dest);
    patch_json(&dest.join("app/config/config_fed_server.json"), |cfg| {
        cfg["workflows"][0]["args"]["num_rounds"] = num_rounds.into();
    });
    patch_json(&dest.join("app/config/config_fed_client.json"), |cfg| {
        for ex in cfg["executors"].as_array_mut().unwrap() {
            ex["executor"]["args"]["sleep_time"] = sleep_time.into();
        }
    });
    dest
}

/// Reads the JSON file at `path`, lets `patch` change it and writes it back.
fn patch_json(path: &Path, patch: impl FnOnce(&mut serde_json::Value)) {
    let mut cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    patch(&mut cfg);
    std::fs::write(path, cfg.to_string()).unwrap();
}

/// Submits a [`hello_numpy_copy`] named `name` with the native client; returns the job id.
async fn submit_copy(s: &Session, name: &str, num_rounds: u32, sleep_time: f64) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let folder = hello_numpy_copy(tmp.path(), name, num_rounds, sleep_time);
    s.submit_job(&folder, None).await.expect("submit_job")
}

fn copy_dir(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dest.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

/// Zips `dir` with entries `<prefix><rel path>` (directories included).
fn zip_dir(dir: &Path, prefix: &str) -> Vec<u8> {
    fn add(zw: &mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>, dir: &Path, rel: &str) {
        let opts = zip::write::SimpleFileOptions::default();
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = format!("{rel}{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                zw.add_directory(format!("{name}/"), opts).unwrap();
                add(zw, &e.path(), &format!("{name}/"));
            } else {
                zw.start_file(name, opts).unwrap();
                zw.write_all(&std::fs::read(e.path()).unwrap()).unwrap();
            }
        }
    }
    let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    add(&mut zw, dir, prefix);
    zw.finish().unwrap().into_inner()
}

/// Aborts and deletes a job once it runs (or has ended). Not earlier: NVFlare 2.9's job runner can
/// hang for good when a job is aborted and deleted while it is still being deployed to the sites
/// (seen: "App app to be deployed to the clients" and nothing after; every later job then stays
/// SUBMITTED on that POC).
async fn abort_and_delete(s: &Session, job_id: &str) {
    wait_status(s, job_id, |st| {
        st == "RUNNING" || st.starts_with("FINISHED")
    })
    .await;
    let _ = run(s, abort(job_id)).await;
    wait_status(s, job_id, |st| st.starts_with("FINISHED")).await;
    run(s, delete(job_id)).await.expect("delete_job");
}

/// One hello-numpy job submitted by the native client and run to completion, shared by the tests
/// that need a finished job.
async fn finished_job() -> &'static str {
    static JOB: OnceCell<String> = OnceCell::const_new();
    JOB.get_or_init(|| async {
        let s = login().await;
        let id = submit_copy(&s, "hello-numpy", 1, 0.0).await;
        let meta = wait_status(&s, &id, |st| st.starts_with("FINISHED")).await;
        assert_eq!(meta.status, "FINISHED:COMPLETED", "a signed job runs");
        s.close().await;
        id
    })
    .await
}

/// How many tests use [`running_job`]; the last one to finish aborts it, so a POC shared with other
/// test binaries is not kept busy for minutes.
const RUNNING_JOB_USERS: usize = 2;

/// Called by each user of [`running_job`] when done with it.
async fn release_running_job(s: &Session, job_id: &str) {
    static DONE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    if DONE.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == RUNNING_JOB_USERS {
        run(s, abort(job_id)).await.expect("abort the long job");
    }
}

/// One long hello-numpy job (many rounds, 1 s per round per site) that stays running until its
/// last user releases it.
async fn running_job() -> &'static str {
    static JOB: OnceCell<String> = OnceCell::const_new();
    JOB.get_or_init(|| async {
        let s = login().await;
        let id = submit_copy(&s, "hello-numpy-long", 500, 1.0).await;
        wait_status(&s, &id, |st| st == "RUNNING").await;
        // The workflow reports rounds once it has started its first one.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let stats = run(
                &s,
                ReadCommand::ShowStats {
                    job_id: id.clone(),
                    target_type: TargetType::Server,
                    targets: vec![],
                },
            )
            .await;
            if let Ok(Reply::SiteMap(m)) = &stats
                && m["server"]["ScatterAndGather"]["current_round"].is_number()
            {
                break;
            }
            assert!(Instant::now() < deadline, "no round stats: {stats:?}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        s.close().await;
        id
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_job_signs_the_folder_so_it_runs_and_download_job_unzips_the_result() {
    let id = finished_job().await;
    let s = login().await;
    let meta = job_meta(&s, id).await.unwrap();
    assert_eq!(meta.name, "hello-numpy");
    assert_eq!(meta.submitter_name.as_deref(), Some(ADMIN));

    let dest = tempfile::tempdir().unwrap();
    let received = AtomicU64::new(0);
    let progress = |done: u64, _total: u64| received.store(done, Ordering::Relaxed);
    let path = s
        .download_job_with(
            id,
            dest.path(),
            DownloadOptions {
                progress: Some(&progress),
                ..DownloadOptions::default()
            },
        )
        .await
        .expect("download_job");
    assert_eq!(path, dest.path().join(id));
    assert!(path.join("meta.json").is_file());
    assert!(
        path.join("job/hello-numpy/meta.json").is_file(),
        "the job definition is unzipped under job/<name>"
    );
    assert!(path.join("workspace").is_dir(), "the workspace is unzipped");
    assert!(!path.join("job.zip").exists() && !path.join("workspace.zip").exists());
    assert!(
        received.load(Ordering::Relaxed) > 0,
        "progress was reported"
    );
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path.join("meta.json")).unwrap()).unwrap();
    assert_eq!(stored["job_id"], id);

    // A second download lands beside the first, as Python's `_rename_folder` does.
    let again = s.download_job(id, dest.path(), false).await.unwrap();
    assert_eq!(again, dest.path().join(format!("{id}__1")));

    // Raw files, for streaming on.
    let raw_dir = tempfile::tempdir().unwrap();
    let raw = s
        .download_job_with(
            id,
            raw_dir.path(),
            DownloadOptions {
                keep_zips: true,
                ..DownloadOptions::default()
            },
        )
        .await
        .unwrap();
    for f in ["job.zip", "workspace.zip", "meta.json"] {
        assert!(raw.join(f).is_file(), "{f} kept as sent");
    }
    let job_zip = std::fs::read(raw.join("job.zip")).unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(job_zip)).unwrap();
    assert!(
        archive
            .file_names()
            .any(|n| n.ends_with(".__nvfl_sig.json")),
        "the stored job carries the signatures"
    );
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_of_a_running_job_is_job_not_done_and_of_an_unknown_job_is_job_not_found() {
    let id = running_job().await;
    let s = login().await;
    let dest = tempfile::tempdir().unwrap();
    assert_err!(
        s.download_job(id, dest.path(), false).await,
        FlareError::JobNotDone { .. }
    );
    assert_err!(
        s.download_job("00000000-0000-4000-8000-000000000000", dest.path(), false)
            .await,
        FlareError::JobNotFound { .. }
    );
    assert_eq!(
        std::fs::read_dir(dest.path()).unwrap().count(),
        0,
        "failed downloads leave nothing behind"
    );
    release_running_job(&s, id).await;
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_components_are_listed_and_downloaded() {
    let id = finished_job().await;
    let s = login().await;
    let names = expect_reply!(
        &s,
        ReadCommand::ListJobComponents {
            job_id: id.to_owned(),
        },
        Reply::Names
    );
    // A clean run without client log streaming stores no extra components.
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("LOG_") || n.starts_with("ERRORLOG_")),
        "components {names:?}"
    );
    let dest = tempfile::tempdir().unwrap();
    match s.download_job(id, dest.path(), true).await {
        Ok(path) => {
            assert!(path.starts_with(dest.path()) && path.is_dir(), "{path:?}");
            let got = std::fs::read_dir(&path).unwrap().count();
            assert_eq!(got, names.len(), "{path:?} vs {names:?}");
        }
        // The server's `no_job_components` status, mapped as Python maps unknown statuses.
        Err(FlareError::InternalError { message }) if names.is_empty() => {
            assert!(message.starts_with("no_job_components"), "{message}");
            assert_eq!(std::fs::read_dir(dest.path()).unwrap().count(), 0);
        }
        Err(e) => panic!("download_job_components: {e:?}"),
    }
    assert_err!(
        run(
            &s,
            ReadCommand::ListJobComponents {
                job_id: "00000000-0000-4000-8000-000000000000".to_owned(),
            },
        )
        .await,
        FlareError::JobNotFound { .. }
    );
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_job_refuses_bad_folders_and_maps_invalid_jobs() {
    let s = login().await;
    let tmp = tempfile::tempdir().unwrap();

    let spaced = hello_numpy_copy(tmp.path(), "bad name", 1, 0.0);
    assert_err!(
        s.submit_job(&spaced, None).await,
        FlareError::InvalidJobDefinition { message } if message.contains("unsupported characters")
    );

    let missing = tmp.path().join("no-such-folder");
    assert_err!(
        s.submit_job(&missing, None).await,
        FlareError::InvalidJobDefinition { .. }
    );

    let linked = hello_numpy_copy(tmp.path(), "linked", 1, 0.0);
    std::os::unix::fs::symlink("/etc/hostname", linked.join("app/evil.txt")).unwrap();
    assert_err!(
        s.submit_job(&linked, None).await,
        FlareError::InvalidJobDefinition { message } if message.contains("symbolic link")
    );

    let no_meta = tmp.path().join("bad-job");
    std::fs::create_dir_all(no_meta.join("app")).unwrap();
    std::fs::write(no_meta.join("app/readme.txt"), "no meta").unwrap();
    let err = s.submit_job(&no_meta, None).await.unwrap_err();
    assert!(
        matches!(&err, FlareError::InvalidJobDefinition { message } if message.contains("meta")),
        "the server's invalid_job_def: {err:?}"
    );

    let good = hello_numpy_copy(tmp.path(), "tok-job", 1, 0.0);
    assert_err!(
        s.submit_job(&good, Some("bad token!")).await,
        FlareError::InvalidArgument { .. }
    );
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_tokens_are_idempotent_conflict_on_other_content_and_report_deleted_jobs() {
    let s = login().await;
    let tmp = tempfile::tempdir().unwrap();
    let token = format!("tok-{}", uuid_like());
    let job = hello_numpy_copy(tmp.path(), "hello-numpy", 200, 1.0);
    let first = s.submit_job(&job, Some(&token)).await.unwrap();
    let again = s.submit_job(&job, Some(&token)).await.unwrap();
    assert_eq!(again, first, "same token, same content: same job");

    let other_dir = tempfile::tempdir().unwrap();
    let other = hello_numpy_copy(other_dir.path(), "hello-numpy", 201, 1.0);
    match s.submit_job(&other, Some(&token)).await.unwrap_err() {
        FlareError::SubmitTokenConflict {
            existing_job_id, ..
        } => assert_eq!(existing_job_id.as_deref(), Some(first.as_str())),
        other => panic!("expected a token conflict, got {other:?}"),
    }

    abort_and_delete(&s, &first).await;
    match s.submit_job(&job, Some(&token)).await.unwrap_err() {
        FlareError::SubmitTokenJobDeleted { job_id, .. } => {
            assert_eq!(job_id.as_deref(), Some(first.as_str()));
        }
        other => panic!("expected a deleted-job token error, got {other:?}"),
    }
    s.close().await;
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}-{}", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_job_zip_accepts_wrapped_and_flat_archives_and_reports_progress() {
    let s = login().await;
    let tmp = tempfile::tempdir().unwrap();
    let job = hello_numpy_copy(tmp.path(), "hello-numpy", 200, 1.0);
    let seen = Mutex::new(Vec::new());
    let progress = |done: u64, total: u64| seen.lock().unwrap().push((done, total));
    let wrapped = s
        .submit_job_zip(
            "zipped-job",
            zip_dir(&job, "hello-numpy/"),
            None,
            Some(&progress),
        )
        .await
        .unwrap();
    let flat = s
        .submit_job_zip("flat-job", zip_dir(&job, ""), None, None)
        .await
        .unwrap();
    for id in [&wrapped, &flat] {
        assert_eq!(job_meta(&s, id).await.unwrap().name, "hello-numpy");
    }
    let seen = seen.into_inner().unwrap();
    let (done, total) = *seen.last().expect("progress reported");
    assert!(total > 0 && done == total, "{seen:?}");

    let mut evil = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    evil.start_file("../escape.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    evil.write_all(b"x").unwrap();
    assert_err!(
        s.submit_job_zip("evil", evil.finish().unwrap().into_inner(), None, None)
            .await,
        FlareError::InvalidJobDefinition { .. }
    );
    for id in [wrapped, flat] {
        abort_and_delete(&s, &id).await;
    }
    s.close().await;
}

/// `configure_job_log`, asked again (for up to a minute) while NVFlare answers that a site's job
/// process is `target_unreachable`: on a loaded machine a site's job cell can come up well after
/// the server reports the job RUNNING. Any other answer is returned as it is.
async fn configure_job_log(
    s: &Session,
    job_id: &str,
    config: &str,
    target: &str,
) -> Result<Reply, FlareError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = run(
            s,
            MutateCommand::ConfigureJobLog {
                job_id: job_id.to_owned(),
                config: config.into(),
                target: target.to_owned(),
            },
        )
        .await;
        match &r {
            Err(FlareError::InternalError { message })
                if message.contains("target_unreachable") && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            _ => return r,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_reports_stats_errors_and_accepts_log_config_and_app_commands() {
    let id = running_job().await.to_owned();
    let s = login().await;

    let stats = expect_reply!(
        &s,
        ReadCommand::ShowStats {
            job_id: id.clone(),
            target_type: TargetType::Server,
            targets: vec![],
        },
        Reply::SiteMap
    );
    let sag = &stats["server"]["ScatterAndGather"];
    assert!(sag["current_round"].is_number(), "{stats:?}");
    assert_eq!(sag["num_rounds"], 500, "{stats:?}");

    let client_stats = expect_reply!(
        &s,
        ReadCommand::ShowStats {
            job_id: id.clone(),
            target_type: TargetType::Client,
            targets: vec!["site-1".to_owned()],
        },
        Reply::SiteMap
    );
    assert!(client_stats.contains_key("site-1"), "{client_stats:?}");

    expect_reply!(
        &s,
        ReadCommand::ShowErrors {
            job_id: id.clone(),
            target_type: TargetType::All,
            targets: vec![],
        },
        Reply::SiteMap
    );
    assert_eq!(
        run(&s, MutateCommand::ResetErrors { job_id: id.clone() })
            .await
            .unwrap(),
        Reply::Done
    );

    for target in ["all", "server", "site-1"] {
        let r = configure_job_log(&s, &id, "DEBUG", target).await;
        assert_eq!(r, Ok(Reply::Done), "configure_job_log {target}");
    }
    let r = configure_job_log(&s, &id, "concise", "all").await;
    assert_eq!(r, Ok(Reply::Done));

    // hello-numpy registers no app command handler: the server answers meta status "error",
    // which the FLARE API raises as InternalError("error: <info>").
    assert_err!(
        run(
            &s,
            MutateCommand::DoAppCommand {
                job_id: id.clone(),
                topic: "no_such_topic".to_owned(),
                cmd_data: serde_json::json!({"x": 1}),
            },
        )
        .await,
        FlareError::InternalError { message }
            if message.starts_with("error:") && message.contains("no app command func")
    );

    // Waiting with a short timeout times out while the job runs.
    assert_err!(
        run(
            &s,
            ReadCommand::WaitForJob {
                job_id: id.clone(),
                timeout: 1.0,
                poll_interval: 0.2,
            },
        )
        .await,
        FlareError::JobTimeout { .. }
    );
    let Reply::Monitor { code, meta } = run(
        &s,
        ReadCommand::MonitorJob {
            job_id: id.clone(),
            timeout: 1.0,
            poll_interval: 0.2,
        },
    )
    .await
    .unwrap() else {
        panic!("monitor_job is not a monitor reply");
    };
    assert_eq!(code, MonitorReturnCode::Timeout);
    assert_eq!(meta.status, "RUNNING");
    assert_err!(
        run(
            &s,
            ReadCommand::MonitorJob {
                job_id: id.clone(),
                timeout: 1.0,
                poll_interval: 0.0,
            },
        )
        .await,
        FlareError::InvalidArgument { .. }
    );
    release_running_job(&s, &id).await;
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_job_returns_the_final_meta_and_log_config_needs_a_running_job() {
    let s = login().await;
    let id = submit_copy(&s, "hello-numpy", 1, 0.0).await;
    let meta = expect_reply!(
        &s,
        ReadCommand::WaitForJob {
            job_id: id.clone(),
            timeout: 180.0,
            poll_interval: 0.5,
        },
        Reply::JobMeta
    );
    assert_eq!(meta.job_id, id);
    assert!(meta.status.starts_with("FINISHED"), "{}", meta.status);
    let Reply::Monitor { code, .. } = run(
        &s,
        ReadCommand::MonitorJob {
            job_id: id.clone(),
            timeout: 0.0,
            poll_interval: 0.5,
        },
    )
    .await
    .unwrap() else {
        panic!("monitor_job is not a monitor reply");
    };
    assert_eq!(code, MonitorReturnCode::JobFinished);

    let err = run(
        &s,
        MutateCommand::ConfigureJobLog {
            job_id: id.clone(),
            config: "DEBUG".into(),
            target: "all".to_owned(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            FlareError::InternalError { .. } | FlareError::JobNotRunning { .. }
        ),
        "configure_job_log on a finished job: {err:?}"
    );
    run(&s, delete(&id)).await.unwrap();
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_logs_per_target_with_python_filters_and_unavailable_sites() {
    let id = finished_job().await.to_owned();
    let s = login().await;
    let logs = |target: &str, tail: Option<u32>, grep: Option<&str>| {
        let c = ReadCommand::GetJobLogs {
            job_id: id.clone(),
            target: target.to_owned(),
            tail_lines: tail,
            grep_pattern: grep.map(str::to_owned),
            log_file_name: None,
        };
        let s = &s;
        async move {
            match run(s, c).await {
                Ok(Reply::Logs(l)) => Ok(l),
                Ok(other) => panic!("get_job_logs gave {other:?}"),
                Err(e) => Err(e),
            }
        }
    };
    // Without client log streaming (the POC default) the sites' logs are not on the server: `all`
    // returns the server's, and a named site comes back as unavailable with the server's reason.
    let all = logs("all", None, None).await.unwrap();
    assert!(all.logs.contains_key("server"), "{all:?}");
    let server = logs("server", None, None).await.unwrap();
    let full = &server.logs["server"];
    assert!(full.lines().count() > 5, "{full}");

    let tail = logs("server", Some(3), None).await.unwrap();
    let expected: String = full
        .split_inclusive('\n')
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert_eq!(tail.logs["server"], expected, "the last 3 lines, as sent");

    let grep = logs("server", None, Some("ScatterAndGather"))
        .await
        .unwrap();
    assert!(
        !grep.logs["server"].is_empty()
            && grep.logs["server"]
                .lines()
                .all(|l| l.contains("ScatterAndGather")),
        "{grep:?}"
    );

    let one = logs("site-1", None, None).await.unwrap();
    assert!(
        one.logs.contains_key("site-1")
            || one
                .unavailable
                .get("site-1")
                .is_some_and(|r| r.contains("not available")),
        "{one:?}"
    );
    assert!(!one.logs.contains_key("server"), "only the asked site");

    match logs("no-such-site", None, None).await {
        Ok(l) => assert!(
            l.logs.is_empty() && !l.unavailable.is_empty(),
            "an unknown site is unavailable: {l:?}"
        ),
        Err(e) => assert!(matches!(e, FlareError::InvalidTarget { .. }), "got {e:?}"),
    }
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configure_site_log_accepts_levels_and_modes_only() {
    let s = login().await;
    for (config, target) in [("INFO", "all"), ("concise", "server"), ("20", "site-1")] {
        let r = run(
            &s,
            MutateCommand::ConfigureSiteLog {
                config: config.into(),
                target: target.to_owned(),
            },
        )
        .await;
        assert_eq!(r, Ok(Reply::Done), "configure_site_log {config} {target}");
    }
    assert_err!(
        run(
            &s,
            MutateCommand::ConfigureSiteLog {
                config: serde_json::json!({"version": 1}),
                target: "all".to_owned(),
            },
        )
        .await,
        FlareError::InvalidArgument { .. }
    );
    assert_err!(
        run(
            &s,
            MutateCommand::ConfigureSiteLog {
                config: "LOUD".into(),
                target: "all".to_owned(),
            },
        )
        .await,
        FlareError::InvalidArgument { .. }
    );
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_dir_lists_job_folders_and_submit_job_resolves_bare_names_there() {
    let poc = poc().await;
    let kit = AdminKit::load(poc.admin_kit(ADMIN)).unwrap();
    let name = format!("hj-{}", uuid_like());
    let folder = hello_numpy_copy(kit.upload_dir(), &name, 200, 1.0);
    let s = Session::login(&kit, "default").await.unwrap();
    let names = expect_reply!(&s, ReadCommand::GetAvailableAppsToUpload, Reply::Names);
    assert!(names.contains(&name), "{names:?}");
    let id = s.submit_job(Path::new(&name), None).await;
    std::fs::remove_dir_all(&folder).unwrap();
    let id = id.expect("a bare name resolves under the upload dir");
    assert_eq!(job_meta(&s, &id).await.unwrap().name, "hello-numpy");
    abort_and_delete(&s, &id).await;
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_commands_read_the_server_and_site_workspaces() {
    let s = login().await;
    let text = |c: ReadCommand| {
        let s = &s;
        async move {
            match run(s, c).await {
                Ok(Reply::Text(t)) => t,
                other => panic!("shell command gave {other:?}"),
            }
        }
    };
    for target in ["server", "site-1"] {
        let pwd = text(ReadCommand::GetWorkingDirectory {
            target: target.to_owned(),
        })
        .await;
        assert!(pwd.contains('/'), "{target}: {pwd:?}");
        let ls = text(ReadCommand::LsTarget {
            target: target.to_owned(),
            options: Some("-a".to_owned()),
            path: None,
        })
        .await;
        assert!(ls.contains("log.txt"), "{target}: {ls}");
        let tail = text(ReadCommand::TailTargetLog {
            target: target.to_owned(),
            options: Some("-n 5".to_owned()),
        })
        .await;
        assert!(
            !tail.is_empty() && tail.lines().count() <= 6,
            "{target}: {tail}"
        );
        let head = text(ReadCommand::HeadTarget {
            target: target.to_owned(),
            options: None,
            file: "log.txt".to_owned(),
        })
        .await;
        assert!(!head.is_empty(), "{target}");
        let grep = text(ReadCommand::GrepTarget {
            target: target.to_owned(),
            options: Some("-i".to_owned()),
            pattern: "info".to_owned(),
            file: "log.txt".to_owned(),
        })
        .await;
        assert!(grep.to_lowercase().contains("info"), "{target}: {grep}");
    }
    let cat = text(ReadCommand::CatTarget {
        target: "server".to_owned(),
        options: None,
        file: "startup/fed_server.json".to_owned(),
    })
    .await;
    assert!(cat.contains("servers"), "{cat}");
    for bad in [
        ReadCommand::CatTarget {
            target: "server".to_owned(),
            options: None,
            file: "../etc/passwd.txt".to_owned(),
        },
        ReadCommand::CatTarget {
            target: "server".to_owned(),
            options: None,
            file: "startup/server.key".to_owned(),
        },
        ReadCommand::LsTarget {
            target: "server; rm".to_owned(),
            options: None,
            path: None,
        },
    ] {
        let err = run(&s, bad.clone()).await.unwrap_err();
        assert!(
            matches!(err, FlareError::InvalidArgument { .. }),
            "{bad:?}: {err:?}"
        );
    }
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn study_commands_reach_the_server_and_map_in_band_errors() {
    let s = login().await;
    let study = format!("hj{}", std::process::id());
    let r = run(
        &s,
        MutateCommand::RegisterStudy {
            study: study.clone(),
            sites: SiteSelection::SiteOrgs(vec!["nvidia:site-1".to_owned()]),
        },
    )
    .await;
    match r {
        Ok(Reply::Study(d)) => {
            assert_eq!(d.name, study);
            let site_2 = || SiteSelection::SiteOrgs(vec!["nvidia:site-2".to_owned()]);
            let lead = || "lead@nvidia.com".to_owned();
            // Each step and the kind of reply it must give.
            type IsExpected = fn(&Reply) -> bool;
            let steps: [(MutateCommand, IsExpected); 4] = [
                (
                    MutateCommand::AddStudySite {
                        study: study.clone(),
                        sites: site_2(),
                    },
                    |r| matches!(r, Reply::StudySites(_)),
                ),
                (
                    MutateCommand::AddStudyUser {
                        study: study.clone(),
                        user: lead(),
                    },
                    |r| matches!(r, Reply::StudyUser(_)),
                ),
                (
                    MutateCommand::RemoveStudyUser {
                        study: study.clone(),
                        user: lead(),
                    },
                    |r| matches!(r, Reply::StudyUser(_)),
                ),
                (
                    MutateCommand::RemoveStudySite {
                        study: study.clone(),
                        sites: site_2(),
                    },
                    |r| matches!(r, Reply::StudySites(_)),
                ),
            ];
            for (command, expected) in steps {
                let r = run(&s, command.clone()).await.unwrap();
                assert!(expected(&r), "{command:?}: {r:?}");
            }
            let r = run(
                &s,
                MutateCommand::RemoveStudy {
                    study: study.clone(),
                },
            )
            .await
            .unwrap();
            assert_eq!(
                r,
                Reply::StudyRemoved {
                    name: study.clone(),
                    removed: true
                }
            );
        }
        // A POC without a study registry refuses study mutations in-band.
        Err(FlareError::CommandError { error_code, .. }) => {
            assert!(!error_code.is_empty());
        }
        other => panic!("register_study gave {other:?}"),
    }
    assert_err!(
        run(
            &s,
            MutateCommand::RegisterStudy {
                study: String::new(),
                sites: SiteSelection::Sites(vec!["site-1".to_owned()]),
            },
        )
        .await,
        FlareError::InvalidArgument { .. }
    );
    assert_err!(
        run(
            &s,
            MutateCommand::RemoveStudy {
                study: "no-such-study".to_owned(),
            },
        )
        .await,
        FlareError::CommandError { .. }
    );
    s.close().await;
}
