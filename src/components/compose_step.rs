//! One object of the composition being edited: its target, id or tasks, and a field per
//! constructor argument generated from the catalog (typed, checked as you type), with the
//! form's problems about it.

use std::sync::Arc;

use flare_job::{ArgInfo, Catalog, Framework, JobObject, Kind, Step};
use leptos::prelude::*;

use crate::compose::{self, arg_hint, arg_text, parse_arg};
use flare_job::compose::{Composition, kind_of};

fn kind_label(kind: Option<Kind>) -> &'static str {
    match kind {
        Some(Kind::Controller) => "controller",
        Some(Kind::Executor) => "executor",
        Some(Kind::Filter) => "filter",
        Some(Kind::Component) => "component",
        None => "file",
    }
}

/// One catalog argument's field: written to the composition when it fits its type.
#[component]
fn ArgField(index: usize, arg: ArgInfo, composition: RwSignal<Composition>) -> impl IntoView {
    let initial = composition.with_untracked(|c| {
        match c.job.steps.get(index) {
            Some(Step::To {
                object: JobObject::Class(comp),
                ..
            }) => comp.args.get(&arg.name).map(|a| match a {
                flare_job::Arg::Value(v) => arg_text(v),
                flare_job::Arg::Object(o) => format!("{} (object)", o.path),
            }),
            _ => None,
        }
        .unwrap_or_default()
    });
    let error = RwSignal::new(None::<String>);
    let id = format!("step-{index}-arg-{}", arg.name);
    let hint = arg_hint(&arg);
    let name = arg.name.clone();
    let choices = arg
        .choices
        .clone()
        .map(|c| c.iter().map(arg_text).collect::<Vec<_>>().join(", "));
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        match parse_arg(&arg, &text) {
            Ok(v) => {
                error.set(None);
                composition.update(|c| compose::set_arg(c, index, &arg.name, v));
            }
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <div class="field arg-field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>
                <code>{name}</code>
                <span class="muted field-hint">
                    {hint}
                    {choices.map(|c| format!("; one of {c}"))}
                </span>
            </label>
            <input
                id=id
                type="text"
                value=initial
                spellcheck="false"
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                on:input=on_input
            />
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </div>
    }
}

/// A text field for one of the step's options (its id, its tasks), named `step-<index>-<name>`;
/// what is typed goes to the composition by `set`.
#[component]
fn OptionField(
    index: usize,
    name: &'static str,
    label: &'static str,
    placeholder: &'static str,
    value: String,
    composition: RwSignal<Composition>,
    set: fn(&mut Composition, usize, &str),
) -> impl IntoView {
    let id = format!("step-{index}-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type="text"
                value=value
                placeholder=placeholder
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    composition.update(|c| set(c, index, &v));
                }
            />
        </div>
    }
}

