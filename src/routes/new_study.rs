//! `/studies/new`: register a study (project admins pick each site's org, org admins their own
//! org's sites).

use std::collections::BTreeMap;

use flare_model::{FlareError, MutateCommand, SiteSelection, StudyDetail, Topic};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::components::new_study_form::{FormError, NewStudyForm};
use crate::components::site_timeline::use_site_history;
use crate::connection::use_topic;
use crate::errors::describe;
use crate::identity::SessionCtx;
use crate::routes::studies::load_studies;
use crate::studies::{StudyRole, known_orgs};

/// A study command's refusal as the form shows it: the server's message and hint.
pub fn form_error(e: &FlareError) -> FormError {
    match e {
        FlareError::CommandError {
            error_code,
            message,
            hint,
            ..
        } => FormError {
            message: format!("{} ({error_code})", crate::api::sentence(message)),
            hint: (!hint.is_empty()).then(|| crate::api::sentence(hint)),
        },
        other => {
            let d = describe(other);
            FormError {
                message: d.summary,
                hint: d.detail,
            }
        }
    }
}

/// The create-study page.
#[component]
pub fn NewStudyPage() -> impl IntoView {
    crate::app::set_title("Create study");
    let conn = use_topic(Topic::System);
    let ctx = expect_context::<SessionCtx>();
    let navigate = use_navigate();
    let details = RwSignal::new(BTreeMap::<String, StudyDetail>::new());
    let load_error = RwSignal::new(None::<String>);
    load_studies(conn, ctx, details, load_error);
    let (history, _, _) = use_site_history(None);
    // Who the identity is (role and org), from the shell's `list_studies` or this page's own.
    let who = Memo::new(move |_| {
        ctx.identity.get().map(|i| (i.role, i.org)).or_else(|| {
            ctx.studies.with(|l| {
                l.as_ref()
                    .map(|l| (l.identity.role.clone(), l.identity.org.clone()))
            })
        })
    });
    let role = Signal::derive(move || {
        StudyRole::from_role(&who.get().map(|(role, _)| role).unwrap_or_default())
    });
    let own_org = Signal::derive(move || who.get().map(|(_, org)| org).unwrap_or_default());
    // Until then the sites cannot be grouped by org: show a loading state, not "(unknown org)".
    // When `list_studies` failed the form shows anyway and NVFlare alone decides.
    let identity_known = Memo::new(move |_| who.read().is_some() || load_error.read().is_some());
    let connected = Signal::derive(move || {
        conn.store
            .read()
            .system
            .data
            .as_ref()
            .map(|i| i.client_info.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default()
    });
    let seen = Signal::derive(move || {
        history
            .read()
            .as_ref()
            .map(|h| h.sites.iter().map(|s| s.site.clone()).collect())
            .unwrap_or_default()
    });
    let orgs = Signal::derive(move || known_orgs(details.read().values()));
    let busy = RwSignal::new(false);
    let server_error = RwSignal::new(None::<FormError>);
    let on_submit = Callback::new(move |(study, sites): (String, SiteSelection)| {
        busy.set(true);
        server_error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = conn
                .command(MutateCommand::RegisterStudy {
                    study: study.clone(),
                    sites,
                })
                .await;
            let _ = busy.try_set(false);
            match result {
                Ok(_) => {
                    load_studies(conn, ctx, details, load_error);
                    navigate(&format!("/studies/{study}"), Default::default());
                }
                Err(e) => {
                    let _ = server_error.try_set(Some(form_error(&e)));
                }
            }
        });
    });
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/studies">"Studies"</a>
            <span aria-hidden="true">" / "</span>
            "new"
        </nav>
        <div class="page-head">
            <h1>"Create study"</h1>
        </div>
        {move || load_error.get().map(|e| view! { <p class="note note-error" role="alert">{e}</p> })}
        {move || {
            (who.read().is_some() && !role.get().can_manage())
                .then(|| view! {
                    <p class="note" role="status">"Only project admins and org admins can create studies; your NVFlare role cannot."</p>
                })
        }}
        <section class="card narrow-wide">
            <div class="card-body">
                <Show
                    when=move || identity_known.get()
                    fallback=|| view! {
                        <p id="new-study-loading" class="empty muted" role="status" aria-busy="true">
                            "Loading your NVFlare identity…"
                        </p>
                    }
                >
                    <NewStudyForm role own_org connected seen orgs busy server_error on_submit />
                </Show>
            </div>
        </section>
    }
}
