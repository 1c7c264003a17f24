//! `/studies/:study`: one study's sites (by org) and users, adding and removing them, and
//! removing the study itself (project admins, after typing its name).

use std::collections::BTreeMap;

use flare_model::{FlareError, MutateCommand, ReadCommand, Reply, StudyDetail};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::components::new_study_form::FormError;
use crate::components::remove_study::RemoveStudy;
use crate::connection::Connection;
use crate::identity::SessionCtx;
use crate::routes::new_study::form_error;
use crate::routes::studies::load_studies;
use crate::studies::{Pick, StudyRole, selection, site_change_text, sites_by_org};

/// The study detail page; a new name remounts it.
#[component]
pub fn StudyDetailPage() -> impl IntoView {
    let study = crate::routes::param("study");
    move || {
        let study = study.get();
        view! { <StudyPage study /> }
    }
}

/// A labelled text field of an add form, bound to `value` and described by the form's error line.
fn text_field(
    id: &'static str,
    label: &'static str,
    placeholder: Option<&'static str>,
    error_id: &'static str,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                placeholder=placeholder
                aria-describedby=error_id
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </div>
    }
}

/// The outcome of the last change, shown under the forms.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Done(String),
    Failed(FormError, bool),
}

#[component]
fn StudyPage(study: String) -> impl IntoView {
    crate::app::set_title(&format!("Study {study}"));
    let conn = expect_context::<Connection>();
    let ctx = expect_context::<SessionCtx>();
    let navigate = use_navigate();
    let detail = RwSignal::new(None::<StudyDetail>);
    let detail_error = RwSignal::new(None::<String>);
    let name = study.clone();
    let refresh = move || {
        let name = name.clone();
        leptos::task::spawn_local(async move {
            match conn.command(ReadCommand::ShowStudy { study: name }).await {
                Ok(Reply::Study(d)) => {
                    let _ = detail.try_set(Some(d));
                    let _ = detail_error.try_set(None);
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = detail_error.try_set(Some(form_error(&e).message));
                }
            }
        });
    };
    refresh();
    let details = RwSignal::new(BTreeMap::new());
    let list_error = RwSignal::new(None);
    load_studies(conn, ctx, details, list_error);
    let role = Memo::new(move |_| {
        StudyRole::from_role(&ctx.identity.get().map(|i| i.role).unwrap_or_default())
    });
    let own_org = move || ctx.identity.get().map(|i| i.org).unwrap_or_default();
    let busy = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Outcome>);
    let info = {
        let name = study.clone();
        Memo::new(move |_| {
            ctx.studies.with(|l| {
                l.as_ref()
                    .and_then(|l| l.study_details.iter().find(|d| d.name == name).cloned())
            })
        })
    };

    // Runs a study command, shows its outcome, refreshes the detail.
    let run = {
        let refresh = refresh.clone();
        move |cmd: MutateCommand| {
            busy.set(true);
            outcome.set(None);
            let refresh = refresh.clone();
            leptos::task::spawn_local(async move {
                let result = conn.command(cmd).await;
                let _ = busy.try_set(false);
                let text = match result {
                    Ok(Reply::StudySites(c)) => Outcome::Done(site_change_text(&c)),
                    Ok(Reply::StudyUser(u)) => Outcome::Done(match u.removed {
                        Some(true) => format!("removed: {}", u.user),
                        Some(false) => format!("not a user: {}", u.user),
                        None => format!("added: {}", u.user),
                    }),
                    Ok(Reply::Study(d)) => Outcome::Done(format!("sites: {}", d.sites.join(", "))),
                    Ok(other) => Outcome::Done(format!("{other:?}")),
                    Err(e) => {
                        let has_jobs = matches!(&e, FlareError::CommandError { error_code, .. } if error_code == "STUDY_HAS_JOBS");
                        Outcome::Failed(form_error(&e), has_jobs)
                    }
                };
                let _ = outcome.try_set(Some(text));
                refresh();
            });
        }
    };

    let add_sites = RwSignal::new(String::new());
    let add_org = RwSignal::new(String::new());
    let add_error = RwSignal::new(None::<String>);
    let add_user = RwSignal::new(String::new());
    let user_error = RwSignal::new(None::<String>);
    let picks = move |text: &str, org: &str| -> Vec<Pick> {
        text.split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Pick {
                site: s.to_owned(),
                org: org.to_owned(),
            })
            .collect()
    };
    let on_add_sites = {
        let run = run.clone();
        let study = study.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let org = if role.get_untracked() == StudyRole::ProjectAdmin {
                add_org.get_untracked().trim().to_owned()
            } else {
                own_org()
            };
            match selection(
                role.get_untracked(),
                &own_org(),
                &picks(&add_sites.get_untracked(), &org),
            ) {
                Ok(sites) => {
                    add_error.set(None);
                    run(MutateCommand::AddStudySite {
                        study: study.clone(),
                        sites,
                    });
                }
                Err(e) => add_error.set(Some(e)),
            }
        }
    };
    let remove_site = {
        let run = run.clone();
        let study = study.clone();
        move |site: String, org: String| {
            let org = if org.is_empty() { own_org() } else { org };
            if let Ok(sites) = selection(role.get_untracked(), &own_org(), &[Pick { site, org }]) {
                run(MutateCommand::RemoveStudySite {
                    study: study.clone(),
                    sites,
                });
            }
        }
    };
    let on_add_user = {
        let run = run.clone();
        let study = study.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let user = add_user.get_untracked().trim().to_owned();
            if user.is_empty() {
                user_error.set(Some(
                    "Enter the user's NVFlare name, e.g. lead@nvidia.com.".to_owned(),
                ));
                return;
            }
            user_error.set(None);
            run(MutateCommand::AddStudyUser {
                study: study.clone(),
                user,
            });
        }
    };
    let remove_user = {
        let run = run.clone();
        let study = study.clone();
        move |user: String| {
            run(MutateCommand::RemoveStudyUser {
                study: study.clone(),
                user,
            })
        }
    };
    let on_remove = {
        let study = study.clone();
        Callback::new(move |()| {
            busy.set(true);
            outcome.set(None);
            let study = study.clone();
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                let result = conn
                    .command(MutateCommand::RemoveStudy {
                        study: study.clone(),
                    })
                    .await;
                let _ = busy.try_set(false);
                match result {
                    Ok(_) => {
                        load_studies(conn, ctx, details, list_error);
                        navigate("/studies", Default::default());
                    }
                    Err(e) => {
                        let has_jobs = matches!(&e, FlareError::CommandError { error_code, .. } if error_code == "STUDY_HAS_JOBS");
                        let _ = outcome.try_set(Some(Outcome::Failed(form_error(&e), has_jobs)));
                    }
                }
            });
        })
    };
    let manage = move || role.get().can_manage() && !ctx.is_viewer();
    let remove_denied = Signal::derive(move || {
        if ctx.is_viewer() {
            Some("A viewer session cannot change studies.".to_owned())
        } else if ctx.identity.read().is_some() && role.get() != StudyRole::ProjectAdmin {
            Some("Only a project admin can remove a study.".to_owned())
        } else {
            None
        }
    });
    let jobs_href = format!("/studies/{study}/jobs");
    let jobs_href2 = jobs_href.clone();
    let study_name = study.clone();
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/studies">"Studies"</a>
            <span aria-hidden="true">" / "</span>
            <code>{study.clone()}</code>
        </nav>
        <div class="page-head">
            <h1>{format!("Study {study}")}</h1>
            <a class="btn head-link" href=jobs_href>"Jobs"</a>
        </div>
        {move || info.get().map(|i| view! {
            <p class="study-submit" data-can-submit=i.can_submit_job.to_string()>
                {if i.can_submit_job { "You can submit jobs here.".to_owned() } else { format!("You cannot submit jobs here{}", i.reason.map(|r| format!(": {r}")).unwrap_or_else(|| ".".to_owned())) }}
            </p>
        })}
        {move || detail_error.get().map(|e| view! { <p class="note note-error" role="alert">{e}</p> })}
        <div
            id="study-result"
            aria-live="polite"
        >
            {move || outcome.get().map(|o| match o {
                Outcome::Done(t) => view! { <p class="note note-ok" data-outcome="ok">{t}</p> }.into_any(),
                Outcome::Failed(e, has_jobs) => {
                    let href = jobs_href2.clone();
                    view! {
                        <div class="note note-error" role="alert" data-outcome="error">
                            <p>{e.message}</p>
                            {e.hint.map(|h| view! { <p class="note-detail">{h}</p> })}
                            {has_jobs.then(|| view! { <p>"The study still has jobs: delete them first. " <a href=href>"Open its jobs"</a></p> })}
                        </div>
                    }.into_any()
                }
            })}
        </div>
        <div class="grid">
            <section class="card" aria-labelledby="study-sites-h">
                <header class="card-head"><h2 id="study-sites-h">"Sites"</h2></header>
                <div class="card-body">
                    {move || match detail.get() {
                        None => view! { <p class="empty muted">"Loading… (only project and org admins can see a study's sites)"</p> }.into_any(),
                        Some(d) => {
                            let groups = sites_by_org(&d);
                            let remove_site = remove_site.clone();
                            view! {
                                <ul id="study-site-list" class="plain-list">
                                    {groups.into_iter().flat_map(|(org, sites)| {
                                        let remove_site = remove_site.clone();
                                        sites.into_iter().map(move |site| {
                                            let remove_site = remove_site.clone();
                                            let (s, o) = (site.clone(), org.clone());
                                            view! {
                                                <li class="study-site" data-site=site.clone() data-org=org.clone()>
                                                    <span class="chip-key">{if org.is_empty() { "?".to_owned() } else { org.clone() }}</span>
                                                    " " {site.clone()}
                                                    {move || manage().then(|| {
                                                        let (s, o) = (s.clone(), o.clone());
                                                        let remove_site = remove_site.clone();
                                                        view! {
                                                            <button type="button" class="btn btn-small" aria-label=format!("Remove site {s}")
                                                                disabled=move || busy.get()
                                                                on:click=move |_| remove_site(s.clone(), o.clone())>"Remove"</button>
                                                        }
                                                    })}
                                                </li>
                                            }
                                        }).collect::<Vec<_>>()
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                    }}
                    {move || manage().then(|| {
                        let on_add_sites = on_add_sites.clone();
                        view! {
                            <form id="add-site-form" class="form inline-form" novalidate=true on:submit=on_add_sites>
                                {text_field("add-sites", "Sites to add", Some("site-1, site-2"), "add-sites-error", add_sites)}
                                {move || (role.get() == StudyRole::ProjectAdmin)
                                    .then(|| text_field("add-sites-org", "Org of these sites", None, "add-sites-error", add_org))}
                                <button type="submit" class="btn" disabled=move || busy.get()>"Add sites"</button>
                                <p id="add-sites-error" class="field-error" role="alert">{move || add_error.get()}</p>
                            </form>
                        }
                    })}
                </div>
            </section>
            <section class="card" aria-labelledby="study-users-h">
                <header class="card-head"><h2 id="study-users-h">"Users"</h2></header>
                <div class="card-body">
                    {move || detail.get().map(|d| {
                        let remove_user = remove_user.clone();
                        view! {
                            <ul id="study-user-list" class="plain-list">
                                {d.users.into_iter().map(|u| {
                                    let remove_user = remove_user.clone();
                                    let u2 = u.clone();
                                    view! {
                                        <li class="study-user" data-user=u.clone()>
                                            {u.clone()}
                                            {move || manage().then(|| {
                                                let remove_user = remove_user.clone();
                                                let u = u2.clone();
                                                view! {
                                                    <button type="button" class="btn btn-small" aria-label=format!("Remove user {u}")
                                                        disabled=move || busy.get()
                                                        on:click=move |_| remove_user(u.clone())>"Remove"</button>
                                                }
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }
                    })}
                    {move || manage().then(|| {
                        let on_add_user = on_add_user.clone();
                        view! {
                            <form id="add-user-form" class="form inline-form" novalidate=true on:submit=on_add_user>
                                {text_field("add-user", "User to add", Some("lead@nvidia.com"), "add-user-error", add_user)}
                                <button type="submit" class="btn" disabled=move || busy.get()>"Add user"</button>
                                <p id="add-user-error" class="field-error" role="alert">{move || user_error.get()}</p>
                            </form>
                        }
                    })}
                </div>
            </section>
        </div>
        {(study_name != crate::studies::DEFAULT_STUDY).then(|| view! {
            <section class="card" aria-labelledby="remove-study-h">
                <header class="card-head"><h2 id="remove-study-h">"Remove study"</h2></header>
                <div class="card-body">
                    <RemoveStudy study=study_name.clone() busy denied=remove_denied on_remove />
                </div>
            </section>
        })}
    }
}
