//! The composer's form: the job's name and minimum clients, the objects by target (each a
//! [`ComposeStep`] card), the add form, the uploaded files, and the form's problems — the
//! reasons the composition cannot be sent yet, each saying what to do.

use std::sync::Arc;

use flare_job::compose::{Composition, Problem};
use flare_job::{Catalog, Step};
use leptos::prelude::*;

use crate::components::compose_add::ComposeAdd;
use crate::components::compose_files::ComposeFiles;
use crate::components::compose_step::ComposeStep;

/// The editor of `composition`; `targets` are (value, label) pairs, `problems` the form's checks.
#[component]
pub fn ComposeEditor(
    composition: RwSignal<Composition>,
    #[prop(into)] catalog: Signal<Option<Arc<Catalog>>>,
    #[prop(into)] targets: Signal<Vec<(String, String)>>,
    #[prop(into)] problems: Signal<Vec<Problem>>,
) -> impl IntoView {
    // The cards are rebuilt when objects come, go or move, not while their fields are typed in.
    let shape = Memo::new(move |_| {
        composition.with(|c| {
            c.job
                .steps
                .iter()
                .map(|s| match s {
                    Step::To { target, object, .. } => format!(
                        "{target}|{}",
                        crate::compose::step_title(&Step::To {
                            target: String::new(),
                            object: object.clone(),
                            options: Default::default(),
                        })
                    ),
                    Step::AsId { id, .. } => id.clone(),
                })
                .collect::<Vec<_>>()
        })
    });
    let general = Memo::new(move |_| {
        problems
            .get()
            .into_iter()
            .filter(|p| p.step.is_none())
            .map(|p| p.message)
            .collect::<Vec<_>>()
    });
    let name_value = composition.with_untracked(|c| c.job.name.clone());
    let min_value = composition.with_untracked(|c| c.job.min_clients.to_string());
    view! {
        <div class="compose-editor">
            <div class="compose-settings">
                <div class="field">
                    <label for="compose-name">"Job name"</label>
                    <input
                        id="compose-name"
                        type="text"
                        spellcheck="false"
                        prop:value=move || composition.with(|c| c.job.name.clone())
                        value=name_value
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            composition.update(|c| c.job.name = v);
                        }
                    />
                </div>
                <div class="field">
                    <label for="compose-min-clients">"Minimum clients"</label>
                    <input
                        id="compose-min-clients"
                        type="number"
                        min="1"
                        value=min_value
                        prop:value=move || composition.with(|c| c.job.min_clients.to_string())
                        on:input=move |ev| {
                            if let Ok(n) = event_target_value(&ev).trim().parse::<i64>() {
                                composition.update(|c| c.job.min_clients = n);
                            }
                        }
                    />
                </div>
            </div>
            {move || {
                let list = general.get();
                (!list.is_empty())
                    .then(|| view! {
                        <div class="note note-error" role="alert" id="compose-problems">
                            <p>"This job cannot be sent yet:"</p>
                            <ul>{list.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                        </div>
                    })
            }}
            <ol class="compose-steps" id="compose-steps">
                {move || {
                    let n = shape.get().len();
                    if n == 0 {
                        return view! { <li class="muted">"No objects yet: add a controller to the server and an executor to the clients."</li> }.into_any();
                    }
                    (0..n)
                        .map(|index| {
                            let mine = Signal::derive(move || {
                                problems
                                    .get()
                                    .into_iter()
                                    .filter(|p| p.step == Some(index))
                                    .map(|p| p.message)
                                    .collect::<Vec<_>>()
                            });
                            view! { <ComposeStep index composition catalog targets problems=mine /> }
                        })
                        .collect_view()
                        .into_any()
                }}
            </ol>
            <ComposeAdd composition catalog targets />
            <ComposeFiles composition />
        </div>
    }
}
