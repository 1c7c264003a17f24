//! The wall screen: stale and unreachable banners, a revoked kiosk link, the site timeline.

use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen_test::wasm_bindgen_test;

use flare_model::{
    ClientInfo, Event, LinkState, ServerInfo, SiteHistory, SiteSpan, SiteTimeline as Lane,
    SystemInfo, Topic, TopicData, TopicDelta, UpstreamState,
};

use super::{all, container, one, text};
use crate::components::site_timeline::SiteTimeline;
use crate::components::wall_view::WallView;
use crate::state::Store;
use crate::time::Clock;

fn system_at(now: u64) -> Store {
    let mut store = Store::default();
    store.apply(
        Event::Snapshot {
            topic: Topic::System,
            data: TopicData::System(SystemInfo {
                server_info: ServerInfo {
                    status: "stopped".to_owned(),
                    start_time: 1.0,
                },
                client_info: vec![ClientInfo {
                    name: "site-1".to_owned(),
                    last_connect_time: now as f64 / 1_000.0,
                }],
                job_info: vec![],
            }),
            at_ms: now,
        },
        now,
    );
    store.apply(
        Event::Upstream(UpstreamState {
            state: LinkState::Connected,
            server_version: Some("2.9.0".to_owned()),
            message: None,
            at_ms: now,
        }),
        now,
    );
    store
}

#[wasm_bindgen_test]
async fn the_wall_says_stale_when_updates_stop_and_unreachable_when_the_socket_drops() {
    let root = container();
    let clock = Clock::at(100_000);
    let store = RwSignal::new(system_at(100_000));
    let open = RwSignal::new(true);
    let revoked = RwSignal::new(false);
    let _m = leptos::mount::mount_to(root.clone(), move || {
        provide_context(clock);
        view! {
            <WallView
                store
                socket_open=open
                history={None::<SiteHistory>}
                history_at={None::<u64>}
                study="default".to_owned()
                revoked
            />
        }
    });
    tick().await;
    assert!(all(&root, "#wall-banner").is_empty(), "fresh: no banner");
    assert!(text(&one(&root, ".wall-site[data-site='site-1']")).contains("connected"));

    // No event for 3 intervals (2 s default) + slack: stale.
    clock.0.set(108_000);
    tick().await;
    let banner = one(&root, "#wall-banner");
    assert_eq!(banner.get_attribute("data-kind").as_deref(), Some("stale"));
    assert!(text(&banner).contains("stale"));
    assert_eq!(
        one(&root, ".wall-stamp")
            .get_attribute("data-stale")
            .as_deref(),
        Some("true")
    );

    // A new event clears it; a dropped socket says the relay is unreachable.
    store.update(|s| {
        s.apply(
            Event::Delta {
                topic: Topic::System,
                delta: TopicDelta::Unchanged,
                at_ms: 0,
            },
            108_000,
        );
    });
    tick().await;
    assert!(all(&root, "#wall-banner").is_empty());
    open.set(false);
    tick().await;
    assert_eq!(
        one(&root, "#wall-banner")
            .get_attribute("data-kind")
            .as_deref(),
        Some("relay")
    );
    revoked.set(true);
    tick().await;
    assert!(text(&one(&root, "#wall-revoked")).contains("revoked"));
}

#[wasm_bindgen_test]
async fn site_timeline_draws_one_lane_per_site_with_coloured_spans() {
    let root = container();
    let history = SiteHistory {
        since_ms: 0,
        until_ms: 60_000,
        sample_every_ms: 5_000,
        sites: vec![
            Lane {
                site: "site-1".to_owned(),
                spans: vec![SiteSpan {
                    from_ms: 0,
                    to_ms: 60_000,
                    connected: true,
                }],
            },
            Lane {
                site: "site-2".to_owned(),
                spans: vec![
                    SiteSpan {
                        from_ms: 0,
                        to_ms: 15_000,
                        connected: false,
                    },
                    SiteSpan {
                        from_ms: 15_000,
                        to_ms: 60_000,
                        connected: true,
                    },
                ],
            },
        ],
    };
    let _m = leptos::mount::mount_to(root.clone(), move || {
        view! { <SiteTimeline history=Some(history.clone()) /> }
    });
    tick().await;
    let svg = one(&root, "svg#site-timeline");
    let labels: Vec<String> = all(&svg, ".lane-label").iter().map(text).collect();
    assert_eq!(labels, ["site-1", "site-2"]);
    let spans = all(&svg, "rect.span");
    let got: Vec<(String, String, f64)> = spans
        .iter()
        .map(|r| {
            (
                r.get_attribute("data-site").unwrap_or_default(),
                r.get_attribute("data-connected").unwrap_or_default(),
                r.get_attribute("width")
                    .unwrap_or_default()
                    .parse()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("site-1".to_owned(), "true".to_owned(), 860.0),
            ("site-2".to_owned(), "false".to_owned(), 215.0),
            ("site-2".to_owned(), "true".to_owned(), 645.0),
        ]
    );
    assert!(spans[1].class_list().contains("span-disconnected"));
    let x: f64 = spans[2].get_attribute("x").unwrap().parse().unwrap();
    assert_eq!(x, 110.0 + 215.0);
}
