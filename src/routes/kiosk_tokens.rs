//! `/kiosk-tokens` ("Screens"): operators create read-only kiosk links for wall screens, list
//! them, and revoke them.

use flare_model::{KioskToken, NewKioskToken};
use leptos::prelude::*;

use crate::api::{self, ApiError, AuthorizedApi};
use crate::components::toasts::use_toasts;
use crate::identity::SessionCtx;
use crate::studies::switchable;
use crate::time::local_datetime;

/// The expiry choices: (label, seconds).
pub const EXPIRIES: [(&str, u64); 4] = [
    ("1 hour", 3_600),
    ("1 day", 86_400),
    ("7 days", 7 * 86_400),
    ("30 days", 30 * 86_400),
];

/// The screens page.
#[component]
pub fn KioskTokensPage() -> impl IntoView {
    crate::app::set_title("Screens");
    let ctx = expect_context::<SessionCtx>();
    if ctx.is_viewer() {
        return view! {
            <div class="page-head">
                <h1>"Screens"</h1>
            </div>
            <p class="note" role="status">
                "Only operators manage kiosk links. A viewer can open "
                <a href="/wall">"the wall screen"</a>
                " directly."
            </p>
        }
        .into_any();
    }
    let toasts = use_toasts();
    let api = StoredValue::new(expect_context::<AuthorizedApi>());
    let tokens = RwSignal::new(None::<Vec<KioskToken>>);
    let list_error = RwSignal::new(None::<String>);
    // The signed-in client, while the page lives: work that ends after it starts nothing new.
    let reload = move || {
        let Some(api) = api.try_get_value() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match api.kiosk_tokens().await {
                Ok(mut list) => {
                    list.sort_by_key(|t| std::cmp::Reverse(t.created_at_ms));
                    let _ = tokens.try_set(Some(list));
                    let _ = list_error.try_set(None);
                }
                Err(e) => {
                    let _ = list_error.try_set(Some(e.sentence()));
                }
            }
        });
    };
    reload();
    let label = RwSignal::new(String::new());
    let label_error = RwSignal::new(None::<String>);
    let study = RwSignal::new(ctx.study());
    let expiry = RwSignal::new(86_400u64);
    let busy = RwSignal::new(false);
    let create_error = RwSignal::new(None::<String>);
    let created_url = RwSignal::new(None::<String>);
    let studies = Memo::new(move |_| {
        ctx.studies
            .with(|l| switchable(l.as_ref(), &ctx.default_study(), &ctx.current_study.get()))
    });
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = label.get_untracked().trim().to_owned();
        if l.is_empty() {
            label_error.set(Some("Name the screen, e.g. \"Lab wall\".".to_owned()));
            return;
        }
        label_error.set(None);
        busy.set(true);
        create_error.set(None);
        let body = NewKioskToken {
            label: l,
            study: Some(study.get_untracked()),
            expires_in_secs: expiry.get_untracked(),
        };
        let Some(api) = api.try_get_value() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let result = api.create_kiosk_token(&body).await;
            let _ = busy.try_set(false);
            match result {
                Ok(created) => {
                    let origin = window().location().origin().unwrap_or_default();
                    let _ = created_url.try_set(Some(format!("{origin}{}", created.url)));
                    let _ = label.try_set(String::new());
                    reload();
                }
                Err(ApiError::Unauthorized(m)) | Err(ApiError::Failed(m)) => {
                    let _ = create_error.try_set(Some(api::sentence(&m)));
                }
            }
        });
    };
    let copy = move |_| {
        if let Some(url) = created_url.get_untracked() {
            leptos::task::spawn_local(async move {
                match crate::browser::copy_text(&url).await {
                    Ok(()) => toasts.ok("Kiosk link copied."),
                    Err(e) => toasts.error(format!(
                        "Cannot copy: {e}. Select the link and copy it by hand."
                    )),
                }
            });
        }
    };
    let confirming = RwSignal::new(None::<String>);
    let revoke = move |id: String| {
        let Some(api) = api.try_get_value() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match api.revoke_kiosk_token(&id).await {
                Ok(()) => {
                    toasts.ok("Kiosk link revoked; its screen is signed out.");
                    let _ = confirming.try_set(None);
                    reload();
                }
                Err(e) => toasts.error(e.sentence()),
            }
        });
    };
    view! {
        <div class="page-head">
            <h1>"Screens"</h1>
            <a class="btn head-link" href="/wall">"Open the wall screen"</a>
        </div>
        <div class="stack">
            <section class="card narrow-wide" aria-labelledby="new-kiosk-h">
                <header class="card-head"><h2 id="new-kiosk-h">"New kiosk link"</h2></header>
                <div class="card-body">
                    <form id="kiosk-form" class="form" novalidate=true on:submit=create>
                        <div class="field">
                            <label for="kiosk-label">"Label"</label>
                            <input
                                id="kiosk-label"
                                autocomplete="off"
                                aria-describedby="kiosk-label-error"
                                aria-invalid=move || label_error.read().is_some().to_string()
                                prop:value=move || label.get()
                                on:input=move |ev| {
                                    label.set(event_target_value(&ev));
                                    label_error.set(None);
                                }
                            />
                            <p id="kiosk-label-error" class="field-error" role="alert">{move || label_error.get()}</p>
                        </div>
                        <div class="field">
                            <label for="kiosk-study">"Study"</label>
                            <select id="kiosk-study" on:change=move |ev| study.set(event_target_value(&ev))>
                                {move || studies.get().into_iter().map(|s| {
                                    let selected = s == study.get_untracked();
                                    view! { <option value=s.clone() selected=selected>{s.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="kiosk-expiry">"Expires after"</label>
                            <select id="kiosk-expiry" on:change=move |ev| {
                                if let Ok(v) = event_target_value(&ev).parse() { expiry.set(v) }
                            }>
                                {EXPIRIES.iter().map(|(text, secs)| view! {
                                    <option value=secs.to_string() selected=*secs == 86_400>{*text}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <button id="create-kiosk" type="submit" class="btn btn-primary" disabled=move || busy.get()>
                            "Create kiosk link"
                        </button>
                        {move || create_error.get().map(|e| view! { <p class="note note-error" role="alert">{e}</p> })}
                    </form>
                    {move || created_url.get().map(|url| view! {
                        <div id="kiosk-created" class="note" role="status">
                            <p>"Open this link on the screen. It is shown only now; anyone with it can watch this study."</p>
                            <div class="copy-row">
                                <input id="kiosk-url" class="mono" readonly=true aria-label="Kiosk link" prop:value=url.clone() />
                                <button type="button" class="btn" on:click=copy>"Copy"</button>
                            </div>
                        </div>
                    })}
                </div>
            </section>
            <section class="card" aria-labelledby="kiosk-list-h">
                <header class="card-head"><h2 id="kiosk-list-h">"Kiosk links"</h2></header>
                <div class="card-body">
                    {move || list_error.get().map(|e| view! { <p class="note note-error" role="alert">{e}</p> })}
                    {move || match tokens.get() {
                        None => view! { <p class="empty muted">"Loading…"</p> }.into_any(),
                        Some(list) if list.is_empty() => view! { <p class="empty">"No kiosk links yet."</p> }.into_any(),
                        Some(list) => view! {
                            <div class="table-wrap"><table id="kiosk-tokens" class="table">
                                <thead><tr>
                                    <th scope="col">"Label"</th>
                                    <th scope="col">"Study"</th>
                                    <th scope="col">"Expires"</th>
                                    <th scope="col">"Created by"</th>
                                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| {
                                        let id = t.id.clone();
                                        let id2 = t.id.clone();
                                        let id3 = t.id.clone();
                                        let is_confirming = move || confirming.get().as_deref() == Some(id.as_str());
                                        view! {
                                            <tr data-token-id=t.id.clone()>
                                                <td>{t.label.clone()}</td>
                                                <td>{t.study.clone()}</td>
                                                <td>{local_datetime(t.expires_at_ms as f64)}</td>
                                                <td>{t.created_by.clone()} <span class="muted">{format!(" · {}", local_datetime(t.created_at_ms as f64))}</span></td>
                                                <td class="actions-cell">
                                                    {move || if is_confirming() {
                                                        let id = id2.clone();
                                                        view! {
                                                            <span class="confirm-inline" role="group" aria-label="Confirm revoke">
                                                                "Revoke? "
                                                                <button type="button" class="btn btn-danger" on:click=move |_| revoke(id.clone())>"Yes, revoke"</button>
                                                                <button type="button" class="btn" on:click=move |_| confirming.set(None)>"Keep"</button>
                                                            </span>
                                                        }.into_any()
                                                    } else {
                                                        let id = id3.clone();
                                                        view! {
                                                            <button type="button" class="btn" on:click=move |_| confirming.set(Some(id.clone()))>"Revoke"</button>
                                                        }.into_any()
                                                    }}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table></div>
                        }.into_any(),
                    }}
                </div>
            </section>
        </div>
    }
    .into_any()
}
