//! In-browser tests (wasm-bindgen-test, headless Chromium): mount components and check the DOM.

use flare_model::{
    ClientInfo, Event, JobDetail, JobMeta, JobSummary, LinkState, StatusChange, Topic, TopicData,
    TopicDelta, UpstreamState,
};
use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};

use crate::api::{Auth, AuthorizedApi};
use crate::components::connection_indicator::ConnectionIndicator;
use crate::components::freshness_stamp::FreshnessStamp;
use crate::components::job_detail::JobDetailView;
use crate::components::job_list::JobList;
use crate::components::login_form::LoginForm;
use crate::components::sites_list::SitesList;
use crate::connection::{Connection, SocketState};
use crate::state::Store;
use crate::time::Clock;

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element in the page body to mount into.
fn container() -> HtmlElement {
    let doc = document();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn all(root: &Element, selector: &str) -> Vec<Element> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .collect()
}

fn one(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
}

fn text(el: &Element) -> String {
    el.text_content().unwrap_or_default().trim().to_owned()
}

fn row_ids(root: &Element) -> Vec<String> {
    all(root, "#jobs-table tbody tr")
        .iter()
        .filter_map(|tr| tr.get_attribute("data-job-id"))
        .collect()
}

fn type_into(root: &Element, selector: &str, value: &str) {
    let input: HtmlInputElement = one(root, selector).unchecked_into();
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

fn choose(root: &Element, selector: &str, value: &str) {
    let select: HtmlSelectElement = one(root, selector).unchecked_into();
    select.set_value(value);
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
}

fn job(id: &str, name: &str, status: &str, submitted: &str) -> JobSummary {
    JobSummary {
        job_id: id.to_owned(),
        job_name: name.to_owned(),
        status: status.to_owned(),
        submit_time: submitted.to_owned(),
        duration: "0:00:12".to_owned(),
        study: "default".to_owned(),
    }
}

fn sample_jobs() -> Vec<JobSummary> {
    vec![
        job(
            "aa11-1",
            "hello-numpy",
            "RUNNING",
            "2026-11-22T04:00:02+00:00",
        ),
        job(
            "bb22-2",
            "alpha",
            "FINISHED:COMPLETED",
            "2026-11-22T04:00:01+00:00",
        ),
        job(
            "ab33-3",
            "zeta",
            "FINISHED:EXECUTION_EXCEPTION",
            "2026-11-22T04:00:03+00:00",
        ),
    ]
}

#[wasm_bindgen_test]
async fn jobs_table_filters_by_name_id_prefix_and_status() {
    let root = container();
    let _mounted = leptos::mount::mount_to(root.clone(), || {
        view! { <JobList jobs=sample_jobs() loaded=true /> }
    });
    tick().await;
    assert_eq!(row_ids(&root), ["ab33-3", "aa11-1", "bb22-2"]);

    type_into(&root, "#filter-name", "NUMPY");
    tick().await;
    assert_eq!(row_ids(&root), ["aa11-1"]);

    type_into(&root, "#filter-name", "");
    type_into(&root, "#filter-id", "a");
    tick().await;
    assert_eq!(row_ids(&root), ["ab33-3", "aa11-1"]);

    choose(&root, "#filter-status", "FINISHED");
    tick().await;
    assert_eq!(row_ids(&root), ["ab33-3"]);

    type_into(&root, "#filter-id", "zz");
    tick().await;
    assert!(row_ids(&root).is_empty());
    assert!(text(&root).contains("No job matches these filters."));
    // Labels name the filters.
    assert_eq!(text(&one(&root, "label[for=filter-name]")), "Name");
    assert_eq!(text(&one(&root, "label[for=filter-id]")), "Job ID prefix");
    assert_eq!(text(&one(&root, "label[for=filter-status]")), "Status");
}

#[wasm_bindgen_test]
async fn clicking_column_headers_sorts_the_jobs_table() {
    let root = container();
    let _mounted = leptos::mount::mount_to(root.clone(), || {
        view! { <JobList jobs=sample_jobs() loaded=true /> }
    });
    tick().await;
    let header = |label: &str| {
        all(&root, "#jobs-table th button")
            .into_iter()
            .find(|b| text(b).starts_with(label))
            .unwrap_or_else(|| panic!("no {label} header"))
    };
    header("Name").unchecked_into::<HtmlElement>().click();
    tick().await;
    assert_eq!(row_ids(&root), ["bb22-2", "aa11-1", "ab33-3"]);
    assert_eq!(
        header("Name")
            .parent_element()
            .unwrap()
            .get_attribute("aria-sort")
            .as_deref(),
        Some("ascending")
    );

    header("Name").unchecked_into::<HtmlElement>().click();
    tick().await;
    assert_eq!(row_ids(&root), ["ab33-3", "aa11-1", "bb22-2"]);

    header("Status").unchecked_into::<HtmlElement>().click();
    tick().await;
    assert_eq!(row_ids(&root), ["bb22-2", "ab33-3", "aa11-1"]);

    header("Submitted").unchecked_into::<HtmlElement>().click();
    tick().await;
    assert_eq!(row_ids(&root), ["ab33-3", "aa11-1", "bb22-2"]);
}

#[wasm_bindgen_test]
async fn job_rows_link_to_the_job_and_badge_their_status() {
    let root = container();
    let _mounted = leptos::mount::mount_to(root.clone(), || {
        view! { <JobList jobs=sample_jobs() loaded=true /> }
    });
    tick().await;
    let row = one(&root, "tr[data-job-id='bb22-2']");
    let link = one(&row, "a");
    assert_eq!(link.get_attribute("href").as_deref(), Some("/jobs/bb22-2"));
    assert_eq!(text(&link), "alpha");
    let cases = [
        ("aa11-1", "RUNNING", "status-running"),
        ("bb22-2", "FINISHED:COMPLETED", "status-completed"),
        ("ab33-3", "FINISHED:EXECUTION_EXCEPTION", "status-failed"),
    ];
    for (id, status, class) in cases {
        let badge = one(&root, &format!("tr[data-job-id='{id}'] .status"));
        assert_eq!(badge.get_attribute("data-status").as_deref(), Some(status));
        assert_eq!(text(&badge), status);
        assert!(
            badge.class_list().contains(class),
            "{id}: {}",
            badge.class_name()
        );
    }
}

#[wasm_bindgen_test]
async fn a_delta_updates_the_live_jobs_table() {
    let root = container();
    let store = RwSignal::new(Store::default());
    store.update(|s| {
        s.apply(
            Event::Snapshot {
                topic: Topic::Jobs,
                data: TopicData::Jobs(sample_jobs()),
                at_ms: 1,
            },
            1_000,
        );
    });
    let jobs = Signal::derive(move || {
        store
            .read()
            .jobs
            .data
            .as_ref()
            .map(|m| m.values().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    });
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! { <JobList jobs loaded=true /> }
    });
    tick().await;
    assert_eq!(row_ids(&root).len(), 3);

    store.update(|s| {
        s.apply(
            Event::Delta {
                topic: Topic::Jobs,
                delta: TopicDelta::Jobs {
                    upserted: vec![
                        job(
                            "aa11-1",
                            "hello-numpy",
                            "FINISHED:COMPLETED",
                            "2026-11-22T04:00:02+00:00",
                        ),
                        job(
                            "cc44-4",
                            "new-job",
                            "SUBMITTED",
                            "2026-11-22T04:00:09+00:00",
                        ),
                    ],
                    removed: vec!["bb22-2".to_owned()],
                },
                at_ms: 2,
            },
            3_000,
        );
    });
    tick().await;
    assert_eq!(row_ids(&root), ["cc44-4", "ab33-3", "aa11-1"]);
    let badge = one(&root, "tr[data-job-id='aa11-1'] .status");
    assert_eq!(
        badge.get_attribute("data-status").as_deref(),
        Some("FINISHED:COMPLETED")
    );
}

