//! `/submit`: upload a job folder or zip (drag and drop or pickers) with a progress bar, or pick a
//! job from the relay's library, then submit it retry-safely and open the new job.

use flare_model::{FlareError, ListJobsFilter, MutateCommand, ReadCommand, Reply, Topic};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;
use web_sys::XmlHttpRequest;

use crate::api::{AuthorizedApi, sentence};
use crate::browser::{self, Picked, Progress};
use crate::components::copy_buttons::CopyButtons;
use crate::connection::{Connection, sleep, use_topic};
use crate::copy_as::CopyContext;
use crate::errors::describe;
use crate::identity::SessionCtx;
use crate::job_ops::progress_text;
use crate::logs::human_bytes;
use crate::policy::{Allowed, JobAction, allowed};
use crate::submission::{
    MAX_ROUNDS, Pending, STORAGE_KEY, Step, after_lookup, after_submit, on_resume, token_from_bytes,
};

/// What the page is doing.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Idle,
    Uploading(Progress),
    /// Submitting or resuming; the text says which.
    Submitting(String),
}

/// Why `size` bytes cannot be uploaded under `limit`, if so.
pub fn too_big(size: f64, limit: u64) -> Option<String> {
    (size > limit as f64).then(|| {
        format!(
            "This job is {}; the relay accepts uploads of at most {}. Remove large files \
             (datasets, checkpoints) from the job folder, or ask the relay's admin to raise \
             max_upload_bytes.",
            human_bytes(size),
            human_bytes(limit as f64)
        )
    })
}

pub(crate) fn load_pending() -> Option<Pending> {
    browser::session_get(STORAGE_KEY).and_then(|s| serde_json::from_str(&s).ok())
}

/// Runs a submission from `step` until NVFlare has the job or says no. The pending state is
/// forgotten on a final answer and kept when the link stays down (a reload resumes it).
pub(crate) async fn drive(
    conn: Connection,
    pending: &Pending,
    mut step: Step,
) -> Result<String, FlareError> {
    for round in 0..MAX_ROUNDS * 2 {
        step = match step {
            Step::LookUp => {
                if round > 0 {
                    sleep(1_000).await;
                }
                after_lookup(
                    conn.command(ReadCommand::ListJobs(ListJobsFilter {
                        submit_token: Some(pending.token.clone()),
                        ..ListJobsFilter::default()
                    }))
                    .await,
                )
            }
            Step::Submit => after_submit(
                conn.command(MutateCommand::SubmitJob {
                    upload_id: pending.upload_id.clone(),
                    submit_token: Some(pending.token.clone()),
                })
                .await,
            ),
            Step::Done(id) => {
                browser::session_remove(STORAGE_KEY);
                return Ok(id);
            }
            Step::Fail(e) => {
                browser::session_remove(STORAGE_KEY);
                return Err(e);
            }
        };
    }
    Err(FlareError::NoConnection {
        message: "the relay could not confirm the submission; it is kept and resumes when you \
                  reload this page"
            .to_owned(),
    })
}

/// An error for the alert: summary plus detail, and for a token conflict the existing job.
fn error_view(e: &FlareError) -> (String, Option<String>, Option<String>) {
    let d = describe(e);
    let existing = match e {
        FlareError::SubmitTokenConflict {
            existing_job_id, ..
        } => existing_job_id.clone(),
        _ => None,
    };
    (d.summary, d.detail, existing)
}

