//! The delete confirmation, like the admin CLI's AUTH prompt: type the job id (or your NVFlare
//! user name) before "Delete job" is enabled.

use leptos::html::Dialog;
use leptos::prelude::*;

/// True when `typed` confirms deleting `job_id` as `user`.
pub fn delete_confirmed(typed: &str, job_id: &str, user: &str) -> bool {
    let t = typed.trim();
    !t.is_empty() && (t == job_id || (!user.is_empty() && t == user))
}

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
    let node = NodeRef::<Dialog>::new();
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let typed = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(d) = node.get()
            && !d.open()
        {
            let _ = d.show_modal();
            if let Some(i) = input_ref.get() {
                let _ = i.focus();
            }
        }
    });
    let (id, u) = (job_id.clone(), user.clone());
    let ok = Memo::new(move |_| delete_confirmed(&typed.read(), &id, &u));
    let confirm = move || {
        if ok.get_untracked() {
            on_confirm.run(());
        }
    };
    let user_hint = (!user.is_empty()).then(|| {
        view! {
            " (or your NVFlare user name " <code>{user.clone()}</code> ")"
        }
    });
    view! {
        <dialog
            id="delete-dialog"
            class="dialog"
            node_ref=node
            aria-labelledby="delete-title"
            aria-describedby="delete-text"
            on:cancel=move |ev: web_sys::Event| {
                ev.prevent_default();
                on_cancel.run(());
            }
        >
            <h2 id="delete-title">"Delete this job?"</h2>
            <p id="delete-text">
                "This deletes job " <code>{job_id.clone()}</code>
                " and its stored results from the server for good. Type the job ID" {user_hint}
                " to confirm."
            </p>
            <form
                class="field"
                on:submit=move |ev| {
                    ev.prevent_default();
                    confirm();
                }
            >
                <label for="delete-confirm">"Type the job ID to confirm"</label>
                <input
                    id="delete-confirm"
                    class="mono"
                    autocomplete="off"
                    spellcheck="false"
                    node_ref=input_ref
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
            </form>
            <div class="dialog-buttons">
                <button type="button" class="btn" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
                <button
                    type="button"
                    class="btn btn-danger"
                    disabled=move || !ok.get()
                    on:click=move |_| confirm()
                >
                    "Delete job"
                </button>
            </div>
        </dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_id_or_the_user_name_confirms() {
        assert!(delete_confirmed(" j-1 ", "j-1", "admin@nvidia.com"));
        assert!(delete_confirmed(
            "admin@nvidia.com",
            "j-1",
            "admin@nvidia.com"
        ));
        assert!(!delete_confirmed("j-", "j-1", "admin@nvidia.com"));
        assert!(!delete_confirmed("", "j-1", ""));
        assert!(!delete_confirmed("x", "j-1", ""));
    }
}
