//! The site timeline: one lane per site over the relay's history window, green while connected,
//! red while not; and the loader that refreshes it from `/api/site-history` every 30 s (every 3 s
//! while it is still empty).

use flare_model::SiteHistory;
use leptos::prelude::*;

use crate::api::AuthorizedApi;
use crate::wall::{timeline_bars, timeline_ticks};

/// Width of the site-name column, in SVG units.
const LABEL_W: f64 = 110.0;
/// Width of the plot, in SVG units.
const PLOT_W: f64 = 860.0;
const LANE_H: f64 = 26.0;
const AXIS_H: f64 = 22.0;

/// How often the timeline is refetched.
pub const REFRESH_MS: u64 = 30_000;
/// How soon an empty history is asked for again: on a fresh relay the first sample lands a
/// moment after the page's first request.
pub const EMPTY_REFRESH_MS: u64 = 3_000;

/// The loaded history, the last fetch error, and when it was last fetched (browser ms).
pub type HistorySignals = (
    RwSignal<Option<SiteHistory>>,
    RwSignal<Option<String>>,
    RwSignal<Option<u64>>,
);

/// Fetches the site history now and every [`REFRESH_MS`] while the calling component lives.
pub fn use_site_history(study: Option<String>) -> HistorySignals {
    let history = RwSignal::new(None::<SiteHistory>);
    let error = RwSignal::new(None::<String>);
    let at = RwSignal::new(None::<u64>);
    let api = expect_context::<AuthorizedApi>();
    let alive = StoredValue::new(true);
    on_cleanup(move || alive.set_value(false));
    leptos::task::spawn_local(async move {
        while alive.try_get_value().unwrap_or(false) {
            let mut next = REFRESH_MS;
            match api.site_history(study.as_deref()).await {
                Ok(h) => {
                    if h.sites.is_empty() {
                        next = EMPTY_REFRESH_MS;
                    }
                    let _ = history.try_set(Some(h));
                    let _ = error.try_set(None);
                    let _ = at.try_set(Some(crate::time::now_ms()));
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.sentence()));
                }
            }
            crate::connection::sleep(next).await;
        }
    });
    (history, error, at)
}

/// `<svg id="site-timeline">` for `history`.
#[component]
pub fn SiteTimeline(#[prop(into)] history: Signal<Option<SiteHistory>>) -> impl IntoView {
    move || {
        let Some(h) = history.get() else {
            return view! { <p class="empty muted">"Loading site history…"</p> }.into_any();
        };
        if h.sites.is_empty() {
            return view! {
                <p class="empty muted">"No site has been seen yet; the first sample comes within seconds."</p>
            }
            .into_any();
        }
        let lanes = h.sites.len() as f64;
        let height = lanes * LANE_H + AXIS_H;
        let total_w = LABEL_W + PLOT_W + 10.0;
        let labels = h
            .sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let y = i as f64 * LANE_H + LANE_H / 2.0 + 4.0;
                view! {
                    <text class="lane-label" x=LABEL_W - 8.0 y=y text-anchor="end">
                        {s.site.clone()}
                    </text>
                }
            })
            .collect_view();
        let bars = timeline_bars(&h, PLOT_W)
            .into_iter()
            .map(|b| {
                let y = b.lane as f64 * LANE_H + 4.0;
                let state = if b.connected {
                    "connected"
                } else {
                    "disconnected"
                };
                let title = format!(
                    "{}: {} for {}",
                    b.site,
                    state,
                    crate::wall::elapsed_text(b.to_ms.saturating_sub(b.from_ms))
                );
                view! {
                    <rect
                        class=format!("span span-{state}")
                        data-site=b.site.clone()
                        data-connected=b.connected.to_string()
                        x=LABEL_W + b.x
                        y=y
                        width=b.width
                        height=LANE_H - 8.0
                        rx="3"
                    >
                        <title>{title}</title>
                    </rect>
                }
            })
            .collect_view();
        let ticks = timeline_ticks(&h, PLOT_W, 6)
            .into_iter()
            .map(|(x, label)| {
                let x = LABEL_W + x;
                view! {
                    <line class="tick" x1=x x2=x y1=0.0 y2=lanes * LANE_H />
                    <text class="tick-label" x=x y=height - 4.0 text-anchor="middle">
                        {label}
                    </text>
                }
            })
            .collect_view();
        view! {
            <svg
                id="site-timeline"
                class="site-timeline"
                role="img"
                aria-label="Site connectivity over time: green connected, red disconnected"
                viewBox=format!("0 0 {total_w} {height}")
                preserveAspectRatio="xMinYMin meet"
            >
                {ticks}
                {labels}
                {bars}
            </svg>
            <p class="legend muted">
                <span class="swatch swatch-connected"></span>
                "connected "
                <span class="swatch swatch-disconnected"></span>
                "disconnected"
            </p>
        }
        .into_any()
    }
}