#[wasm_bindgen_test]
async fn freshness_stamp_counts_seconds_and_turns_stale() {
    let root = container();
    let clock = Clock::at(10_000);
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_context(clock);
        view! { <FreshnessStamp fresh_ms=Some(8_000) interval_ms=2_000 /> }
    });
    tick().await;
    let stamp = one(&root, ".freshness");
    assert_eq!(text(&stamp), "updated 2 s ago");
    assert!(!stamp.class_list().contains("stale"));

    clock.0.set(20_000);
    tick().await;
    assert_eq!(text(&stamp), "updated 12 s ago");
    assert!(stamp.class_list().contains("stale"));
    assert_eq!(stamp.get_attribute("data-stale").as_deref(), Some("true"));
}

#[wasm_bindgen_test]
async fn login_form_shows_the_error_as_an_alert() {
    let root = container();
    let error = RwSignal::new(None::<String>);
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! { <LoginForm on_submit=Callback::new(|_| {}) error busy=false /> }
    });
    tick().await;
    assert!(all(&root, "[role=alert]").is_empty());
    assert_eq!(text(&one(&root, "label[for=login-user]")), "User name");
    assert_eq!(text(&one(&root, "label[for=login-password]")), "Password");

    error.set(Some("Wrong user name or password.".to_owned()));
    tick().await;
    assert_eq!(
        text(&one(&root, "[role=alert]")),
        "Wrong user name or password."
    );
}

#[wasm_bindgen_test]
async fn login_form_submits_what_was_typed() {
    let root = container();
    let got = RwSignal::new(None::<(String, String)>);
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <LoginForm
                on_submit=Callback::new(move |pair| got.set(Some(pair)))
                error={ None::<String> }
                busy=false
            />
        }
    });
    tick().await;
    type_into(&root, "#login-user", " ada ");
    type_into(&root, "#login-password", "s3cret");
    let button = all(&root, "button")
        .into_iter()
        .find(|b| text(b) == "Sign in")
        .expect("a Sign in button");
    assert_eq!(button.get_attribute("type").as_deref(), Some("submit"));
    button.unchecked_into::<HtmlElement>().click();
    tick().await;
    assert_eq!(
        got.get_untracked(),
        Some(("ada".to_owned(), "s3cret".to_owned()))
    );
}

