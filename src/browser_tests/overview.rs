//! The overview and the header: sites, the connection indicator, freshness stamps, and server
//! frames landing in the store.

use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen_test::wasm_bindgen_test;

use flare_model::{ClientInfo, Event, LinkState, UpstreamState};

use super::{all, container, one, text};
use crate::api::Auth;
use crate::components::connection_indicator::ConnectionIndicator;
use crate::components::freshness_stamp::FreshnessStamp;
use crate::components::sites_list::SitesList;
use crate::connection::{Connection, SocketState};
use crate::time::Clock;

#[wasm_bindgen_test]
async fn freshness_stamp_counts_seconds_and_turns_stale() {
    let root = container();
    let clock = Clock::at(10_000);
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_context(clock);
        view! { <FreshnessStamp fresh_ms=Some(8_000) interval_ms=2_000 /> }
    });
    tick().await;
    let stamp = one(&root, ".freshness");
    assert_eq!(text(&stamp), "updated 2 s ago");
    assert!(!stamp.class_list().contains("stale"));

    clock.0.set(20_000);
    tick().await;
    assert_eq!(text(&stamp), "updated 12 s ago");
    assert!(stamp.class_list().contains("stale"));
    assert_eq!(stamp.get_attribute("data-stale").as_deref(), Some("true"));
}

#[wasm_bindgen_test]
async fn sites_list_shows_each_site_and_when_it_last_connected() {
    let root = container();
    let sites = vec![
        ClientInfo {
            name: "site-2".to_owned(),
            last_connect_time: 88.0,
        },
        ClientInfo {
            name: "site-1".to_owned(),
            last_connect_time: 98.0,
        },
    ];
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_context(Clock::at(100_000));
        view! { <SitesList sites loaded=true /> }
    });
    tick().await;
    let items = all(&root, ".site");
    let names: Vec<_> = items
        .iter()
        .filter_map(|e| e.get_attribute("data-site"))
        .collect();
    assert_eq!(names, ["site-1", "site-2"]);
    assert!(text(&items[0]).contains("site-1"));
    assert!(text(&items[0]).contains("last connected 2 s ago"));
    assert!(text(&items[1]).contains("last connected 12 s ago"));
}

#[wasm_bindgen_test]
async fn connection_indicator_follows_socket_and_upstream() {
    let root = container();
    let conn = Connection::new(RwSignal::new(Auth::Checking));
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_context(conn);
        view! { <ConnectionIndicator /> }
    });
    tick().await;
    let ind = one(&root, "#connection");
    assert_eq!(
        ind.get_attribute("data-state").as_deref(),
        Some("connecting")
    );

    conn.socket.set(SocketState::Open);
    conn.store.update(|s| {
        s.apply(
            Event::Upstream(UpstreamState {
                state: LinkState::Down,
                server_version: None,
                message: Some("connection refused by 127.0.0.1:8002".to_owned()),
                at_ms: 1,
            }),
            1,
        );
    });
    tick().await;
    assert_eq!(ind.get_attribute("data-state").as_deref(), Some("down"));
    assert_eq!(
        ind.get_attribute("title").as_deref(),
        Some("connection refused by 127.0.0.1:8002")
    );
    assert!(text(&ind).starts_with("Upstream down"));

    conn.socket.set(SocketState::Reconnecting {
        reason: "the relay cannot be reached".to_owned(),
        retry_ms: 2_000,
    });
    tick().await;
    assert_eq!(
        ind.get_attribute("data-state").as_deref(),
        Some("reconnecting")
    );
}

#[wasm_bindgen_test]
async fn a_server_frame_from_the_relay_lands_in_the_store() {
    let conn = Connection::new(RwSignal::new(Auth::Checking));
    conn.handle_text(
        r#"{"hello":{"protocol":1,"role":"viewer","user":"v","identity":"admin@nvidia.com","study":"default","relay_version":"0.1.0"}}"#,
    );
    conn.handle_text(
        r#"{"event":{"upstream":{"state":"connected","server_version":"2.9.0","at_ms":1}}}"#,
    );
    conn.handle_text(
        r#"{"event":{"snapshot":{"topic":"jobs","data":{"jobs":[{"job_id":"j1","job_name":"n","status":"RUNNING"}]},"at_ms":2}}}"#,
    );
    assert_eq!(conn.socket.get_untracked(), SocketState::Open);
    assert_eq!(conn.hello.get_untracked().unwrap().user, "v");
    let store = conn.store.get_untracked();
    assert_eq!(store.server_version.as_deref(), Some("2.9.0"));
    assert_eq!(store.jobs.data.unwrap()["j1"].status, "RUNNING");
}
