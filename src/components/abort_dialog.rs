//! The abort confirmation, like the admin CLI's YESNO prompt: "Abort job" or "Cancel".

use leptos::prelude::*;

use crate::components::confirm_dialog::ConfirmDialog;

/// A modal `<dialog id="abort-dialog">`; shown while mounted.
#[component]
pub fn AbortDialog(
    job_id: String,
    #[prop(into)] job_name: String,
    #[prop(into)] status: String,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let name = if job_name.is_empty() {
        String::new()
    } else {
        format!("{job_name} ")
    };
    view! {
        <ConfirmDialog
            name="abort"
            title="Abort this job?"
            confirm="Abort job"
            on_confirm
            on_cancel
        >
            "Abort job " {name} <code>{job_id}</code> " (now " {status}
            ")? NVFlare stops it on the server and on every site; it ends FINISHED:ABORTED and cannot be resumed."
        </ConfirmDialog>
    }
}