#[wasm_bindgen_test]
async fn job_detail_lists_meta_and_the_status_timeline() {
    let root = container();
    let detail = JobDetail {
        meta: JobMeta {
            job_id: "aa11-1".to_owned(),
            name: "hello-numpy".to_owned(),
            status: "RUNNING".to_owned(),
            study: Some("default".to_owned()),
            submitter_name: Some("admin@nvidia.com".to_owned()),
            submit_time_iso: Some("2026-11-22T04:00:02+00:00".to_owned()),
            ..JobMeta::default()
        },
        timeline: vec![
            StatusChange {
                status: "SUBMITTED".to_owned(),
                at_ms: 1_000,
            },
            StatusChange {
                status: "RUNNING".to_owned(),
                at_ms: 5_000,
            },
        ],
        live: None,
    };
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_context(Clock::at(9_000));
        view! { <JobDetailView detail /> }
    });
    tick().await;
    let terms: Vec<String> = all(&root, "#job-meta dt").iter().map(text).collect();
    for term in [
        "Job ID",
        "Name",
        "Status",
        "Study",
        "Submitter",
        "Submitted",
    ] {
        assert!(
            terms.iter().any(|t| t == term),
            "missing {term} in {terms:?}"
        );
    }
    let meta = one(&root, "#job-meta");
    assert_eq!(
        one(&meta, ".status")
            .get_attribute("data-status")
            .as_deref(),
        Some("RUNNING")
    );
    let items = all(&root, "#job-timeline li");
    assert_eq!(items.len(), 2);
    assert!(text(&items[0]).starts_with("SUBMITTED"));
    assert!(text(&items[1]).contains("4 s ago"), "{}", text(&items[1]));
}

#[wasm_bindgen_test]
async fn sites_list_shows_each_site_and_when_it_last_connected() {
    let root = container();
    let sites = vec![
        ClientInfo {
            name: "site-2".to_owned(),
            last_connect_time: 88.0,
        },
        ClientInfo {
            name: "site-1".to_owned(),
            last_connect_time: 98.0,
        },
    ];
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_context(Clock::at(100_000));
        view! { <SitesList sites loaded=true /> }
    });
    tick().await;
    let items = all(&root, ".site");
    let names: Vec<_> = items
        .iter()
        .filter_map(|e| e.get_attribute("data-site"))
        .collect();
    assert_eq!(names, ["site-1", "site-2"]);
    assert!(text(&items[0]).contains("site-1"));
    assert!(text(&items[0]).contains("last connected 2 s ago"));
    assert!(text(&items[1]).contains("last connected 12 s ago"));
}

#[wasm_bindgen_test]
async fn connection_indicator_follows_socket_and_upstream() {
    let root = container();
    let conn = Connection::new(RwSignal::new(Auth::Checking));
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_context(conn);
        view! { <ConnectionIndicator /> }
    });
    tick().await;
    let ind = one(&root, "#connection");
    assert_eq!(
        ind.get_attribute("data-state").as_deref(),
        Some("connecting")
    );

    conn.socket.set(SocketState::Open);
    conn.store.update(|s| {
        s.apply(
            Event::Upstream(UpstreamState {
                state: LinkState::Down,
                server_version: None,
                message: Some("connection refused by 127.0.0.1:8002".to_owned()),
                at_ms: 1,
            }),
            1,
        );
    });
    tick().await;
    assert_eq!(ind.get_attribute("data-state").as_deref(), Some("down"));
    assert_eq!(
        ind.get_attribute("title").as_deref(),
        Some("connection refused by 127.0.0.1:8002")
    );
    assert!(text(&ind).starts_with("Upstream down"));

    conn.socket.set(SocketState::Reconnecting {
        reason: "the relay cannot be reached".to_owned(),
        retry_ms: 2_000,
    });
    tick().await;
    assert_eq!(
        ind.get_attribute("data-state").as_deref(),
        Some("reconnecting")
    );
}

#[wasm_bindgen_test]
async fn a_server_frame_from_the_relay_lands_in_the_store() {
    let conn = Connection::new(RwSignal::new(Auth::Checking));
    conn.handle_text(
        r#"{"hello":{"protocol":1,"role":"viewer","user":"v","identity":"admin@nvidia.com","study":"default","relay_version":"0.1.0"}}"#,
    );
    conn.handle_text(
        r#"{"event":{"upstream":{"state":"connected","server_version":"2.9.0","at_ms":1}}}"#,
    );
    conn.handle_text(
        r#"{"event":{"snapshot":{"topic":"jobs","data":{"jobs":[{"job_id":"j1","job_name":"n","status":"RUNNING"}]},"at_ms":2}}}"#,
    );
    assert_eq!(conn.socket.get_untracked(), SocketState::Open);
    assert_eq!(conn.hello.get_untracked().unwrap().user, "v");
    let store = conn.store.get_untracked();
    assert_eq!(store.server_version.as_deref(), Some("2.9.0"));
    assert_eq!(store.jobs.data.unwrap()["j1"].status, "RUNNING");
}

