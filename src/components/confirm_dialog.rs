//! The one modal confirmation shell, a native `<dialog>` like the admin CLI's prompts: a question,
//! "Cancel" (the default answer; Esc too) and a confirm button, optionally enabled only once an
//! answer is typed (the AUTH prompt). Abort and delete use it, and so will restart and shutdown;
//! removing a study shares its typed-answer field.

use leptos::html::{Button, Dialog, Input};
use leptos::prelude::*;

/// True when `typed`, trimmed, is one of the non-empty `accepted` answers.
pub fn typed_confirms(typed: &str, accepted: &[&str]) -> bool {
    let t = typed.trim();
    !t.is_empty() && accepted.iter().any(|a| !a.is_empty() && *a == t)
}

/// What the user types before the confirm button is enabled.
#[derive(Clone, Debug)]
pub struct TypeToConfirm {
    /// The input's id.
    pub id: &'static str,
    /// Its label, e.g. "Type the job ID to confirm".
    pub label: &'static str,
    /// The answers that confirm (empty ones never do).
    pub accepted: Vec<String>,
}

/// A modal `<dialog id="{name}-dialog">` titled `{name}-title`, described by `{name}-text` (the
/// children); shown while mounted. Without `typed`, Cancel has the focus; with it, the field does
/// and Enter there confirms once the answer is right.
#[component]
pub fn ConfirmDialog(
    /// Names the ids: `{name}-dialog`, `{name}-title`, `{name}-text`.
    name: &'static str,
    /// The heading, a question.
    title: &'static str,
    /// The confirm button's label, e.g. "Abort job".
    confirm: &'static str,
    /// The answer to type first, if any.
    #[prop(optional)]
    typed: Option<TypeToConfirm>,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
    /// The question's details, inside `<p id="{name}-text">`.
    children: Children,
) -> impl IntoView {
    let node = NodeRef::<Dialog>::new();
    let cancel_ref = NodeRef::<Button>::new();
    let input_ref = NodeRef::<Input>::new();
    let answer = RwSignal::new(String::new());
    let accepted = typed.as_ref().map(|t| t.accepted.clone());
    let ok = Memo::new(move |_| match &accepted {
        None => true,
        Some(accepted) => {
            let accepted: Vec<&str> = accepted.iter().map(String::as_str).collect();
            typed_confirms(&answer.read(), &accepted)
        }
    });
    let asks_typing = typed.is_some();
    Effect::new(move |_| {
        if let Some(d) = node.get()
            && !d.open()
        {
            let _ = d.show_modal();
            // No is the default answer, as in the CLI; a typed answer starts in its field.
            if asks_typing {
                if let Some(i) = input_ref.get() {
                    let _ = i.focus();
                }
            } else if let Some(b) = cancel_ref.get() {
                let _ = b.focus();
            }
        }
    });
    let confirm_if_ok = move || {
        if ok.get_untracked() {
            on_confirm.run(());
        }
    };
    let field = typed.map(|t| {
        view! {
            <form
                class="field"
                on:submit=move |ev| {
                    ev.prevent_default();
                    confirm_if_ok();
                }
            >
                <TypedAnswer id=t.id label=t.label answer input_ref class="mono" />
            </form>
        }
    });
    view! {
        <dialog
            id=format!("{name}-dialog")
            class="dialog"
            node_ref=node
            aria-labelledby=format!("{name}-title")
            aria-describedby=format!("{name}-text")
            on:cancel=move |ev: web_sys::Event| {
                ev.prevent_default();
                on_cancel.run(());
            }
        >
            <h2 id=format!("{name}-title")>{title}</h2>
            <p id=format!("{name}-text")>{children()}</p>
            {field}
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
                    disabled=move || !ok.get()
                    on:click=move |_| confirm_if_ok()
                >
                    {confirm}
                </button>
            </div>
        </dialog>
    }
}

/// The "type … to confirm" label and input: no autocomplete, no spellcheck.
#[component]
pub fn TypedAnswer(
    /// The input's id (the label's `for`).
    id: &'static str,
    label: &'static str,
    /// What is typed.
    answer: RwSignal<String>,
    #[prop(optional)] input_ref: NodeRef<Input>,
    #[prop(optional)] class: Option<&'static str>,
    /// The id of the element that explains the field.
    #[prop(optional)]
    describedby: Option<&'static str>,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input
            id=id
            class=class
            autocomplete="off"
            spellcheck="false"
            aria-describedby=describedby
            node_ref=input_ref
            disabled=move || disabled.get()
            prop:value=move || answer.get()
            on:input=move |ev| answer.set(event_target_value(&ev))
        />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_accepted_answer_confirms() {
        let delete = ["j-1", "admin@nvidia.com"];
        assert!(typed_confirms(" j-1 ", &delete));
        assert!(typed_confirms("admin@nvidia.com", &delete));
        assert!(!typed_confirms("j-", &delete));
        assert!(!typed_confirms("", &["j-1", ""]));
        assert!(!typed_confirms("x", &["j-1", ""]));
        assert!(typed_confirms("trial-7", &["trial-7"]));
        assert!(!typed_confirms("", &[""]));
    }
}
