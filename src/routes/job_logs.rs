//! `/jobs/:id/logs`: a job's logs per target (server, one site, all), filtered like grep, tailed
//! live while the job runs and the tab is visible.

use std::collections::BTreeSet;

use flare_model::{FlareError, LogsReply, ReadCommand, Reply, Topic};
use leptos::prelude::*;

use crate::browser;
use crate::components::card::ErrorNote;
use crate::components::copy_buttons::CopyButtons;
use crate::components::log_view::{Layout, LogView};
use crate::components::search_field::SearchField;
use crate::connection::{sleep, use_topic};
use crate::copy_as::CopyContext;
use crate::identity::SessionCtx;
use crate::job_query::short_id;
use crate::policy::{JobAction, allowed};
use crate::state::ago;
use crate::time::{now_ms, use_clock};

/// How often the live tail asks again.
pub const TAIL_MS: u64 = 3_000;

/// Sites a job runs on: its deploy map's named sites, else the connected ones.
pub fn job_sites(deploy_map: Option<&serde_json::Value>, connected: &[String]) -> Vec<String> {
    let mut out = BTreeSet::new();
    let mut everyone = deploy_map.is_none();
    if let Some(map) = deploy_map.and_then(|m| m.as_object()) {
        for sites in map.values() {
            for s in sites.as_array().into_iter().flatten() {
                match s.as_str() {
                    Some("@ALL") => everyone = true,
                    Some("server") | None => {}
                    Some(site) => {
                        out.insert(site.to_owned());
                    }
                }
            }
        }
    }
    if everyone || out.is_empty() {
        out.extend(connected.iter().cloned());
    }
    out.into_iter().collect()
}

/// The logs page; a new id remounts it.
#[component]
pub fn JobLogsPage() -> impl IntoView {
    let id = crate::routes::param("id");
    move || {
        let job_id = id.get();
        view! { <JobLogs job_id /> }
    }
}

