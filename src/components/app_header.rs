//! The header: product name, navigation, connection, study, user and role, theme, sign out.

use flare_model::Role;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::{Auth, AuthorizedApi};
use crate::components::connection_indicator::ConnectionIndicator;
use crate::components::study_switcher::StudySwitcher;
use crate::components::theme_toggle::ThemeToggle;

/// The app header for the signed-in session (the [`AuthorizedApi`] in context).
#[component]
pub fn AppHeader() -> impl IntoView {
    let auth = expect_context::<RwSignal<Auth>>();
    let api = expect_context::<AuthorizedApi>();
    let session = api.session().clone();
    let navigate = use_navigate();
    let busy = RwSignal::new(false);
    let sign_out = move |_| {
        busy.set(true);
        let navigate = navigate.clone();
        let api = api.clone();
        leptos::task::spawn_local(async move {
            api.logout().await;
            auth.set(Auth::SignedOut { by_user: true });
            navigate("/login", Default::default());
        });
    };
    let viewer = session.role == Role::Viewer;
    let role = match session.role {
        Role::Operator => "operator",
        Role::Viewer => "viewer",
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true"></span>
                "Flare Console"
            </a>
            <nav class="nav" aria-label="Main">
                <A href="/" exact=true>
                    "Overview"
                </A>
                <A href="/jobs">"Jobs"</A>
                <A href="/submit">"Submit"</A>
                {(!viewer).then(|| view! { <A href="/compose">"Compose"</A> })}
                <A href="/studies">"Studies"</A>
                {(!viewer).then(|| view! { <A href="/kiosk-tokens">"Screens"</A> })}
                <A href="/wall">"Wall"</A>
            </nav>
            <div class="topbar-end">
                <ConnectionIndicator />
                <StudySwitcher />
                <span
                    class="chip"
                    title=format!("{} ({role}) · NVFlare identity: {}", session.user, session.identity)
                >
                    {session.user.clone()}
                    // "operator OPERATOR" says nothing twice.
                    {(!session.user.eq_ignore_ascii_case(role))
                        .then(|| view! { <span class="chip-key">{role}</span> })}
                </span>
                {viewer
                    .then(|| {
                        view! {
                            <span
                                class="chip chip-readonly"
                                title="A viewer session can watch but not change anything"
                            >
                                "read-only"
                            </span>
                        }
                    })}
                <ThemeToggle />
                <button
                    type="button"
                    class="btn btn-ghost"
                    on:click=sign_out
                    disabled=move || busy.get()
                >
                    "Sign out"
                </button>
            </div>
        </header>
    }
}
