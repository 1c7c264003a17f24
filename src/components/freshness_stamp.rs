//! A panel's freshness stamp: "updated 2 s ago", amber once stale.

use leptos::prelude::*;

use crate::state::{Freshness, freshness, freshness_text};
use crate::time::use_clock;

/// Shows how old a panel's data is; ticks with the app clock.
#[component]
pub fn FreshnessStamp(
    /// Browser time of the last snapshot or delta.
    #[prop(into)]
    fresh_ms: Signal<Option<u64>>,
    /// The relay's poll interval for this data.
    #[prop(into)]
    interval_ms: Signal<u64>,
) -> impl IntoView {
    let clock = use_clock();
    let state = Memo::new(move |_| freshness(clock.now(), fresh_ms.get(), interval_ms.get()));
    let stale = move || matches!(state.get(), Freshness::Age { stale: true, .. });
    view! {
        <span
            class="freshness"
            class:stale=stale
            data-stale=move || stale().to_string()
            title=move || {
                if stale() {
                    "No update for a while: the relay or NVFlare may be slow or down."
                } else {
                    "Time since the relay last confirmed this data."
                }
            }
        >
            {move || freshness_text(&state.get())}
        </span>
    }
}
