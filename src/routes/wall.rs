//! `/wall`: the read-only wall screen (also what a kiosk link shows). Watches the system view,
//! the job list and each running job (for its round progress), and the site history.

use std::collections::BTreeSet;

use flare_model::Topic;
use leptos::prelude::*;

use crate::components::site_timeline::use_site_history;
use crate::components::wall_view::WallView;
use crate::connection::{SocketState, use_topic};
use crate::identity::SessionCtx;

/// The wall page.
#[component]
pub fn WallPage() -> impl IntoView {
    crate::app::set_title("Wall");
    let conn = use_topic(Topic::System);
    use_topic(Topic::Jobs);
    let ctx = expect_context::<SessionCtx>();
    let store = conn.store;
    // Subscribe to each running job's topic, and drop it once the job stops running.
    let watched = StoredValue::new(BTreeSet::<String>::new());
    Effect::new(move |_| {
        let running: BTreeSet<String> = store
            .read()
            .jobs
            .data
            .as_ref()
            .map(|m| {
                m.values()
                    .filter(|j| j.status == "RUNNING")
                    .map(|j| j.job_id.clone())
                    .collect()
            })
            .unwrap_or_default();
        let before = watched.get_value();
        for id in running.difference(&before) {
            conn.subscribe(Topic::Job { job_id: id.clone() });
        }
        for id in before.difference(&running) {
            conn.unsubscribe(&Topic::Job { job_id: id.clone() });
        }
        watched.set_value(running);
    });
    on_cleanup(move || {
        if let Some(ids) = watched.try_get_value() {
            for id in ids {
                conn.unsubscribe(&Topic::Job { job_id: id });
            }
        }
    });
    let (history, _error, history_at) = use_site_history(None);
    let socket_open = Signal::derive(move || conn.socket.get() == SocketState::Open);
    let study = Signal::derive(move || {
        conn.hello
            .with(|h| h.as_ref().map(|h| h.study.clone()))
            .unwrap_or_else(|| ctx.study())
    });
    view! {
        <WallView
            store=conn.store
            socket_open
            history
            history_at
            study
            revoked=conn.revoked
        />
    }
}