/// The submit page.
#[component]
pub fn SubmitPage() -> impl IntoView {
    crate::app::set_title("Submit a job");
    // Watching the system view keeps the header's link state current on this page too.
    let conn = use_topic(Topic::System);
    let ctx = expect_context::<SessionCtx>();
    let api = expect_context::<AuthorizedApi>();
    let navigate = use_navigate();
    let picked = RwSignal::new_local(None::<Picked>);
    let phase = RwSignal::new(Phase::Idle);
    let error = RwSignal::new(None::<(String, Option<String>, Option<String>)>);
    let dragging = RwSignal::new(false);
    let library = RwSignal::new(None::<Result<Vec<String>, String>>);
    let alive = StoredValue::new(true);
    let xhr = StoredValue::new_local(None::<XmlHttpRequest>);
    on_cleanup(move || {
        alive.set_value(false);
        if let Some(Some(x)) = xhr.try_get_value() {
            let _ = x.abort();
        }
    });

    let limit = ctx.session.with_value(|s| s.max_upload_bytes);
    let permit = Memo::new(move |_| {
        let base = allowed(&ctx.who(), JobAction::Submit, None);
        match (base, ctx.can_submit.get()) {
            (Allowed::Yes, Some((false, reason))) => Allowed::No(format!(
                "NVFlare says you cannot submit jobs to study {}{}",
                ctx.study(),
                reason
                    .map(|r| format!(": {r}"))
                    .unwrap_or_else(|| ".".to_owned())
            )),
            (other, _) => other,
        }
    });
    let busy = Memo::new(move |_| phase.get() != Phase::Idle);
    let oversize =
        Memo::new(move |_| picked.with(|p| p.as_ref().and_then(|p| too_big(p.size(), limit))));

    // Runs a submission and opens the job, unless the page went away meanwhile.
    let base = crate::identity::jobs_base_here();
    let go = {
        let navigate = navigate.clone();
        move |pending: Pending, step: Step, text: String| {
            let navigate = navigate.clone();
            let base = base.clone();
            phase.set(Phase::Submitting(text));
            error.set(None);
            leptos::task::spawn_local(async move {
                let result = drive(conn, &pending, step).await;
                if !alive.try_get_value().unwrap_or(false) {
                    return;
                }
                let _ = phase.try_set(Phase::Idle);
                match result {
                    Ok(id) => navigate(&format!("{base}/{id}"), Default::default()),
                    Err(e) => {
                        let _ = error.try_set(Some(error_view(&e)));
                    }
                }
            });
        }
    };

    // A submission left pending by a reload or a lost link: look it up first.
    let study = ctx.study();
    if let Some(p) = load_pending().filter(|p| p.study == study)
        && let Some(step) = on_resume(Some(&p))
    {
        let text = format!(
            "Resuming the submission of {}: checking whether NVFlare already has it…",
            p.label
        );
        go(p, step, text);
    }

    // The job library.
    leptos::task::spawn_local(async move {
        let r = match conn.command(ReadCommand::GetAvailableAppsToUpload).await {
            Ok(Reply::Names(n)) => Ok(n),
            Ok(_) => Ok(Vec::new()),
            Err(e) => Err(describe(&e).summary),
        };
        let _ = library.try_set(Some(r));
    });

    let start = {
        let go = go.clone();
        move |upload_id: String, label: String| {
            let pending = Pending {
                token: token_from_bytes(&browser::random_bytes()),
                upload_id,
                label: label.clone(),
                study: ctx.study(),
            };
            // Stored before the command goes out, so a reload finds it.
            let text = serde_json::to_string(&pending).unwrap_or_default();
            if !browser::session_set(STORAGE_KEY, &text) {
                leptos::logging::warn!("flare-console: cannot keep the pending submission");
            }
            go(
                pending,
                Step::Submit,
                format!("Submitting {label} to NVFlare…"),
            );
        }
    };

    let upload_and_submit = {
        let start = start.clone();
        move |_| {
            let Some(p) = picked.get_untracked() else {
                error.set(Some((
                    "Choose a job folder or a .zip first.".to_owned(),
                    None,
                    None,
                )));
                return;
            };
            if let Some(msg) = too_big(p.size(), limit) {
                error.set(Some((msg, None, None)));
                return;
            }
            let Ok(x) = XmlHttpRequest::new() else {
                return;
            };
            xhr.set_value(Some(x.clone()));
            error.set(None);
            phase.set(Phase::Uploading(Progress {
                loaded: 0.0,
                total: Some(p.size()),
            }));
            let start = start.clone();
            let api = api.clone();
            leptos::task::spawn_local(async move {
                let result = api
                    .upload(&x, &p, move |pr| {
                        let _ = phase.try_set(Phase::Uploading(pr));
                    })
                    .await;
                if !alive.try_get_value().unwrap_or(false) {
                    return;
                }
                xhr.set_value(None);
                match result {
                    Ok(up) => start(up.upload_id, up.folder_name),
                    Err(e) => {
                        phase.set(Phase::Idle);
                        error.set(Some((
                            format!("The relay refused the upload: {}", sentence(&e)),
                            None,
                            None,
                        )));
                    }
                }
            });
        }
    };

    let choose = move |p: Result<Picked, String>| match p {
        Ok(p) => {
            error.set(None);
            picked.set(Some(p));
        }
        Err(e) => error.set(Some((sentence(&e), None, None))),
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let Some(data) = ev.data_transfer() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let p = browser::from_drop(&data).await;
            let _ = picked.try_update(|_| {});
            choose(p);
        });
    };
    let on_pick = move |ev: web_sys::Event, folder: bool| {
        let input: web_sys::HtmlInputElement = ev.target().unwrap().unchecked_into();
        if let Some(files) = input.files() {
            choose(browser::from_input(&files, folder));
        }
        input.set_value("");
    };

    // Folder picking: `webkitdirectory` has no typed attribute; set it once mounted.
    let folder_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(i) = folder_input.get() {
            let _ = i.set_attribute("webkitdirectory", "");
        }
    });
    let denied = move || permit.get().reason().map(str::to_owned);
    let copy = Signal::derive(move || {
        let target = picked
            .with(|p| {
                p.as_ref().map(|p| match p {
                    Picked::Zip(f) => f.name().trim_end_matches(".zip").to_owned(),
                    Picked::Folder(files) => files
                        .first()
                        .and_then(|(path, _)| path.split('/').next())
                        .unwrap_or("job")
                        .to_owned(),
                })
            })
            .unwrap_or_else(|| "./my-job".to_owned());
        CopyContext::new(&target, &ctx.study(), &ctx.identity_name())
    });
    let phase_view = move || match phase.get() {
        Phase::Idle => None,
        Phase::Uploading(p) => {
            let max = p.total.unwrap_or(0.0).max(p.loaded).max(1.0);
            Some(
                view! {
                    <div class="note" role="status" id="submit-status">
                        <p>"Uploading to the relay…"</p>
                        <progress id="upload-progress" value=p.loaded max=max aria-label="Upload"></progress>
                        <span class="muted progress-text">{progress_text(&p)}</span>
                    </div>
                }
                .into_any(),
            )
        }
        Phase::Submitting(text) => Some(
            view! {
                <div class="note" role="status" id="submit-status">
                    <p>{text}</p>
                    <progress id="submit-progress" aria-label="Submitting"></progress>
                </div>
            }
            .into_any(),
        ),
    };

    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href=crate::identity::jobs_base_here()>"Jobs"</a>
            <span aria-hidden="true">" / "</span>
            "Submit"
        </nav>
        <div class="page-head">
            <h1>"Submit a job"</h1>
        </div>
        {move || {
            denied()
                .map(|r| {
                    view! {
                        <p id="submit-denied" class="note note-warn">
                            {r}
                        </p>
                    }
                })
        }}
        {move || {
            error
                .get()
                .map(|(summary, detail, existing)| {
                    view! {
                        <div id="submit-error" class="note note-error" role="alert">
                            <p>{summary}</p>
                            {detail.map(|d| view! { <p class="note-detail">{d}</p> })}
                            {existing
                                .map(|id| {
                                    view! {
                                        <p>
                                            <a href=format!("{}/{id}", crate::identity::jobs_base_here())>"Open the existing job"</a>
                                        </p>
                                    }
                                })}
                        </div>
                    }
                })
        }}
        {phase_view}
        <div class="grid submit-grid">
            <section class="card" aria-labelledby="upload-title">
                <header class="card-head">
                    <h2 id="upload-title">"Upload a job"</h2>
                    <span class="card-aside">
                        {format!("up to {}", human_bytes(limit as f64))}
                    </span>
                </header>
                <div class="card-body">
                    <div
                        id="drop-zone"
                        class="dropzone"
                        class:dragging=move || dragging.get()
                        on:dragover=move |ev: web_sys::DragEvent| {
                            ev.prevent_default();
                            dragging.set(true);
                        }
                        on:dragleave=move |_| dragging.set(false)
                        on:drop=on_drop
                    >
                        <p class="dropzone-title">"Drop a job folder or a .zip here"</p>
                        <p class="muted">
                            "The folder holds meta.json and the app folders, as for "
                            <code>"nvflare job submit"</code> "."
                        </p>
                        <div class="pickers">
                            <input
                                id="pick-folder"
                                class="sr-only"
                                type="file"
                                node_ref=folder_input
                                multiple=true
                                on:change=move |ev| on_pick(ev, true)
                            />
                            <label class="btn" for="pick-folder">
                                "Choose a folder…"
                            </label>
                            <input
                                id="pick-zip"
                                class="sr-only"
                                type="file"
                                accept=".zip,application/zip"
                                on:change=move |ev| on_pick(ev, false)
                            />
                            <label class="btn" for="pick-zip">
                                "Choose a .zip…"
                            </label>
                        </div>
                    </div>
                    <p id="picked" class="picked" aria-live="polite">
                        {move || {
                            picked
                                .with(|p| match p {
                                    Some(p) => {
                                        format!("Chosen: {} — {}", p.label(), human_bytes(p.size()))
                                    }
                                    None => "Nothing chosen yet.".to_owned(),
                                })
                        }}
                    </p>
                    {move || {
                        oversize
                            .get()
                            .map(|m| {
                                view! {
                                    <p id="upload-too-big" class="note note-error" role="alert">
                                        {m}
                                    </p>
                                }
                            })
                    }}
                    <div class="action-row">
                        <button
                            type="button"
                            id="submit-upload"
                            class="btn btn-primary"
                            disabled=move || {
                                busy.get() || !permit.get().is_yes() || oversize.get().is_some()
                                    || picked.with(Option::is_none)
                            }
                            title=move || denied().unwrap_or_default()
                            on:click=upload_and_submit
                        >
                            "Upload and submit"
                        </button>
                        <CopyButtons action=JobAction::Submit ctx=copy />
                    </div>
                </div>
            </section>
            <section class="card" aria-labelledby="library-title">
                <header class="card-head">
                    <h2 id="library-title">"Job library"</h2>
                    <span class="card-aside">"on the relay"</span>
                </header>
                <div class="card-body">
                    {move || match library.get() {
                        None => view! { <p class="empty muted">"Loading the library…"</p> }.into_any(),
                        Some(Err(e)) => {
                            view! {
                                <p class="note note-error" role="alert">
                                    {e}
                                </p>
                            }
                                .into_any()
                        }
                        Some(Ok(names)) if names.is_empty() => {
                            view! {
                                <p class="empty muted">
                                    "The relay has no job library (set job_library in its config)."
                                </p>
                            }
                                .into_any()
                        }
                        Some(Ok(names)) => {
                            let start = start.clone();
                            view! {
                                <ul id="job-library" class="library">
                                    {names
                                        .into_iter()
                                        .map(|name| {
                                            let start = start.clone();
                                            let n = name.clone();
                                            let copy = Signal::derive({
                                                let name = name.clone();
                                                move || CopyContext::new(&name, &ctx.study(), &ctx.identity_name())
                                            });
                                            view! {
                                                <li class="action-row" data-library=name.clone()>
                                                    <button
                                                        type="button"
                                                        class="btn"
                                                        disabled=move || busy.get() || !permit.get().is_yes()
                                                        title=move || denied().unwrap_or_default()
                                                        on:click=move |_| start(format!("library:{n}"), n.clone())
                                                    >
                                                        {format!("Submit {name}")}
                                                    </button>
                                                    <CopyButtons action=JobAction::Submit ctx=copy />
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                    }}
                </div>
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_over_the_limit_are_refused_first() {
        assert_eq!(too_big(10.0, 10), None);
        let m = too_big(3.0 * 1024.0 * 1024.0, 1024 * 1024).unwrap();
        assert!(m.starts_with("This job is 3.0 MB; the relay accepts uploads of at most 1.0 MB."));
    }
}
