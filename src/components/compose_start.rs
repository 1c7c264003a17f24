//! "Start from…": an empty job, a pattern, a job of the relay's library, or an existing job's
//! folder or zip (its meta and configs, uploaded and read back by the relay) — clone and edit.

use flare_job::compose::{ComposeStart, Composition};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::XmlHttpRequest;

use crate::api::AuthorizedApi;
use crate::browser;

/// The starting points; `on_start` gets the chosen composition.
#[component]
pub fn ComposeStartPanel(
    #[prop(into)] starts: Signal<Option<Result<Vec<ComposeStart>, String>>>,
    on_start: Callback<(String, Composition)>,
) -> impl IntoView {
    let api = expect_context::<AuthorizedApi>();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let import = move |ev: leptos::ev::Event, folder: bool| {
        let input: web_sys::HtmlInputElement = ev.target().unwrap().unchecked_into();
        let picked = input.files().map(|f| browser::from_input(&f, folder));
        input.set_value("");
        let picked = match picked {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                error.set(Some(crate::api::sentence(&e)));
                return;
            }
            None => return,
        };
        let api = api.clone();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let xhr =
                    XmlHttpRequest::new().map_err(|_| "cannot start the upload".to_owned())?;
                let up = api.upload(&xhr, &picked, |_| {}).await?;
                api.compose_import(&up.upload_id)
                    .await
                    .map(|c| (up.folder_name, c))
                    .map_err(|e| e.sentence())
            }
            .await;
            let _ = busy.try_set(false);
            match result {
                Ok((name, c)) => on_start.run((format!("job folder {name}"), c)),
                Err(e) => {
                    let _ = error.try_set(Some(format!(
                        "Cannot start from that job: {}",
                        crate::api::sentence(&e)
                    )));
                }
            }
        });
    };
    let import_zip = import.clone();
    let folder_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(i) = folder_input.get() {
            let _ = i.set_attribute("webkitdirectory", "");
        }
    });
    view! {
        <section class="card compose-start" aria-labelledby="compose-start-title">
            <header class="card-head">
                <h2 id="compose-start-title">"Start from…"</h2>
            </header>
            <div class="card-body">
                {move || match starts.get() {
                    None => view! { <p class="muted">"Loading the starting points…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="note note-error" role="alert">{e}</p> }.into_any(),
                    Some(Ok(list)) => view! {
                        <ul class="start-list">
                            {list
                                .into_iter()
                                .map(|s| {
                                    let label = s.label.clone();
                                    let c = s.composition.clone();
                                    view! {
                                        <li data-start=s.key.clone()>
                                            <button
                                                type="button"
                                                class="btn btn-ghost"
                                                aria-label=format!("Start from {label}")
                                                on:click=move |_| on_start.run((label.clone(), c.clone()))
                                            >
                                                {s.label.clone()}
                                            </button>
                                            <span class="muted">{s.description.clone()}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any(),
                }}
                <p class="muted">"Or clone an existing job: pick its folder or zip (meta.json and configs)."</p>
                <div class="start-import">
                    <label class="btn btn-ghost">
                        "Job folder…"
                        <input node_ref=folder_input type="file" class="sr-only" on:change=move |ev| import(ev, true) />
                    </label>
                    <label class="btn btn-ghost">
                        "Job zip…"
                        <input type="file" accept=".zip" class="sr-only" on:change=move |ev| import_zip(ev, false) />
                    </label>
                    {move || busy.get().then(|| view! { <span class="muted" role="status">"Reading the job…"</span> })}
                </div>
                {move || error.get().map(|e| view! { <p class="note note-error" role="alert">{e}</p> })}
            </div>
        </section>
    }
}
