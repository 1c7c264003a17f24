//! The header's study switcher: the current study always shown; picking another reconnects the
//! socket with `?study=` and opens that study's jobs.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::connection::Connection;
use crate::identity::SessionCtx;
use crate::studies::switchable;

/// `<select id="study-switcher">` labelled "Study".
#[component]
pub fn StudySwitcher() -> impl IntoView {
    let ctx = expect_context::<SessionCtx>();
    let conn = expect_context::<Connection>();
    let navigate = use_navigate();
    let options = Memo::new(move |_| {
        let current = ctx.current_study.get();
        ctx.studies
            .with(|l| switchable(l.as_ref(), &ctx.default_study(), &current))
    });
    let connected_study = move || {
        conn.hello
            .with(|h| h.as_ref().map(|h| h.study.clone()))
            .unwrap_or_default()
    };
    let on_change = move |ev: leptos::ev::Event| {
        let study = event_target_value(&ev);
        if study.is_empty() || study == ctx.current_study.get_untracked() {
            return;
        }
        crate::components::study_scope::enter_study(conn, ctx, &study);
        navigate(&format!("/studies/{study}/jobs"), Default::default());
    };
    view! {
        <label class="chip study-switch" title=move || format!("Connected to study: {}", connected_study())>
            <span class="chip-key">"Study"</span>
            <select id="study-switcher" aria-label="Study" on:change=on_change prop:value=move || ctx.current_study.get()>
                <For
                    each=move || options.get()
                    key=|s| s.clone()
                    children=move |s| {
                        let value = s.clone();
                        let selected = move || ctx.current_study.get() == value;
                        view! { <option value=s.clone() selected=selected>{s.clone()}</option> }
                    }
                />
            </select>
        </label>
    }
}
