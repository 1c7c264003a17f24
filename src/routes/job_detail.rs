//! `/jobs/:id`: one job's meta, status timeline, actions (abort, delete, clone, downloads, logs),
//! and while it runs, its live stats and errors.

use flare_model::{FlareError, JobMeta, Topic};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::AuthorizedApi;
use crate::components::card::Card;
use crate::components::errors_panel::ErrorsPanel;
use crate::components::job_actions::JobActions;
use crate::components::job_detail::JobDetailView;
use crate::components::live_stats::LiveStats;
use crate::components::status_badge::StatusBadge;
use crate::components::toasts::use_toasts;
use crate::connection::use_topic;
use crate::copy_as::CopyContext;
use crate::identity::SessionCtx;
use crate::job_ops::JobOps;
use crate::job_query::short_id;
use crate::policy::{JobAction, allowed};

/// The job detail page; a new id remounts the watcher.
#[component]
pub fn JobDetailPage() -> impl IntoView {
    let id = crate::routes::param("id");
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
    let ctx = expect_context::<SessionCtx>();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let api = expect_context::<AuthorizedApi>();
    let ops = JobOps::default();
    on_cleanup(move || ops.cancel());
    let meta = Memo::new(move |_| {
        detail
            .read()
            .as_ref()
            .map(|d| d.meta.clone())
            .unwrap_or_default()
    });
    let live = Memo::new(move |_| detail.read().as_ref().and_then(|d| d.live.clone()));
    let running = Signal::derive(move || status.get() == "RUNNING");
    let who = Signal::derive(move || ctx.who());
    let copy = Signal::derive({
        let job_id = job_id.clone();
        move || CopyContext::new(&job_id, &ctx.study(), &ctx.identity_name())
    });
    let on_run = Callback::new({
        let job_id = job_id.clone();
        move |action: JobAction| {
            let navigate = navigate.clone();
            let base = crate::identity::jobs_base_here();
            ops.run(
                api.clone(),
                conn,
                toasts,
                move |path: &str| navigate(&path.replacen("/jobs", &base, 1), Default::default()),
                action,
                job_id.clone(),
            );
        }
    });
    let reset =
        Signal::derive(move || allowed(&who.get(), JobAction::ResetErrors, Some(&meta.read())));
    let loaded = Memo::new(move |_| detail.read().is_some());
    let meta_sig: Signal<JobMeta> = meta.into();
    let base = crate::identity::jobs_base_here();
    let logs_href = format!("{base}/{job_id}/logs");
    let back = base.clone();
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href=base.clone()>"Jobs"</a>
            <span aria-hidden="true">" / "</span>
            <code>{short_id(&job_id).to_owned()}</code>
        </nav>
        <div class="page-head">
            <h1>{title}</h1>
            {move || {
                detail.read().is_some().then(|| view! { <StatusBadge status /> })
            }}
            <a class="btn head-link" href=logs_href>
                "Logs"
            </a>
        </div>
        <Card title="Job" fresh_ms=fresh interval_ms=interval error>
            {move || match detail.get() {
                Some(d) => view! { <JobDetailView detail=d /> }.into_any(),
                None if not_found() => {
                    view! {
                        <p class="empty">
                            <a href=back.clone()>"Back to the job list"</a>
                        </p>
                    }
                        .into_any()
                }
                None => view! { <p class="empty muted">"Loading job…"</p> }.into_any(),
            }}
        </Card>
        {move || {
            loaded
                .get()
                .then(|| {
                    view! {
                        <div class="grid job-grid">
                            <section class="card" aria-labelledby="actions-title">
                                <header class="card-head">
                                    <h2 id="actions-title">"Actions"</h2>
                                </header>
                                <div class="card-body">
                                    <JobActions meta=meta_sig who copy ops on_run />
                                </div>
                            </section>
                            <Card title="Live stats" fresh_ms=fresh interval_ms=interval error=Signal::derive(|| None)>
                                <LiveStats live running />
                            </Card>
                            <Card title="Errors" fresh_ms=fresh interval_ms=interval error=Signal::derive(|| None)>
                                <ErrorsPanel
                                    live
                                    running
                                    reset
                                    busy=ops.busy
                                    copy
                                    on_reset=Callback::new(move |_| on_run.run(JobAction::ResetErrors))
                                />
                            </Card>
                        </div>
                    }
                })
        }}
    }
}