/// Step `index` of `composition` as an editable card.
#[component]
pub fn ComposeStep(
    index: usize,
    composition: RwSignal<Composition>,
    #[prop(into)] catalog: Signal<Option<Arc<Catalog>>>,
    #[prop(into)] targets: Signal<Vec<(String, String)>>,
    #[prop(into)] problems: Signal<Vec<String>>,
) -> impl IntoView {
    let step = composition.with_untracked(|c| c.job.steps.get(index).cloned());
    let Some(Step::To {
        target,
        object,
        options,
    }) = step
    else {
        return ().into_any();
    };
    let title = compose::step_title(&Step::To {
        target: target.clone(),
        object: object.clone(),
        options: options.clone(),
    });
    let kind = catalog.with_untracked(|c| c.as_ref().and_then(|c| kind_of(&object, c)));
    let info = match (&object, catalog.get_untracked()) {
        (JobObject::Class(c), Some(cat)) => cat.get(&c.path).cloned(),
        _ => None,
    };
    let path = match &object {
        JobObject::Class(c) => Some(c.path.clone()),
        _ => None,
    };
    let known = info.is_some();
    let fields = info.map(|i| {
        i.args
            .into_iter()
            .map(|a| view! { <ArgField index arg=a composition /> })
            .collect_view()
    });
    let takes_tasks = matches!(kind, Some(Kind::Executor | Kind::Filter));
    let takes_id = matches!(kind, Some(Kind::Controller | Kind::Component));
    let tasks_text = options.tasks.clone().unwrap_or_default().join(", ");
    let id_text = options.id.clone().unwrap_or_default();
    let current_target = target.clone();
    let runner = match &object {
        JobObject::ScriptRunner(r) => Some(r.clone()),
        _ => None,
    };
    let files = Memo::new(move |_| composition.with(|c| c.file_paths()));
    let runner_view = runner.map(|r| {
        let script = r.script.clone();
        let framework = r.framework;
        let set_runner = move |f: &dyn Fn(&mut flare_job::ScriptRunner)| {
            composition.update(|c| {
                if let Some(Step::To {
                    object: JobObject::ScriptRunner(r),
                    ..
                }) = c.job.steps.get_mut(index)
                {
                    f(r);
                }
            });
        };
        view! {
            <div class="field">
                <label for=format!("step-{index}-script")>"Training script"</label>
                <select
                    id=format!("step-{index}-script")
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        set_runner(&|r| r.script = v.clone());
                    }
                >
                    <option value="" selected=script.is_empty()>"Pick an uploaded script"</option>
                    {move || {
                        let script = script.clone();
                        files
                            .get()
                            .into_iter()
                            .filter(|f| f.ends_with(".py"))
                            .map(|f| {
                                let selected = f == script;
                                view! { <option value=f.clone() selected=selected>{f.clone()}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </div>
            <div class="field">
                <label for=format!("step-{index}-framework")>"Framework"</label>
                <select
                    id=format!("step-{index}-framework")
                    on:change=move |ev| {
                        let f = match event_target_value(&ev).as_str() {
                            "pytorch" => Framework::Pytorch,
                            "tensorflow" => Framework::Tensorflow,
                            "raw" => Framework::Raw,
                            _ => Framework::Numpy,
                        };
                        set_runner(&|r| r.framework = f);
                    }
                >
                    {[
                        (Framework::Numpy, "numpy", "NumPy"),
                        (Framework::Pytorch, "pytorch", "PyTorch"),
                        (Framework::Tensorflow, "tensorflow", "TensorFlow"),
                        (Framework::Raw, "raw", "Raw"),
                    ]
                        .into_iter()
                        .map(|(f, v, l)| view! { <option value=v selected=f == framework>{l}</option> })
                        .collect_view()}
                </select>
            </div>
        }
    });
    let model_view = match &object {
        JobObject::NpModel { model, .. } => {
            let text = model.as_ref().map(|m| m.to_string()).unwrap_or_default();
            let error = RwSignal::new(None::<String>);
            Some(view! {
                <div class="field">
                    <label for=format!("step-{index}-model")>"Initial model (JSON list of lists)"</label>
                    <input
                        id=format!("step-{index}-model")
                        type="text"
                        value=text
                        on:input=move |ev| {
                            match serde_json::from_str::<serde_json::Value>(&event_target_value(&ev)) {
                                Ok(v @ serde_json::Value::Array(_)) => {
                                    error.set(None);
                                    composition.update(|c| {
                                        if let Some(Step::To { object: JobObject::NpModel { model, .. }, .. }) = c.job.steps.get_mut(index) {
                                            *model = Some(v);
                                        }
                                    });
                                }
                                _ => error.set(Some("The model must be a JSON list such as [[1.0, 2.0]].".to_owned())),
                            }
                        }
                    />
                    {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                </div>
            })
        }
        _ => None,
    };
    view! {
        <li class="compose-step card" data-step=index data-kind=kind_label(kind)>
            <header class="compose-step-head">
                <span class=format!("kind-badge kind-{}", kind_label(kind))>{kind_label(kind)}</span>
                <h3 class="compose-step-title">{title.clone()}</h3>
                <button
                    type="button"
                    class="btn btn-small btn-ghost"
                    aria-label=format!("Remove {title}")
                    on:click=move |_| composition.update(|c| compose::remove(c, index))
                >
                    "Remove"
                </button>
            </header>
            {path.map(|p| view! { <p class="muted compose-path"><code>{p}</code></p> })}
            {(!known && matches!(object, JobObject::Class(_)))
                .then(|| view! {
                    <p class="note note-warn">
                        "This class is not in nvflare 2.9's catalog: its arguments are not checked, and NVFlare reports a wrong path when the job starts."
                    </p>
                })}
            <div class="compose-step-fields">
                <div class="field">
                    <label for=format!("step-{index}-target")>"Runs on"</label>
                    <select
                        id=format!("step-{index}-target")
                        on:change=move |ev| {
                            let t = event_target_value(&ev);
                            composition.update(|c| compose::set_target(c, index, &t));
                        }
                    >
                        {move || {
                            let mut list = targets.get();
                            if !list.iter().any(|(v, _)| *v == current_target) {
                                list.push((current_target.clone(), format!("Site {current_target} (not connected)")));
                            }
                            list.into_iter()
                                .map(|(v, l)| {
                                    let selected = v == current_target;
                                    view! { <option value=v selected=selected>{l}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </div>
                {takes_id.then(|| view! {
                    <OptionField index name="id" label="Id" placeholder="nvflare's default"
                        value=id_text.clone() composition set=compose::set_id />
                })}
                {takes_tasks.then(|| view! {
                    <OptionField index name="tasks" label="Tasks" placeholder="all tasks (*)"
                        value=tasks_text.clone() composition set=compose::set_tasks />
                })}
                {runner_view}
                {model_view}
            </div>
            {fields.map(|f| view! {
                <details class="compose-args" open=true>
                    <summary>"Arguments"</summary>
                    <div class="compose-args-grid">{f}</div>
                </details>
            })}
            {move || {
                let list = problems.get();
                (!list.is_empty())
                    .then(|| view! {
                        <ul class="step-problems" role="alert">
                            {list.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                        </ul>
                    })
            }}
        </li>
    }
    .into_any()
}