// ---------- job actions, live stats, errors, logs, copy texts, submission ----------

use crate::components::errors_panel::ErrorsPanel;
use crate::components::job_actions::JobActions;
use crate::components::live_stats::LiveStats;
use crate::components::log_view::{Layout, LogView};
use crate::copy_as::{CopyContext, cli_text, python_text};
use crate::job_ops::JobOps;
use crate::policy::{Allowed, Identity, JobAction, Who};
use flare_model::{JobLive, LogsReply, Role};

fn meta(status: &str, submitter: &str) -> JobMeta {
    JobMeta {
        job_id: "job-42".to_owned(),
        name: "hello-numpy".to_owned(),
        status: status.to_owned(),
        submitter_name: Some(submitter.to_owned()),
        submitter_org: Some("nvidia".to_owned()),
        ..JobMeta::default()
    }
}

fn who(console: Role, role: &str) -> Who {
    Who {
        console_role: console,
        identity: Some(Identity {
            name: "lead@nvidia.com".to_owned(),
            org: "nvidia".to_owned(),
            role: role.to_owned(),
        }),
    }
}

fn button(root: &Element, label: &str) -> HtmlElement {
    all(root, "button")
        .into_iter()
        .find(|b| text(b) == label)
        .unwrap_or_else(|| panic!("no button {label:?}"))
        .unchecked_into()
}

fn disabled(el: &Element) -> bool {
    el.has_attribute("disabled")
}

/// Mounts the actions of `m` for `w`; returns the root and the actions run so far.
fn mount_actions(m: JobMeta, w: Who) -> (HtmlElement, RwSignal<Vec<JobAction>>, impl Drop) {
    let root = container();
    let ran = RwSignal::new(Vec::<JobAction>::new());
    let mounted = leptos::mount::mount_to(root.clone(), move || {
        let ops = JobOps::default();
        let copy = CopyContext::new("job-42", "default", "lead@nvidia.com");
        view! {
            <JobActions
                meta=m.clone()
                who=w.clone()
                copy
                ops
                on_run=Callback::new(move |a| ran.update(|v| v.push(a)))
            />
        }
    });
    (root, ran, mounted)
}

