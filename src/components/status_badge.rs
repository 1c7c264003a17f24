//! A job status as a coloured badge: `<span class="status status-running" data-status="RUNNING">`.

use leptos::prelude::*;

use crate::status::tone;

/// A status badge; the colour follows [`crate::status::tone`].
#[component]
pub fn StatusBadge(#[prop(into)] status: Signal<String>) -> impl IntoView {
    view! {
        <span
            class=move || format!("status status-{}", tone(&status.read()).as_str())
            data-status=move || status.get()
        >
            {move || status.get()}
        </span>
    }
}
