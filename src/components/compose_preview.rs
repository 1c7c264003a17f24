//! The composer's live preview: `meta.json` and every config file as NVFlare will receive them
//! (pretty JSON, highlighted), the other files of the job folder, and the equivalent FedJob
//! Python program; the shown text is copyable.

use flare_job::compose::ComposePreview;
use leptos::prelude::*;

use crate::browser;
use crate::components::toasts::use_toasts;
use crate::highlight::tokens;
use crate::logs::human_bytes;

/// What the preview shows.
#[derive(Clone, Debug, PartialEq)]
pub enum PreviewState {
    /// Waiting for the first answer.
    Loading,
    /// The files.
    Ready(ComposePreview),
    /// Why there is no preview (the form's problems or the relay's refusal).
    Blocked(String),
}

/// The tab label of the Python program.
pub const PYTHON_TAB: &str = "Python (FedJob)";

/// Highlighted JSON (or plain text) as spans.
fn code_view(text: String, json: bool) -> AnyView {
    if !json {
        return view! { <code>{text}</code> }.into_any();
    }
    let spans = tokens(&text)
        .into_iter()
        .map(|(t, s)| match t.class() {
            Some(class) => view! { <span class=class>{s.to_owned()}</span> }.into_any(),
            None => s.to_owned().into_any(),
        })
        .collect_view();
    view! { <code class="json">{spans}</code> }.into_any()
}

/// The preview panel: one tab per file and one for the Python program.
#[component]
pub fn ComposePreviewPanel(
    #[prop(into)] preview: Signal<PreviewState>,
    #[prop(into)] python: Signal<String>,
) -> impl IntoView {
    let toasts = use_toasts();
    let selected = RwSignal::new("meta.json".to_owned());
    let tabs = Memo::new(move |_| {
        let mut list: Vec<String> = match preview.get() {
            PreviewState::Ready(p) => p.files.iter().map(|f| f.path.clone()).collect(),
            _ => Vec::new(),
        };
        list.push(PYTHON_TAB.to_owned());
        list
    });
    // The shown file's text, whether it is JSON, and a note for binary files.
    let shown =
        Memo::new(move |_| {
            let sel = selected.get();
            if sel == PYTHON_TAB {
                return Some((python.get(), false));
            }
            match preview.get() {
                PreviewState::Ready(p) => p.files.iter().find(|f| f.path == sel).map(|f| match &f
                    .text
                {
                    Some(t) => (t.clone(), f.path.ends_with(".json")),
                    None => (
                        format!("(binary file, {})", human_bytes(f.bytes as f64)),
                        false,
                    ),
                }),
                _ => None,
            }
        });
    let copy = move |_| {
        let Some((text, _)) = shown.get_untracked() else {
            return;
        };
        let what = selected.get_untracked();
        leptos::task::spawn_local(async move {
            match browser::copy_text(&text).await {
                Ok(()) => toasts.ok(format!("Copied {what} to the clipboard")),
                Err(e) => toasts.error(format!("Could not copy to the clipboard: {e}")),
            }
        });
    };
    view! {
        <section class="card compose-preview" aria-labelledby="compose-preview-title">
            <header class="card-head">
                <h2 id="compose-preview-title">"Preview"</h2>
                <span class="card-aside">"as NVFlare will receive it"</span>
            </header>
            <div class="card-body">
                {move || match preview.get() {
                    PreviewState::Loading => Some(view! { <p class="muted" id="preview-status">"Building the preview…"</p> }.into_any()),
                    PreviewState::Blocked(why) => Some(view! {
                        <p class="note note-warn" id="preview-status">{why}</p>
                    }.into_any()),
                    PreviewState::Ready(_) => None,
                }}
                <div class="tabs" role="tablist" aria-label="Files of the job">
                    <For
                        each=move || tabs.get()
                        key=|t| t.clone()
                        children=move |t| {
                            let name = t.clone();
                            let is = Memo::new(move |_| selected.get() == name);
                            let pick = t.clone();
                            view! {
                                <button
                                    type="button"
                                    role="tab"
                                    class="tab"
                                    data-file=t.clone()
                                    aria-selected=move || if is.get() { "true" } else { "false" }
                                    on:click=move |_| selected.set(pick.clone())
                                >
                                    {t.clone()}
                                </button>
                            }
                        }
                    />
                </div>
                <div class="preview-code">
                    <button
                        type="button"
                        class="btn btn-small btn-ghost preview-copy"
                        aria-label=move || format!("Copy {}", selected.get())
                        on:click=copy
                    >
                        "Copy"
                    </button>
                    <pre id="preview-text" tabindex="0" aria-label=move || format!("Contents of {}", selected.get())>
                        {move || match shown.get() {
                            Some((text, json)) => code_view(text, json),
                            None => view! { <code class="muted">"Nothing to show for this file yet."</code> }.into_any(),
                        }}
                    </pre>
                </div>
            </div>
        </section>
    }
}
