//! Short confirmations ("Copied", "Job deleted") in a polite live region at the screen's corner.

use std::time::Duration;

use leptos::prelude::*;

/// One toast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
    /// `ok`, `warn` or `error`: the colour.
    pub tone: &'static str,
}

/// The toast queue, provided as context.
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Default for Toasts {
    fn default() -> Self {
        Toasts {
            items: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        }
    }
}

impl Toasts {
    /// Shows `text` for `secs` seconds.
    pub fn show(self, text: impl Into<String>, tone: &'static str, secs: u64) {
        let id = self.next.with_value(|n| *n + 1);
        self.next.set_value(id);
        self.items.update(|v| {
            v.push(Toast {
                id,
                text: text.into(),
                tone,
            })
        });
        let items = self.items;
        set_timeout(
            move || {
                let _ = items.try_update(|v| v.retain(|t| t.id != id));
            },
            Duration::from_secs(secs),
        );
    }

    pub fn ok(self, text: impl Into<String>) {
        self.show(text, "ok", 4);
    }

    pub fn error(self, text: impl Into<String>) {
        self.show(text, "error", 8);
    }
}

/// The toasts from context, or a fresh queue nobody shows (tests of a lone component).
pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_default()
}

/// Draws the queue.
#[component]
pub fn ToastHost(toasts: Toasts) -> impl IntoView {
    view! {
        <div id="toasts" class="toasts" role="status" aria-live="polite">
            <For
                each=move || toasts.items.get()
                key=|t| t.id
                children=move |t| {
                    let id = t.id;
                    view! {
                        <div class=format!("toast toast-{}", t.tone)>
                            <span>{t.text}</span>
                            <button
                                type="button"
                                class="btn btn-icon btn-ghost"
                                aria-label="Dismiss"
                                on:click=move |_| toasts.items.update(|v| v.retain(|x| x.id != id))
                            >
                                "×"
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}
