//! The server panel's content: status, start time, NVFlare version, running jobs.

use flare_model::SystemInfo;
use leptos::prelude::*;

use crate::job_query::short_id;
use crate::state::ago;
use crate::time::{local_datetime, use_clock};

/// Server facts from `info` (None while loading) and the version from the upstream event.
#[component]
pub fn ServerSummary(
    #[prop(into)] info: Signal<Option<SystemInfo>>,
    #[prop(into)] version: Signal<Option<String>>,
) -> impl IntoView {
    let clock = use_clock();
    let status = move || {
        info.read()
            .as_ref()
            .map(|i| i.server_info.status.clone())
            .unwrap_or_else(|| "…".to_owned())
    };
    let started = move || {
        info.read().as_ref().map(|i| {
            let ms = i.server_info.start_time * 1_000.0;
            let age = clock.now().saturating_sub(ms as u64);
            format!("{} ({})", local_datetime(ms), ago(age))
        })
    };
    let running = move || info.read().as_ref().map(|i| i.job_info.clone());
    view! {
        <dl class="meta">
            <dt>"Status"</dt>
            <dd>
                <span
                    id="server-status"
                    class="pill"
                    class:pill-running=move || status() == "started"
                >
                    {status}
                </span>
                {move || {
                    let hint = match status().as_str() {
                        "stopped" => "no job running",
                        "started" => "running a job",
                        _ => "",
                    };
                    (!hint.is_empty())
                        .then(|| view! { <span class="muted hint">{hint}</span> })
                }}
            </dd>
            <dt>"Started"</dt>
            <dd>{move || started().unwrap_or_else(|| "…".to_owned())}</dd>
            <dt>"NVFlare version"</dt>
            <dd>
                <span id="server-version">
                    {move || version.get().unwrap_or_else(|| "unknown".to_owned())}
                </span>
            </dd>
            <dt>"Running jobs"</dt>
            <dd>
                {move || {
                    let Some(jobs) = running() else {
                        return view! { "…" }.into_any();
                    };
                    if jobs.is_empty() {
                        view! { <span class="muted">"none"</span> }.into_any()
                    } else {
                        view! {
                            <ul class="inline-list">
                                {jobs
                                    .into_iter()
                                    .map(|j| {
                                        let href = format!("{}/{}", crate::identity::jobs_base_here(), j.job_id);
                                        let label = format!(
                                            "{} ({})",
                                            j.app_name,
                                            short_id(&j.job_id),
                                        );
                                        view! {
                                            <li>
                                                <a href=href>{label}</a>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                }}
            </dd>
        </dl>
    }
}
