//! The job's actions: Abort, Delete, Clone, Download result, Download components and Logs, each
//! disabled with its reason when this session cannot use it, with the confirm dialogs, the
//! "Copy as" buttons, and the outcome (with a progress bar) of the last action.

use flare_model::JobMeta;
use leptos::prelude::*;

use crate::components::abort_dialog::AbortDialog;
use crate::components::copy_buttons::CopyButtons;
use crate::components::delete_dialog::DeleteDialog;
use crate::copy_as::CopyContext;
use crate::job_ops::{Bar, JobOps, OpStatus, Tone, progress_text};
use crate::policy::{Allowed, JobAction, Who, allowed};

/// Which confirmation is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asking {
    Nothing,
    Abort,
    Delete,
}

/// The id stem for an action's elements: `action-<stem>`, `hint-<stem>`.
pub fn stem(action: JobAction) -> &'static str {
    match action {
        JobAction::Submit => "submit",
        JobAction::Abort => "abort",
        JobAction::Delete => "delete",
        JobAction::Clone => "clone",
        JobAction::DownloadResult => "download-result",
        JobAction::DownloadComponents => "download-components",
        JobAction::Logs => "logs",
        JobAction::ResetErrors => "reset-errors",
    }
}

fn label(action: JobAction) -> &'static str {
    match action {
        JobAction::Submit => "Submit",
        JobAction::Abort => "Abort",
        JobAction::Delete => "Delete",
        JobAction::Clone => "Clone",
        JobAction::DownloadResult => "Download result",
        JobAction::DownloadComponents => "Download components",
        JobAction::Logs => "Logs",
        JobAction::ResetErrors => "Reset errors",
    }
}

/// What each action does, shown under its button when it is allowed.
fn blurb(action: JobAction) -> &'static str {
    match action {
        JobAction::Abort => "Stop the job on the server and every site.",
        JobAction::Delete => "Remove the job and its results from the server.",
        JobAction::Clone => "Submit a copy of this job as a new job.",
        JobAction::DownloadResult => "The job, its meta and the server's run workspace, as a zip.",
        JobAction::DownloadComponents => "Extra components (error logs, site logs), as a zip.",
        JobAction::Logs => "Server and site logs, filtered and tailed live.",
        _ => "",
    }
}

/// One action's row: button (or link), reason or blurb, copy buttons.
#[component]
fn ActionRow(
    action: JobAction,
    #[prop(into)] allowed: Signal<Allowed>,
    #[prop(into)] busy: Signal<bool>,
    #[prop(into)] copy: Signal<CopyContext>,
    on_click: Callback<()>,
    #[prop(optional, into)] href: Option<String>,
) -> impl IntoView {
    let s = stem(action);
    let hint_id = format!("hint-{s}");
    let reason = move || allowed.read().reason().map(str::to_owned);
    let danger = matches!(action, JobAction::Abort | JobAction::Delete);
    let button = match href {
        Some(href) => view! {
            <a id=format!("action-{s}") class="btn" href=href aria-describedby=hint_id.clone()>
                {label(action)}
            </a>
        }
        .into_any(),
        None => view! {
            <button
                type="button"
                id=format!("action-{s}")
                class="btn"
                class:btn-danger=danger
                disabled=move || !allowed.read().is_yes() || busy.get()
                title=move || reason().unwrap_or_default()
                aria-describedby=hint_id.clone()
                on:click=move |_| on_click.run(())
            >
                {label(action)}
            </button>
        }
        .into_any(),
    };
    view! {
        <li class="action-row" data-action=s>
            {button}
            <span
                id=format!("hint-{s}")
                class="hint"
                class:hint-denied=move || reason().is_some()
            >
                {move || reason().unwrap_or_else(|| blurb(action).to_owned())}
            </span>
            <CopyButtons action ctx=copy />
        </li>
    }
}

