//! The header's connection indicator: Connected / Connecting… / Reconnecting… / Upstream down.

use leptos::prelude::*;

use crate::connection::{Connection, indicator};

/// `<span id="connection" data-state="…">`, with the reason in its tooltip.
#[component]
pub fn ConnectionIndicator() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let ind = Memo::new(move |_| {
        let socket = conn.socket.get();
        conn.store.with(|s| indicator(&socket, s.upstream.as_ref()))
    });
    view! {
        <span
            id="connection"
            class="connection"
            role="status"
            data-state=move || ind.read().state
            title=move || ind.read().title.clone()
        >
            <span class="dot" aria-hidden="true"></span>
            <span class="connection-label">{move || ind.read().label}</span>
            <span class="sr-only">{move || format!(": {}", ind.read().title)}</span>
        </span>
    }
}
