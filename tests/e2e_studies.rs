//! End-to-end tests of studies: creating one through the console form, adding sites and users,
//! what an org admin is offered, a malformed name caught in the form, study-scoped job lists and
//! the refusal to remove a study that still has jobs — against a real NVFlare POC (checked with
//! nvflare's own Python client), the real relay binary and headless Chromium. Nothing is mocked.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, Locator};
use flare_e2e::{
    ADMIN, Deadline, LEAD, OPERATOR, ORG_ADMIN, Relay, click_button, click_css, click_nav_link,
    click_xpath, command_ok, command_when_connected, current_path, field_value, input_labelled,
    open_ws, open_ws_study, poc, screenshot, session_cookie, sign_in_to_overview,
    submit_hello_numpy, submit_hello_numpy_into, wait_css, wait_job_finished, wait_path,
    wait_xpath, with_browser,
};
use flare_model::Reply;
use flare_poc::Poc;
use serde_json::{Value, json};

/// Long enough for a hello-numpy job on a busy 2-core machine shared with other POC users.
const JOB_LIMIT: Duration = Duration::from_secs(300);
const PAGE_LIMIT: Duration = Duration::from_secs(60);
/// The org of every POC site and admin.
const POC_ORG: &str = "nvidia";

// --- helpers -------------------------------------------------------------------------------------

/// A study name no other run uses: `e2e-<pid hex><nanos hex>`, lowercase.
fn unique_study(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos();
    format!("e2e-{tag}-{:x}{:x}", std::process::id(), nanos)
}

