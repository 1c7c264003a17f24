//! The jobs page: the jobs table's filters, sorting, links and badges, and live deltas.

use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Element, HtmlElement};

use flare_model::{Event, JobSummary, Topic, TopicData, TopicDelta};

use super::{all, choose, container, one, text, type_into};
use crate::components::job_list::JobList;
use crate::job_query::tests::job;
use crate::state::Store;

fn row_ids(root: &Element) -> Vec<String> {
    all(root, "#jobs-table tbody tr")
        .iter()
        .filter_map(|tr| tr.get_attribute("data-job-id"))
        .collect()
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
    let jobs = Signal::derive(move || store.read().job_list());
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
