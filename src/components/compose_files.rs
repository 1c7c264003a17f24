//! The composer's uploaded files: training scripts and resources kept with the composition
//! (and so in the browser's draft), each removable, copied into the apps' `custom/` folders.

use flare_job::compose::Composition;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::compose;
use crate::logs::human_bytes;

/// Largest file the composer keeps (it rides in the browser's draft and the JSON it sends).
const MAX_FILE_BYTES: f64 = 2.0 * 1024.0 * 1024.0;

/// The file list and the upload field.
#[component]
pub fn ComposeFiles(composition: RwSignal<Composition>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let files = Memo::new(move |_| {
        composition.with(|c| {
            c.files
                .iter()
                .map(|f| (f.path.clone(), f.data.len() * 3 / 4))
                .collect::<Vec<_>>()
        })
    });
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(list) = input.files() else {
            return;
        };
        let picked: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        input.set_value("");
        error.set(None);
        leptos::task::spawn_local(async move {
            for file in picked {
                let name = file.name();
                if file.size() > MAX_FILE_BYTES {
                    let _ = error.try_set(Some(format!(
                        "{name} is {}; the composer keeps files up to {}. Put large data on the sites instead.",
                        human_bytes(file.size()),
                        human_bytes(MAX_FILE_BYTES)
                    )));
                    continue;
                }
                match JsFuture::from(file.array_buffer()).await {
                    Ok(buf) => {
                        let bytes = js_sys::Uint8Array::new(buf.unchecked_ref()).to_vec();
                        let _ = composition.try_update(|c| compose::put_file(c, &name, &bytes));
                    }
                    Err(_) => {
                        let _ = error.try_set(Some(format!("Cannot read {name}: pick it again.")));
                    }
                }
            }
        });
    };
    view! {
        <section class="compose-files" aria-labelledby="compose-files-title">
            <h3 id="compose-files-title">"Files"</h3>
            <p class="muted">"Training scripts and resource files, copied into custom/ of the apps that use them."</p>
            <ul class="file-list" id="compose-file-list">
                {move || {
                    let list = files.get();
                    if list.is_empty() {
                        return view! { <li class="muted">"No files yet."</li> }.into_any();
                    }
                    list.into_iter()
                        .map(|(path, size)| {
                            let p = path.clone();
                            view! {
                                <li data-file=path.clone()>
                                    <code>{path.clone()}</code>
                                    <span class="muted">{human_bytes(size as f64)}</span>
                                    <button
                                        type="button"
                                        class="btn btn-small btn-ghost"
                                        aria-label=format!("Remove file {path}")
                                        on:click=move |_| composition.update(|c| compose::remove_file(c, &p))
                                    >
                                        "Remove"
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </ul>
            <label class="btn btn-ghost file-pick">
                "Upload scripts or files…"
                <input id="compose-file-input" type="file" multiple class="sr-only" on:change=on_pick />
            </label>
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </section>
    }
}
