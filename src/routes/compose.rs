//! `/compose` (operators): compose a job from a pattern, a library job, an existing job or
//! nothing — objects on the server, all clients or a connected site, forms from the catalog with
//! inline checks, uploaded scripts and files — with a live preview of what NVFlare receives,
//! "Download job folder (zip)", "Copy as Python", and "Submit" through the retry-safe submit
//! path, landing on the new job's page. The draft survives a reload (localStorage).

use std::sync::Arc;

use flare_job::Catalog;
use flare_job::compose::{ComposeStart, Composition};
use flare_model::{FlareError, Topic};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::AuthorizedApi;
use crate::browser;
use crate::components::compose_editor::ComposeEditor;
use crate::components::compose_preview::{ComposePreviewPanel, PreviewState};
use crate::components::compose_start::ComposeStartPanel;
use crate::components::toasts::use_toasts;
use crate::compose::{load_draft, problems, read_catalog, save_draft, targets};
use crate::connection::{sleep, use_topic};
use crate::errors::describe;
use crate::identity::SessionCtx;
use crate::routes::submit::{drive, load_pending};
use crate::submission::{Pending, STORAGE_KEY, Step as SubmitStep, on_resume, token_from_bytes};

/// Milliseconds the preview waits for typing to pause.
const PREVIEW_DEBOUNCE_MS: u64 = 300;

