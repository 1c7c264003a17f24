//! The page-wide keyboard shortcuts (see [`crate::shortcuts`]) and the `?` dialog that lists them.

use leptos::ev;
use leptos::html::Dialog;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use crate::shortcuts::{GO_TO, SINGLE_KEYS, Step, belongs_to_field, step};

/// Listens for shortcuts while mounted; renders the (closed) help dialog.
#[component]
pub fn KeyboardShortcuts() -> impl IntoView {
    let navigate = use_navigate();
    let after_g = StoredValue::new(false);
    let dialog = NodeRef::<Dialog>::new();
    let handle = window_event_listener(ev::keydown, move |ev: web_sys::KeyboardEvent| {
        let modifier = ev.ctrl_key() || ev.alt_key() || ev.meta_key();
        let target = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
        let (tag, editable) = target
            .map(|t| (t.tag_name(), t.is_content_editable()))
            .unwrap_or_default();
        if belongs_to_field(&tag, editable, modifier) || ev.default_prevented() {
            after_g.set_value(false);
            return;
        }
        let action = step(after_g.get_value(), &ev.key());
        after_g.set_value(action == Step::AwaitPage);
        match action {
            Step::AwaitPage | Step::Nothing => {}
            Step::Go(path) => {
                ev.prevent_default();
                navigate(path, Default::default());
            }
            Step::FocusFilter => {
                let field = document()
                    .query_selector("[data-shortcut='filter']")
                    .ok()
                    .flatten()
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
                if let Some(field) = field {
                    ev.prevent_default();
                    let _ = field.focus();
                }
            }
            Step::ToggleHelp => {
                if let Some(d) = dialog.get() {
                    ev.prevent_default();
                    if d.open() {
                        d.close();
                    } else {
                        let _ = d.show_modal();
                    }
                }
            }
        }
    });
    on_cleanup(move || handle.remove());
    let row = |keys: Vec<&'static str>, what: &'static str| {
        let keys = keys
            .into_iter()
            .map(|k| view! { <kbd>{k}</kbd> " " })
            .collect_view();
        view! {
            <tr>
                <td>{keys}</td>
                <td>{what}</td>
            </tr>
        }
    };
    let rows = GO_TO
        .iter()
        .map(|(key, _, page)| row(vec!["g", *key], page))
        .chain(SINGLE_KEYS.iter().map(|(key, what)| row(vec![*key], what)))
        .collect_view();
    view! {
        <dialog id="shortcuts-dialog" class="dialog" node_ref=dialog aria-labelledby="shortcuts-title">
            <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
            <table class="shortcuts">
                <tbody>{rows}</tbody>
            </table>
            <div class="dialog-buttons">
                <button
                    type="button"
                    class="btn"
                    on:click=move |_| {
                        if let Some(d) = dialog.get() {
                            d.close();
                        }
                    }
                >
                    "Close"
                </button>
            </div>
        </dialog>
    }
}
