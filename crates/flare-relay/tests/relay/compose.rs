//! The composer's endpoints: the catalog and the starting points for operators and viewers (not
//! kiosks); preview, zip and
//! stored job (then submitted by upload id) for operators only, each refusal with its reason —
//! a viewer (403, audited), a missing Origin (403), a bad composition (400 with flare-job's
//! message), a composition past the upload limit (413) — and clone-and-edit of an uploaded job.

use std::path::{Path, PathBuf};

use flare_job::compose::{ComposedFile, Composition};
use flare_job::{FedAvgPattern, JobObject, ScriptRunner, Step, ToOptions};
use flare_model::{MutateCommand, Reply, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::support::{OPERATOR, TestRelay, VIEWER, zip_of};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The numpy FedAvg pattern with its training script uploaded.
fn fedavg() -> Composition {
    let mut p = FedAvgPattern::new("compose-test", 2, "train.py");
    p.model = Some(json!([[1.0, 2.0]]));
    p.num_rounds = 3;
    let mut c = Composition::of_job(&p.build().expect("pattern"));
    let script = std::fs::read(repo().join("jobs/scripts/train_numpy.py")).expect("script");
    c.files.push(ComposedFile::new("train.py", &script));
    c
}

fn body(c: &Composition) -> Value {
    serde_json::to_value(c).expect("composition json")
}

#[tokio::test]
async fn the_catalog_and_the_starts_serve_any_login() {
    let relay = TestRelay::start_with(|c| c.job_library = Some(repo().join("jobs"))).await;
    let (status, _) = relay.get("/api/job-catalog", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let viewer = relay.login(VIEWER).await;
    let (status, catalog) = relay.get("/api/job-catalog", Some(&viewer)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(catalog["nvflare_version"], "2.9.0");
    assert!(catalog["classes"].as_array().expect("classes").len() > 50);
    let (status, starts) = relay.get("/api/compose/starts", Some(&viewer)).await;
    assert_eq!(status, StatusCode::OK, "{starts}");
    let keys: Vec<&str> = starts
        .as_array()
        .expect("starts")
        .iter()
        .filter_map(|s| s["key"].as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "empty",
            "pattern:fedavg",
            "pattern:scatter_and_gather",
            "pattern:cyclic",
            "library:hello-numpy"
        ]
    );
    // Every built-in start exports once its script is uploaded.
    for start in &starts.as_array().expect("starts")[1..4] {
        let mut c: Composition =
            serde_json::from_value(start["composition"].clone()).expect("a composition");
        c.files.push(ComposedFile::new("train.py", b"print(1)\n"));
        assert!(c.export().is_ok(), "{}", start["key"]);
    }
    let hello = &starts[4]["composition"]["job"];
    assert_eq!(hello["name"], "hello-numpy");
    assert_eq!(hello["steps"][0]["target"], "server");
}

#[tokio::test]
async fn kiosk_screens_get_neither_the_catalog_nor_the_starts() {
    let relay = TestRelay::start().await;
    let operator = relay.login(OPERATOR).await;
    let (status, created) = relay
        .api(
            Method::POST,
            "/api/kiosk-tokens",
            Some(&operator),
            Some(json!({"label": "Lobby", "expires_in_secs": 600})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let url = created["url"].as_str().expect("kiosk url");
    let secret = url.split("token=").nth(1).expect("the secret");
    let (_, _, kiosk) = relay.kiosk_login(secret).await;
    let kiosk = kiosk.expect("kiosk cookie");
    for path in ["/api/job-catalog", "/api/compose/starts"] {
        let (status, body) = relay.get(path, Some(&kiosk)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|m| m.starts_with("kiosk screens show the wall only")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_operator_previews_downloads_and_submits_a_composition() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let c = fedavg();
    let (status, preview) = relay
        .api(
            Method::POST,
            "/api/compose/preview",
            Some(&cookie),
            Some(body(&c)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let paths: Vec<&str> = preview["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "meta.json",
            "app/config/config_fed_client.json",
            "app/config/config_fed_server.json",
            "app/custom/train.py"
        ]
    );
    let meta: Value =
        serde_json::from_str(preview["files"][0]["text"].as_str().expect("text")).expect("meta");
    assert_eq!(meta["deploy_map"], json!({"app": ["@ALL"]}));

    let zip = reqwest::Client::new()
        .post(relay.url("/api/compose/zip"))
        .header("cookie", &cookie)
        .header("origin", relay.origin())
        .json(&body(&c))
        .send()
        .await
        .expect("zip");
    assert_eq!(zip.status(), StatusCode::OK);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let bytes = zip.bytes().await.expect("zip bytes");
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut names: Vec<&str> = archive.file_names().collect();
    names.sort();
    assert_eq!(names[0], "compose-test/app/config/config_fed_client.json");
    assert_eq!(names.len(), 4);

    let (status, uploaded) = relay
        .api(Method::POST, "/api/compose", Some(&cookie), Some(body(&c)))
        .await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    assert_eq!(uploaded["folder_name"], "compose-test");
    assert_eq!(uploaded["files"], 4);
    let entries = relay.work_entries();
    assert!(
        entries
            .iter()
            .any(|e| e.ends_with("job/compose-test/app/custom/train.py")),
        "{entries:?}"
    );
    let audit = relay.audit_lines();
    let commands: Vec<&str> = audit.iter().filter_map(|a| a["command"].as_str()).collect();
    assert_eq!(commands, ["compose_zip", "compose_job"]);

    // The stored job is submitted like any upload.
    let mut tab = relay.tab_for(&cookie).await;
    let upload_id = uploaded["upload_id"]
        .as_str()
        .expect("upload id")
        .to_owned();
    tab.command(
        7,
        MutateCommand::SubmitJob {
            upload_id,
            submit_token: Some("compose-1".into()),
        },
    )
    .await;
    match tab.reply(7).await {
        ServerFrame::Ok {
            ok: Reply::JobId(id),
            ..
        } => assert!(!id.is_empty()),
        other => panic!("submit_job answered {other:?}"),
    }
}

#[tokio::test]
async fn bad_compositions_are_refused_with_flare_jobs_message() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let mut c = fedavg();
    c.job.steps.push(Step::To {
        target: "server".into(),
        object: JobObject::ScriptRunner(ScriptRunner::new("train.py")),
        options: ToOptions::default(),
    });
    let cases = [
        (
            body(&c),
            "ScriptRunner is an executor and cannot run on the server",
        ),
        (
            body(&Composition::empty("empty", 1)),
            "no controller on the server",
        ),
        (
            json!({"job": {"name": "x"}, "files": 3}),
            "a composition is",
        ),
    ];
    for path in ["/api/compose", "/api/compose/preview", "/api/compose/zip"] {
        for (body, want) in &cases {
            let (status, answer) = relay
                .api(Method::POST, path, Some(&cookie), Some(body.clone()))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
            let message = answer["error"].as_str().expect("error");
            assert!(
                message.contains(want),
                "{path}: want {want:?} in {message:?}"
            );
        }
    }
    assert_eq!(relay.work_entries(), Vec::<String>::new());
}

#[tokio::test]
async fn viewers_and_requests_without_origin_are_refused() {
    let relay = TestRelay::start().await;
    let viewer = relay.login(VIEWER).await;
    let operator = relay.login(OPERATOR).await;
    for path in ["/api/compose", "/api/compose/preview", "/api/compose/zip"] {
        let (status, answer) = relay
            .api(Method::POST, path, Some(&viewer), Some(body(&fedavg())))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|m| m.starts_with("viewers cannot compose jobs")),
            "{answer}"
        );
        let status = reqwest::Client::new()
            .post(relay.url(path))
            .header("cookie", &operator)
            .json(&body(&fedavg()))
            .send()
            .await
            .expect("post")
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} without an Origin");
    }
    let audit = relay.audit_lines();
    assert_eq!(audit.len(), 3, "{audit:?}");
    assert!(
        audit
            .iter()
            .all(|a| a["outcome"] == "refused" && a["user"] == VIEWER)
    );
}

#[tokio::test]
async fn a_composition_past_the_upload_limit_is_refused() {
    let relay = TestRelay::start_with(|c| c.limits.max_upload_bytes = 4096).await;
    let cookie = relay.login(OPERATOR).await;
    let mut c = fedavg();
    c.files
        .push(ComposedFile::new("data.bin", &vec![7u8; 8192]));
    let (status, _) = relay
        .api(Method::POST, "/api/compose", Some(&cookie), Some(body(&c)))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(relay.work_entries(), Vec::<String>::new());
}

#[tokio::test]
async fn an_uploaded_job_is_imported_for_editing() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let dir = repo().join("jobs/hello-numpy");
    let read = |p: &str| std::fs::read(dir.join(p)).expect("library file");
    let (meta, server, client) = (
        read("meta.json"),
        read("app/config/config_fed_server.json"),
        read("app/config/config_fed_client.json"),
    );
    let zip = zip_of(&[
        ("hello-numpy/meta.json", &meta),
        ("hello-numpy/app/config/config_fed_server.json", &server),
        ("hello-numpy/app/config/config_fed_client.json", &client),
        ("hello-numpy/app/custom/helper.py", b"x = 1\n"),
    ]);
    let upload_id = relay.upload_zip(&cookie, zip).await;
    let (status, c) = relay
        .get(
            &format!("/api/compose/import?upload={upload_id}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let c: Composition = serde_json::from_value(c).expect("a composition");
    assert_eq!(c.job.name, "hello-numpy");
    assert_eq!(c.file_paths(), ["helper.py"]);
    assert!(c.export().is_ok());
    // A job without a deploy map says so.
    let bad = relay.upload_zip(&cookie, super::support::job_zip()).await;
    let (status, answer) = relay
        .get(&format!("/api/compose/import?upload={bad}"), Some(&cookie))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]
            .as_str()
            .expect("error")
            .contains("deploy_map"),
        "{answer}"
    );
    let viewer = relay.login(VIEWER).await;
    let (status, _) = relay
        .get(
            &format!("/api/compose/import?upload={upload_id}"),
            Some(&viewer),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