/// Runs a Python snippet with the project's venv (nvflare 2.9 installed); returns its stdout.
fn python_blocking(code: &str, args: &[String]) -> Result<String, String> {
    let out = Command::new(Poc::venv_python())
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .map_err(|e| format!("run the venv python: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "python snippet failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// What nvflare's own FLARE API (`show_study`, as the project admin) says about `study`:
/// `None` when it refuses (no such study).
async fn nvflare_show_study(poc: &'static Poc, study: &str) -> Option<Value> {
    const CODE: &str = r#"
import json, sys
from nvflare.fuel.flare_api.flare_api import new_secure_session
user, kit, study = sys.argv[1], sys.argv[2], sys.argv[3]
s = new_secure_session(user, kit, timeout=30)
try:
    try:
        print(json.dumps(s.show_study(study)))
    except Exception as e:
        print(json.dumps(None))
finally:
    s.close()
"#;
    let args = vec![
        ADMIN.to_owned(),
        poc.admin_kit(ADMIN).display().to_string(),
        study.to_owned(),
    ];
    let out = tokio::task::spawn_blocking(move || python_blocking(CODE, &args))
        .await
        .expect("python task")
        .unwrap_or_else(|e| panic!("{e}"));
    let line = out
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("null");
    let value: Value = serde_json::from_str(line).expect("show_study output as json");
    (!value.is_null()).then_some(value)
}

/// The names nvflare's own `list_studies` (as the project admin) reports.
async fn nvflare_study_names(poc: &'static Poc) -> Vec<String> {
    const CODE: &str = r#"
import json, sys
from nvflare.fuel.flare_api.flare_api import new_secure_session
s = new_secure_session(sys.argv[1], sys.argv[2], timeout=30)
try:
    print(json.dumps(s.list_studies().get("studies", [])))
finally:
    s.close()
"#;
    let args = vec![ADMIN.to_owned(), poc.admin_kit(ADMIN).display().to_string()];
    let out = tokio::task::spawn_blocking(move || python_blocking(CODE, &args))
        .await
        .expect("python task")
        .unwrap_or_else(|e| panic!("{e}"));
    let line = out.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("[]");
    serde_json::from_str(line).expect("list_studies output as json")
}

/// Removes a test study whatever state a test left it in (aborting and deleting its jobs first),
/// through nvflare's own Python client as the project admin. Runs on drop, so a failing test
/// cleans up too.
struct StudyCleanup {
    kit: String,
    study: String,
}

impl StudyCleanup {
    fn new(poc: &'static Poc, study: &str) -> StudyCleanup {
        StudyCleanup {
            kit: poc.admin_kit(ADMIN).display().to_string(),
            study: study.to_owned(),
        }
    }
}

impl Drop for StudyCleanup {
    fn drop(&mut self) {
        const CODE: &str = r#"
import sys, time
from nvflare.fuel.flare_api.flare_api import new_secure_session
user, kit, study = sys.argv[1], sys.argv[2], sys.argv[3]
admin = new_secure_session(user, kit, timeout=30)
try:
    if study not in admin.list_studies().get("studies", []):
        sys.exit(0)
    try:
        admin.remove_study(study)
        sys.exit(0)
    except Exception:
        pass
    s = new_secure_session(user, kit, timeout=30, study=study)
    try:
        end = time.time() + 180
        while time.time() < end:
            jobs = s.list_jobs()
            running = [j for j in jobs if not str(j.get("status", "")).startswith("FINISHED")]
            for j in running:
                try:
                    s.abort_job(j["job_id"])
                except Exception:
                    pass
            if not running:
                break
            time.sleep(2)
        for j in s.list_jobs():
            try:
                s.delete_job(j["job_id"])
            except Exception:
                pass
    finally:
        s.close()
    admin.remove_study(study)
finally:
    admin.close()
"#;
        let args = [ADMIN.to_owned(), self.kit.clone(), self.study.clone()];
        if let Err(e) = python_blocking(CODE, &args) {
            eprintln!("cleanup of study {} failed: {e}", self.study);
        }
    }
}

/// Polls until the text of the first `css` element contains `needle`; returns that text.
async fn wait_text(client: &Client, css: &str, needle: &str, limit: Duration) -> String {
    let deadline = Deadline::new("an element's text", limit);
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(needle) {
            return text;
        }
        deadline.tick((css, needle, text)).await;
    }
}

/// The values of attribute `attr` of every element matching `css`.
async fn attrs(client: &Client, css: &str, attr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for el in client.find_all(Locator::Css(css)).await.unwrap_or_default() {
        if let Ok(Some(v)) = el.attr(attr).await {
            out.insert(v);
        }
    }
    out
}

/// Polls until the set of `attr` values of `css` elements equals `want`.
async fn wait_attrs(client: &Client, css: &str, attr: &str, want: &BTreeSet<String>) {
    let deadline = Deadline::new("the listed items", PAGE_LIMIT);
    loop {
        let got = attrs(client, css, attr).await;
        if &got == want {
            return;
        }
        deadline.tick((css, got)).await;
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Opens the jobs page at `url`, waits for job `shown` in its list and checks that job `hidden`
/// is not listed.
async fn lists_only(client: &Client, url: &str, shown: &str, hidden: &str) {
    client
        .goto(url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"));
    let row = |id: &str| format!(r#"tr[data-job-id="{id}"]"#);
    wait_css(client, &row(shown), PAGE_LIMIT).await;
    assert!(
        client.find(Locator::Css(&row(hidden))).await.is_err(),
        "job {hidden} is listed at {url}"
    );
}

/// Opens the new-study form, types `name` and picks site-1.
async fn start_new_study(client: &Client, base: &str, name: &str) {
    client
        .goto(&format!("{base}/studies/new"))
        .await
        .expect("open /studies/new");
    input_labelled(client, "Study name")
        .await
        .send_keys(name)
        .await
        .expect("type the study name");
    click_css(
        client,
        r#"li.site-pick[data-site="site-1"] input[type="checkbox"]:not([disabled])"#,
        PAGE_LIMIT,
    )
    .await;
}

// --- tests ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_admin_creates_a_study_adds_a_site_and_a_user_and_nvflare_agrees() {
    let poc = poc().await;
    let relay = Relay::start("study-create", poc).await;
    let base = relay.base.clone();
    let study = unique_study("create");
    let _cleanup = StudyCleanup::new(poc, &study);
    let page_view = std::sync::Arc::new(std::sync::Mutex::new((BTreeSet::new(), BTreeSet::new())));
    let seen = page_view.clone();
    let name = study.clone();
    with_browser("study-create", |client| async move {
        sign_in_to_overview(&client, &base, OPERATOR, PAGE_LIMIT).await;
        // The Studies page is reachable from the navigation.
        click_nav_link(&client, "Studies", PAGE_LIMIT).await;
        wait_path(&client, "/studies", PAGE_LIMIT).await;

        start_new_study(&client, &base, &name).await;
        // A project admin names each site's org (must match the site's certificate).
        let org = wait_css(&client, r#"input[aria-label="Org of site-1"]"#, PAGE_LIMIT).await;
        let org_value = org.prop("value").await.ok().flatten().unwrap_or_default();
        if org_value.is_empty() {
            org.send_keys(POC_ORG).await.expect("type the org");
        } else {
            assert_eq!(org_value, POC_ORG, "the org offered for site-1");
        }
        click_button(&client, "Create study", PAGE_LIMIT).await;
        wait_path(&client, &format!("/studies/{name}"), PAGE_LIMIT).await;
        wait_attrs(
            &client,
            "#study-site-list li.study-site",
            "data-site",
            &set(&["site-1"]),
        )
        .await;

        // Add site-2.
        wait_css(&client, "#add-sites", PAGE_LIMIT)
            .await
            .send_keys("site-2")
            .await
            .expect("type site-2");
        if let Ok(org) = client.find(Locator::Css("#add-sites-org")).await {
            org.send_keys(POC_ORG).await.expect("type the org");
        }
        click_xpath(
            &client,
            "//form[@id='add-site-form']//button[@type='submit']",
            PAGE_LIMIT,
        )
        .await;
        wait_attrs(
            &client,
            "#study-site-list li.study-site",
            "data-site",
            &set(&["site-1", "site-2"]),
        )
        .await;

        // Add lead@nvidia.com as a user.
        wait_css(&client, "#add-user", PAGE_LIMIT)
            .await
            .send_keys(LEAD.identity)
            .await
            .expect("type the user");
        click_xpath(
            &client,
            "//form[@id='add-user-form']//button[@type='submit']",
            PAGE_LIMIT,
        )
        .await;
        // register_study added the caller; add_study_user added the lead.
        wait_attrs(
            &client,
            "#study-user-list li.study-user",
            "data-user",
            &set(&[ADMIN, LEAD.identity]),
        )
        .await;
        let orgs = attrs(&client, "#study-site-list li.study-site", "data-org").await;
        assert_eq!(orgs, set(&[POC_ORG]), "orgs of the study's sites");
        screenshot(&client, "study-create").await;
        *seen.lock().expect("page view") = (
            attrs(&client, "#study-site-list li.study-site", "data-site").await,
            attrs(&client, "#study-user-list li.study-user", "data-user").await,
        );
    })
    .await;

    // nvflare's own client agrees with the page.
    let shown = nvflare_show_study(poc, &study)
        .await
        .unwrap_or_else(|| panic!("nvflare's show_study does not know {study}"));
    let strings = |key: &str| -> BTreeSet<String> {
        shown[key]
            .as_array()
            .unwrap_or_else(|| panic!("show_study has no {key}: {shown}"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let (page_sites, page_users) = page_view.lock().expect("page view").clone();
    assert_eq!(strings("sites"), page_sites, "sites: nvflare vs the page");
    assert_eq!(strings("users"), page_users, "users: nvflare vs the page");
    assert_eq!(
        shown["site_orgs"],
        json!({POC_ORG: ["site-1", "site-2"]}),
        "site_orgs per nvflare"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_admin_create_form_offers_only_its_orgs_sites() {
    let poc = poc().await;
    let relay = Relay::start_with_users("study-org-admin", poc, Vec::new(), vec![ORG_ADMIN]).await;
    // Who nvflare says the org admin is (list_studies through the relay, as that identity).
    let cookie = session_cookie(&relay, ORG_ADMIN.login).await;
    let mut ws = open_ws_study(&relay, &cookie, "default").await;
    let identity = match command_when_connected(&mut ws, json!("list_studies")).await {
        Reply::Studies(list) => list.identity,
        other => panic!("list_studies answered {other:?}"),
    };
    drop(ws);
    assert_eq!(identity.name, ORG_ADMIN.identity);
    assert_eq!(identity.role, "org_admin", "role of {}", identity.name);
    assert!(!identity.org.is_empty(), "list_studies names no org");
    let base = relay.base.clone();
    with_browser("study-org-admin", |client| async move {
        sign_in_to_overview(&client, &base, ORG_ADMIN.login, PAGE_LIMIT).await;
        client
            .goto(&format!("{base}/studies/new"))
            .await
            .expect("open /studies/new");
        input_labelled(&client, "Study name").await;
        // Every POC site belongs to the org admin's org, so both are offered, grouped under it.
        wait_attrs(
            &client,
            "#study-sites li.site-pick",
            "data-site",
            &set(&["site-1", "site-2"]),
        )
        .await;
        // Grouped under the org admin's own org (once the console knows the identity).
        wait_attrs(
            &client,
            "#study-sites .org-group",
            "data-org",
            &BTreeSet::from([identity.org.clone()]),
        )
        .await;
        // An org admin enrolls plain site names: no per-site org to pick.
        let org_inputs = client
            .find_all(Locator::Css("#study-sites input.org-input"))
            .await
            .expect("find org inputs");
        assert!(
            org_inputs.is_empty(),
            "an org admin is asked for {} site orgs",
            org_inputs.len()
        );
        screenshot(&client, "study-org-admin").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_study_name_is_caught_in_the_form_without_a_request() {
    let poc = poc().await;
    let relay = Relay::start("study-bad-name", poc).await;
    let base = relay.base.clone();
    const BAD: &str = "Bad Name!";
    let audit_before = relay.audit_text();
    with_browser("study-bad-name", |client| async move {
        sign_in_to_overview(&client, &base, OPERATOR, PAGE_LIMIT).await;
        // A valid site pick, so the name is the only problem.
        start_new_study(&client, &base, BAD).await;
        if let Ok(org) = client
            .find(Locator::Css(r#"input[aria-label="Org of site-1"]"#))
            .await
            && org
                .prop("value")
                .await
                .ok()
                .flatten()
                .unwrap_or_default()
                .is_empty()
        {
            org.send_keys(POC_ORG).await.expect("type the org");
        }
        click_button(&client, "Create study", PAGE_LIMIT).await;
        let error = wait_css(&client, "#study-name-error", PAGE_LIMIT).await;
        let deadline = Deadline::new("the field error next to the name", PAGE_LIMIT);
        let text = loop {
            let text = error.text().await.unwrap_or_default();
            if !text.trim().is_empty() {
                break text;
            }
            deadline.tick(text).await;
        };
        let invalid = input_labelled(&client, "Study name")
            .await
            .attr("aria-invalid")
            .await
            .expect("aria-invalid");
        assert_eq!(
            invalid.as_deref(),
            Some("true"),
            "the name field is marked invalid"
        );
        assert_eq!(
            current_path(&client).await,
            "/studies/new",
            "the form stays"
        );
        assert!(
            client.find(Locator::Css("#new-study-error")).await.is_err(),
            "a server error is shown, so a request was sent"
        );
        screenshot(&client, "study-bad-name").await;
        eprintln!("field error for {BAD:?}: {text}");
    })
    .await;
    // No register_study reached the relay (it audits every mutating command), and nvflare knows
    // no such study.
    let audit_after = relay.audit_text();
    let new_lines = &audit_after[audit_before.len().min(audit_after.len())..];
    assert!(
        !new_lines.contains("register_study"),
        "the relay audited a register_study: {new_lines}"
    );
    let names = nvflare_study_names(poc).await;
    assert!(
        !names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(BAD) || n.contains("bad")),
        "nvflare lists a study from the bad name: {names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_in_a_study_is_listed_there_not_in_default_and_blocks_removing_the_study() {
    let poc = poc().await;
    let relay = Relay::start("study-jobs", poc).await;
    let study = unique_study("jobs");
    let _cleanup = StudyCleanup::new(poc, &study);
    // The study itself is set up through the relay's socket (creating one through the page is
    // covered by the project-admin test above).
    let cookie = session_cookie(&relay, OPERATOR).await;
    let mut ws_default = open_ws(&relay, Some(&cookie), &relay.base)
        .await
        .expect("operator socket (default study)");
    let created = command_when_connected(
        &mut ws_default,
        json!({"register_study": {"study": study, "sites": {"site_orgs": [format!("{POC_ORG}:site-1,site-2")]}}}),
    )
    .await;
    assert!(
        matches!(&created, Reply::Study(d) if d.name == study),
        "register_study answered {created:?}"
    );
    // One job in the study (kept running a while) and one in default as the control.
    let (study_job, default_job) = tokio::join!(
        submit_hello_numpy_into(poc, &study, 2, 2.0),
        submit_hello_numpy(poc, 1, 0.0)
    );
    let base = relay.base.clone();
    let name = study.clone();
    let (sj, dj) = (study_job.clone(), default_job.clone());
    with_browser("study-jobs", |client| async move {
        sign_in_to_overview(&client, &base, OPERATOR, PAGE_LIMIT).await;
        // Switch studies with the header's switcher.
        let switcher = wait_css(&client, "select#study-switcher", PAGE_LIMIT).await;
        let deadline = Deadline::new("the study in the switcher", PAGE_LIMIT);
        loop {
            let options = attrs(&client, "select#study-switcher option", "value").await;
            if options.contains(&name) {
                break;
            }
            deadline.tick(options).await;
        }
        switcher
            .select_by_value(&name)
            .await
            .expect("pick the study in the switcher");
        let deadline = Deadline::new("the switcher to land on the study", PAGE_LIMIT);
        loop {
            let path = current_path(&client).await;
            if path.starts_with(&format!("/studies/{name}")) {
                break;
            }
            deadline.tick(path).await;
        }
        eprintln!("switcher landed on {}", current_path(&client).await);
        wait_css(&client, &format!(r#"tr[data-job-id="{sj}"]"#), PAGE_LIMIT).await;
        lists_only(&client, &format!("{base}/studies/{name}/jobs"), &sj, &dj).await;
        let value = field_value(&client, "select#study-switcher", PAGE_LIMIT).await;
        assert_eq!(
            value.as_deref(),
            Some(name.as_str()),
            "the switcher shows the study"
        );
        screenshot(&client, "study-jobs").await;

        // The default study's list has its own job and not the study's.
        lists_only(&client, &format!("{base}/jobs"), &dj, &sj).await;

        // Removing the study while it has a job is refused with the reason and a way to its jobs.
        client
            .goto(&format!("{base}/studies/{name}"))
            .await
            .expect("open the study page");
        input_labelled(&client, "Type the study name to confirm")
            .await
            .send_keys(&name)
            .await
            .expect("type the study name");
        click_button(&client, "Remove study", PAGE_LIMIT).await;
        let refusal = r#"#study-result [data-outcome="error"]"#;
        let text = wait_text(&client, refusal, "STUDY_HAS_JOBS", PAGE_LIMIT).await;
        eprintln!("remove refusal: {text}");
        screenshot(&client, "study-has-jobs").await;
        let jobs_link = format!("/studies/{name}/jobs");
        wait_css(
            &client,
            &format!(r#"{refusal} a[href="{jobs_link}"]"#),
            PAGE_LIMIT,
        )
        .await
        .click()
        .await
        .expect("follow the link to the study's jobs");
        wait_path(&client, &jobs_link, PAGE_LIMIT).await;
        wait_xpath(
            &client,
            &format!("//h1[contains(normalize-space(.), '{name}')]"),
            PAGE_LIMIT,
        )
        .await;
        // The in-app hop from a page without subscriptions reconnects the socket to the study
        // (it once stayed "Connecting…" because nothing arrived on the old socket).
        wait_css(&client, &format!(r#"tr[data-job-id="{sj}"]"#), PAGE_LIMIT).await;
    })
    .await;

    // nvflare still has the study; the relay's study-scoped list agrees with the pages.
    assert!(
        nvflare_show_study(poc, &study).await.is_some(),
        "the refused removal removed {study}"
    );
    let mut ws_study = open_ws_study(&relay, &cookie, &study).await;
    let listed = |reply: Reply| match reply {
        Reply::Jobs(jobs) => jobs.into_iter().map(|j| j.job_id).collect::<BTreeSet<_>>(),
        other => panic!("list_jobs answered {other:?}"),
    };
    let in_study = listed(command_when_connected(&mut ws_study, json!({"list_jobs": {}})).await);
    let in_default = listed(command_ok(&mut ws_default, 3, json!({"list_jobs": {}})).await);
    assert!(
        in_study.contains(&study_job),
        "list_jobs in {study}: {in_study:?}"
    );
    assert!(!in_study.contains(&default_job));
    assert!(in_default.contains(&default_job));
    assert!(
        !in_default.contains(&study_job),
        "the study's job is in default"
    );

    // Clean up: once the job finished, delete it and remove the study.
    wait_job_finished(&mut ws_study, &study_job, JOB_LIMIT).await;
    command_ok(
        &mut ws_study,
        4,
        json!({"delete_job": {"job_id": study_job}}),
    )
    .await;
    let removed = command_ok(
        &mut ws_default,
        5,
        json!({"remove_study": {"study": study}}),
    )
    .await;
    assert!(
        matches!(removed, Reply::StudyRemoved { removed: true, .. }),
        "remove_study answered {removed:?}"
    );
}
