//! `/jobs`: the live job list of the session's study.

use flare_model::Topic;
use leptos::prelude::*;

use crate::components::card::Card;
use crate::components::job_list::JobList;
use crate::connection::use_topic;

/// The jobs page.
#[component]
pub fn JobsPage() -> impl IntoView {
    crate::app::set_title("Jobs");
    let conn = use_topic(Topic::Jobs);
    let store = conn.store;
    let jobs = Memo::new(move |_| store.read().job_list());
    let loaded = Signal::derive(move || store.read().jobs.data.is_some());
    let fresh = Signal::derive(move || store.read().jobs.fresh_ms);
    let interval = Signal::derive(move || store.read().jobs.interval_ms);
    let error = Signal::derive(move || store.read().jobs.error.clone());
    let ctx = use_context::<crate::identity::SessionCtx>();
    let heading = move || match ctx {
        Some(c) if c.current_study.get() != c.default_study() => {
            format!("Jobs · {}", c.current_study.get())
        }
        _ => "Jobs".to_owned(),
    };
    view! {
        <div class="page-head">
            <h1>{heading}</h1>
            <a id="submit-job" class="btn btn-primary head-link" href="/submit">
                "Submit job"
            </a>
        </div>
        <Card title="All jobs" fresh_ms=fresh interval_ms=interval error>
            <JobList jobs loaded />
        </Card>
    }
}
