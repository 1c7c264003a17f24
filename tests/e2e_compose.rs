//! End-to-end test of the Composer page against a real NVFlare POC, the real relay binary and
//! headless Chromium: a numpy FedAvg job (ScatterAndGather with a numpy model and a weighted
//! aggregator, a Client API training script through a ScriptRunner on both sites, 3 rounds) is
//! composed in the form, previewed, downloaded, submitted and watched to FINISHED:COMPLETED with
//! live round progress; the downloaded folder equals what nvflare's Python FedJob exports when the
//! page's "Python" program runs. A second composition with a broken class path ends as NVFlare
//! reports it, on the job page.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, Locator};
use flare_e2e::{
    ADMIN, AbortOnDrop, Deadline, OPERATOR, Relay, current_path, field_value, poc, screenshot,
    sign_in, wait_css,
};
use flare_poc::Poc;
use serde_json::{Value, json};

const COMPLETED: &str = "FINISHED:COMPLETED";
const JOB_LIMIT: Duration = Duration::from_secs(300);
const PAGE_LIMIT: Duration = Duration::from_secs(60);
const STATUS_BADGE: &str = "#job-meta .status[data-status]";
const SAG: &str = "nvflare.app_common.workflows.scatter_and_gather.ScatterAndGather";
const GENERATOR: &str = "nvflare.app_common.shareablegenerators.full_model_shareable_generator.FullModelShareableGenerator";
const AGGREGATOR: &str = "nvflare.app_common.aggregators.intime_accumulate_model_aggregator.InTimeAccumulateWeightedAggregator";
const BROKEN: &str = "nvflare.app_common.workflows.no_such_module.ScatterAndGather";

