//! End-to-end tests of every job operation from the browser: upload and submit, download, clone,
//! abort, delete, a refused path-traversal upload, a retried submission and live logs — against a
//! real NVFlare POC, the real relay binary and headless Chromium. Nothing is mocked.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, Locator};
use flare_e2e::{
    ADMIN, AbortOnDrop, Deadline, OPERATOR, Relay, click_css, click_xpath, command, current_path,
    mark_page, not_reloaded, open_ws, poc, screenshot, session_cookie, sign_in, submit_hello_numpy,
    upload_zip, wait_css, wait_xpath, with_browser,
};
use flare_model::{Reply, ServerFrame};
use flare_poc::Poc;
use serde_json::json;

const COMPLETED: &str = "FINISHED:COMPLETED";
const ABORTED: &str = "FINISHED:ABORTED";
/// Long enough for a hello-numpy job on a busy 2-core machine shared with other POC users.
const JOB_LIMIT: Duration = Duration::from_secs(300);
const PAGE_LIMIT: Duration = Duration::from_secs(60);
/// The job status on the job page.
const STATUS_BADGE: &str = "#job-meta .status[data-status]";

// --- helpers -------------------------------------------------------------------------------------

/// A fresh folder for one test's files under cargo's per-target scratch dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("e2e-jobs")
            .join(format!("{name}-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("clear the scratch dir");
        }
        std::fs::create_dir_all(&dir).expect("create the scratch dir");
        Scratch(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a Python snippet with the project's venv (nvflare 2.9 installed); returns its stdout.
async fn python(code: &'static str, args: Vec<String>) -> String {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(Poc::venv_python())
            .arg("-c")
            .arg(code)
            .args(&args)
            .output()
            .expect("run the venv python");
        assert!(
            out.status.success(),
            "python snippet failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    })
    .await
    .expect("python task")
}

/// Zips `jobs/hello-numpy` into `dest` as `hello-numpy/...` with `num_rounds` and `sleep_time`
/// patched in, plus `extra` entries written verbatim (name, text) at the end.
async fn zip_hello_numpy(dest: &Path, num_rounds: u32, sleep_time: f64, extra: &[(&str, &str)]) {
    const CODE: &str = r#"
import json, os, sys, zipfile
src, dest, rounds, sleep, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), json.loads(sys.argv[5])
with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk(src):
        for f in sorted(files):
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            data = open(path, "rb").read()
            if rel.endswith("config_fed_server.json"):
                cfg = json.loads(data)
                for wf in cfg["workflows"]:
                    wf["args"]["num_rounds"] = rounds
                data = json.dumps(cfg, indent=2).encode()
            if rel.endswith("config_fed_client.json"):
                cfg = json.loads(data)
                for ex in cfg["executors"]:
                    ex["executor"]["args"]["sleep_time"] = sleep
                data = json.dumps(cfg, indent=2).encode()
            z.writestr("hello-numpy/" + rel, data)
    for name, text in extra:
        z.writestr(zipfile.ZipInfo(name), text)
"#;
    let extra = serde_json::to_string(extra).expect("extra entries as json");
    python(
        CODE,
        vec![
            Poc::hello_numpy_dir().display().to_string(),
            dest.display().to_string(),
            num_rounds.to_string(),
            sleep_time.to_string(),
            extra,
        ],
    )
    .await;
}

/// The entry names of the zip file at `path`.
async fn zip_names(path: &Path) -> Vec<String> {
    const CODE: &str = r#"
import json, sys, zipfile
print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))
"#;
    let out = python(CODE, vec![path.display().to_string()]).await;
    serde_json::from_str(out.trim()).expect("zip names as json")
}