/// The outcome of the last action.
#[component]
pub fn OpStatusView(#[prop(into)] status: Signal<Option<OpStatus>>) -> impl IntoView {
    move || {
        status.get().map(|s| {
            let (class, role) = match s.tone {
                Tone::Info => ("note", "status"),
                Tone::Ok => ("note note-ok", "status"),
                Tone::Warn => ("note note-warn", "alert"),
                Tone::Error => ("note note-error", "alert"),
            };
            let bar = s.bar.map(|b| match b {
                Bar::Busy => view! {
                    <progress id="action-progress" aria-label=s.text.clone()></progress>
                }
                .into_any(),
                Bar::Bytes(p) => {
                    let max = p.total.unwrap_or(0.0).max(p.loaded).max(1.0);
                    view! {
                        <progress
                            id="download-progress"
                            value=p.loaded
                            max=max
                            aria-label="Download"
                        ></progress>
                        <span class="muted progress-text">{progress_text(&p)}</span>
                    }
                    .into_any()
                }
            });
            view! {
                <div id="action-status" class=class role=role data-tone=format!("{:?}", s.tone)>
                    <p>{s.text}</p>
                    {s.detail.map(|d| view! { <p class="note-detail">{d}</p> })}
                    {bar}
                </div>
            }
        })
    }
}

/// The actions of the job in `meta`.
#[component]
pub fn JobActions(
    #[prop(into)] meta: Signal<JobMeta>,
    #[prop(into)] who: Signal<Who>,
    /// Study and identity for the copy texts (`target` is replaced by the job id).
    #[prop(into)]
    copy: Signal<CopyContext>,
    ops: JobOps,
    /// Runs an action once confirmed.
    on_run: Callback<JobAction>,
) -> impl IntoView {
    let asking = RwSignal::new(Asking::Nothing);
    let job_id = Memo::new(move |_| meta.read().job_id.clone());
    let ctx = Signal::derive(move || {
        let mut c = copy.get();
        c.target = job_id.get();
        c
    });
    let permit = move |action: JobAction| {
        Signal::derive(move || allowed(&who.get(), action, Some(&meta.read())))
    };
    let busy = Signal::derive(move || ops.busy.get());
    let ask = move |a: Asking| Callback::new(move |_| asking.set(a));
    let run = move |action: JobAction| Callback::new(move |_| on_run.run(action));
    let row = move |action: JobAction, on_click: Callback<()>| {
        view! { <ActionRow action allowed=permit(action) busy copy=ctx on_click /> }
    };
    let confirm = move |action: JobAction| {
        Callback::new(move |_| {
            asking.set(Asking::Nothing);
            on_run.run(action);
        })
    };
    let cancel = Callback::new(move |_| asking.set(Asking::Nothing));
    let user = Signal::derive(move || {
        who.read()
            .identity
            .as_ref()
            .map(|i| i.name.clone())
            .unwrap_or_default()
    });
    view! {
        <ul id="job-actions" class="actions">
            {row(JobAction::Abort, ask(Asking::Abort))}
            {row(JobAction::Clone, run(JobAction::Clone))}
            {row(JobAction::DownloadResult, run(JobAction::DownloadResult))}
            {row(JobAction::DownloadComponents, run(JobAction::DownloadComponents))}
            <ActionRow
                action=JobAction::Logs
                allowed=permit(JobAction::Logs)
                busy
                copy=ctx
                on_click=Callback::new(|_| {})
                href=format!("{}/{}/logs", crate::identity::jobs_base_here(), job_id.get_untracked())
            />
            {row(JobAction::Delete, ask(Asking::Delete))}
        </ul>
        <OpStatusView status=ops.status />
        {move || match asking.get() {
            Asking::Nothing => None,
            Asking::Abort => {
                let m = meta.get_untracked();
                Some(
                    view! {
                        <AbortDialog
                            job_id=m.job_id
                            job_name=m.name
                            status=m.status
                            on_confirm=confirm(JobAction::Abort)
                            on_cancel=cancel
                        />
                    }
                        .into_any(),
                )
            }
            Asking::Delete => {
                Some(
                    view! {
                        <DeleteDialog
                            job_id=job_id.get_untracked()
                            user=user.get_untracked()
                            on_confirm=confirm(JobAction::Delete)
                            on_cancel=cancel
                        />
                    }
                        .into_any(),
                )
            }
        }}
    }
}