#[component]
fn JobLogs(job_id: String) -> impl IntoView {
    crate::app::set_title(&format!("Logs of {}", short_id(&job_id)));
    let conn = use_topic(Topic::Job {
        job_id: job_id.clone(),
    });
    use_topic(Topic::System);
    let ctx = expect_context::<SessionCtx>();
    let store = conn.store;
    let key = job_id.clone();
    let meta = Memo::new(move |_| {
        store
            .read()
            .job
            .get(&key)
            .and_then(|p| p.data.as_ref().map(|d| d.meta.clone()))
    });
    let status = Memo::new(move |_| meta.read().as_ref().map(|m| m.status.clone()));
    let running = Memo::new(move |_| status.get().as_deref() == Some("RUNNING"));
    let sites = Memo::new(move |_| {
        let connected: Vec<String> = store
            .read()
            .system
            .data
            .as_ref()
            .map(|s| s.client_info.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        job_sites(
            meta.read().as_ref().and_then(|m| m.deploy_map.as_ref()),
            &connected,
        )
    });
    let permit = Memo::new(move |_| allowed(&ctx.who(), JobAction::Logs, meta.read().as_ref()));

    let target = RwSignal::new("server".to_owned());
    let filter = RwSignal::new(String::new());
    let layout = RwSignal::new(Layout::SideBySide);
    let logs = RwSignal::new(None::<LogsReply>);
    let error = RwSignal::new(None::<FlareError>);
    let fetched = RwSignal::new(None::<u64>);
    let loading = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let alive = StoredValue::new(true);
    on_cleanup(move || alive.set_value(false));

    let id_for_fetch = job_id.clone();
    let fetch = move || {
        let job_id = id_for_fetch.clone();
        let t = target.get_untracked();
        let gen_now = generation.with_value(|g| *g);
        loading.set(true);
        leptos::task::spawn_local(async move {
            let reply = conn
                .command(ReadCommand::GetJobLogs {
                    job_id,
                    target: t,
                    tail_lines: None,
                    grep_pattern: None,
                    log_file_name: None,
                })
                .await;
            // A newer target was picked meanwhile, or the page is gone.
            if !alive.try_get_value().unwrap_or(false)
                || generation.try_with_value(|g| *g) != Some(gen_now)
            {
                return;
            }
            let _ = loading.try_set(false);
            match reply {
                Ok(Reply::Logs(l)) => {
                    let _ = logs.try_set(Some(l));
                    let _ = error.try_set(None);
                    let _ = fetched.try_set(Some(now_ms()));
                }
                Ok(other) => {
                    let _ = error.try_set(Some(FlareError::InternalError {
                        message: format!("the relay answered the log request with {other:?}"),
                    }));
                }
                Err(e) => {
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };

    // A new target: drop what is shown and ask at once (once the policy allows).
    let fetch_now = fetch.clone();
    Effect::new(move |_| {
        target.track();
        if !permit.get().is_yes() {
            return;
        }
        generation.update_value(|g| *g += 1);
        logs.set(None);
        fetch_now();
    });

    // The live tail: every few seconds while the job runs and the tab is visible.
    let fetch_tail = fetch.clone();
    leptos::task::spawn_local(async move {
        loop {
            sleep(TAIL_MS).await;
            if !alive.try_get_value().unwrap_or(false) {
                break;
            }
            let go = running.try_get_untracked().unwrap_or(false)
                && permit.try_get_untracked().is_some_and(|p| p.is_yes())
                && !loading.try_get_untracked().unwrap_or(true)
                && browser::page_visible();
            if go {
                fetch_tail();
            }
        }
    });

    let clock = use_clock();
    let copy = Signal::derive({
        let job_id = job_id.clone();
        move || {
            let mut c = CopyContext::new(&job_id, &ctx.study(), &ctx.identity_name());
            c.log_target = Some(target.get());
            c
        }
    });
    let tail_state = move || {
        if running.get() {
            if browser::page_visible() {
                "Live: refreshing every 3 s while the job runs".to_owned()
            } else {
                "Live tail paused while the tab is hidden".to_owned()
            }
        } else {
            match status.get() {
                Some(s) => format!("Not tailing: the job is {s}"),
                None => "Loading the job…".to_owned(),
            }
        }
    };
    let base = crate::identity::jobs_base_here();
    let job_href = format!("{base}/{job_id}");
    // Mounted once per fetch cycle, so the panes keep their scroll position across tail updates.
    let has_logs = Memo::new(move |_| logs.read().is_some());
    let shown = Signal::derive(move || logs.get().unwrap_or_default());
    let expected = Signal::derive(move || match target.get().as_str() {
        "server" => Vec::new(),
        "all" => sites.get(),
        one => vec![one.to_owned()],
    });
    let refresh = fetch.clone();
    let layout_button = move |id: &'static str, choice: Layout, text: &'static str| {
        view! {
            <button
                type="button"
                id=id
                class="btn btn-small"
                aria-pressed=move || (layout.get() == choice).to_string()
                on:click=move |_| layout.set(choice)
            >
                {text}
            </button>
        }
    };
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href=base.clone()>"Jobs"</a>
            <span aria-hidden="true">" / "</span>
            <a href=job_href>
                <code>{short_id(&job_id).to_owned()}</code>
            </a>
            <span aria-hidden="true">" / "</span>
            "Logs"
        </nav>
        <div class="page-head">
            <h1>"Job logs"</h1>
        </div>
        <section class="card">
            <div class="log-controls">
                <div class="field">
                    <label for="log-target">"Target"</label>
                    <select
                        id="log-target"
                        prop:value=move || target.get()
                        on:change=move |ev| target.set(event_target_value(&ev))
                    >
                        <option value="server">"Server"</option>
                        {move || {
                            sites
                                .get()
                                .into_iter()
                                .map(|s| view! { <option value=s.clone()>{s.clone()}</option> })
                                .collect_view()
                        }}
                        <option value="all">"All (server and sites)"</option>
                    </select>
                </div>
                <div class="field grow">
                    <SearchField
                        id="log-filter"
                        label="Filter lines"
                        placeholder="text, or /regex/ (case-insensitive)"
                        shortcut=true
                        literal=true
                        value=filter
                        on_input=Callback::new(move |v| filter.set(v))
                    />
                </div>
                <div class="field">
                    <span class="field-label">"Layout"</span>
                    <div class="segmented" role="group" aria-label="Layout">
                        {layout_button("layout-columns", Layout::SideBySide, "Side by side")}
                        {layout_button("layout-single", Layout::OneAtATime, "One at a time")}
                    </div>
                </div>
                <button
                    type="button"
                    class="btn"
                    disabled=move || loading.get() || !permit.get().is_yes()
                    on:click=move |_| refresh()
                >
                    "Refresh"
                </button>
            </div>
            <p class="log-status muted">
                <span id="log-tail" data-live=move || running.get().to_string()>{tail_state}</span>
                " · "
                <span>
                    {move || match fetched.get() {
                        Some(at) => format!("fetched {}", ago(clock.now().saturating_sub(at))),
                        None if loading.get() => "fetching…".to_owned(),
                        None => String::new(),
                    }}
                </span>
                " "
                <CopyButtons action=JobAction::Logs ctx=copy />
            </p>
            {move || {
                permit
                    .get()
                    .reason()
                    .map(|r| {
                        view! {
                            <p id="logs-denied" class="note note-warn" role="alert">
                                {r.to_owned()}
                                " A project admin can read them, or the site's authorization policy can grant the get_job_log right."
                            </p>
                        }
                    })
            }}
            <ErrorNote error />
            {move || match has_logs.get() {
                true => view! { <LogView logs=shown filter layout expected /> }.into_any(),
                false if loading.get() => {
                    view! { <p class="empty muted">"Fetching the log…"</p> }.into_any()
                }
                false => ().into_any(),
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_come_from_the_deploy_map_or_the_connected_list() {
        let connected = vec!["site-1".to_owned(), "site-2".to_owned()];
        let named = serde_json::json!({"app": ["server", "site-2"]});
        assert_eq!(job_sites(Some(&named), &connected), ["site-2"]);
        let all = serde_json::json!({"app": ["@ALL"]});
        assert_eq!(job_sites(Some(&all), &connected), ["site-1", "site-2"]);
        assert_eq!(job_sites(None, &connected), ["site-1", "site-2"]);
    }
}