/// What nvflare's own FLARE API says about `job_id`: whether `list_jobs` lists it and what
/// `get_job_meta` answers (`"status:<status>"`, or `"missing:<exception class>"` when it raises).
async fn nvflare_sees(poc: &'static Poc, job_id: &str) -> (bool, String) {
    const CODE: &str = r#"
import json, sys
from nvflare.fuel.flare_api.flare_api import new_secure_session
user, kit, job_id = sys.argv[1], sys.argv[2], sys.argv[3]
s = new_secure_session(user, kit, timeout=30)
try:
    listed = any(j.get("job_id") == job_id for j in s.list_jobs())
    try:
        meta = s.get_job_meta(job_id)
        seen = "status:" + str(meta.get("status")) if meta else "missing:empty"
    except Exception as e:
        seen = "missing:" + type(e).__name__
finally:
    s.close()
print(json.dumps([listed, seen]))
"#;
    let out = python(
        CODE,
        vec![
            ADMIN.to_owned(),
            poc.admin_kit(ADMIN).display().to_string(),
            job_id.to_owned(),
        ],
    )
    .await;
    // The FLARE API prints its own progress ("Connecting to FLARE ...") first.
    let last = out.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("list/meta as json: {e}: {out}"))
}

/// A relay with the repo's job library and its own `work_dir` (`<scratch>/work`).
async fn jobs_relay(name: &str, poc: &'static Poc) -> (Relay, Scratch) {
    let root = Scratch::new(&format!("relay-{name}"));
    let work = root.join("work");
    std::fs::create_dir_all(&work).expect("create the relay work dir");
    let library = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs");
    let relay = Relay::start_with(
        name,
        poc,
        vec![("job_library", json!(library)), ("work_dir", json!(work))],
    )
    .await;
    (relay, root)
}

/// Signs in and waits until the console left the login page.
async fn sign_in_operator(client: &Client, base: &str) {
    sign_in(client, base, OPERATOR).await;
    let deadline = Deadline::new("the console to leave /login", PAGE_LIMIT);
    loop {
        let path = current_path(client).await;
        if path != "/login" {
            break;
        }
        deadline.tick(path).await;
    }
}

/// An attribute of the first element matching `css`, if both exist.
async fn attr(client: &Client, css: &str, name: &str) -> Option<String> {
    let el = client.find(Locator::Css(css)).await.ok()?;
    el.attr(name).await.ok().flatten()
}

/// The job status shown on the job page.
async fn status_on_screen(client: &Client) -> Option<String> {
    attr(client, STATUS_BADGE, "data-status").await
}

/// Waits until the job page shows a status for which `done` holds; returns it.
async fn wait_status(
    client: &Client,
    what: &'static str,
    limit: Duration,
    done: impl Fn(&str) -> bool,
) -> String {
    let deadline = Deadline::new(what, limit);
    loop {
        match status_on_screen(client).await {
            Some(s) if done(&s) => return s,
            seen => deadline.tick(seen).await,
        }
    }
}

/// Waits for the path to become `/jobs/<id>` (not `except`) and returns the id.
async fn wait_job_path(client: &Client, except: Option<&str>) -> String {
    let deadline = Deadline::new("the page to land on a job page", PAGE_LIMIT);
    loop {
        let path = current_path(client).await;
        if let Some(id) = path.strip_prefix("/jobs/")
            && !id.is_empty()
            && !id.contains('/')
            && Some(id) != except
        {
            return id.to_owned();
        }
        deadline.tick(path).await;
    }
}

/// The first element matching `css` once it is enabled.
async fn wait_enabled(client: &Client, css: &str) -> fantoccini::elements::Element {
    let el = wait_css(client, css, PAGE_LIMIT).await;
    let deadline = Deadline::new("a button to be enabled", PAGE_LIMIT);
    loop {
        if el.is_enabled().await.unwrap_or(false) {
            return el;
        }
        deadline.tick((css, attr(client, css, "title").await)).await;
    }
}