#[wasm_bindgen_test]
async fn abort_asks_yes_or_no_before_anything_is_sent() {
    let (root, ran, _m) = mount_actions(
        meta("RUNNING", "lead@nvidia.com"),
        who(Role::Operator, "project_admin"),
    );
    tick().await;
    assert!(root.query_selector("#abort-dialog").unwrap().is_none());
    one(&root, "#action-abort")
        .unchecked_into::<HtmlElement>()
        .click();
    tick().await;
    let dialog = one(&root, "#abort-dialog");
    assert!(dialog.has_attribute("open"), "the dialog is shown modal");
    assert!(text(&dialog).contains("job-42"));
    button(&root, "Cancel").click();
    tick().await;
    assert!(root.query_selector("#abort-dialog").unwrap().is_none());
    assert!(ran.get_untracked().is_empty(), "Cancel sends nothing");

    one(&root, "#action-abort")
        .unchecked_into::<HtmlElement>()
        .click();
    tick().await;
    button(&root, "Abort job").click();
    tick().await;
    assert_eq!(ran.get_untracked(), [JobAction::Abort]);
    assert!(root.query_selector("#abort-dialog").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn delete_is_enabled_only_once_the_job_id_is_typed() {
    let (root, ran, _m) = mount_actions(
        meta("FINISHED:COMPLETED", "lead@nvidia.com"),
        who(Role::Operator, "project_admin"),
    );
    tick().await;
    one(&root, "#action-delete")
        .unchecked_into::<HtmlElement>()
        .click();
    tick().await;
    let dialog = one(&root, "#delete-dialog");
    assert_eq!(
        text(&one(&dialog, "label[for=delete-confirm]")),
        "Type the job ID to confirm"
    );
    let confirm = button(&dialog, "Delete job");
    assert!(disabled(&confirm));
    type_into(&dialog, "#delete-confirm", "job-4");
    tick().await;
    assert!(disabled(&confirm), "a prefix does not confirm");
    confirm.click();
    tick().await;
    assert!(ran.get_untracked().is_empty());
    type_into(&dialog, "#delete-confirm", "job-42");
    tick().await;
    assert!(!disabled(&confirm));
    confirm.click();
    tick().await;
    assert_eq!(ran.get_untracked(), [JobAction::Delete]);
}

#[wasm_bindgen_test]
async fn buttons_a_role_cannot_use_are_disabled_with_the_reason() {
    // A lead looking at someone else's finished job.
    let (root, _ran, _m) = mount_actions(
        meta("FINISHED:COMPLETED", "admin@nvidia.com"),
        who(Role::Operator, "lead"),
    );
    tick().await;
    for (id, reason) in [
        ("clone", "can only clone this job if you submitted it"),
        ("download-components", "cannot download job components"),
        ("download-result", "can only download this job's result"),
        ("abort", "can only abort this job if you submitted it"),
    ] {
        let b = one(&root, &format!("#action-{id}"));
        assert!(disabled(&b), "{id} should be disabled");
        let hint = text(&one(&root, &format!("#hint-{id}")));
        assert!(hint.contains(reason), "{id}: {hint}");
        assert_eq!(b.get_attribute("title").unwrap_or_default(), hint);
    }
    assert!(disabled(&one(&root, "#action-delete")));
    assert!(
        text(&one(&root, "#hint-delete")).contains("can only delete this job if you submitted it")
    );
}

#[wasm_bindgen_test]
async fn a_viewer_session_cannot_mutate() {
    let (root, _ran, _m) = mount_actions(
        meta("RUNNING", "lead@nvidia.com"),
        who(Role::Viewer, "project_admin"),
    );
    tick().await;
    for id in ["abort", "clone", "delete"] {
        assert!(disabled(&one(&root, &format!("#action-{id}"))), "{id}");
        assert!(text(&one(&root, &format!("#hint-{id}"))).contains("read-only (viewer) session"));
    }
    let b = one(&root, "#action-download-result");
    assert!(disabled(&b));
    assert!(text(&one(&root, "#hint-download-result")).contains("once the job has finished"));
    // Logs stay a link for a project admin identity.
    assert_eq!(
        one(&root, "#action-logs").get_attribute("href").as_deref(),
        Some("/jobs/job-42/logs")
    );
}

fn running_live() -> JobLive {
    serde_json::from_value(serde_json::json!({
        "stats": {
            "server": {
                "ScatterAndGather": {
                    "phase": "train",
                    "current_round": 2,
                    "num_rounds": 20,
                    "tasks": {"train": ["site-1", "site-2"]}
                },
                "ServerRunner": {"status": "started"}
            }
        },
        "errors": {
            "server": {},
            "site-1": {"NPTrainer": ["boom", "bang"]},
            "site-2": {"NPTrainer": {"x": 1}}
        }
    }))
    .unwrap()
}

#[wasm_bindgen_test]
async fn round_progress_bar_follows_the_live_stats() {
    let root = container();
    let running = RwSignal::new(true);
    let _m = leptos::mount::mount_to(root.clone(), move || {
        view! { <LiveStats live=Some(running_live()) running /> }
    });
    tick().await;
    let bar = one(&root, "progress#round-progress");
    assert_eq!(bar.get_attribute("value").as_deref(), Some("2"));
    assert_eq!(bar.get_attribute("max").as_deref(), Some("20"));
    assert_eq!(text(&one(&root, "#round-text")), "Round 3 of 20");
    assert_eq!(text(&one(&root, "#live-phase")), "train");
    let task = one(&root, "#live-tasks tr[data-task=train]");
    assert!(text(&task).contains("site-1, site-2"));

    running.set(false);
    tick().await;
    assert!(root.query_selector("#round-progress").unwrap().is_none());
    assert_eq!(
        text(&one(&root, "#live-idle")),
        "Not running — live stats appear while the job runs."
    );
}

#[wasm_bindgen_test]
async fn errors_panel_counts_per_site_and_resets() {
    let root = container();
    let reset = RwSignal::new(0);
    let _m = leptos::mount::mount_to(root.clone(), move || {
        let copy = CopyContext::new("job-42", "default", "a");
        view! {
            <ErrorsPanel
                live=Some(running_live())
                running=true
                reset=Allowed::Yes
                busy=false
                copy
                on_reset=Callback::new(move |_| reset.update(|n| *n += 1))
            />
        }
    });
    tick().await;
    let count = |site: &str| {
        one(&root, &format!("#errors-sites li[data-site='{site}']"))
            .get_attribute("data-count")
            .unwrap()
    };
    assert_eq!(count("server"), "0");
    assert_eq!(count("site-1"), "2");
    assert_eq!(count("site-2"), "1");
    assert_eq!(text(&one(&root, "#errors-total")), "3 errors reported.");
    let details = one(&root, "#errors-sites li[data-site='site-1'] details pre");
    assert!(text(&details).contains("boom"));
    button(&root, "Reset errors").click();
    tick().await;
    assert_eq!(reset.get_untracked(), 1);
}

fn two_logs() -> LogsReply {
    let mut l = LogsReply::default();
    l.logs.insert(
        "server".to_owned(),
        "Round 0 started.\nsaving model\nRound 1 started.\n".to_owned(),
    );
    l.logs.insert(
        "site-1".to_owned(),
        "... output truncated to last 5242880 bytes ...\ntraining round 1\nERROR boom\n".to_owned(),
    );
    l.unavailable
        .insert("site-2".to_owned(), "no log streamed".to_owned());
    l
}

#[wasm_bindgen_test]
async fn logs_filter_highlights_and_lays_sites_side_by_side() {
    let root = container();
    let filter = RwSignal::new(String::new());
    let layout = RwSignal::new(Layout::SideBySide);
    let _m = leptos::mount::mount_to(root.clone(), move || {
        view! { <LogView logs=two_logs() filter layout /> }
    });
    tick().await;
    let panes = one(&root, "#log-panes");
    assert!(panes.class_list().contains("side-by-side"));
    let sites: Vec<_> = all(&root, ".log-pane")
        .iter()
        .filter_map(|p| p.get_attribute("data-site"))
        .collect();
    assert_eq!(sites, ["server", "site-1"]);
    assert!(
        text(&one(&root, "#logs-unavailable li[data-site='site-2']")).contains("no log streamed")
    );
    assert!(text(&one(&root, ".log-pane[data-site='site-1'] .log-truncated")).contains("5 MB"));
    assert!(
        root.query_selector(".log-pane[data-site='server'] .log-truncated")
            .unwrap()
            .is_none()
    );

    filter.set("ROUND".to_owned());
    tick().await;
    let server_lines = all(&root, ".log-pane[data-site='server'] .log-line");
    assert_eq!(server_lines.len(), 2);
    let marks: Vec<String> = all(&root, ".log-pane[data-site='server'] mark")
        .iter()
        .map(text)
        .collect();
    assert_eq!(marks, ["Round", "Round"]);
    assert_eq!(
        all(&root, ".log-pane[data-site='site-1'] .log-line").len(),
        1
    );

    filter.set("/round [01] st/".to_owned());
    tick().await;
    assert_eq!(
        all(&root, ".log-pane[data-site='server'] .log-line").len(),
        2
    );
    assert_eq!(
        all(&root, ".log-pane[data-site='site-1'] .log-line").len(),
        0
    );

    filter.set("/(/".to_owned());
    tick().await;
    assert!(text(&one(&root, "[role=alert]")).starts_with("Not a valid regular expression"));

    filter.set(String::new());
    layout.set(Layout::OneAtATime);
    tick().await;
    assert_eq!(all(&root, ".log-pane").len(), 1);
    button(&root, "site-1").click();
    tick().await;
    let shown: Vec<_> = all(&root, ".log-pane")
        .iter()
        .filter_map(|p| p.get_attribute("data-site"))
        .collect();
    assert_eq!(shown, ["site-1"]);
}

#[wasm_bindgen_test]
fn copy_texts_and_submit_tokens_work_in_the_browser_too() {
    let ctx = CopyContext::new("job-42", "default", "admin@nvidia.com");
    assert_eq!(cli_text(JobAction::Abort, &ctx), "nvflare job abort job-42");
    assert!(python_text(JobAction::Abort, &ctx).contains("sess.abort_job(\"job-42\")"));
    let token = crate::submission::token_from_bytes(&crate::browser::random_bytes());
    assert!(
        token.starts_with("console-") && token.len() == 40,
        "{token}"
    );
    assert_ne!(
        token,
        crate::submission::token_from_bytes(&crate::browser::random_bytes())
    );
    use crate::submission::{Step, after_lookup};
    assert_eq!(
        after_lookup(Ok(flare_model::Reply::Jobs(vec![]))),
        Step::Submit
    );
}

// ---- Studies, wall screen, site timeline --------------------------------------------------

use crate::components::new_study_form::{FormError, NewStudyForm};
use crate::components::remove_study::RemoveStudy;
use crate::components::site_timeline::SiteTimeline;
use crate::components::wall_view::WallView;
use crate::studies::StudyRole;
use flare_model::{
    ServerInfo, SiteHistory, SiteSelection, SiteSpan, SiteTimeline as Lane, SystemInfo,
};
use std::collections::BTreeMap;

type Sent = RwSignal<Vec<(String, SiteSelection)>>;

fn mount_study_form(
    role: StudyRole,
    connected: &[&str],
    seen: &[&str],
    orgs: &[(&str, &str)],
) -> (HtmlElement, Sent, impl Drop) {
    let root = container();
    let sent: Sent = RwSignal::new(Vec::new());
    let connected: Vec<String> = connected.iter().map(|s| (*s).to_owned()).collect();
    let seen: Vec<String> = seen.iter().map(|s| (*s).to_owned()).collect();
    let orgs: BTreeMap<String, String> = orgs
        .iter()
        .map(|(s, o)| ((*s).to_owned(), (*o).to_owned()))
        .collect();
    let mounted = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <NewStudyForm
                role=role
                own_org="nvidia".to_owned()
                connected=connected.clone()
                seen=seen.clone()
                orgs=orgs.clone()
                busy=false
                server_error={None::<FormError>}
                on_submit=Callback::new(move |s| sent.update(|v| v.push(s)))
            />
        }
    });
    (root, sent, mounted)
}

