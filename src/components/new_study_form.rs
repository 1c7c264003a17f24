//! The create-study form: name (checked before anything is sent), sites to enroll grouped by org
//! (offline ones shown disabled), and for a project admin each site's org. Keeps what was typed
//! when the server refuses, and shows the server's message and hint next to the form.

use std::collections::{BTreeMap, BTreeSet};

use flare_model::SiteSelection;
use leptos::prelude::*;

use crate::studies::{Pick, StudyRole, offered_sites, selection, validate_study_name};

/// A refusal to show next to the form: message and hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormError {
    pub message: String,
    pub hint: Option<String>,
}

/// `<form id="new-study-form">`; `on_submit` gets the name and the selection only when both are
/// valid.
#[component]
pub fn NewStudyForm(
    #[prop(into)] role: Signal<StudyRole>,
    #[prop(into)] own_org: Signal<String>,
    /// Connected sites (from the system view).
    #[prop(into)]
    connected: Signal<Vec<String>>,
    /// Sites seen in the site history (offline ones among them are shown disabled).
    #[prop(into)]
    seen: Signal<Vec<String>>,
    /// Site → org, as far as study details told.
    #[prop(into)]
    orgs: Signal<BTreeMap<String, String>>,
    #[prop(into)] busy: Signal<bool>,
    #[prop(into)] server_error: Signal<Option<FormError>>,
    on_submit: Callback<(String, SiteSelection)>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let name_error = RwSignal::new(None::<String>);
    let sites_error = RwSignal::new(None::<String>);
    let checked = RwSignal::new(BTreeSet::<String>::new());
    // Org typed per site (project admin only); absent = the offered default.
    let org_of = RwSignal::new(BTreeMap::<String, String>::new());
    let offered = Memo::new(move |_| {
        offered_sites(
            role.get(),
            &own_org.get(),
            &connected.get(),
            &seen.get(),
            &orgs.get(),
        )
    });
    let groups = Memo::new(move |_| {
        let mut by_org: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
        for o in offered.get() {
            by_org.entry(o.org).or_default().push((o.site, o.online));
        }
        by_org.into_iter().collect::<Vec<_>>()
    });
    let pa = move || role.get() == StudyRole::ProjectAdmin;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let n = name.get_untracked().trim().to_owned();
        let name_check = validate_study_name(&n).err();
        name_error.set(name_check.clone());
        let defaults: BTreeMap<String, String> = offered
            .get_untracked()
            .into_iter()
            .filter(|o| o.online)
            .map(|o| (o.site, o.org))
            .collect();
        let picks: Vec<Pick> = checked
            .get_untracked()
            .into_iter()
            .filter_map(|site| {
                let default = defaults.get(&site)?.clone();
                let org = org_of
                    .with_untracked(|m| m.get(&site).cloned())
                    .unwrap_or(default);
                Some(Pick { site, org })
            })
            .collect();
        let sel = selection(role.get_untracked(), &own_org.get_untracked(), &picks);
        sites_error.set(sel.as_ref().err().cloned());
        if let (None, Ok(sel)) = (name_check, sel) {
            on_submit.run((n, sel));
        }
    };
    view! {
        <form id="new-study-form" class="form" novalidate=true on:submit=submit>
            <div class="field">
                <label for="study-name">"Study name"</label>
                <input
                    id="study-name"
                    name="study-name"
                    autocomplete="off"
                    spellcheck="false"
                    aria-describedby="study-name-help study-name-error"
                    aria-invalid=move || name_error.read().is_some().to_string()
                    prop:value=move || name.get()
                    on:input=move |ev| {
                        name.set(event_target_value(&ev));
                        name_error.set(None);
                    }
                />
                <p id="study-name-help" class="hint">
                    "Lowercase letters, digits, \"_\" and \"-\"; at most 63 characters; not \"default\"."
                </p>
                <p id="study-name-error" class="field-error" role="alert">
                    {move || name_error.get()}
                </p>
            </div>
            <fieldset id="study-sites" class="field" aria-describedby="study-sites-error">
                <legend>"Sites"</legend>
                <p class="hint">
                    {move || {
                        if pa() {
                            "Only connected sites can be enrolled. Check each site's org: it must match the org in the site's certificate."
                        } else {
                            "Only connected sites of your org can be enrolled."
                        }
                    }}
                </p>
                {move || {
                    groups
                        .read()
                        .is_empty()
                        .then(|| view! { <p class="empty muted">"No site is known yet."</p> })
                }}
                <For
                    each=move || groups.get()
                    key=|(org, sites)| (org.clone(), sites.clone())
                    children=move |(org, sites)| {
                        view! {
                            <div class="org-group" data-org=org.clone()>
                                <h3 class="org-name">{if org.is_empty() { "(unknown org)".to_owned() } else { org.clone() }}</h3>
                                <ul class="site-picks">
                                    {sites
                                        .into_iter()
                                        .map(|(site, online)| {
                                            let s1 = site.clone();
                                            let s2 = site.clone();
                                            let s3 = site.clone();
                                            let org_default = org.clone();
                                            let input_id = format!("site-{site}");
                                            view! {
                                                <li class="site-pick" data-site=site.clone() class:offline=!online>
                                                    <input
                                                        type="checkbox"
                                                        id=input_id.clone()
                                                        name="site"
                                                        value=site.clone()
                                                        disabled=!online
                                                        prop:checked=move || checked.with(|c| c.contains(&s1))
                                                        on:change=move |ev| {
                                                            let on = event_target_checked(&ev);
                                                            checked
                                                                .update(|c| {
                                                                    if on {
                                                                        c.insert(s2.clone());
                                                                    } else {
                                                                        c.remove(&s2);
                                                                    }
                                                                });
                                                            sites_error.set(None);
                                                        }
                                                    />
                                                    <label for=input_id>{site.clone()}</label>
                                                    {(!online).then(|| view! { <span class="tag tag-offline">"offline"</span> })}
                                                    {move || {
                                                        let s3 = s3.clone();
                                                        let s4 = s3.clone();
                                                        let org_default = org_default.clone();
                                                        (pa() && online)
                                                            .then(|| {
                                                                view! {
                                                                    <input
                                                                        class="org-input"
                                                                        aria-label=format!("Org of {s3}")
                                                                        prop:value=move || {
                                                                            org_of
                                                                                .with(|m| m.get(&s3).cloned())
                                                                                .unwrap_or_else(|| org_default.clone())
                                                                        }
                                                                        on:input=move |ev| {
                                                                            let v = event_target_value(&ev);
                                                                            org_of.update(|m| {
                                                                                m.insert(s4.clone(), v);
                                                                            });
                                                                        }
                                                                    />
                                                                }
                                                            })
                                                    }}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </div>
                        }
                    }
                />
                <p id="study-sites-error" class="field-error" role="alert">
                    {move || sites_error.get()}
                </p>
            </fieldset>
            <div class="form-actions">
                <button id="create-study" type="submit" class="btn btn-primary" disabled=move || busy.get()>
                    "Create study"
                </button>
            </div>
            {move || {
                server_error
                    .get()
                    .map(|e| {
                        view! {
                            <div id="new-study-error" class="note note-error" role="alert">
                                <p>{e.message}</p>
                                {e.hint.map(|h| view! { <p class="note-detail">{h}</p> })}
                            </div>
                        }
                    })
            }}
        </form>
    }
}