/// Records, from now on, every `<progress>` the page shows (`window.__progress[id]` = list of
/// `[value, max]`) and every blob it offers as a download (`window.__blobs`), so short-lived
/// bars and saved files can be checked afterwards.
async fn record_page(client: &Client) {
    client
        .execute(
            r#"
window.__progress = {};
window.__blobs = [];
const note = (el) => {
  if (el && el.tagName === "PROGRESS" && el.id) {
    (window.__progress[el.id] ||= []).push([el.getAttribute("value"), el.getAttribute("max")]);
  }
};
new MutationObserver((records) => {
  for (const r of records) {
    note(r.target);
    for (const n of r.addedNodes) {
      note(n);
      if (n.querySelectorAll) n.querySelectorAll("progress").forEach(note);
    }
  }
}).observe(document.body, { subtree: true, childList: true, attributes: true });
const create = URL.createObjectURL;
URL.createObjectURL = function (b) { window.__blobs.push(b); return create.call(URL, b); };
"#,
            vec![],
        )
        .await
        .expect("install the page recorder");
}

/// The `[value, max]` pairs recorded for `progress#id`.
async fn recorded_progress(client: &Client, id: &str) -> Vec<(f64, f64)> {
    let v = client
        .execute(
            "return (window.__progress || {})[arguments[0]] || [];",
            vec![json!(id)],
        )
        .await
        .expect("read the recorded progress");
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| {
            let num = |i: usize| pair.get(i)?.as_str()?.parse::<f64>().ok();
            Some((num(0).unwrap_or(0.0), num(1)?))
        })
        .collect()
}

async fn assert_not_reloaded(client: &Client) {
    assert!(not_reloaded(client).await, "the page reloaded");
}

/// Opens `/submit` and picks `zip` with the page's zip picker.
async fn pick_zip_on_submit_page(client: &Client, base: &str, zip: &Path) {
    client
        .goto(&format!("{base}/submit"))
        .await
        .expect("open /submit");
    mark_page(client).await;
    let input = wait_css(client, "input#pick-zip", PAGE_LIMIT).await;
    input
        .send_keys(&zip.display().to_string())
        .await
        .expect("choose the zip in #pick-zip");
    let file = zip.file_name().unwrap().to_string_lossy().into_owned();
    let deadline = Deadline::new("the page to show the chosen zip", PAGE_LIMIT);
    loop {
        let text = match client.find(Locator::Css("#picked")).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(&file) {
            break;
        }
        deadline.tick(text).await;
    }
}

/// Opens the job page of `job_id` and waits for its meta.
async fn open_job_page(client: &Client, base: &str, job_id: &str) {
    client
        .goto(&format!("{base}/jobs/{job_id}"))
        .await
        .expect("open the job page");
    wait_css(client, "dl#job-meta", PAGE_LIMIT).await;
}

/// A finished hello-numpy job (2 quick rounds), submitted with nvflare's Python client.
async fn finished_job(poc: &'static Poc) -> String {
    submit_hello_numpy(poc, 2, 0.0).await
}

