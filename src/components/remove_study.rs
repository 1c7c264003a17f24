//! Removing a study: only after its name is typed (the confirmation dialogs' typed-answer field,
//! in place on the page); the server refuses while it has jobs.

use leptos::prelude::*;

use crate::components::confirm_dialog::{TypedAnswer, typed_confirms};

/// The "Remove study" block; `on_remove` runs only once the name is typed.
#[component]
pub fn RemoveStudy(
    #[prop(into)] study: String,
    #[prop(into)] busy: Signal<bool>,
    /// Why this identity cannot remove studies (then the controls are disabled).
    #[prop(optional, into)]
    denied: Signal<Option<String>>,
    on_remove: Callback<()>,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let name = study.clone();
    let ok = Memo::new(move |_| typed_confirms(&typed.get(), &[&name]));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if ok.get_untracked() && denied.get_untracked().is_none() && !busy.get_untracked() {
            on_remove.run(());
        }
    };
    view! {
        <form id="remove-study-form" class="form danger-zone" on:submit=submit>
            <p>
                "Removing "<code>{study.clone()}</code>
                " deletes it from the registry. NVFlare refuses while the study still has jobs."
            </p>
            <div class="field">
                <TypedAnswer
                    id="remove-study-confirm"
                    label="Type the study name to confirm"
                    answer=typed
                    describedby="remove-study-reason"
                    disabled=Signal::derive(move || denied.read().is_some())
                />
            </div>
            <button
                id="remove-study"
                type="submit"
                class="btn btn-danger"
                disabled=move || !ok.get() || busy.get() || denied.read().is_some()
            >
                "Remove study"
            </button>
            <p id="remove-study-reason" class="hint">{move || denied.get()}</p>
        </form>
    }
}
