//! `/login`: sign in to the relay, then go back to where the user was going.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{ApiError, Auth, UnauthorizedApi};
use crate::components::login_form::LoginForm;
use crate::components::theme_toggle::ThemeToggle;

/// Where to go after sign-in: `next` when it is a path on this site, else the overview.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        // "//host" and "/\host" would leave the site.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.starts_with("/login") =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The sign-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
    crate::app::set_title("Sign in");
    let auth = expect_context::<RwSignal<Auth>>();
    let query = use_query_map();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let next = Memo::new(move |_| safe_next(query.read().get("next").as_deref()));

    // Signed in (now or already): leave for the page the user wanted.
    Effect::new(move |_| {
        if matches!(auth.get(), Auth::SignedIn(_)) {
            navigate(
                &next.get_untracked(),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });

    let on_submit = Callback::new(move |(user, password): (String, String)| {
        if user.is_empty() || password.is_empty() {
            error.set(Some("Enter your user name and password.".to_owned()));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match UnauthorizedApi.login(&user, &password).await {
                Ok(api) => {
                    error.set(None);
                    auth.set(Auth::SignedIn(api));
                }
                Err(err @ (ApiError::Unauthorized(_) | ApiError::Failed(_))) => {
                    error.set(Some(err.sentence()));
                }
            }
            busy.set(false);
        });
    });

    view! {
        <main class="login-page">
            <div class="login-corner">
                <ThemeToggle />
            </div>
            <section class="login-card" aria-labelledby="login-title">
                <div class="login-brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <span>"Flare Console"</span>
                </div>
                <h1 id="login-title">"Sign in"</h1>
                <p class="muted">"Operate your NVIDIA FLARE federation from the browser."</p>
                <LoginForm on_submit error busy />
            </section>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_only_goes_to_local_paths() {
        assert_eq!(safe_next(Some("/jobs/abc")), "/jobs/abc");
        assert_eq!(safe_next(Some("/jobs?x=1")), "/jobs?x=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/login")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
