//! The sign-in form: user name, password, "Sign in", and the relay's refusal as an alert.

use leptos::html;
use leptos::prelude::*;

/// The sign-in form. It only collects input; the page does the request.
#[component]
pub fn LoginForm(
    /// Called with (user, password) on submit (button or Enter).
    on_submit: Callback<(String, String)>,
    /// The message to show in the alert, if the last attempt failed.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// True while a sign-in is under way.
    #[prop(into)]
    busy: Signal<bool>,
) -> impl IntoView {
    let user_ref = NodeRef::<html::Input>::new();
    let password_ref = NodeRef::<html::Input>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let value = |r: NodeRef<html::Input>| r.get().map(|i| i.value()).unwrap_or_default();
        on_submit.run((value(user_ref).trim().to_owned(), value(password_ref)));
    };
    // Put the cursor back in the password field after a refusal, ready to retype.
    Effect::new(move |_| {
        if error.get().is_some()
            && let Some(input) = password_ref.get_untracked()
        {
            input.select();
        }
    });
    view! {
        <form class="login-form" on:submit=submit novalidate=true>
            <div class="field">
                <label for="login-user">"User name"</label>
                <input
                    id="login-user"
                    name="username"
                    type="text"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    required=true
                    autofocus=true
                    node_ref=user_ref
                />
            </div>
            <div class="field">
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required=true
                    node_ref=password_ref
                    aria-describedby=move || error.read().as_ref().map(|_| "login-error")
                />
            </div>
            {move || {
                error
                    .get()
                    .map(|message| {
                        view! {
                            <p id="login-error" class="note note-error" role="alert">
                                {message}
                            </p>
                        }
                    })
            }}
            <button type="submit" class="btn btn-primary btn-block" disabled=move || busy.get()>
                {move || if busy.get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}
