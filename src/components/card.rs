//! A titled panel with its freshness stamp and, when its topic fails, a readable error.

use flare_model::FlareError;
use leptos::prelude::*;

use crate::components::freshness_stamp::FreshnessStamp;
use crate::errors::describe;

/// A topic's error as an alert note: what went wrong and what to do, then the detail; nothing
/// while there is no error.
#[component]
pub fn ErrorNote(#[prop(into)] error: Signal<Option<FlareError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let text = describe(&e);
            view! {
                <div class="note note-error" role="alert">
                    <p>{text.summary}</p>
                    {text.detail.map(|d| view! { <p class="note-detail">{d}</p> })}
                </div>
            }
        })
    }
}

/// A panel: heading, freshness stamp, topic error (if any), content.
#[component]
pub fn Card(
    #[prop(into)] title: String,
    #[prop(into)] fresh_ms: Signal<Option<u64>>,
    #[prop(into)] interval_ms: Signal<u64>,
    #[prop(into)] error: Signal<Option<FlareError>>,
    /// Extra content for the heading row, e.g. a count.
    #[prop(optional, into)]
    aside: Option<Signal<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="card">
            <header class="card-head">
                <h2>{title}</h2>
                {aside.map(|a| view! { <span class="card-aside">{move || a.get()}</span> })}
                <FreshnessStamp fresh_ms interval_ms />
            </header>
            <ErrorNote error />
            <div class="card-body">{children()}</div>
        </section>
    }
}
