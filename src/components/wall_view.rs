//! The wall screen: a read-only, high-contrast, full-screen summary for a shared display —
//! server, sites, running jobs with round progress, recent results, errors — with a freshness
//! stamp per panel and a big banner when the data stops updating.

use std::collections::BTreeSet;

use flare_model::{JobLive, JobSummary, SiteHistory};
use leptos::prelude::*;

use crate::components::site_timeline::{REFRESH_MS, SiteTimeline};
use crate::job_query::short_id;
use crate::state::{Store, ago, freshness, freshness_text};
use crate::status::{Tone, tone};
use crate::time::{display_iso, use_clock};
use crate::wall::{
    SITE_STALE_MS, WallAlarm, elapsed_text, error_noun, errors_text, running_elapsed_ms, wall_alarm,
};

/// A site line on the wall.
#[derive(Clone, Debug, PartialEq)]
struct SiteRow {
    name: String,
    connected: bool,
    /// Browser ms of the last connection the server reported (connected sites only).
    last_ms: Option<u64>,
}

/// Connected sites, then sites only the history knows (offline).
fn site_rows(store: &Store, history: Option<&SiteHistory>) -> Vec<SiteRow> {
    let mut rows: Vec<SiteRow> = store
        .system
        .data
        .as_ref()
        .map(|i| {
            i.client_info
                .iter()
                .map(|c| SiteRow {
                    name: c.name.clone(),
                    connected: true,
                    last_ms: Some((c.last_connect_time * 1_000.0) as u64),
                })
                .collect()
        })
        .unwrap_or_default();
    let known: BTreeSet<String> = rows.iter().map(|r| r.name.clone()).collect();
    if let Some(h) = history {
        for s in &h.sites {
            if !known.contains(&s.site) {
                let last = s
                    .spans
                    .iter()
                    .filter(|sp| sp.connected)
                    .map(|sp| sp.to_ms)
                    .max();
                rows.push(SiteRow {
                    name: s.site.clone(),
                    connected: false,
                    last_ms: last,
                });
            }
        }
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

/// The stamp of a panel, large.
#[component]
fn Stamp(
    #[prop(into)] fresh_ms: Signal<Option<u64>>,
    #[prop(into)] interval_ms: Signal<u64>,
) -> impl IntoView {
    let clock = use_clock();
    let f = Memo::new(move |_| freshness(clock.now(), fresh_ms.get(), interval_ms.get()));
    let stale = move || matches!(f.get(), crate::state::Freshness::Age { stale: true, .. });
    view! {
        <span class="wall-stamp" class:stale=stale data-stale=move || stale().to_string()>
            {move || freshness_text(&f.get())}
        </span>
    }
}

/// A panel of the wall: its heading (`wall-<name>-h`) and stamp, then `children`.
#[component]
fn Panel(
    name: &'static str,
    title: &'static str,
    #[prop(into)] fresh_ms: Signal<Option<u64>>,
    #[prop(into)] interval_ms: Signal<u64>,
    children: Children,
) -> impl IntoView {
    let heading = format!("wall-{name}-h");
    view! {
        <section class=format!("wall-panel wall-{name}") aria-labelledby=heading>
            <header><h2 id=heading.clone()>{title}</h2><Stamp fresh_ms interval_ms /></header>
            {children()}
        </section>
    }
}

/// The whole wall, from the store; `socket_open` is false while the relay is unreachable.
#[component]
pub fn WallView(
    #[prop(into)] store: Signal<Store>,
    #[prop(into)] socket_open: Signal<bool>,
    #[prop(into)] history: Signal<Option<SiteHistory>>,
    /// When the history was last fetched (browser ms).
    #[prop(into)]
    history_at: Signal<Option<u64>>,
    #[prop(into)] study: Signal<String>,
    #[prop(into)] revoked: Signal<bool>,
) -> impl IntoView {
    let clock = use_clock();
    let alarm = Memo::new(move |_| {
        let s = store.read();
        let last = s.system.fresh_ms.max(s.jobs.fresh_ms);
        let interval = s.system.interval_ms.max(s.jobs.interval_ms);
        wall_alarm(
            clock.now(),
            socket_open.get(),
            s.upstream.as_ref().map(|u| (u.state, u.message.clone())),
            last,
            interval,
        )
    });
    let sys_fresh = Signal::derive(move || store.read().system.fresh_ms);
    let sys_int = Signal::derive(move || store.read().system.interval_ms);
    let jobs_fresh = Signal::derive(move || store.read().jobs.fresh_ms);
    let jobs_int = Signal::derive(move || store.read().jobs.interval_ms);
    let sites = Memo::new(move |_| site_rows(&store.read(), history.read().as_ref()));
    let jobs = Memo::new(move |_| {
        let mut list = store.read().job_list();
        list.sort_by(|a, b| b.submit_time.cmp(&a.submit_time));
        list
    });
    let running = Memo::new(move |_| {
        jobs.get()
            .into_iter()
            .filter(|j| j.status == "RUNNING")
            .collect::<Vec<_>>()
    });
    let finished = Memo::new(move |_| {
        jobs.get()
            .into_iter()
            .filter(|j| tone(&j.status) == Tone::Completed)
            .take(3)
            .collect::<Vec<_>>()
    });
    let failed = Memo::new(move |_| {
        jobs.get()
            .into_iter()
            .filter(|j| matches!(tone(&j.status), Tone::Failed | Tone::Aborted))
            .take(3)
            .collect::<Vec<_>>()
    });
    let error_total = Memo::new(move |_| {
        let s = store.read();
        running
            .read()
            .iter()
            .filter_map(|j| s.job.get(&j.job_id))
            .filter_map(|p| p.data.as_ref().and_then(|d| d.live.as_ref()))
            .map(|l| l.error_counts().values().sum::<usize>())
            .sum::<usize>()
    });
    let server = move || {
        let s = store.read();
        let link_up = socket_open.get()
            && s.upstream
                .as_ref()
                .is_some_and(|u| u.state == flare_model::LinkState::Connected);
        match &s.system.data {
            None => ("…".to_owned(), String::new()),
            Some(i) => (
                if link_up { "online" } else { "unreachable" }.to_owned(),
                format!(
                    "{} · NVFlare {} · up since {}",
                    match i.server_info.status.as_str() {
                        "started" => "running a job",
                        "stopped" => "idle",
                        other => other,
                    },
                    s.server_version.clone().unwrap_or_else(|| "?".to_owned()),
                    crate::time::local_datetime(i.server_info.start_time * 1_000.0)
                ),
            ),
        }
    };
    let server_ok = move || alarm.get().is_none() && server().0 == "online";
    let job_row = move |j: JobSummary, show_status: bool| {
        let name = if j.job_name.is_empty() {
            short_id(&j.job_id).to_owned()
        } else {
            j.job_name.clone()
        };
        let when = display_iso(&j.submit_time);
        let t = tone(&j.status).as_str();
        view! {
            <li class="wall-job" data-job-id=j.job_id.clone()>
                <div class="wall-run-line">
                    <span class="wall-job-name">{name}</span>
                    {show_status.then(|| view! { <span class=format!("wall-status status-{t}") title=j.status.clone()>{j.status.trim_start_matches("FINISHED:").to_owned()}</span> })}
                    <span class="wall-muted">{when}</span>
                </div>
            </li>
        }
    };
    view! {
        <div id="wall" class="wall" data-alarm=move || alarm.get().is_some().to_string()>
            {move || {
                alarm
                    .get()
                    .map(|a| {
                        let kind = match a {
                            WallAlarm::RelayUnreachable => "relay",
                            WallAlarm::UpstreamDown(_) => "upstream",
                            WallAlarm::Stale { .. } => "stale",
                        };
                        view! {
                            <div id="wall-banner" class="wall-banner" role="alert" data-kind=kind>
                                <div class="wall-banner-head">{a.text()}</div>
                                {a.detail().map(|d| view! { <div class="wall-banner-detail">{d.to_owned()}</div> })}
                            </div>
                        }
                    })
            }}
            {move || {
                revoked
                    .get()
                    .then(|| {
                        view! {
                            <div id="wall-revoked" class="wall-revoked" role="alert">
                                <h1>"This screen's link was revoked"</h1>
                                <p>"Ask an operator for a new kiosk link."</p>
                            </div>
                        }
                    })
            }}
            <header class="wall-head">
                <h1>"Flare"</h1>
                <span class="wall-study">"study " {move || study.get()}</span>
                <span class="wall-clock">{move || crate::time::local_datetime(clock.now() as f64)}</span>
            </header>
            <div class="wall-grid">
                <Panel name="server" title="Server" fresh_ms=sys_fresh interval_ms=sys_int>
                    <p class="wall-big" class:ok=server_ok class:bad=move || !server_ok()>
                        {move || server().0}
                    </p>
                    <p class="wall-muted">{move || server().1}</p>
                    <p class="wall-errors" id="wall-error-count">
                        <span class="wall-big-num" class:bad=move || { error_total.get() > 0 }>{move || error_total.get()}</span>
                        {move || format!(" {} in running jobs", error_noun(error_total.get()))}
                    </p>
                </Panel>
                <Panel name="sites" title="Sites" fresh_ms=sys_fresh interval_ms=sys_int>
                    <ul class="wall-list">
                        <For
                            each=move || sites.get()
                            key=|r| (r.name.clone(), r.connected, r.last_ms)
                            children=move |r| {
                                let last = r.last_ms;
                                let connected = r.connected;
                                let stale = move || {
                                    !connected
                                        || last.is_none_or(|l| clock.now().saturating_sub(l) > SITE_STALE_MS)
                                };
                                let state = move || {
                                    let seen = last
                                        .map(|l| format!("last seen {}", ago(clock.now().saturating_sub(l))))
                                        .unwrap_or_else(|| "never seen".to_owned());
                                    if connected { format!("connected · {seen}") } else { format!("OFFLINE · {seen}") }
                                };
                                view! {
                                    <li class="wall-site" data-site=r.name.clone() data-connected=connected.to_string() class:stale=stale>
                                        <span class="wall-dot" aria-hidden="true"></span>
                                        <span class="wall-site-name">{r.name.clone()}</span>
                                        <span class="wall-site-state">{state}</span>
                                        {move || stale().then(|| view! { <span class="wall-stale-tag">"STALE"</span> })}
                                    </li>
                                }
                            }
                        />
                    </ul>
                    {move || sites.read().is_empty().then(|| view! { <p class="wall-muted">"No sites connected"</p> })}
                </Panel>
                <Panel name="running" title="Running jobs" fresh_ms=jobs_fresh interval_ms=jobs_int>
                    <ul class="wall-list">
                        <For
                            each=move || running.get()
                            key=|j| j.job_id.clone()
                            children=move |j| {
                                let id = j.job_id.clone();
                                let id2 = id.clone();
                                let detail = Memo::new(move |_| store.read().job.get(&id).and_then(|p| p.data.clone()));
                                let duration = j.duration.clone();
                                let elapsed = move || {
                                    let seen = detail.read().as_ref().and_then(|d| {
                                        d.timeline.iter().find(|c| c.status == "RUNNING").map(|c| c.at_ms)
                                    });
                                    let listed = jobs_fresh.get().map(|at| (duration.as_str(), at));
                                    running_elapsed_ms(clock.now(), listed, seen)
                                        .map(elapsed_text)
                                        .unwrap_or_default()
                                };
                                let progress = Memo::new(move |_| {
                                    detail.read().as_ref().and_then(|d| d.live.as_ref().and_then(JobLive::round_progress))
                                });
                                let errors = Memo::new(move |_| {
                                    detail.read().as_ref().and_then(|d| d.live.as_ref()).map(|l| l.error_counts().values().sum::<usize>()).unwrap_or(0)
                                });
                                let name = if j.job_name.is_empty() { short_id(&id2).to_owned() } else { j.job_name.clone() };
                                view! {
                                    <li class="wall-job wall-run" data-job-id=id2.clone()>
                                        <div class="wall-run-line">
                                            <span class="wall-job-name">{name}</span>
                                            <span class="wall-elapsed">{elapsed}</span>
                                        </div>
                                        {move || match progress.get() {
                                            Some(p) => {
                                                let text = crate::components::live_stats::round_text(p.current_round, p.num_rounds);
                                                let value = p.current_round.unwrap_or(0);
                                                let max = p.num_rounds.unwrap_or(0).max(value).max(1);
                                                view! {
                                                    <div class="wall-progress">
                                                        <progress value=value max=max></progress>
                                                        <span>{text}</span>
                                                    </div>
                                                }.into_any()
                                            }
                                            None => view! { <div class="wall-muted">"waiting for round progress…"</div> }.into_any(),
                                        }}
                                        {move || (errors.get() > 0).then(|| view! { <div class="wall-job-errors">{errors_text(errors.get())}</div> })}
                                    </li>
                                }
                            }
                        />
                    </ul>
                    {move || running.read().is_empty().then(|| view! { <p class="wall-muted wall-none">"No job running"</p> })}
                </Panel>
                <Panel name="recent" title="Recent results" fresh_ms=jobs_fresh interval_ms=jobs_int>
                    <h3>"Last finished"</h3>
                    <ul class="wall-list">{move || finished.get().into_iter().map(|j| job_row(j, false)).collect_view()}</ul>
                    {move || finished.read().is_empty().then(|| view! { <p class="wall-muted">"none"</p> })}
                    <h3>"Last failed or aborted"</h3>
                    <ul class="wall-list wall-failed">{move || failed.get().into_iter().map(|j| job_row(j, true)).collect_view()}</ul>
                    {move || failed.read().is_empty().then(|| view! { <p class="wall-muted">"none"</p> })}
                </Panel>
                <Panel name="timeline" title="Site connectivity" fresh_ms=history_at interval_ms=REFRESH_MS>
                    <SiteTimeline history=history />
                </Panel>
            </div>
        </div>
    }
}
