//! The layout around job pages: attaches the tab's socket to the study in the URL
//! (`/studies/:study/jobs…`) or to the session's default study (`/jobs…`).

use leptos::prelude::*;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_params_map;

use crate::connection::Connection;
use crate::identity::SessionCtx;

/// Points the connection and the session context at `study` (the default study: no `?study=`).
pub fn enter_study(conn: Connection, ctx: SessionCtx, study: &str) {
    let default = ctx.default_study();
    let wanted = (study != default).then(|| study.to_owned());
    conn.set_study(wanted);
    if ctx.current_study.get_untracked() != study {
        ctx.current_study.set(study.to_owned());
    }
    ctx.refresh_can_submit();
}

/// Job pages of one study; remounts its pages when the study changes.
#[component]
pub fn StudyScope() -> impl IntoView {
    let params = use_params_map();
    let conn = expect_context::<Connection>();
    let ctx = expect_context::<SessionCtx>();
    let study = Memo::new(move |_| {
        params
            .read()
            .get("study")
            .unwrap_or_else(|| ctx.default_study())
    });
    move || {
        let s = study.get();
        enter_study(conn, ctx, &s);
        view! { <Outlet /> }
    }
}
