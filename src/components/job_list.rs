//! The live jobs list: filters above a sortable table, with empty states that say what to do.

use flare_model::JobSummary;
use leptos::prelude::*;

use crate::components::job_filters::JobFilters;
use crate::components::jobs_table::JobsTable;
use crate::job_query::{JobFilter, JobsView, visible_jobs};

/// Filters + table over `jobs`; `loaded` is false until the first snapshot.
#[component]
pub fn JobList(
    #[prop(into)] jobs: Signal<Vec<JobSummary>>,
    #[prop(into)] loaded: Signal<bool>,
) -> impl IntoView {
    let JobsView { filter, sort } = use_context::<JobsView>().unwrap_or_default();
    let rows = Memo::new(move |_| jobs.with(|all| visible_jobs(all, &filter.read(), sort.get())));
    let total = move || jobs.with(Vec::len);
    let empty = move || {
        if !loaded.get() {
            Some(view! { <p class="empty muted">"Loading jobs…"</p> }.into_any())
        } else if total() == 0 {
            Some(
                view! {
                    <p class="empty">
                        "No jobs in this study yet. Jobs appear here as soon as they are submitted."
                    </p>
                }
                .into_any(),
            )
        } else if rows.with(Vec::is_empty) {
            Some(
                view! {
                    <p class="empty">
                        "No job matches these filters. "
                        <button
                            type="button"
                            class="btn btn-link"
                            on:click=move |_| filter.set(JobFilter::default())
                        >
                            "Clear filters"
                        </button>
                    </p>
                }
                .into_any(),
            )
        } else {
            None
        }
    };
    view! {
        <JobFilters filter />
        <p class="count muted" aria-live="polite">
            {move || {
                let shown = rows.with(Vec::len);
                let all = total();
                if shown == all {
                    format!("{all} job{}", if all == 1 { "" } else { "s" })
                } else {
                    format!("{shown} of {all} jobs")
                }
            }}
        </p>
        <JobsTable rows sort />
        {empty}
    }
}
