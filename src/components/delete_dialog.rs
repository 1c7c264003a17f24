//! The delete confirmation, like the admin CLI's AUTH prompt: type the job id (or your NVFlare
//! user name) before "Delete job" is enabled.

use leptos::prelude::*;

use crate::components::confirm_dialog::{ConfirmDialog, TypeToConfirm};

/// A modal `<dialog id="delete-dialog">`; shown while mounted.
#[component]
pub fn DeleteDialog(
    job_id: String,
    /// The NVFlare user name, accepted instead of the id (empty when unknown).
    #[prop(into)]
    user: String,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let typed = TypeToConfirm {
        id: "delete-confirm",
        label: "Type the job ID to confirm",
        accepted: vec![job_id.clone(), user.clone()],
    };
    let user_hint = (!user.is_empty()).then(|| {
        view! {
            " (or your NVFlare user name " <code>{user}</code> ")"
        }
    });
    view! {
        <ConfirmDialog
            name="delete"
            title="Delete this job?"
            confirm="Delete job"
            typed
            on_confirm
            on_cancel
        >
            "This deletes job " <code>{job_id}</code>
            " and its stored results from the server for good. Type the job ID" {user_hint}
            " to confirm."
        </ConfirmDialog>
    }
}
