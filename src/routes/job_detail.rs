//! `/jobs/:id`: one job's meta, status and live status timeline.

use flare_model::{FlareError, Topic};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::card::Card;
use crate::components::job_detail::JobDetailView;
use crate::components::status_badge::StatusBadge;
use crate::connection::use_topic;
use crate::job_query::short_id;

/// The job detail page; a new id remounts the watcher.
#[component]
pub fn JobDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    move || {
        let job_id = id.get();
        view! { <WatchedJob job_id /> }
    }
}

/// Watches one job while shown.
#[component]
fn WatchedJob(job_id: String) -> impl IntoView {
    let conn = use_topic(Topic::Job {
        job_id: job_id.clone(),
    });
    let store = conn.store;
    let key = job_id.clone();
    let panel = Memo::new(move |_| store.read().job.get(&key).cloned().unwrap_or_default());
    let detail = Memo::new(move |_| panel.read().data.clone());
    let fresh = Signal::derive(move || panel.read().fresh_ms);
    let interval = Signal::derive(move || panel.read().interval_ms);
    let error = Signal::derive(move || panel.read().error.clone());
    let not_found = move || matches!(error.get(), Some(FlareError::JobNotFound { .. }));
    let short = short_id(&job_id).to_owned();
    let title = move || {
        detail
            .read()
            .as_ref()
            .map(|d| d.meta.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("Job {short}"))
    };
    let title_text = title.clone();
    Effect::new(move |_| crate::app::set_title(&title_text()));
    let status = Signal::derive(move || {
        detail
            .read()
            .as_ref()
            .map(|d| d.meta.status.clone())
            .unwrap_or_default()
    });
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/jobs">"Jobs"</a>
            <span aria-hidden="true">" / "</span>
            <code>{short_id(&job_id).to_owned()}</code>
        </nav>
        <div class="page-head">
            <h1>{title}</h1>
            {move || {
                detail.read().is_some().then(|| view! { <StatusBadge status /> })
            }}
        </div>
        <Card title="Job" fresh_ms=fresh interval_ms=interval error>
            {move || match detail.get() {
                Some(d) => view! { <JobDetailView detail=d /> }.into_any(),
                None if not_found() => {
                    view! {
                        <p class="empty">
                            <a href="/jobs">"Back to the job list"</a>
                        </p>
                    }
                        .into_any()
                }
                None => view! { <p class="empty muted">"Loading job…"</p> }.into_any(),
            }}
        </Card>
    }
}
