//! Site connectivity history: spans from system polls and background samples, bounded in time,
//! behind a session.

use flare_model::{Event, SiteHistory, SiteSpan, Topic, TopicData, TopicDelta};

use super::support::{OPERATOR, TestRelay, eventually};

fn sites_in(event: &Event) -> Option<usize> {
    match event {
        Event::Snapshot {
            data: TopicData::System(info),
            ..
        }
        | Event::Delta {
            delta: TopicDelta::System(info),
            ..
        } => Some(info.client_info.len()),
        _ => None,
    }
}

async fn history(relay: &TestRelay, cookie: &str) -> SiteHistory {
    let (status, body) = relay.get("/api/site-history", Some(cookie)).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).expect("a site history")
}

fn states(spans: &[SiteSpan]) -> Vec<bool> {
    spans.iter().map(|s| s.connected).collect()
}

#[tokio::test]
async fn a_site_that_drops_and_comes_back_has_three_spans() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let mut tab = relay.tab_for(&cookie).await;
    tab.subscribe(1, Topic::System).await;
    tab.event(|e| sites_in(e) == Some(2)).await;
    relay.fake.set_sites(&["site-2"]);
    tab.event(|e| sites_in(e) == Some(1)).await;
    relay.fake.set_sites(&["site-1", "site-2"]);
    tab.event(|e| sites_in(e) == Some(2)).await;

    let history = history(&relay, &cookie).await;
    assert_eq!(history.sample_every_ms, 30_000);
    let sites: Vec<&str> = history.sites.iter().map(|s| s.site.as_str()).collect();
    assert_eq!(sites, ["site-1", "site-2"]);
    let site1 = &history.sites[0].spans;
    assert_eq!(states(site1), [true, false, true], "{site1:?}");
    for pair in site1.windows(2) {
        assert_eq!(pair[0].to_ms, pair[1].from_ms, "spans are contiguous");
    }
    assert_eq!(site1[0].from_ms, history.since_ms);
    assert_eq!(site1[2].to_ms, history.until_ms);
    assert_eq!(states(&history.sites[1].spans), [true]);
}

#[tokio::test]
async fn background_samples_keep_a_bounded_history_without_watchers() {
    let relay = TestRelay::start_with(|c| {
        c.history.sample_secs = 0.05;
        c.history.keep_hours = 0.4 / 3600.0;
    })
    .await;
    let cookie = relay.login(OPERATOR).await;
    // A socket, but no subscription: only the background sampler polls.
    let _tab = relay.tab_for(&cookie).await;
    let hub = relay.hub();
    eventually("a first background sample", || {
        hub.site_history().sites.len() == 2
    })
    .await;
    relay.fake.set_sites(&["site-1"]);
    eventually("site-2's connected span to age out", || {
        let h = hub.site_history();
        h.sites
            .iter()
            .find(|s| s.site == "site-2")
            .is_some_and(|s| states(&s.spans) == [false])
            && h.until_ms - h.since_ms <= 400
    })
    .await;
    let h = history(&relay, &cookie).await;
    for timeline in &h.sites {
        for span in &timeline.spans {
            assert!(span.from_ms >= h.since_ms, "{span:?} before {}", h.since_ms);
        }
    }
    assert_eq!(h.sample_every_ms, 50);
    assert_eq!(
        relay.fake.calls("list_jobs"),
        0,
        "only system info is sampled"
    );
}

#[tokio::test]
async fn the_history_needs_a_session_and_a_valid_study() {
    let relay = TestRelay::start().await;
    let (status, body) = relay.get("/api/site-history", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "not logged in");
    let cookie = relay.login(OPERATOR).await;
    let (status, _) = relay.get("/api/site-history?study=No", Some(&cookie)).await;
    assert_eq!(status, 400);
    // A study without a hub has an empty history, and asking logs nobody in.
    let (status, body) = relay.get("/api/site-history?study=s9", Some(&cookie)).await;
    assert_eq!(status, 200);
    let empty: SiteHistory = serde_json::from_value(body).expect("history");
    assert!(empty.sites.is_empty());
    assert_eq!(relay.fake.logins(), 0);
}
