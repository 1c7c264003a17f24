//! The app root: session check, clock, theme, and the routes.

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{MatchNestedRoutes, PossibleRouteMatch, path};

use crate::api::Auth;
use crate::components::shell::{Shell, WallShell, check_session};
use crate::components::study_scope::StudyScope;
use crate::routes::compose::ComposePage;
use crate::routes::job_detail::JobDetailPage;
use crate::routes::job_logs::JobLogsPage;
use crate::routes::jobs::JobsPage;
use crate::routes::kiosk::KioskPage;
use crate::routes::kiosk_tokens::KioskTokensPage;
use crate::routes::login::LoginPage;
use crate::routes::new_study::NewStudyPage;
use crate::routes::not_found::NotFoundPage;
use crate::routes::overview::OverviewPage;
use crate::routes::studies::StudiesPage;
use crate::routes::study_detail::StudyDetailPage;
use crate::routes::submit::SubmitPage;
use crate::routes::wall::WallPage;
use crate::theme;
use crate::time::Clock;

/// Sets the tab title to "<page> · Flare Console".
pub fn set_title(page: &str) {
    document().set_title(&format!("{page} · Flare Console"));
}

/// The job pages of one study under `path`: the list, a job, its logs.
#[component(transparent)]
fn JobRoutes<Segments>(path: Segments) -> impl MatchNestedRoutes + Clone
where
    Segments: PossibleRouteMatch + Clone + Send + 'static,
{
    view! {
        <ParentRoute path view=StudyScope>
            <Route path=path!("") view=JobsPage />
            <Route path=path!(":id") view=JobDetailPage />
            <Route path=path!(":id/logs") view=JobLogsPage />
        </ParentRoute>
    }
    .into_inner()
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
                <Route path=path!("/kiosk") view=KioskPage />
                <ParentRoute path=path!("/wall") view=WallShell>
                    <Route path=path!("") view=WallPage />
                </ParentRoute>
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=OverviewPage />
                    <JobRoutes path=path!("jobs") />
                    <Route path=path!("submit") view=SubmitPage />
                    <Route path=path!("compose") view=ComposePage />
                    <Route path=path!("studies") view=StudiesPage />
                    <Route path=path!("studies/new") view=NewStudyPage />
                    <Route path=path!("studies/:study") view=StudyDetailPage />
                    <JobRoutes path=path!("studies/:study/jobs") />
                    <Route path=path!("kiosk-tokens") view=KioskTokensPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
