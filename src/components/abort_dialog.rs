//! The abort confirmation, like the admin CLI's YESNO prompt: "Abort job" or "Cancel".

use leptos::html::Dialog;
use leptos::prelude::*;

/// A modal `<dialog id="abort-dialog">`; shown while mounted.
#[component]
pub fn AbortDialog(
    job_id: String,
    #[prop(into)] job_name: String,
    #[prop(into)] status: String,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let node = NodeRef::<Dialog>::new();
    let cancel_ref = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(d) = node.get()
            && !d.open()
        {
            let _ = d.show_modal();
            // No is the default answer, as in the CLI.
            if let Some(b) = cancel_ref.get() {
                let _ = b.focus();
            }
        }
    });
    let name = if job_name.is_empty() {
        String::new()
    } else {
        format!("{job_name} ")
    };
    view! {
        <dialog
            id="abort-dialog"
            class="dialog"
            node_ref=node
            aria-labelledby="abort-title"
            aria-describedby="abort-text"
            on:cancel=move |ev: web_sys::Event| {
                ev.prevent_default();
                on_cancel.run(());
            }
        >
            <h2 id="abort-title">"Abort this job?"</h2>
            <p id="abort-text">
                "Abort job " {name} <code>{job_id}</code> " (now " {status}
                ")? NVFlare stops it on the server and on every site; it ends FINISHED:ABORTED and cannot be resumed."
            </p>
            <div class="dialog-buttons">
                <button
                    type="button"
                    class="btn"
                    node_ref=cancel_ref
                    on:click=move |_| on_cancel.run(())
                >
                    "Cancel"
                </button>
                <button
                    type="button"
                    class="btn btn-danger"
                    on:click=move |_| on_confirm.run(())
                >
                    "Abort job"
                </button>
            </div>
        </dialog>
    }
}
