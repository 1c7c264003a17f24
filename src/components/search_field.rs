//! A labelled search box that filters as one types (the jobs list filters, the log filter).

use leptos::prelude::*;

/// `<label>` and `<input type="search">` bound to `value`; each keystroke calls `on_input`.
#[component]
pub fn SearchField(
    id: &'static str,
    label: &'static str,
    placeholder: &'static str,
    #[prop(into)] value: Signal<String>,
    on_input: Callback<String>,
    /// Focused by the `/` shortcut (`data-shortcut="filter"`).
    #[prop(optional)]
    shortcut: bool,
    /// Ids and patterns, not words: no spell checking.
    #[prop(optional)]
    literal: bool,
    /// The input's class.
    #[prop(optional)]
    class: Option<&'static str>,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input
            id=id
            data-shortcut=shortcut.then_some("filter")
            type="search"
            placeholder=placeholder
            autocomplete="off"
            spellcheck=literal.then_some("false")
            class=class
            prop:value=move || value.get()
            on:input=move |ev| on_input.run(event_target_value(&ev))
        />
    }
}
