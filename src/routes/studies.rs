//! `/studies`: every study this identity sees, with its sites by org, its users, and whether this
//! identity can submit there (and why not).

use std::collections::BTreeMap;

use flare_model::{ReadCommand, Reply, StudyDetail, StudyList};
use leptos::prelude::*;

use crate::connection::Connection;
use crate::errors::describe;
use crate::identity::SessionCtx;
use crate::studies::{StudyRole, sites_by_org};

/// Asks `list_studies` again and, for roles that may, `show_study` for each study.
pub fn load_studies(
    conn: Connection,
    ctx: SessionCtx,
    details: RwSignal<BTreeMap<String, StudyDetail>>,
    error: RwSignal<Option<String>>,
) {
    leptos::task::spawn_local(async move {
        match conn.command(ReadCommand::ListStudies).await {
            Ok(Reply::Studies(list)) => {
                let _ = ctx.studies.try_set(Some(list.clone()));
                ctx.refresh_can_submit();
                if StudyRole::from_role(&list.identity.role).can_manage() {
                    for name in names(&list) {
                        if let Ok(Reply::Study(d)) = conn
                            .command(ReadCommand::ShowStudy {
                                study: name.clone(),
                            })
                            .await
                        {
                            let _ = details.try_update(|m| {
                                m.insert(name, d);
                            });
                        }
                    }
                }
            }
            Ok(other) => {
                let _ = error.try_set(Some(format!(
                    "NVFlare answered list_studies with {other:?}"
                )));
            }
            Err(e) => {
                let _ = error.try_set(Some(describe(&e).summary));
            }
        }
    });
}

fn names(list: &StudyList) -> Vec<String> {
    let mut out: Vec<String> = list.studies.clone();
    for d in &list.study_details {
        if !out.contains(&d.name) {
            out.push(d.name.clone());
        }
    }
    out
}

/// The studies page.
#[component]
pub fn StudiesPage() -> impl IntoView {
    crate::app::set_title("Studies");
    let conn = expect_context::<Connection>();
    let ctx = expect_context::<SessionCtx>();
    let details = RwSignal::new(BTreeMap::<String, StudyDetail>::new());
    let error = RwSignal::new(None::<String>);
    load_studies(conn, ctx, details, error);
    let role = Memo::new(move |_| {
        StudyRole::from_role(&ctx.identity.get().map(|i| i.role).unwrap_or_default())
    });
    let rows = Memo::new(move |_| {
        ctx.studies.with(|l| {
            l.as_ref()
                .map(|l| {
                    names(l)
                        .into_iter()
                        .map(|n| {
                            let info = l.study_details.iter().find(|d| d.name == n).cloned();
                            (n, info)
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    view! {
        <div class="page-head">
            <h1>"Studies"</h1>
            {move || role.get().can_manage().then(|| view! {
                <a id="create-study-link" class="btn btn-primary head-link" href="/studies/new">"Create study"</a>
            })}
        </div>
        {move || error.get().map(|e| view! { <p class="note note-error" role="alert">{e}</p> })}
        {move || ctx.identity.get().map(|i| view! {
            <p class="muted">{format!("NVFlare identity {} · org {} · role {}", i.name, i.org, i.role)}</p>
        })}
        {move || ctx.studies.read().is_none().then(|| view! { <p class="empty muted">"Loading studies…"</p> })}
        {move || {
            ctx.studies
                .read()
                .as_ref()
                .is_some_and(|l| names(l).is_empty())
                .then(|| view! {
                    <p class="empty">
                        "No study is registered yet: every job runs in the implicit "
                        <code>"default"</code>
                        " study, which has all sites. "
                        {move || role.get().can_manage().then(|| view! { <a href="/studies/new">"Create a study"</a> })}
                    </p>
                })
        }}
        <ul id="studies" class="studies">
            <For
                each=move || rows.get()
                key=|(n, info)| (n.clone(), info.as_ref().map(|i| (i.can_submit_job, i.reason.clone())))
                children=move |(name, info)| {
                    let n = name.clone();
                    let detail = Memo::new(move |_| details.read().get(&n).cloned());
                    let current = {
                        let n = name.clone();
                        move || ctx.current_study.get() == n
                    };
                    let (can, why) = match &info {
                        Some(i) => (Some(i.can_submit_job), i.reason.clone()),
                        None => (None, None),
                    };
                    view! {
                        <li class="study card" data-study=name.clone()>
                            <header class="card-head">
                                <h2><a href=format!("/studies/{name}")>{name.clone()}</a></h2>
                                {move || current().then(|| view! { <span class="pill pill-running">"current"</span> })}
                                <a class="btn" href=format!("/studies/{name}/jobs")>"Jobs"</a>
                            </header>
                            <div class="card-body">
                                <p class="study-submit" data-can-submit=can.map(|c| c.to_string()).unwrap_or_default()>
                                    {match (can, why) {
                                        (Some(true), _) => "You can submit jobs here.".to_owned(),
                                        (Some(false), Some(r)) => format!("You cannot submit jobs here: {r}"),
                                        (Some(false), None) => "You cannot submit jobs here.".to_owned(),
                                        (None, _) => String::new(),
                                    }}
                                </p>
                                {move || match detail.get() {
                                    None => view! { <p class="muted">"Sites and users are visible to project and org admins."</p> }.into_any(),
                                    Some(d) => {
                                        let groups = sites_by_org(&d);
                                        view! {
                                            <dl class="meta">
                                                <dt>"Sites"</dt>
                                                <dd>
                                                    {if groups.is_empty() { Some(view! { <span class="muted">"none"</span> }) } else { None }}
                                                    {groups.into_iter().map(|(org, sites)| view! {
                                                        <div class="org-sites" data-org=org.clone()>
                                                            <span class="chip-key">{if org.is_empty() { "?".to_owned() } else { org.clone() }}</span>
                                                            " " {sites.join(", ")}
                                                        </div>
                                                    }).collect_view()}
                                                </dd>
                                                <dt>"Users"</dt>
                                                <dd class="study-users">{if d.users.is_empty() { "none".to_owned() } else { d.users.join(", ") }}</dd>
                                            </dl>
                                        }.into_any()
                                    }
                                }}
                            </div>
                        </li>
                    }
                }
            />
        </ul>
    }
}
