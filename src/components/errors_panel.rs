//! A running job's errors per site (`show_errors`), expandable, with "Reset errors".

use flare_model::JobLive;
use leptos::prelude::*;

use crate::components::copy_buttons::CopyButtons;
use crate::copy_as::CopyContext;
use crate::policy::{Allowed, JobAction};

/// The errors panel.
#[component]
pub fn ErrorsPanel(
    #[prop(into)] live: Signal<Option<JobLive>>,
    #[prop(into)] running: Signal<bool>,
    #[prop(into)] reset: Signal<Allowed>,
    #[prop(into)] busy: Signal<bool>,
    #[prop(into)] copy: Signal<CopyContext>,
    on_reset: Callback<()>,
) -> impl IntoView {
    let counts = Memo::new(move |_| {
        live.read()
            .as_ref()
            .map(JobLive::error_counts)
            .unwrap_or_default()
    });
    let reason = move || reset.read().reason().map(str::to_owned);
    let body = move || {
        if !running.get() {
            return view! {
                <p class="empty muted">"Not running — errors appear while the job runs."</p>
            }
            .into_any();
        }
        let Some(l) = live.get() else {
            return view! { <p class="empty muted">"Waiting for the job's first report…"</p> }
                .into_any();
        };
        let counts = counts.get();
        if counts.is_empty() {
            return view! { <p class="empty muted">"No site reported errors."</p> }.into_any();
        }
        let total: usize = counts.values().sum();
        view! {
            <p class="count" id="errors-total">
                {if total == 0 {
                    "No errors reported.".to_owned()
                } else {
                    format!("{total} error{} reported.", if total == 1 { "" } else { "s" })
                }}
            </p>
            <ul id="errors-sites" class="error-sites">
                {counts
                    .into_iter()
                    .map(|(site, n)| {
                        let detail = l
                            .errors
                            .get(&site)
                            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
                            .unwrap_or_default();
                        let cls = if n == 0 { "error-count" } else { "error-count has-errors" };
                        view! {
                            <li data-site=site.clone() data-count=n.to_string()>
                                <details>
                                    <summary>
                                        <span class="site-name">{site.clone()}</span>
                                        <span class=cls>
                                            {format!("{n} error{}", if n == 1 { "" } else { "s" })}
                                        </span>
                                    </summary>
                                    <pre class="log-pre">{detail}</pre>
                                </details>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        {body}
        <div class="action-row" data-action="reset-errors">
            <button
                type="button"
                id="action-reset-errors"
                class="btn"
                disabled=move || !reset.read().is_yes() || busy.get()
                title=move || reason().unwrap_or_default()
                aria-describedby="hint-reset-errors"
                on:click=move |_| on_reset.run(())
            >
                "Reset errors"
            </button>
            <span id="hint-reset-errors" class="hint" class:hint-denied=move || reason().is_some()>
                {move || reason().unwrap_or_else(|| "Clear the error counters of the server and every site.".to_owned())}
            </span>
            <CopyButtons action=JobAction::ResetErrors ctx=copy />
        </div>
    }
}
