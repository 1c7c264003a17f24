//! The jobs table: one row per job with a link, status badge, submit time and duration; sortable
//! by clicking the Name, Status and Submitted headers.

use flare_model::JobSummary;
use leptos::prelude::*;

use crate::components::status_badge::StatusBadge;
use crate::job_query::{Sort, SortKey, short_id, tidy_duration};
use crate::time::display_iso;

/// A sortable column header.
#[component]
fn SortHeader(label: &'static str, key: SortKey, sort: RwSignal<Sort>) -> impl IntoView {
    let aria = move || {
        let s = sort.get();
        match (s.key == key, s.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    };
    let arrow = move || match aria() {
        "ascending" => "▲",
        "descending" => "▼",
        _ => "↕",
    };
    view! {
        <th scope="col" aria-sort=aria>
            <button
                type="button"
                class="sort"
                data-sort=aria
                on:click=move |_| sort.update(|s| *s = s.clicked(key))
            >
                {label}
                <span class="sort-arrow" aria-hidden="true">
                    {arrow}
                </span>
            </button>
        </th>
    }
}

/// The table of `rows` (already filtered and sorted).
#[component]
pub fn JobsTable(
    #[prop(into)] rows: Signal<Vec<JobSummary>>,
    sort: RwSignal<Sort>,
) -> impl IntoView {
    let base = crate::identity::jobs_base_here();
    view! {
        <div class="table-wrap">
            <table id="jobs-table" class="table">
                <thead>
                    <tr>
                        <SortHeader label="Name" key=SortKey::Name sort />
                        <th scope="col">"Job ID"</th>
                        <SortHeader label="Status" key=SortKey::Status sort />
                        <SortHeader label="Submitted" key=SortKey::Submitted sort />
                        <th scope="col">"Duration"</th>
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=move || rows.get()
                        key=|job| {
                            (
                                job.job_id.clone(),
                                job.job_name.clone(),
                                job.status.clone(),
                                job.submit_time.clone(),
                                job.duration.clone(),
                            )
                        }
                        children=move |job| {
                            let href = format!("{base}/{}", job.job_id);
                            let text = if job.job_name.is_empty() {
                                short_id(&job.job_id).to_owned()
                            } else {
                                job.job_name.clone()
                            };
                            view! {
                                <tr data-job-id=job.job_id.clone()>
                                    <td>
                                        <a href=href>{text}</a>
                                    </td>
                                    <td>
                                        <code title=job.job_id.clone()>
                                            {short_id(&job.job_id).to_owned()}
                                        </code>
                                    </td>
                                    <td>
                                        <StatusBadge status=job.status.clone() />
                                    </td>
                                    <td>
                                        <time datetime=job.submit_time.clone()>
                                            {display_iso(&job.submit_time)}
                                        </time>
                                    </td>
                                    <td class="num">{tidy_duration(&job.duration).to_owned()}</td>
                                </tr>
                            }
                        }
                    />
                </tbody>
            </table>
        </div>
    }
}