fn click(root: &Element, selector: &str) {
    one(root, selector).unchecked_into::<HtmlElement>().click();
}

#[wasm_bindgen_test]
async fn a_bad_study_name_is_refused_next_to_the_field_without_a_request() {
    let (root, sent, _m) = mount_study_form(StudyRole::ProjectAdmin, &["site-1"], &[], &[]);
    tick().await;
    click(&root, "#site-site-1");
    for bad in ["Bad Name", "default", ""] {
        type_into(&root, "#study-name", bad);
        click(&root, "#create-study");
        tick().await;
        assert!(sent.get_untracked().is_empty(), "nothing sent for {bad:?}");
        let error = one(&root, "#study-name-error");
        assert!(!text(&error).is_empty(), "an error for {bad:?}");
        let input = one(&root, "#study-name");
        assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
        assert!(
            input
                .get_attribute("aria-describedby")
                .unwrap_or_default()
                .contains("study-name-error")
        );
    }
    type_into(&root, "#study-name", "cancer-2");
    click(&root, "#create-study");
    tick().await;
    assert_eq!(
        sent.get_untracked(),
        [(
            "cancer-2".to_owned(),
            SiteSelection::SiteOrgs(vec!["nvidia:site-1".to_owned()])
        )]
    );
    // What was typed stays in the form.
    let input: HtmlInputElement = one(&root, "#study-name").unchecked_into();
    assert_eq!(input.value(), "cancer-2");
}