/// A fresh folder under cargo's per-target scratch dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("e2e-compose")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the venv's Python with `args` in `dir`; its stdout, or a panic with its stderr.
async fn python(dir: PathBuf, args: Vec<String>) -> String {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(Poc::venv_python())
            .args(&args)
            .current_dir(&dir)
            .output()
            .expect("run the venv python");
        assert!(
            out.status.success(),
            "python {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .await
    .expect("python task")
}

/// The job status nvflare's own FLARE API reports.
async fn nvflare_status(poc: &'static Poc, job_id: &str) -> String {
    const CODE: &str = r#"
import sys
from nvflare.fuel.flare_api.flare_api import new_secure_session
s = new_secure_session(sys.argv[1], sys.argv[2], timeout=30)
try:
    print("status=" + str(s.get_job_meta(sys.argv[3]).get("status")))
finally:
    s.close()
"#;
    let out = python(
        std::env::temp_dir(),
        vec![
            "-c".into(),
            CODE.into(),
            ADMIN.into(),
            poc.admin_kit(ADMIN).display().to_string(),
            job_id.into(),
        ],
    )
    .await;
    out.lines()
        .rev()
        .find_map(|l| l.strip_prefix("status="))
        .unwrap_or_default()
        .to_owned()
}

/// Every file under `root` by `/` path.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.insert(
                    rel.to_string_lossy().replace('\\', "/"),
                    std::fs::read(&path).expect("read"),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

async fn find(client: &Client, css: &str) -> fantoccini::elements::Element {
    wait_css(client, css, PAGE_LIMIT).await
}

async fn type_in(client: &Client, css: &str, text: &str) {
    let el = find(client, css).await;
    el.clear().await.expect("clear the field");
    el.send_keys(text).await.expect("type into the field");
}

async fn select(client: &Client, css: &str, value: &str) {
    find(client, css)
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
}

async fn click(client: &Client, css: &str) {
    find(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn exists(client: &Client, css: &str) -> bool {
    client.find(Locator::Css(css)).await.is_ok()
}

async fn attr(client: &Client, css: &str, name: &str) -> Option<String> {
    let el = client.find(Locator::Css(css)).await.ok()?;
    el.attr(name).await.ok().flatten()
}

async fn text_of(client: &Client, css: &str) -> String {
    find(client, css).await.text().await.unwrap_or_default()
}

/// Adds a class on `target` with the add form; waits for step `index`.
async fn add_class(client: &Client, target: &str, path: &str, index: usize) {
    select(client, "#add-target", target).await;
    select(client, "#add-kind", "class").await;
    type_in(client, "#add-class", path).await;
    click(client, "#compose-add button[type=submit]").await;
    find(client, &format!(".compose-step[data-step='{index}']")).await;
}

/// Waits until `ok` holds, polling with a deadline.
async fn wait_until(what: &'static str, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = Deadline::new(what, PAGE_LIMIT);
    loop {
        if ok().await {
            return;
        }
        deadline.tick(what).await;
    }
}

/// Scrolls to the top, where the page's actions sit below the sticky header.
async fn top_of_page(client: &Client) {
    client
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll to the top");
}

/// Clicks Submit once it is enabled; returns the id of the job page the console lands on.
async fn submit(client: &Client) -> String {
    wait_until("Submit to be enabled", async || {
        find(client, "#compose-submit")
            .await
            .is_enabled()
            .await
            .unwrap_or(false)
    })
    .await;
    top_of_page(client).await;
    click(client, "#compose-submit").await;
    let deadline = Deadline::new("the console to land on the new job's page", JOB_LIMIT);
    loop {
        let path = current_path(client).await;
        if let Some(id) = path
            .strip_prefix("/jobs/")
            .filter(|id| !id.is_empty() && !id.contains('/'))
        {
            return id.to_owned();
        }
        let error = match client.find(Locator::Css("#compose-error")).await {
            Ok(e) => e.text().await.ok(),
            Err(_) => None,
        };
        deadline.tick((path, error)).await;
    }
}

/// Waits for a FINISHED status on the job page; returns it with the round values seen.
async fn finished_on_screen(client: &Client) -> (String, BTreeSet<String>) {
    find(client, "dl#job-meta").await;
    let deadline = Deadline::new("the composed job to finish on screen", JOB_LIMIT);
    let mut rounds = BTreeSet::new();
    loop {
        if let Some(v) = attr(client, "progress#round-progress", "value").await {
            rounds.insert(v);
        }
        match attr(client, STATUS_BADGE, "data-status").await {
            Some(s) if s.starts_with("FINISHED") => return (s, rounds),
            seen => deadline.tick((seen, &rounds)).await,
        }
    }
}

/// The zip the page offered for download last, as bytes (the page keeps its blobs, see
/// `record_blobs`).
async fn last_download(client: &Client) -> Vec<u8> {
    wait_until("the zip download", async || {
        client
            .execute("return (window.__blobs || []).length;", vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .is_some_and(|n| n > 0)
    })
    .await;
    let b64 = client
        .execute_async(
            r#"
const done = arguments[arguments.length - 1];
const r = new FileReader();
r.onload = () => done(r.result.split(",")[1]);
r.readAsDataURL(window.__blobs[window.__blobs.length - 1]);
"#,
            vec![],
        )
        .await
        .expect("read the downloaded blob");
    let b64 = b64.as_str().expect("base64 text").to_owned();
    let dir = std::env::temp_dir();
    let out = python(
        dir,
        vec![
            "-c".into(),
            "import base64, sys; sys.stdout.write(base64.b64decode(sys.argv[1]).hex())".into(),
            b64,
        ],
    )
    .await;
    (0..out.len() / 2)
        .map(|i| u8::from_str_radix(&out[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// Keeps every blob the page offers as a download in `window.__blobs`.
async fn record_blobs(client: &Client) {
    client
        .execute(
            "window.__blobs = []; const c = URL.createObjectURL; \
             URL.createObjectURL = function (b) { window.__blobs.push(b); return c.call(URL, b); };",
            vec![],
        )
        .await
        .expect("install the blob recorder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_composed_numpy_fedavg_job_runs_and_matches_nvflares_export() {
    let poc = poc().await;
    let scratch = Scratch::new("compose");
    // The relay keeps composed jobs (uploads) in the scratch folder, removed with it.
    let relay_work = scratch.0.join("relay-work");
    std::fs::create_dir_all(&relay_work).expect("create the relay work dir");
    let relay = Relay::start_with("compose", poc, vec![("work_dir", json!(relay_work))]).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/scripts/train_numpy.py");
    let base = relay.base.clone();
    let work = scratch.0.clone();
    flare_e2e::with_browser("compose", |client| async move {
        sign_in(&client, &base, OPERATOR).await;
        wait_until("the console to leave /login", async || {
            current_path(&client).await != "/login"
        })
        .await;
        client
            .goto(&format!("{base}/compose"))
            .await
            .expect("open /compose");
        click(&client, "button[aria-label='Start from Empty job']").await;
        screenshot(&client, "compose-start").await;
        type_in(&client, "#compose-name", "compose-e2e").await;
        type_in(&client, "#compose-min-clients", "2").await;
        // Both POC sites are offered as targets once the system view arrived.
        wait_until("the sites as targets", async || {
            exists(&client, "#add-target option[value='site-1']").await
                && exists(&client, "#add-target option[value='site-2']").await
        })
        .await;
        find(&client, "#compose-file-input")
            .await
            .send_keys(&script.display().to_string())
            .await
            .expect("upload the training script");
        find(&client, "li[data-file='train_numpy.py']").await;

        add_class(&client, "server", SAG, 0).await;
        type_in(&client, "#step-0-arg-min_clients", "2").await;
        type_in(&client, "#step-0-arg-num_rounds", "3").await;
        type_in(&client, "#step-0-arg-wait_time_after_min_received", "0").await;
        type_in(&client, "#step-0-arg-persistor_id", "persistor").await;
        // The workflow names components that are not there yet: refused in the form.
        wait_until("the missing ids to be refused", async || {
            text_of(&client, ".compose-step[data-step='0'] .step-problems")
                .await
                .contains("has no component with that id")
        })
        .await;
        assert!(
            !find(&client, "#compose-submit")
                .await
                .is_enabled()
                .await
                .unwrap_or(true)
        );
        select(&client, "#add-kind", "np_model").await;
        click(&client, "#compose-add button[type=submit]").await;
        find(&client, ".compose-step[data-step='1']").await;
        add_class(&client, "server", GENERATOR, 2).await;
        type_in(&client, "#step-2-id", "shareable_generator").await;
        add_class(&client, "server", AGGREGATOR, 3).await;
        type_in(&client, "#step-3-id", "aggregator").await;
        type_in(&client, "#step-3-arg-expected_data_kind", "WEIGHTS").await;
        select(&client, "#add-target", "@ALL").await;
        select(&client, "#add-kind", "script_runner").await;
        select(&client, "#add-file", "train_numpy.py").await;
        click(&client, "#compose-add button[type=submit]").await;
        find(
            &client,
            ".compose-step[data-step='4'][data-kind='executor']",
        )
        .await;

        // The preview shows what NVFlare receives.
        wait_until("the preview", async || {
            exists(
                &client,
                "button.tab[data-file='app/config/config_fed_server.json']",
            )
            .await
        })
        .await;
        let meta = text_of(&client, "#preview-text").await;
        assert!(
            meta.contains("\"deploy_map\"") && meta.contains("@ALL"),
            "{meta}"
        );
        screenshot(&client, "compose-form").await;
        click(
            &client,
            "button.tab[data-file='app/config/config_fed_server.json']",
        )
        .await;
        let server = text_of(&client, "#preview-text").await;
        assert!(
            server.contains("ScatterAndGather") && server.contains("\"num_rounds\": 3"),
            "{server}"
        );
        assert!(
            exists(&client, "#preview-text .tok-key").await,
            "the JSON is highlighted"
        );
        screenshot(&client, "compose-preview").await;
        click(&client, "button.tab[data-file='Python (FedJob)']").await;
        let program = text_of(&client, "#preview-text").await;
        assert!(program.contains("job.to(ScriptRunner("), "{program}");

        // Download the job folder, and run the page's Python program with nvflare.
        record_blobs(&client).await;
        top_of_page(&client).await;
        screenshot(&client, "compose-top").await;
        click(&client, "#compose-download").await;
        let zip = last_download(&client).await;
        let ours = work.join("ours");
        let theirs = work.join("theirs");
        std::fs::create_dir_all(&ours).expect("mkdir");
        std::fs::create_dir_all(&theirs).expect("mkdir");
        std::fs::write(work.join("job.zip"), &zip).expect("write the zip");
        python(
            work.clone(),
            vec![
                "-c".into(),
                "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])".into(),
                "job.zip".into(),
                ours.display().to_string(),
            ],
        )
        .await;
        std::fs::write(theirs.join("job.py"), &program).expect("write the program");
        std::fs::copy(&script, theirs.join("train_numpy.py")).expect("copy the script");
        python(
            theirs.clone(),
            vec!["job.py".into(), theirs.join("out").display().to_string()],
        )
        .await;
        let (a, b) = (
            files(&ours.join("compose-e2e")),
            files(&theirs.join("out/compose-e2e")),
        );
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (path, bytes) in &a {
            if path.ends_with(".json") {
                let x: Value = serde_json::from_slice(bytes).expect("json");
                let y: Value = serde_json::from_slice(&b[path]).expect("json");
                assert_eq!(x, y, "{path}: the console's export differs from nvflare's");
            } else {
                assert!(*bytes == b[path], "{path} differs");
            }
        }

        // Submit; the job page shows the rounds moving and the end.
        let job_id = submit(&client).await;
        let _abort = AbortOnDrop::new(poc, &job_id);
        let (status, rounds) = finished_on_screen(&client).await;
        screenshot(&client, "compose-job-finished").await;
        assert_eq!(status, COMPLETED, "status of composed job {job_id}");
        assert!(
            !rounds.is_empty(),
            "#round-progress never showed: {rounds:?}"
        );

        // The draft survived; a broken class path is sent as such and NVFlare reports it.
        client
            .goto(&format!("{base}/compose"))
            .await
            .expect("open /compose");
        let name = field_value(&client, "#compose-name", PAGE_LIMIT).await;
        assert_eq!(
            name.as_deref(),
            Some("compose-e2e"),
            "the draft is kept in the browser"
        );
        type_in(&client, "#compose-name", "compose-broken").await;
        click(&client, "button[aria-label='Remove ScatterAndGather']").await;
        select(&client, "#add-target", "server").await;
        select(&client, "#add-kind", "class").await;
        type_in(&client, "#add-class", BROKEN).await;
        select(&client, "#add-custom-kind", "controller").await;
        click(&client, "#compose-add button[type=submit]").await;
        find(
            &client,
            ".compose-step[data-step='4'][data-kind='controller']",
        )
        .await;
        screenshot(&client, "compose-broken").await;
        let broken_id = submit(&client).await;
        let _abort_broken = AbortOnDrop::new(poc, &broken_id);
        let (status, _) = finished_on_screen(&client).await;
        screenshot(&client, "compose-broken-finished").await;
        assert_ne!(
            status, COMPLETED,
            "a job with a broken class path cannot complete"
        );
        assert_eq!(
            status,
            nvflare_status(poc, &broken_id).await,
            "the page shows NVFlare's status"
        );
    })
    .await;
}
