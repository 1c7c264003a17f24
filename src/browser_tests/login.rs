//! Signing in: the login form, and the session check that never overwrites a newer login.

use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;

use flare_model::{Role, SessionInfo};

use super::{all, container, one, text, type_into};
use crate::api::{Auth, AuthorizedApi};
use crate::components::login_form::LoginForm;
use crate::components::shell::session_check;

#[wasm_bindgen_test]
async fn login_form_shows_the_error_as_an_alert() {
    let root = container();
    let error = RwSignal::new(None::<String>);
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! { <LoginForm on_submit=Callback::new(|_| {}) error busy=false /> }
    });
    tick().await;
    assert!(all(&root, "[role=alert]").is_empty());
    assert_eq!(text(&one(&root, "label[for=login-user]")), "User name");
    assert_eq!(text(&one(&root, "label[for=login-password]")), "Password");

    error.set(Some("Wrong user name or password.".to_owned()));
    tick().await;
    assert_eq!(
        text(&one(&root, "[role=alert]")),
        "Wrong user name or password."
    );
}

#[wasm_bindgen_test]
async fn login_form_submits_what_was_typed() {
    let root = container();
    let got = RwSignal::new(None::<(String, String)>);
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <LoginForm
                on_submit=Callback::new(move |pair| got.set(Some(pair)))
                error={ None::<String> }
                busy=false
            />
        }
    });
    tick().await;
    type_into(&root, "#login-user", " ada ");
    type_into(&root, "#login-password", "s3cret");
    let button = all(&root, "button")
        .into_iter()
        .find(|b| text(b) == "Sign in")
        .expect("a Sign in button");
    assert_eq!(button.get_attribute("type").as_deref(), Some("submit"));
    button.unchecked_into::<HtmlElement>().click();
    tick().await;
    assert_eq!(
        got.get_untracked(),
        Some(("ada".to_owned(), "s3cret".to_owned()))
    );
}

/// The test server has no `/api/session`: the answer is "unreachable" or "signed out", never
/// "signed in", so a kept sign-in shows the answer was dropped.
#[wasm_bindgen_test]
async fn a_session_answer_never_overwrites_a_login_that_finished_while_it_was_out() {
    let owner = Owner::new();
    owner.set();
    let kiosk = AuthorizedApi::signed_in_as(SessionInfo {
        user: "kiosk:lobby".to_owned(),
        role: Role::Viewer,
        identity: "admin@nvidia.com".to_owned(),
        study: "default".to_owned(),
        max_upload_bytes: 1024,
        kiosk: true,
    });

    // The kiosk login lands while the first session check is still out: it stays signed in.
    let auth = RwSignal::new(Auth::Checking);
    let check = session_check(auth);
    auth.set(Auth::SignedIn(kiosk.clone()));
    check.await;
    assert_eq!(auth.get_untracked(), Auth::SignedIn(kiosk));

    // Nothing changed meanwhile: the answer is taken.
    let auth = RwSignal::new(Auth::Checking);
    session_check(auth).await;
    assert!(
        matches!(
            auth.get_untracked(),
            Auth::Unreachable(_) | Auth::SignedOut { .. }
        ),
        "{:?}",
        auth.get_untracked()
    );
}