/// The composer page.
#[component]
pub fn ComposePage() -> impl IntoView {
    crate::app::set_title("Compose a job");
    let conn = use_topic(Topic::System);
    let ctx = expect_context::<SessionCtx>();
    let api = expect_context::<AuthorizedApi>();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let alive = StoredValue::new(true);
    on_cleanup(move || alive.set_value(false));

    let draft = load_draft();
    let had_draft = draft.is_some();
    let composition = RwSignal::new(draft.unwrap_or_else(|| Composition::empty("my-job", 1)));
    let catalog = RwSignal::new(None::<Arc<Catalog>>);
    let catalog_error = RwSignal::new(None::<String>);
    let starts = RwSignal::new(None::<Result<Vec<ComposeStart>, String>>);
    let preview = RwSignal::new(PreviewState::Loading);
    let busy = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);

    // The catalog and the starting points, once.
    {
        let api = api.clone();
        leptos::task::spawn_local(async move {
            let c = api
                .job_catalog()
                .await
                .map_err(|e| e.sentence())
                .and_then(|t| read_catalog(&t));
            match c {
                Ok(c) => {
                    let _ = catalog.try_set(Some(Arc::new(c)));
                }
                Err(e) => {
                    let _ = catalog_error.try_set(Some(format!(
                        "The component catalog did not load, so forms cannot be checked: {e} Reload the page to try again."
                    )));
                }
            }
            let s = api.compose_starts().await.map_err(|e| e.sentence());
            let _ = starts.try_set(Some(s));
        });
    }

    // The study's connected sites (None until the system view arrived: sites are not checked).
    let sites = Memo::new(move |_| {
        conn.store.with(|s| {
            s.system.data.as_ref().map(|d| {
                d.client_info
                    .iter()
                    .map(|c| c.name.clone())
                    .collect::<Vec<_>>()
            })
        })
    });
    let target_list = Signal::derive(move || targets(&sites.get().unwrap_or_default()));
    let found = Memo::new(move |_| {
        let sites = sites.get();
        catalog.with(|cat| match cat {
            Some(cat) => composition.with(|c| problems(c, cat, sites.as_deref())),
            None => Vec::new(),
        })
    });
    let python = Memo::new(move |_| composition.with(|c| flare_job::python::to_python(&c.job)));

    // Keep the draft in this browser on every change.
    Effect::new(move |_| {
        composition.with(|c| {
            if !save_draft(c) {
                leptos::logging::warn!(
                    "flare-console: cannot keep the composition in this browser"
                );
            }
        });
    });

    // The live preview, after typing pauses, only for a composition the form accepts.
    let generation = StoredValue::new(0u64);
    {
        let api = api.clone();
        Effect::new(move |_| {
            let c = composition.get();
            let problems = found.get();
            let ready = catalog.with(Option::is_some);
            let n = generation.get_value() + 1;
            generation.set_value(n);
            if !ready {
                return;
            }
            if let Some(first) = problems.first() {
                preview.set(PreviewState::Blocked(format!(
                    "No preview until the form's problems are fixed. First: {}",
                    first.message
                )));
                return;
            }
            // A refusal shown before must not linger while the accepted composition is built.
            if preview.with_untracked(|p| matches!(p, PreviewState::Blocked(_))) {
                preview.set(PreviewState::Loading);
            }
            let api = api.clone();
            leptos::task::spawn_local(async move {
                sleep(PREVIEW_DEBOUNCE_MS).await;
                if generation.try_get_value() != Some(n) {
                    return;
                }
                let state = match api.compose_preview(&c).await {
                    Ok(p) => PreviewState::Ready(p),
                    Err(e) => PreviewState::Blocked(format!(
                        "The relay refused the preview: {}",
                        e.sentence()
                    )),
                };
                if generation.try_get_value() == Some(n) {
                    let _ = preview.try_set(state);
                }
            });
        });
    }

    let on_start = Callback::new(move |(label, c): (String, Composition)| {
        composition.set(c);
        error.set(None);
        toasts.ok(format!("Started from {label}"));
    });

    let blocked = Memo::new(move |_| {
        catalog.with(Option::is_none) || !found.get().is_empty() || busy.get().is_some()
    });

    let download = {
        let api = api.clone();
        move |_| {
            let c = composition.get_untracked();
            let api = api.clone();
            busy.set(Some("Building the zip…".to_owned()));
            leptos::task::spawn_local(async move {
                let r = api.compose_zip(&c).await;
                let _ = busy.try_set(None);
                match r
                    .map_err(|e| e.sentence())
                    .and_then(|blob| browser::save_blob(&blob, &format!("{}.zip", c.job.name)))
                {
                    Ok(()) => toasts.ok(format!("Downloaded {}.zip", c.job.name)),
                    Err(e) => {
                        let _ = error.try_set(Some(format!("The zip could not be made: {e}")));
                    }
                }
            });
        }
    };
    let copy_python = move |_| {
        let text = python.get_untracked();
        leptos::task::spawn_local(async move {
            match browser::copy_text(&text).await {
                Ok(()) => toasts.ok("Copied the FedJob Python program to the clipboard"),
                Err(e) => toasts.error(format!("Could not copy to the clipboard: {e}")),
            }
        });
    };

    let base = crate::identity::jobs_base_here();
    let go = {
        let navigate = navigate.clone();
        let base = base.clone();
        move |pending: Pending, step: SubmitStep, text: String| {
            let navigate = navigate.clone();
            let base = base.clone();
            busy.set(Some(text));
            leptos::task::spawn_local(async move {
                let result = drive(conn, &pending, step).await;
                if !alive.try_get_value().unwrap_or(false) {
                    return;
                }
                let _ = busy.try_set(None);
                match result {
                    Ok(id) => navigate(&format!("{base}/{id}"), Default::default()),
                    Err(e) => {
                        let d = describe(&e);
                        let existing = match &e {
                            FlareError::SubmitTokenConflict {
                                existing_job_id, ..
                            } => existing_job_id.clone(),
                            _ => None,
                        };
                        let mut text = d.summary;
                        if let Some(detail) = d.detail {
                            text = format!("{text} {detail}");
                        }
                        if let Some(id) = existing {
                            text = format!("{text} (existing job {id})");
                        }
                        let _ = error.try_set(Some(text));
                    }
                }
            });
        }
    };
    // A submission a reload interrupted resumes here too (NVFlare is asked first).
    if let Some(p) = load_pending().filter(|p| p.study == ctx.study())
        && let Some(step) = on_resume(Some(&p))
    {
        let text = format!(
            "Resuming the submission of {}: checking whether NVFlare already has it…",
            p.label
        );
        go(p, step, text);
    }
    let submit = {
        let api = api.clone();
        let go = go.clone();
        move |_| {
            let c = composition.get_untracked();
            let api = api.clone();
            let go = go.clone();
            error.set(None);
            busy.set(Some("Building the job on the relay…".to_owned()));
            leptos::task::spawn_local(async move {
                match api.compose_upload(&c).await {
                    Ok(up) => {
                        let pending = Pending {
                            token: token_from_bytes(&browser::random_bytes()),
                            upload_id: up.upload_id,
                            label: up.folder_name.clone(),
                            study: ctx.study(),
                        };
                        let text = serde_json::to_string(&pending).unwrap_or_default();
                        if !browser::session_set(STORAGE_KEY, &text) {
                            leptos::logging::warn!(
                                "flare-console: cannot keep the pending submission"
                            );
                        }
                        go(
                            pending,
                            SubmitStep::Submit,
                            format!("Submitting {} to NVFlare…", up.folder_name),
                        );
                    }
                    Err(e) => {
                        let _ = busy.try_set(None);
                        let _ = error
                            .try_set(Some(format!("The relay refused the job: {}", e.sentence())));
                    }
                }
            });
        }
    };

    let viewer = ctx.is_viewer();
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href=crate::identity::jobs_base_here()>"Jobs"</a>
            <span aria-hidden="true">" / "</span>
            "Compose"
        </nav>
        <div class="page-head">
            <h1>"Compose a job"</h1>
            <div class="page-actions">
                <button type="button" class="btn btn-ghost" id="compose-download" disabled=move || blocked.get() on:click=download>
                    "Download job folder (zip)"
                </button>
                <button type="button" class="btn btn-ghost" id="compose-copy-python" on:click=copy_python>
                    "Copy as Python"
                </button>
                <button
                    type="button"
                    class="btn"
                    id="compose-submit"
                    disabled=move || blocked.get() || viewer
                    title=move || if found.get().is_empty() { "Submit this job to NVFlare".to_owned() } else { "Fix the problems in the form first".to_owned() }
                    on:click=submit
                >
                    "Submit"
                </button>
            </div>
        </div>
        {viewer.then(|| view! {
            <p class="note note-warn">"Viewers can look but not compose: log in as an operator to download or submit a job."</p>
        })}
        {move || catalog_error.get().map(|e| view! { <p class="note note-error" role="alert">{e}</p> })}
        {move || busy.get().map(|t| view! {
            <div class="note" role="status" id="compose-status">
                <p>{t}</p>
                <progress aria-label="Working"></progress>
            </div>
        })}
        {move || error.get().map(|e| view! { <div class="note note-error" role="alert" id="compose-error"><p>{e}</p></div> })}
        <details class="compose-start-wrap" open=!had_draft>
            <summary>"Start from a pattern, a library job or an existing job"</summary>
            <ComposeStartPanel starts on_start />
        </details>
        <div class="grid compose-grid">
            <section class="card compose-form" aria-labelledby="compose-form-title">
                <header class="card-head">
                    <h2 id="compose-form-title">"Job"</h2>
                    <span class="card-aside">"kept in this browser"</span>
                </header>
                <div class="card-body">
                    <ComposeEditor composition catalog targets=target_list problems=found />
                </div>
            </section>
            <ComposePreviewPanel preview python />
        </div>
    }
}
