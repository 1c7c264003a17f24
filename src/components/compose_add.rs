//! The composer's "Add an object" form: where it runs (the server, all clients or a connected
//! site), what it is (a catalog or custom class, a ScriptRunner with an uploaded script, a numpy
//! model, a resource file), and the class picked from the catalog by name.

use std::sync::Arc;

use flare_job::compose::Composition;
use flare_job::{Catalog, Kind, SERVER, ToOptions};
use leptos::prelude::*;

use crate::compose::{self, NewKind};

/// The add form; `targets` are (value, label) pairs.
#[component]
pub fn ComposeAdd(
    composition: RwSignal<Composition>,
    #[prop(into)] catalog: Signal<Option<Arc<Catalog>>>,
    #[prop(into)] targets: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    let target = RwSignal::new(SERVER.to_owned());
    let kind = RwSignal::new(NewKind::Class);
    let path = RwSignal::new(String::new());
    let custom_kind = RwSignal::new(Kind::Component);
    let error = RwSignal::new(None::<String>);
    let files = Memo::new(move |_| composition.with(|c| c.file_paths()));
    // Catalog classes that fit the chosen target (executors never go to the server).
    let classes = Memo::new(move |_| {
        let server = target.get() == SERVER;
        catalog.with(|c| {
            c.as_ref()
                .map(|c| {
                    c.classes
                        .iter()
                        .filter(|i| !server || i.kind != Kind::Executor)
                        .map(|i| (i.path.clone(), i.kind))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let in_catalog = Memo::new(move |_| {
        let p = path.get();
        catalog.with(|c| c.as_ref().is_some_and(|c| c.get(p.trim()).is_some()))
    });
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let custom = (!in_catalog.get_untracked()).then(|| custom_kind.get_untracked());
        match compose::new_object(kind.get_untracked(), &path.get_untracked(), custom) {
            Ok(object) => {
                error.set(None);
                let t = target.get_untracked();
                composition.update(|c| compose::add(c, &t, object, ToOptions::default()));
                path.set(String::new());
            }
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <form id="compose-add" class="compose-add" on:submit=add aria-labelledby="compose-add-title">
            <h3 id="compose-add-title">"Add an object"</h3>
            <div class="compose-add-row">
                <div class="field">
                    <label for="add-target">"Runs on"</label>
                    <select id="add-target" on:change=move |ev| target.set(event_target_value(&ev))>
                        {move || {
                            let current = target.get_untracked();
                            targets
                                .get()
                                .into_iter()
                                .map(|(v, l)| {
                                    let selected = v == current;
                                    view! { <option value=v selected=selected>{l}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </div>
                <div class="field">
                    <label for="add-kind">"Object"</label>
                    <select
                        id="add-kind"
                        on:change=move |ev| {
                            kind.set(NewKind::from_value(&event_target_value(&ev)));
                            path.set(String::new());
                        }
                    >
                        {NewKind::ALL
                            .iter()
                            .map(|(_, v, l)| view! { <option value=*v>{*l}</option> })
                            .collect_view()}
                    </select>
                </div>
                {move || match kind.get() {
                    NewKind::Class => view! {
                        <div class="field field-wide">
                            <label for="add-class">"Class (full path)"</label>
                            <input
                                id="add-class"
                                type="text"
                                list="add-class-list"
                                spellcheck="false"
                                placeholder="nvflare.app_common.workflows.fedavg.FedAvg"
                                prop:value=move || path.get()
                                on:input=move |ev| path.set(event_target_value(&ev))
                            />
                            <datalist id="add-class-list">
                                {move || classes
                                    .get()
                                    .into_iter()
                                    .map(|(p, _)| view! { <option value=p></option> })
                                    .collect_view()}
                            </datalist>
                        </div>
                        {move || (!in_catalog.get() && !path.get().trim().is_empty()).then(|| view! {
                            <div class="field">
                                <label for="add-custom-kind">"Its role (not in the catalog)"</label>
                                <select
                                    id="add-custom-kind"
                                    on:change=move |ev| custom_kind.set(match event_target_value(&ev).as_str() {
                                        "controller" => Kind::Controller,
                                        "executor" => Kind::Executor,
                                        "filter" => Kind::Filter,
                                        _ => Kind::Component,
                                    })
                                >
                                    <option value="component">"Component"</option>
                                    <option value="controller">"Controller (workflow)"</option>
                                    <option value="executor">"Executor"</option>
                                    <option value="filter">"Filter"</option>
                                </select>
                            </div>
                        })}
                    }
                    .into_any(),
                    NewKind::ScriptRunner | NewKind::Resource => view! {
                        <div class="field field-wide">
                            <label for="add-file">"Uploaded file"</label>
                            <select id="add-file" on:change=move |ev| path.set(event_target_value(&ev))>
                                <option value="">"Pick an uploaded file"</option>
                                {move || files
                                    .get()
                                    .into_iter()
                                    .map(|f| view! { <option value=f.clone()>{f.clone()}</option> })
                                    .collect_view()}
                            </select>
                        </div>
                    }
                    .into_any(),
                    NewKind::NpModel => view! {
                        <p class="muted field-wide">"An NPModelPersistor with id persistor and a 3×3 model you can edit."</p>
                    }
                    .into_any(),
                }}
                <button type="submit" class="btn">"Add"</button>
            </div>
            {move || error.get().map(|e| view! { <p class="field-error" role="alert" id="compose-add-error">{e}</p> })}
        </form>
    }
}
