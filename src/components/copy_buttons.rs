//! "Copy as CLI" and "Copy as Python" buttons for one action, with a toast on success.

use leptos::prelude::*;

use crate::browser;
use crate::components::toasts::use_toasts;
use crate::copy_as::{CopyContext, cli_text, python_text};
use crate::policy::JobAction;

/// The two copy buttons for `action`; the texts are built when clicked.
#[component]
pub fn CopyButtons(action: JobAction, #[prop(into)] ctx: Signal<CopyContext>) -> impl IntoView {
    let toasts = use_toasts();
    let copy = move |python: bool| {
        let c = ctx.get_untracked();
        let text = if python {
            python_text(action, &c)
        } else {
            cli_text(action, &c)
        };
        leptos::task::spawn_local(async move {
            match browser::copy_text(&text).await {
                Ok(()) => toasts.ok(if python {
                    "Copied the Python code to the clipboard"
                } else {
                    "Copied the command line to the clipboard"
                }),
                Err(e) => toasts.error(format!("Could not copy to the clipboard: {e}")),
            }
        });
    };
    view! {
        <span class="copy-as">
            <button
                type="button"
                class="btn btn-small btn-ghost"
                title=move || cli_text(action, &ctx.get())
                on:click=move |_| copy(false)
            >
                "Copy as CLI"
            </button>
            <button
                type="button"
                class="btn btn-small btn-ghost"
                title="The FLARE API (flare_api.Session) code"
                on:click=move |_| copy(true)
            >
                "Copy as Python"
            </button>
        </span>
    }
}