// --- tests ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zip_uploaded_on_the_submit_page_runs_with_live_rounds_and_completes_on_screen() {
    let poc = poc().await;
    let (relay, _work) = jobs_relay("upload", poc).await;
    let files = Scratch::new("upload-zip");
    let zip = files.join("hello-numpy.zip");
    // Six slow rounds, so the round bar is seen moving.
    zip_hello_numpy(&zip, 6, 2.0, &[]).await;
    let base = relay.base.clone();
    with_browser("jobs-upload", |client| async move {
        sign_in_operator(&client, &base).await;
        pick_zip_on_submit_page(&client, &base, &zip).await;
        record_page(&client).await;
        wait_enabled(&client, "button#submit-upload")
            .await
            .click()
            .await
            .expect("click Upload and submit");

        let job_id = wait_job_path(&client, None).await;
        let _abort = AbortOnDrop::new(poc, &job_id);
        let uploads = recorded_progress(&client, "upload-progress").await;
        assert!(!uploads.is_empty(), "#upload-progress never appeared");

        wait_css(&client, "dl#job-meta", PAGE_LIMIT).await;
        let deadline = Deadline::new("the uploaded job to finish on screen", JOB_LIMIT);
        let mut rounds = BTreeSet::new();
        let status = loop {
            if let Some(v) = attr(&client, "progress#round-progress", "value").await {
                rounds.insert(v);
            }
            match status_on_screen(&client).await {
                Some(s) if s.starts_with("FINISHED") => break s,
                seen => deadline.tick((seen, &rounds)).await,
            }
        };
        screenshot(&client, "jobs-upload-finished").await;
        assert_eq!(status, COMPLETED, "status of uploaded job {job_id}");
        assert!(
            rounds.len() >= 2,
            "#round-progress should advance while the job runs; saw values {rounds:?}"
        );
        assert_not_reloaded(&client).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_downloaded_from_the_job_page_is_a_zip_of_the_server_workspace() {
    let poc = poc().await;
    let relay = Relay::start("download", poc).await;
    let job_id = finished_job(poc).await;
    let files = Scratch::new("download");
    let saved = files.join("result.zip");
    let base = relay.base.clone();
    let id = job_id.clone();
    let file = saved.clone();
    with_browser("jobs-download", |client| async move {
        sign_in_operator(&client, &base).await;
        open_job_page(&client, &base, &id).await;
        let status = wait_status(&client, "the job to finish", JOB_LIMIT, |s| {
            s.starts_with("FINISHED")
        })
        .await;
        assert_eq!(status, COMPLETED);
        record_page(&client).await;
        wait_enabled(&client, "button#action-download-result")
            .await
            .click()
            .await
            .expect("click Download result");
        let deadline = Deadline::new("the download to be saved", JOB_LIMIT);
        loop {
            let tone = attr(&client, "#action-status", "data-tone").await;
            match tone.as_deref() {
                Some("Ok") => {
                    let text = wait_css(&client, "#action-status", PAGE_LIMIT)
                        .await
                        .text()
                        .await
                        .unwrap_or_default();
                    assert!(
                        text.contains(&format!("{id}.zip")),
                        "the status names the saved file: {text}"
                    );
                    break;
                }
                Some("Error" | "Warn") => panic!(
                    "the download failed: {}",
                    wait_css(&client, "#action-status", PAGE_LIMIT)
                        .await
                        .text()
                        .await
                        .unwrap_or_default()
                ),
                _ => deadline.tick(tone).await,
            }
        }
        let bars = recorded_progress(&client, "download-progress").await;
        assert!(
            bars.iter().any(|&(value, max)| max > 1.0 && value >= max),
            "#download-progress should reach its max; saw {bars:?}"
        );
        // The bytes the page offered as the saved file.
        let bytes = client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
const b = window.__blobs[window.__blobs.length - 1];
b.arrayBuffer().then((a) => done(Array.from(new Uint8Array(a))));"#,
                vec![],
            )
            .await
            .expect("read the saved blob");
        let bytes: Vec<u8> = serde_json::from_value(bytes).expect("blob bytes");
        std::fs::write(&file, bytes).expect("write the downloaded zip");
        screenshot(&client, "jobs-download").await;
    })
    .await;
    // NVFlare 2.9's download_job holds only the server's run workspace, not the sites'.
    let names = zip_names(&saved).await;
    assert!(
        names.contains(&format!("{job_id}/meta.json")),
        "no meta.json in {names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with(&format!("{job_id}/workspace/"))),
        "no server workspace entries in {names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_from_the_job_page_opens_the_new_job() {
    let poc = poc().await;
    let relay = Relay::start("clone", poc).await;
    let job_id = finished_job(poc).await;
    let base = relay.base.clone();
    with_browser("jobs-clone", |client| async move {
        sign_in_operator(&client, &base).await;
        open_job_page(&client, &base, &job_id).await;
        wait_status(&client, "the job to finish", JOB_LIMIT, |s| {
            s.starts_with("FINISHED")
        })
        .await;
        mark_page(&client).await;
        wait_enabled(&client, "button#action-clone")
            .await
            .click()
            .await
            .expect("click Clone");
        let new_id = wait_job_path(&client, Some(&job_id)).await;
        let _abort = AbortOnDrop::new(poc, &new_id);
        assert_ne!(new_id, job_id);
        let meta = wait_css(&client, "dl#job-meta", PAGE_LIMIT).await;
        let deadline = Deadline::new("the clone's meta on its page", PAGE_LIMIT);
        loop {
            let text = meta.text().await.unwrap_or_default();
            if text.contains(&new_id) {
                break;
            }
            deadline.tick(text).await;
        }
        assert_not_reloaded(&client).await;
        screenshot(&client, "jobs-clone").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_confirmed_in_the_dialog_ends_the_job_aborted_on_screen() {
    let poc = poc().await;
    let relay = Relay::start("abort", poc).await;
    let job_id = submit_hello_numpy(poc, 200, 1.0).await;
    let _abort = AbortOnDrop::new(poc, &job_id);
    let base = relay.base.clone();
    with_browser("jobs-abort", |client| async move {
        sign_in_operator(&client, &base).await;
        open_job_page(&client, &base, &job_id).await;
        wait_status(&client, "the job to run", JOB_LIMIT, |s| s == "RUNNING").await;
        wait_enabled(&client, "button#action-abort")
            .await
            .click()
            .await
            .expect("click Abort");
        wait_css(&client, "dialog#abort-dialog[open]", PAGE_LIMIT).await;
        click_xpath(
            &client,
            "//dialog[@id='abort-dialog']//button[normalize-space(.)='Abort job']",
            PAGE_LIMIT,
        )
        .await;
        let status = wait_status(&client, "the job to end", JOB_LIMIT, |s| {
            s.starts_with("FINISHED")
        })
        .await;
        screenshot(&client, "jobs-aborted").await;
        assert_eq!(status, ABORTED);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_needs_the_typed_id_and_removes_the_job_from_nvflare() {
    let poc = poc().await;
    let relay = Relay::start("delete", poc).await;
    let job_id = finished_job(poc).await;
    let base = relay.base.clone();
    let id = job_id.clone();
    with_browser("jobs-delete", |client| async move {
        sign_in_operator(&client, &base).await;
        open_job_page(&client, &base, &id).await;
        wait_status(&client, "the job to finish", JOB_LIMIT, |s| {
            s.starts_with("FINISHED")
        })
        .await;
        wait_enabled(&client, "button#action-delete")
            .await
            .click()
            .await
            .expect("click Delete");
        wait_css(&client, "dialog#delete-dialog[open]", PAGE_LIMIT).await;
        let confirm = wait_xpath(
            &client,
            "//dialog[@id='delete-dialog']//button[normalize-space(.)='Delete job']",
            PAGE_LIMIT,
        )
        .await;
        assert!(
            !confirm.is_enabled().await.expect("read disabled"),
            "Delete job is enabled before the id is typed"
        );
        let input = wait_css(&client, "input#delete-confirm", PAGE_LIMIT).await;
        input
            .send_keys(&id[..id.len() - 1])
            .await
            .expect("type part of the id");
        assert!(
            !confirm.is_enabled().await.expect("read disabled"),
            "Delete job is enabled with a partial id"
        );
        input
            .send_keys(&id[id.len() - 1..])
            .await
            .expect("type the rest of the id");
        let deadline = Deadline::new("Delete job to be enabled", PAGE_LIMIT);
        while !confirm.is_enabled().await.unwrap_or(false) {
            deadline.tick("disabled").await;
        }
        confirm.click().await.expect("click Delete job");
        let deadline = Deadline::new("the page to go to /jobs", PAGE_LIMIT);
        loop {
            let path = current_path(&client).await;
            if path == "/jobs" {
                break;
            }
            deadline.tick(path).await;
        }
        // The list has loaded (other jobs are there) and the deleted job's row is not.
        wait_css(&client, "tr[data-job-id]", PAGE_LIMIT).await;
        let row = format!(r#"tr[data-job-id="{id}"]"#);
        let deadline = Deadline::new("the deleted job's row to go", PAGE_LIMIT);
        while client.find(Locator::Css(&row)).await.is_ok() {
            deadline.tick(&row).await;
        }
        screenshot(&client, "jobs-deleted").await;
    })
    .await;
    let (listed, meta) = nvflare_sees(poc, &job_id).await;
    assert!(!listed, "nvflare's list_jobs still lists {job_id}");
    assert_eq!(
        meta, "missing:JobNotFound",
        "nvflare's get_job_meta of deleted job {job_id}"
    );
}

/// Every path under `dir` (recursively) whose file name contains `evil`.
fn find_evil(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().contains("evil") {
            found.push(path.clone());
        }
        if depth > 0 && entry.file_type().is_ok_and(|t| t.is_dir()) {
            find_evil(&path, depth - 1, found);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_with_a_parent_path_entry_is_refused_by_name_and_writes_nothing() {
    let poc = poc().await;
    let (relay, relay_root) = jobs_relay("traversal", poc).await;
    let files = Scratch::new("traversal-zip");
    let zip = files.join("traversal.zip");
    zip_hello_numpy(&zip, 2, 0.0, &[("../evil", "should never be written")]).await;
    // Other programs may keep files named evil in the shared temp dir: only new ones count there.
    let elsewhere = || {
        let mut found = Vec::new();
        find_evil(&std::env::temp_dir(), 2, &mut found);
        find_evil(Path::new(env!("CARGO_MANIFEST_DIR")), 0, &mut found);
        found.into_iter().collect::<BTreeSet<_>>()
    };
    let before = elsewhere();
    let base = relay.base.clone();
    with_browser("jobs-traversal", |client| async move {
        sign_in_operator(&client, &base).await;
        pick_zip_on_submit_page(&client, &base, &zip).await;
        wait_enabled(&client, "button#submit-upload")
            .await
            .click()
            .await
            .expect("click Upload and submit");
        let alert = wait_css(&client, r#"#submit-error[role="alert"]"#, PAGE_LIMIT).await;
        let text = alert.text().await.expect("read the alert");
        screenshot(&client, "jobs-traversal").await;
        assert!(
            text.contains("../evil"),
            "the refusal names ../evil: {text}"
        );
        assert_eq!(current_path(&client).await, "/submit");
    })
    .await;
    // `../evil` from the upload's folder or from the work dir would land in here.
    let mut found = Vec::new();
    find_evil(&relay_root.0, 8, &mut found);
    assert!(
        found.is_empty(),
        "the refused upload wrote {found:?} near the relay's work dir"
    );
    let new: Vec<_> = elsewhere().difference(&before).cloned().collect();
    assert!(new.is_empty(), "the refused upload wrote {new:?}");
    drop(relay);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_retried_with_the_same_token_makes_one_job() {
    let poc = poc().await;
    let (relay, _work) = jobs_relay("retry", poc).await;
    let files = Scratch::new("retry-zip");
    let zip = files.join("hello-numpy.zip");
    zip_hello_numpy(&zip, 2, 0.0, &[]).await;
    let cookie = session_cookie(&relay, OPERATOR).await;
    let upload_id = upload_zip(&relay, &cookie, &zip).await;

    let mut ws = open_ws(&relay, Some(&cookie), &relay.base)
        .await
        .expect("operator websocket");
    let token = format!(
        "e2e-retry-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis()
    );
    let submit = json!({"submit_job": {"upload_id": upload_id, "submit_token": token}});
    let job_id = |frame: ServerFrame| match frame {
        ServerFrame::Ok {
            ok: Reply::JobId(id),
            ..
        } => id,
        other => panic!("submit_job: {other:?}"),
    };
    let first = job_id(command(&mut ws, 1, submit.clone()).await);
    let _abort = AbortOnDrop::new(poc, &first);
    // The retry a dropped connection would cause.
    let second = job_id(command(&mut ws, 2, submit).await);
    assert_eq!(first, second, "a retried submission made a second job");
    let listed = match command(&mut ws, 3, json!({"list_jobs": {"submit_token": token}})).await {
        ServerFrame::Ok {
            ok: Reply::Jobs(jobs),
            ..
        } => jobs.into_iter().map(|j| j.job_id).collect::<Vec<_>>(),
        other => panic!("list_jobs: {other:?}"),
    };
    assert_eq!(listed, vec![first], "jobs with submit token {token}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_a_running_job_tail_live_and_filter() {
    let poc = poc().await;
    let relay = Relay::start("logs", poc).await;
    let job_id = submit_hello_numpy(poc, 200, 1.0).await;
    let _abort = AbortOnDrop::new(poc, &job_id);
    let base = relay.base.clone();
    with_browser("jobs-logs", |client| async move {
        sign_in_operator(&client, &base).await;
        // From the job page's Logs action.
        open_job_page(&client, &base, &job_id).await;
        click_css(&client, "a#action-logs", PAGE_LIMIT).await;
        let logs_path = format!("/jobs/{job_id}/logs");
        let deadline = Deadline::new("the logs page", PAGE_LIMIT);
        loop {
            let path = current_path(&client).await;
            if path == logs_path {
                break;
            }
            deadline.tick(path).await;
        }
        wait_css(&client, r#"#log-tail[data-live="true"]"#, JOB_LIMIT).await;
        let pane = r#".log-pane[data-site="server"] pre.log-pre"#;
        let text_len = || async {
            match client.find(Locator::Css(pane)).await {
                Ok(el) => el.text().await.map(|t| t.len()).unwrap_or(0),
                Err(_) => 0,
            }
        };
        let deadline = Deadline::new("the server log to show text", PAGE_LIMIT);
        let first = loop {
            let n = text_len().await;
            if n > 0 {
                break n;
            }
            deadline.tick(n).await;
        };
        let deadline = Deadline::new("new server log lines to arrive", PAGE_LIMIT);
        loop {
            let n = text_len().await;
            if n > first {
                break;
            }
            deadline.tick((first, n)).await;
        }

        let all_lines = client
            .find(Locator::Css(pane))
            .await
            .expect("the log text")
            .text()
            .await
            .expect("read the log")
            .lines()
            .count();
        wait_css(&client, "input#log-filter", PAGE_LIMIT)
            .await
            .send_keys("round")
            .await
            .expect("type a filter");
        let count = || async {
            let lines = client
                .find_all(Locator::Css(".log-pane[data-site=\"server\"] .log-line"))
                .await
                .unwrap_or_default();
            let mut texts = Vec::new();
            for l in lines {
                texts.push(l.text().await.unwrap_or_default());
            }
            texts
        };
        let deadline = Deadline::new("the filter to show matching lines", PAGE_LIMIT);
        let filtered = loop {
            let lines = count().await;
            if !lines.is_empty() {
                break lines;
            }
            deadline.tick(lines.len()).await;
        };
        assert!(
            filtered.len() < all_lines,
            "the filter should narrow {all_lines} lines, kept {}",
            filtered.len()
        );
        assert!(
            filtered.iter().all(|l| l.to_lowercase().contains("round")),
            "every filtered line matches: {filtered:?}"
        );
        // New matching lines keep arriving under the filter.
        let deadline = Deadline::new("more matching lines to arrive", PAGE_LIMIT);
        loop {
            let n = count().await.len();
            if n > filtered.len() {
                break;
            }
            deadline.tick((filtered.len(), n)).await;
        }
        screenshot(&client, "jobs-logs").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_job_submitted_from_the_submit_page_opens_its_job() {
    let poc = poc().await;
    let (relay, _work) = jobs_relay("library", poc).await;
    let base = relay.base.clone();
    with_browser("jobs-library", |client| async move {
        sign_in_operator(&client, &base).await;
        client
            .goto(&format!("{base}/submit"))
            .await
            .expect("open /submit");
        mark_page(&client).await;
        wait_enabled(
            &client,
            r#"#job-library li[data-library="hello-numpy"] button"#,
        )
        .await
        .click()
        .await
        .expect("click Submit hello-numpy");
        let job_id = wait_job_path(&client, None).await;
        let _abort = AbortOnDrop::new(poc, &job_id);
        assert_not_reloaded(&client).await;
        screenshot(&client, "jobs-library").await;
    })
    .await;
}
