//! Subscriptions: snapshot then deltas, one poller per hub whatever the number of tabs, and no
//! polling without subscribers.

use std::time::Duration;

use flare_model::{Event, Reply, ServerFrame, Topic, TopicData, TopicDelta};

use super::support::{OPERATOR, TestRelay, VIEWER, eventually};

fn is_jobs_event(event: &Event) -> bool {
    matches!(
        event,
        Event::Snapshot {
            topic: Topic::Jobs,
            ..
        } | Event::Delta {
            topic: Topic::Jobs,
            ..
        }
    )
}

#[tokio::test]
async fn subscribe_gives_a_snapshot_then_deltas() {
    let relay = TestRelay::start().await;
    relay.fake.put_job("job-1", "hello-numpy", "RUNNING");
    let mut tab = relay.tab(VIEWER).await;
    tab.subscribe(1, Topic::Jobs).await;
    assert_eq!(
        tab.next().await,
        ServerFrame::Ok {
            id: 1,
            ok: Reply::Done
        }
    );
    let Event::Snapshot {
        topic: Topic::Jobs,
        data: TopicData::Jobs(jobs),
        ..
    } = tab.event(is_jobs_event).await
    else {
        panic!("the first jobs event must be a snapshot");
    };
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, "RUNNING");

    // Nothing changed: the next tick still stamps freshness.
    let unchanged = tab.event(is_jobs_event).await;
    assert!(
        matches!(
            &unchanged,
            Event::Delta {
                delta: TopicDelta::Unchanged,
                ..
            }
        ),
        "{unchanged:?}"
    );

    relay.fake.put_job("job-2", "cifar", "SUBMITTED");
    relay
        .fake
        .put_job("job-1", "hello-numpy", "FINISHED:COMPLETED");
    let changed = tab
        .event(|e| {
            matches!(
                e,
                Event::Delta {
                    topic: Topic::Jobs,
                    delta: TopicDelta::Jobs { .. },
                    ..
                }
            )
        })
        .await;
    let Event::Delta {
        delta: TopicDelta::Jobs {
            mut upserted,
            removed,
        },
        ..
    } = changed
    else {
        unreachable!()
    };
    upserted.sort_by(|a, b| a.job_id.cmp(&b.job_id));
    let ids: Vec<(&str, &str)> = upserted
        .iter()
        .map(|j| (j.job_id.as_str(), j.status.as_str()))
        .collect();
    assert_eq!(
        ids,
        [("job-1", "FINISHED:COMPLETED"), ("job-2", "SUBMITTED")]
    );
    assert!(removed.is_empty());

    relay.fake.remove_job("job-2");
    let removed = tab
        .event(|e| {
            matches!(e, Event::Delta { delta: TopicDelta::Jobs { removed, .. }, .. } if !removed.is_empty())
        })
        .await;
    let Event::Delta {
        delta: TopicDelta::Jobs { upserted, removed },
        ..
    } = removed
    else {
        unreachable!()
    };
    assert!(upserted.is_empty());
    assert_eq!(removed, ["job-2"]);
}

#[tokio::test]
async fn a_watched_job_keeps_a_status_timeline_seeded_with_its_submit_time() {
    let relay = TestRelay::start().await;
    relay.fake.put_job("job-1", "hello-numpy", "RUNNING");
    let mut tab = relay.tab(OPERATOR).await;
    let topic = Topic::Job {
        job_id: "job-1".into(),
    };
    tab.subscribe(1, topic.clone()).await;
    let Event::Snapshot {
        data: TopicData::Job(detail),
        ..
    } = tab.event(|e| matches!(e, Event::Snapshot { .. })).await
    else {
        panic!("expected a job snapshot");
    };
    let statuses: Vec<&str> = detail.timeline.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(statuses, ["SUBMITTED", "RUNNING"]);
    assert_eq!(
        detail.timeline[0].at_ms, 1_767_225_600_000,
        "seeded from submit_time"
    );

    relay
        .fake
        .put_job("job-1", "hello-numpy", "FINISHED:COMPLETED");
    let Event::Delta {
        delta: TopicDelta::Job(detail),
        ..
    } = tab
        .event(|e| {
            matches!(
                e,
                Event::Delta {
                    delta: TopicDelta::Job(_),
                    ..
                }
            )
        })
        .await
    else {
        unreachable!()
    };
    let statuses: Vec<&str> = detail.timeline.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(statuses, ["SUBMITTED", "RUNNING", "FINISHED:COMPLETED"]);
    assert_eq!(detail.meta.status, "FINISHED:COMPLETED");

    // An unknown job is reported on the topic, not by closing anything.
    tab.subscribe(
        2,
        Topic::Job {
            job_id: "ghost".into(),
        },
    )
    .await;
    let error = tab.event(|e| matches!(e, Event::TopicError { .. })).await;
    let Event::TopicError { topic, error, .. } = error else {
        unreachable!()
    };
    assert_eq!(
        topic,
        Topic::Job {
            job_id: "ghost".into()
        }
    );
    assert_eq!(error.kind(), "job_not_found");
}

#[tokio::test]
async fn two_tabs_of_two_users_share_one_poller() {
    let relay = TestRelay::start().await;
    relay.fake.put_job("job-1", "hello-numpy", "RUNNING");
    let mut first = relay.tab(OPERATOR).await;
    let mut second = relay.tab(VIEWER).await;
    first.subscribe(1, Topic::Jobs).await;
    second.subscribe(1, Topic::Jobs).await;
    let before = relay.fake.calls("list_jobs");
    let mut seen = 0;
    for _ in 0..8 {
        first.event(is_jobs_event).await;
        second.event(is_jobs_event).await;
        seen += 1;
    }
    let polls = relay.fake.calls("list_jobs") - before;
    // One poller: about one list_jobs per event each tab saw; two pollers would double it.
    assert!(polls <= seen + 3, "{polls} polls for {seen} events per tab");
    assert_eq!(relay.fake.logins(), 1);
}

#[tokio::test]
async fn polling_stops_after_unsubscribe_and_after_the_tab_closes() {
    let relay = TestRelay::start().await;
    let mut tab = relay.tab(OPERATOR).await;
    let hub = relay.hub();
    tab.subscribe(1, Topic::System).await;
    tab.event(|e| matches!(e, Event::Snapshot { .. })).await;
    assert!(hub.is_polling(&Topic::System));
    tab.unsubscribe(2, Topic::System).await;
    assert!(matches!(tab.reply(2).await, ServerFrame::Ok { id: 2, .. }));
    eventually("the system poller to stop", || {
        !hub.is_polling(&Topic::System)
    })
    .await;
    let calls = relay.fake.calls("get_system_info");
    // Five poll intervals without a subscriber: no call may happen.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(relay.fake.calls("get_system_info"), calls);

    tab.subscribe(3, Topic::Jobs).await;
    tab.event(|e| matches!(e, Event::Snapshot { .. })).await;
    assert!(hub.is_polling(&Topic::Jobs));
    drop(tab);
    eventually("the jobs poller to stop", || !hub.is_polling(&Topic::Jobs)).await;
}
