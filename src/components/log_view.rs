//! Job logs on screen: one pane per site (side by side, or one at a time), the grep-like filter
//! with highlighted matches, the server's truncation notice, `unavailable` reasons, and a tail
//! that stays at the bottom unless the user scrolled up.

use flare_model::LogsReply;
use leptos::prelude::*;

use crate::logs::{Matcher, filtered, human_bytes, parse_filter, segments, truncation_notice};

/// How the panes are laid out when several sites are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    SideBySide,
    OneAtATime,
}

/// One site's log.
#[component]
fn LogPane(
    site: String,
    #[prop(into)] text: Signal<String>,
    #[prop(into)] matcher: Signal<Result<Matcher, String>>,
) -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    let stick = StoredValue::new(true);
    let on_scroll = move |_| {
        if let Some(el) = node.get_untracked() {
            let bottom = el.scroll_top() + el.client_height() >= el.scroll_height() - 24;
            stick.set_value(bottom);
        }
    };
    // After new text or a new filter, follow the tail unless the user scrolled up.
    Effect::new(move |_| {
        text.track();
        matcher.track();
        if stick.try_get_value().unwrap_or(false) {
            request_animation_frame(move || {
                // The pane may be gone by the next frame (layout switched).
                if let Some(Some(el)) = node.try_get_untracked() {
                    el.set_scroll_top(el.scroll_height());
                }
            });
        }
    });
    let notice = Memo::new(move |_| truncation_notice(&text.read()));
    let size = Memo::new(move |_| human_bytes(text.read().len() as f64));
    let body = move || {
        let t = text.read();
        match matcher.get() {
            Err(_) | Ok(Matcher::All) => {
                view! { <pre class="log-pre">{t.to_string()}</pre> }.into_any()
            }
            Ok(m) => {
                let (lines, total) = filtered(&t, &m);
                let shown = lines.len();
                let rows = lines
                    .into_iter()
                    .map(|line| {
                        let parts = segments(line, &m.ranges(line))
                            .into_iter()
                            .map(|(hit, s)| {
                                if hit {
                                    view! { <mark>{s.to_owned()}</mark> }.into_any()
                                } else {
                                    s.to_owned().into_any()
                                }
                            })
                            .collect_view();
                        view! { <div class="log-line">{parts}</div> }
                    })
                    .collect_view();
                view! {
                    <p class="log-count muted" data-matches=total.to_string()>
                        {if shown < total {
                            format!("{total} matching lines; showing the last {shown}")
                        } else {
                            format!("{total} matching line{}", if total == 1 { "" } else { "s" })
                        }}
                    </p>
                    <pre class="log-pre log-filtered">{rows}</pre>
                }
                .into_any()
            }
        }
    };
    view! {
        <section class="log-pane" data-site=site.clone() aria-label=format!("Log of {site}")>
            <header class="log-pane-head">
                <h3>{site.clone()}</h3>
                <span class="muted">{move || size.get()}</span>
            </header>
            {move || {
                notice
                    .get()
                    .map(|n| view! { <p class="note note-warn log-truncated">{n}</p> })
            }}
            <div class="log-scroll" node_ref=node on:scroll=on_scroll>
                {body}
            </div>
        </section>
    }
}

/// The logs of `logs`, filtered by `filter`.
#[component]
pub fn LogView(
    #[prop(into)] logs: Signal<LogsReply>,
    #[prop(into)] filter: Signal<String>,
    #[prop(into)] layout: Signal<Layout>,
    /// Sites asked for; those with neither a log nor a reason get a note (NVFlare 2.9 leaves
    /// sites that do not stream their logs out of both maps).
    #[prop(optional, into)]
    expected: Option<Signal<Vec<String>>>,
) -> impl IntoView {
    let silent = Memo::new(move |_| {
        let l = logs.read();
        expected
            .map(|e| e.get())
            .unwrap_or_default()
            .into_iter()
            .filter(|s| !l.logs.contains_key(s) && !l.unavailable.contains_key(s))
            .collect::<Vec<_>>()
    });
    let matcher = Signal::derive(move || Matcher::new(&parse_filter(&filter.read())));
    let sites = Memo::new(move |_| logs.read().logs.keys().cloned().collect::<Vec<_>>());
    let picked = RwSignal::new(None::<String>);
    let current = Memo::new(move |_| {
        let all = sites.get();
        picked
            .get()
            .filter(|p| all.contains(p))
            .or_else(|| all.first().cloned())
    });
    let visible = Memo::new(move |_| match layout.get() {
        Layout::SideBySide => sites.get(),
        Layout::OneAtATime => current.get().into_iter().collect(),
    });
    let text_of = move |site: String| {
        Signal::derive(move || logs.read().logs.get(&site).cloned().unwrap_or_default())
    };
    view! {
        {move || {
            matcher
                .get()
                .err()
                .map(|e| {
                    view! {
                        <p class="note note-error" role="alert">
                            {e}
                        </p>
                    }
                })
        }}
        {move || {
            let unavailable = logs.read().unavailable.clone();
            (!unavailable.is_empty())
                .then(|| {
                    view! {
                        <ul id="logs-unavailable" class="note unavailable">
                            {unavailable
                                .into_iter()
                                .map(|(site, why)| {
                                    let key = site.clone();
                                    view! {
                                        <li data-site=key>
                                            <strong>{site}</strong>
                                            ": no log — "
                                            {why}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })
        }}
        {move || {
            let silent = silent.get();
            (!silent.is_empty())
                .then(|| {
                    view! {
                        <p id="logs-silent" class="note">
                            {format!(
                                "No log from {}: NVFlare has client logs only when the sites stream them to the server (or in the stored workspace of a finished job), and gave no reason.",
                                silent.join(", "),
                            )}
                        </p>
                    }
                })
        }}
        {move || {
            (layout.get() == Layout::OneAtATime && sites.read().len() > 1)
                .then(|| {
                    view! {
                        <div class="site-tabs" role="group" aria-label="Site shown">
                            {sites
                                .get()
                                .into_iter()
                                .map(|s| {
                                    let s2 = s.clone();
                                    let s3 = s.clone();
                                    view! {
                                        <button
                                            type="button"
                                            class="btn btn-small"
                                            aria-pressed=move || {
                                                (current.get().as_deref() == Some(s2.as_str())).to_string()
                                            }
                                            on:click=move |_| picked.set(Some(s3.clone()))
                                        >
                                            {s}
                                        </button>
                                    }
                                })
                                .collect_view()}
                        </div>
                    }
                })
        }}
        <div
            id="log-panes"
            class="log-panes"
            class:side-by-side=move || layout.get() == Layout::SideBySide
            data-layout=move || match layout.get() {
                Layout::SideBySide => "columns",
                Layout::OneAtATime => "single",
            }
        >
            <For
                each=move || visible.get()
                key=|s| s.clone()
                children=move |site| {
                    view! { <LogPane site=site.clone() text=text_of(site) matcher /> }
                }
            />
        </div>
        {move || {
            (sites.read().is_empty() && logs.read().unavailable.is_empty())
                .then(|| view! { <p class="empty muted">"No log text came back."</p> })
        }}
    }
}
