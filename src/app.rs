//! The app root: session check, clock, theme, and the routes.

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::api::Auth;
use crate::components::shell::{Shell, check_session};
use crate::routes::job_detail::JobDetailPage;
use crate::routes::job_logs::JobLogsPage;
use crate::routes::jobs::JobsPage;
use crate::routes::login::LoginPage;
use crate::routes::not_found::NotFoundPage;
use crate::routes::overview::OverviewPage;
use crate::routes::submit::SubmitPage;
use crate::theme;
use crate::time::Clock;

/// Sets the tab title to "<page> · Flare Console".
pub fn set_title(page: &str) {
    document().set_title(&format!("{page} · Flare Console"));
}

/// The whole console.
#[component]
pub fn App() -> impl IntoView {
    let auth = RwSignal::new(Auth::Checking);
    provide_context(auth);
    provide_context(Clock::start());
    // Without a stored choice the stylesheet follows the system preference, also when it changes.
    if let Some(chosen) = theme::stored() {
        theme::apply(chosen, false);
    }
    provide_context(RwSignal::new(theme::initial()));
    check_session(auth);

    view! {
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=OverviewPage />
                    <Route path=path!("jobs") view=JobsPage />
                    <Route path=path!("jobs/:id") view=JobDetailPage />
                    <Route path=path!("jobs/:id/logs") view=JobLogsPage />
                    <Route path=path!("submit") view=SubmitPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
