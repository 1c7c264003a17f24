//! The signed-in frame around every page but login: checks the session, owns the connection,
//! shows the header and the routed page.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::Outlet;
use leptos_router::hooks::{use_location, use_navigate};

use crate::api::{self, ApiError, Auth, AuthorizedApi, UnauthorizedApi};
use crate::components::app_header::AppHeader;
use crate::components::shortcuts_help::KeyboardShortcuts;
use crate::components::toasts::{ToastHost, Toasts};
use crate::connection::Connection;
use crate::identity::SessionCtx;
use crate::job_query::JobsView;
use flare_model::PROTOCOL_VERSION;

/// Asks the relay who is signed in and records the answer in `auth`, unless `auth` changed while
/// the question was out: a kiosk or password login that finished meanwhile is newer than an
/// answer to a request sent before its cookie existed.
pub fn check_session(auth: RwSignal<Auth>) {
    leptos::task::spawn_local(session_check(auth));
}

/// [`check_session`]'s work: `auth` is read now, the answer applied when the future completes.
pub fn session_check(auth: RwSignal<Auth>) -> impl std::future::Future<Output = ()> {
    let asked_at = auth.get_untracked();
    async move {
        let answer = match UnauthorizedApi.session().await {
            Ok(api) => Auth::SignedIn(api),
            Err(ApiError::Unauthorized(_)) => Auth::SignedOut { by_user: false },
            Err(ApiError::Failed(message)) => Auth::Unreachable(api::sentence(&message)),
        };
        if auth.try_get_untracked().as_ref() == Some(&asked_at) {
            auth.set(answer);
        }
    }
}

/// The wall screen's frame: no header, no sign-in redirect (a screen has nobody to type); says
/// full-screen when it is signed out, unreachable, or its kiosk link was revoked.
#[component]
pub fn WallShell() -> impl IntoView {
    let auth = expect_context::<RwSignal<Auth>>();
    retry_while_unreachable(auth);
    let state = Memo::new(move |_| auth.get());
    move || match state.get() {
        Auth::SignedIn(api) => view! { <SignedIn api bare=true /> }.into_any(),
        Auth::SignedOut { .. } => view! {
            <main class="wall-message" role="alert">
                <h1>"This screen is not signed in"</h1>
                <p>
                    "Open its kiosk link again, or "
                    <a href="/login?next=%2Fwall">"sign in"</a>
                    " to show the wall screen."
                </p>
            </main>
        }
        .into_any(),
        Auth::Unreachable(message) => view! {
            <main class="wall-message" role="alert">
                <h1>"Relay unreachable"</h1>
                <p>{message}</p>
                <p class="muted">"Retrying…"</p>
            </main>
        }
        .into_any(),
        Auth::Checking => view! {
            <main class="wall-message">
                <p role="status">"Connecting…"</p>
            </main>
        }
        .into_any(),
    }
}

/// Rechecks the session every 10 s while the relay is unreachable, so a wall recovers by itself.
fn retry_while_unreachable(auth: RwSignal<Auth>) {
    Effect::new(move |_| {
        if matches!(auth.get(), Auth::Unreachable(_)) {
            set_timeout(
                move || check_session(auth),
                std::time::Duration::from_secs(10),
            );
        }
    });
}

/// The layout route: guards, then header + page.
#[component]
pub fn Shell() -> impl IntoView {
    let auth = expect_context::<RwSignal<Auth>>();
    let navigate = use_navigate();
    let location = use_location();
    Effect::new(move |_| {
        if let Auth::SignedOut { by_user } = auth.get() {
            let target = if by_user {
                "/login".to_owned()
            } else {
                let here = format!(
                    "{}{}",
                    location.pathname.get_untracked(),
                    location.search.get_untracked()
                );
                format!("/login?next={}", js_sys::encode_uri_component(&here))
            };
            navigate(
                &target,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    let signed_in = Memo::new(move |_| match auth.get() {
        Auth::SignedIn(api) => Some(api),
        _ => None,
    });
    let unreachable = Memo::new(move |_| match auth.get() {
        Auth::Unreachable(m) => Some(m),
        _ => None,
    });
    move || match (signed_in.get(), unreachable.get()) {
        (Some(api), _) => view! { <SignedIn api /> }.into_any(),
        (None, Some(message)) => view! {
            <main class="center-page">
                <section class="card narrow">
                    <h1>"Cannot reach the relay"</h1>
                    <p role="alert">{message}</p>
                    <button class="btn btn-primary" on:click=move |_| check_session(auth)>
                        "Try again"
                    </button>
                </section>
            </main>
        }
        .into_any(),
        (None, None) => view! {
            <main class="center-page">
                <p class="muted" role="status">
                    "Checking your session…"
                </p>
            </main>
        }
        .into_any(),
    }
}

/// The frame of a signed-in session; the connection lives as long as it does, and the pages get
/// `api` (the signed-in endpoints) as context. `bare`: the wall screen, without header and footer.
#[component]
fn SignedIn(api: AuthorizedApi, #[prop(optional)] bare: bool) -> impl IntoView {
    let auth = expect_context::<RwSignal<Auth>>();
    let ctx = SessionCtx::new(api.session().clone());
    let kiosk = api.session().kiosk;
    provide_context(api);
    let conn = Connection::new(auth);
    provide_context(conn);
    conn.start();
    on_cleanup(move || conn.close());
    provide_context(JobsView::default());
    provide_context(ctx);
    // A kiosk screen may not list studies (the relay refuses and audits it): the wall needs no
    // NVFlare role, so it does not ask.
    if !kiosk {
        ctx.load_identity(conn);
    }
    let toasts = Toasts::default();
    provide_context(toasts);
    let mismatch = move || {
        conn.hello.with(|h| {
            h.as_ref()
                .filter(|h| h.protocol != PROTOCOL_VERSION)
                .map(|h| {
                    format!(
                        "This page speaks protocol {PROTOCOL_VERSION} but the relay speaks {}. \
                         Reload the page to get the console that matches the relay.",
                        h.protocol
                    )
                })
        })
    };
    let footer = move || {
        conn.hello.with(|h| {
            h.as_ref().map(|h| {
                format!(
                    "Signed in as {} · NVFlare identity {} · relay {} · protocol {}",
                    h.user, h.identity, h.relay_version, h.protocol
                )
            })
        })
    };
    if bare {
        return view! {
            <Outlet />
            <ToastHost toasts />
        }
        .into_any();
    }
    view! {
        <AppHeader />
        <main id="main" class="page" tabindex="-1">
            {move || {
                mismatch()
                    .map(|m| {
                        view! {
                            <p class="note note-error banner" role="alert">
                                {m}
                            </p>
                        }
                    })
            }}
            <Outlet />
        </main>
        <footer class="footer muted">
            {footer} " · " <kbd>"?"</kbd> " keyboard shortcuts"
        </footer>
        <KeyboardShortcuts />
        <ToastHost toasts />
    }
    .into_any()
}
