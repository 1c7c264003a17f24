//! The sites list: each connected site and how long ago it last connected, live.

use flare_model::ClientInfo;
use leptos::prelude::*;

use crate::state::ago;
use crate::time::use_clock;

/// One `<li class="site" data-site="…">` per site in `sites`; `loaded` is false while loading.
#[component]
pub fn SitesList(
    #[prop(into)] sites: Signal<Vec<ClientInfo>>,
    #[prop(into)] loaded: Signal<bool>,
    /// True while the system view cannot be polled (the server panel says why).
    #[prop(optional, into)]
    unavailable: Signal<bool>,
) -> impl IntoView {
    let clock = use_clock();
    let sorted = Memo::new(move |_| {
        let mut list = sites.get();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    });
    view! {
        <ul class="sites">
            <For
                each=move || sorted.get()
                key=|site| site.name.clone()
                children=move |site| {
                    let name = site.name.clone();
                    let last = Memo::new(move |_| {
                        sorted
                            .read()
                            .iter()
                            .find(|s| s.name == name)
                            .map(|s| s.last_connect_time)
                    });
                    let age = move || {
                        last.get()
                            .map(|secs| {
                                let ms = (secs * 1_000.0) as u64;
                                format!("last connected {}", ago(clock.now().saturating_sub(ms)))
                            })
                            .unwrap_or_default()
                    };
                    view! {
                        <li class="site" data-site=site.name.clone()>
                            <span class="site-dot" aria-hidden="true"></span>
                            <span class="site-name">{site.name.clone()}</span>
                            <span class="site-seen muted">{age}</span>
                        </li>
                    }
                }
            />
        </ul>
        {move || {
            if !loaded.get() && unavailable.get() {
                Some(
                    view! {
                        <p class="empty muted">
                            "Sites are unknown while NVFlare cannot be reached (see Server)."
                        </p>
                    }
                        .into_any(),
                )
            } else if !loaded.get() {
                Some(view! { <p class="empty muted">"Loading sites…"</p> }.into_any())
            } else if sorted.read().is_empty() {
                Some(
                    view! {
                        <p class="empty">
                            "No site is connected. Start the site (client) processes; they appear here within seconds."
                        </p>
                    }
                        .into_any(),
                )
            } else {
                None
            }
        }}
    }
}
