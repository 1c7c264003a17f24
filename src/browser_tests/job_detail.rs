//! The job page: meta and timeline, the actions and their confirmations, live stats, errors.

use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;

use flare_model::{JobDetail, JobLive, JobMeta, Role, StatusChange};

use super::{all, button, container, disabled, one, text, type_into};
use crate::components::errors_panel::ErrorsPanel;
use crate::components::job_actions::JobActions;
use crate::components::job_detail::JobDetailView;
use crate::components::live_stats::LiveStats;
use crate::copy_as::CopyContext;
use crate::job_ops::JobOps;
use crate::policy::tests::who;
use crate::policy::{Allowed, JobAction, Who};
use crate::time::Clock;

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