#[wasm_bindgen_test]
async fn an_org_admin_is_offered_only_its_own_orgs_sites() {
    let (root, sent, _m) = mount_study_form(
        StudyRole::OrgAdmin,
        &["site-1", "site-3"],
        &["site-2"],
        &[("site-3", "acme")],
    );
    tick().await;
    let offered: Vec<String> = all(&root, ".site-pick")
        .iter()
        .filter_map(|li| li.get_attribute("data-site"))
        .collect();
    assert_eq!(offered, ["site-1", "site-2"]);
    assert!(all(&root, ".org-group[data-org='acme']").is_empty());
    assert!(all(&root, ".org-input").is_empty(), "no org to choose");
    // site-2 was seen but is not connected: offered disabled, marked offline.
    assert!(disabled(&one(&root, "#site-site-2")));
    assert!(text(&one(&root, ".site-pick[data-site='site-2']")).contains("offline"));
    type_into(&root, "#study-name", "org-study");
    click(&root, "#site-site-1");
    click(&root, "#create-study");
    tick().await;
    assert_eq!(
        sent.get_untracked(),
        [(
            "org-study".to_owned(),
            SiteSelection::Sites(vec!["site-1".to_owned()])
        )]
    );
}

#[wasm_bindgen_test]
async fn remove_study_is_enabled_only_once_its_name_is_typed() {
    let root = container();
    let removed = RwSignal::new(0);
    let _m = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <RemoveStudy
                study="trial-7"
                busy=false
                on_remove=Callback::new(move |()| removed.update(|n| *n += 1))
            />
        }
    });
    tick().await;
    let button = one(&root, "#remove-study");
    assert_eq!(text(&button), "Remove study");
    assert!(disabled(&button));
    let label = one(&root, "label[for='remove-study-confirm']");
    assert_eq!(text(&label), "Type the study name to confirm");
    type_into(&root, "#remove-study-confirm", "trial-");
    tick().await;
    assert!(disabled(&button));
    click(&root, "#remove-study");
    tick().await;
    assert_eq!(removed.get_untracked(), 0);
    type_into(&root, "#remove-study-confirm", "trial-7");
    tick().await;
    assert!(!disabled(&button));
    click(&root, "#remove-study");
    tick().await;
    assert_eq!(removed.get_untracked(), 1);
}

fn system_at(now: u64) -> Store {
    let mut store = Store::default();
    store.apply(
        Event::Snapshot {
            topic: Topic::System,
            data: TopicData::System(SystemInfo {
                server_info: ServerInfo {
                    status: "stopped".to_owned(),
                    start_time: 1.0,
                },
                client_info: vec![ClientInfo {
                    name: "site-1".to_owned(),
                    last_connect_time: now as f64 / 1_000.0,
                }],
                job_info: vec![],
            }),
            at_ms: now,
        },
        now,
    );
    store.apply(
        Event::Upstream(UpstreamState {
            state: LinkState::Connected,
            server_version: Some("2.9.0".to_owned()),
            message: None,
            at_ms: now,
        }),
        now,
    );
    store
}

