//! The light/dark theme toggle button.

use leptos::prelude::*;

use crate::theme::{self, Theme};

/// Flips the theme (from the `RwSignal<Theme>` in context) and remembers the choice.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let current = expect_context::<RwSignal<Theme>>();
    let flip = move |_| {
        let next = current.get_untracked().toggled();
        current.set(next);
        theme::apply(next, true);
    };
    let label = move || match current.get() {
        Theme::Light => "Switch to dark theme",
        Theme::Dark => "Switch to light theme",
    };
    view! {
        <button type="button" class="btn btn-icon" on:click=flip aria-label=label title=label>
            <span aria-hidden="true">
                {move || match current.get() {
                    Theme::Light => "☾",
                    Theme::Dark => "☀",
                }}
            </span>
        </button>
    }
}
