//! `/kiosk#token=…`: logs a shared screen in with its kiosk token (from the URL fragment, which
//! never reaches the server's logs), drops the secret from the address bar, and shows the wall.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::api::{self, ApiError, Auth, UnauthorizedApi};

/// The token in a `#token=…` fragment (other `&`-separated keys ignored).
pub fn token_from_fragment(hash: &str) -> Option<String> {
    hash.trim_start_matches('#')
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .filter(|t| !t.is_empty())
        .map(|t| {
            js_sys::decode_uri_component(t)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_else(|| t.to_owned())
        })
}

/// The kiosk login page.
#[component]
pub fn KioskPage() -> impl IntoView {
    crate::app::set_title("Wall screen");
    let auth = expect_context::<RwSignal<Auth>>();
    let navigate = use_navigate();
    let failure = RwSignal::new(None::<String>);
    let hash = window().location().hash().unwrap_or_default();
    match token_from_fragment(&hash) {
        None => failure.set(Some(
            "This kiosk link has no token. Open the full link an operator created on the Screens page."
                .to_owned(),
        )),
        Some(token) => {
            leptos::task::spawn_local(async move {
                match UnauthorizedApi.kiosk_login(&token).await {
                    Ok(api) => {
                        auth.set(Auth::SignedIn(api));
                        navigate(
                            "/wall",
                            NavigateOptions {
                                replace: true,
                                ..Default::default()
                            },
                        );
                    }
                    Err(ApiError::Unauthorized(m)) => {
                        let _ = failure.try_set(Some(api::sentence(&m)));
                    }
                    Err(e) => {
                        let _ = failure.try_set(Some(e.sentence()));
                    }
                }
            });
        }
    }
    move || match failure.get() {
        Some(message) => view! {
            <main id="kiosk-error" class="wall-message" role="alert">
                <h1>"Cannot show this screen"</h1>
                <p>{message}</p>
            </main>
        }
        .into_any(),
        None => view! {
            <main class="wall-message">
                <p role="status">"Signing this screen in…"</p>
            </main>
        }
        .into_any(),
    }
}