#[wasm_bindgen_test]
async fn the_wall_says_stale_when_updates_stop_and_unreachable_when_the_socket_drops() {
    let root = container();
    let clock = Clock::at(100_000);
    let store = RwSignal::new(system_at(100_000));
    let open = RwSignal::new(true);
    let revoked = RwSignal::new(false);
    let _m = leptos::mount::mount_to(root.clone(), move || {
        provide_context(clock);
        view! {
            <WallView
                store
                socket_open=open
                history={None::<SiteHistory>}
                history_at={None::<u64>}
                study="default".to_owned()
                revoked
            />
        }
    });
    tick().await;
    assert!(all(&root, "#wall-banner").is_empty(), "fresh: no banner");
    assert!(text(&one(&root, ".wall-site[data-site='site-1']")).contains("connected"));

    // No event for 3 intervals (2 s default) + slack: stale.
    clock.0.set(108_000);
    tick().await;
    let banner = one(&root, "#wall-banner");
    assert_eq!(banner.get_attribute("data-kind").as_deref(), Some("stale"));
    assert!(text(&banner).contains("stale"));
    assert_eq!(
        one(&root, ".wall-stamp")
            .get_attribute("data-stale")
            .as_deref(),
        Some("true")
    );

    // A new event clears it; a dropped socket says the relay is unreachable.
    store.update(|s| {
        s.apply(
            Event::Delta {
                topic: Topic::System,
                delta: TopicDelta::Unchanged,
                at_ms: 0,
            },
            108_000,
        );
    });
    tick().await;
    assert!(all(&root, "#wall-banner").is_empty());
    open.set(false);
    tick().await;
    assert_eq!(
        one(&root, "#wall-banner")
            .get_attribute("data-kind")
            .as_deref(),
        Some("relay")
    );
    revoked.set(true);
    tick().await;
    assert!(text(&one(&root, "#wall-revoked")).contains("revoked"));
}

#[wasm_bindgen_test]
async fn site_timeline_draws_one_lane_per_site_with_coloured_spans() {
    let root = container();
    let history = SiteHistory {
        since_ms: 0,
        until_ms: 60_000,
        sample_every_ms: 5_000,
        sites: vec![
            Lane {
                site: "site-1".to_owned(),
                spans: vec![SiteSpan {
                    from_ms: 0,
                    to_ms: 60_000,
                    connected: true,
                }],
            },
            Lane {
                site: "site-2".to_owned(),
                spans: vec![
                    SiteSpan {
                        from_ms: 0,
                        to_ms: 15_000,
                        connected: false,
                    },
                    SiteSpan {
                        from_ms: 15_000,
                        to_ms: 60_000,
                        connected: true,
                    },
                ],
            },
        ],
    };
    let _m = leptos::mount::mount_to(root.clone(), move || {
        view! { <SiteTimeline history=Some(history.clone()) /> }
    });
    tick().await;
    let svg = one(&root, "svg#site-timeline");
    let labels: Vec<String> = all(&svg, ".lane-label").iter().map(text).collect();
    assert_eq!(labels, ["site-1", "site-2"]);
    let spans = all(&svg, "rect.span");
    let got: Vec<(String, String, f64)> = spans
        .iter()
        .map(|r| {
            (
                r.get_attribute("data-site").unwrap_or_default(),
                r.get_attribute("data-connected").unwrap_or_default(),
                r.get_attribute("width")
                    .unwrap_or_default()
                    .parse()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("site-1".to_owned(), "true".to_owned(), 860.0),
            ("site-2".to_owned(), "false".to_owned(), 215.0),
            ("site-2".to_owned(), "true".to_owned(), 645.0),
        ]
    );
    assert!(spans[1].class_list().contains("span-disconnected"));
    let x: f64 = spans[2].get_attribute("x").unwrap().parse().unwrap();
    assert_eq!(x, 110.0 + 215.0);
}

use crate::components::shell::session_check;
use flare_model::SessionInfo;

/// The test server has no `/api/session`: the answer is "unreachable" or "signed out", never
/// "signed in", so a kept sign-in shows the answer was dropped.
#[wasm_bindgen_test]
async fn a_session_answer_never_overwrites_a_login_that_finished_while_it_was_out() {
    let owner = Owner::new();
    owner.set();
    let kiosk = AuthorizedApi::signed_in_as(SessionInfo {
        user: "kiosk:lobby".to_owned(),
        role: Role::Viewer,
        identity: "admin@nvidia.com".to_owned(),
        study: "default".to_owned(),
        max_upload_bytes: 1024,
        kiosk: true,
    });

    // The kiosk login lands while the first session check is still out: it stays signed in.
    let auth = RwSignal::new(Auth::Checking);
    let check = session_check(auth);
    auth.set(Auth::SignedIn(kiosk.clone()));
    check.await;
    assert_eq!(auth.get_untracked(), Auth::SignedIn(kiosk));

    // Nothing changed meanwhile: the answer is taken.
    let auth = RwSignal::new(Auth::Checking);
    session_check(auth).await;
    assert!(
        matches!(
            auth.get_untracked(),
            Auth::Unreachable(_) | Auth::SignedOut { .. }
        ),
        "{:?}",
        auth.get_untracked()
    );
}
