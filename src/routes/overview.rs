//! `/`: server status and start time, NVFlare version, sites and when they last connected, and the
//! site timeline (connectivity over the relay's history window).

use flare_model::Topic;
use leptos::prelude::*;

use crate::components::card::Card;
use crate::components::server_summary::ServerSummary;
use crate::components::site_timeline::{REFRESH_MS, SiteTimeline, use_site_history};
use crate::components::sites_list::SitesList;
use crate::connection::use_topic;

/// The overview page.
#[component]
pub fn OverviewPage() -> impl IntoView {
    crate::app::set_title("Overview");
    let conn = use_topic(Topic::System);
    let store = conn.store;
    let info = Memo::new(move |_| store.read().system.data.clone());
    let fresh = Signal::derive(move || store.read().system.fresh_ms);
    let interval = Signal::derive(move || store.read().system.interval_ms);
    let error = Signal::derive(move || store.read().system.error.clone());
    let version = Memo::new(move |_| store.read().server_version.clone());
    let sites = Signal::derive(move || {
        info.read()
            .as_ref()
            .map(|i| i.client_info.clone())
            .unwrap_or_default()
    });
    let loaded = Signal::derive(move || info.read().is_some());
    let unavailable = Signal::derive(move || error.read().is_some());
    let site_count = Signal::derive(move || {
        let n = sites.read().len();
        if loaded.get() {
            format!("{n} connected")
        } else {
            String::new()
        }
    });
    let (history, history_error, history_at) = use_site_history(None);
    let history_interval = Signal::derive(|| REFRESH_MS);
    view! {
        <div class="page-head">
            <h1>"Overview"</h1>
        </div>
        <div class="grid">
            <Card title="Server" fresh_ms=fresh interval_ms=interval error>
                <ServerSummary info version />
            </Card>
            <Card
                title="Sites"
                fresh_ms=fresh
                interval_ms=interval
                error=Signal::derive(|| None)
                aside=site_count
            >
                <SitesList sites loaded unavailable />
            </Card>
        </div>
        <div class="timeline-card">
            <Card
                title="Site timeline"
                fresh_ms=history_at
                interval_ms=history_interval
                error=Signal::derive(|| None)
            >
                {move || {
                    history_error
                        .get()
                        .map(|e| view! { <p class="note note-error" role="alert">{e}</p> })
                }}
                <SiteTimeline history />
            </Card>
        </div>
    }
}
