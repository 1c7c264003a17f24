//! A watched running job carries its live `show_stats` / `show_errors`, and an operator's job
//! command makes the relay re-poll the job list and that job at once.

use std::collections::BTreeMap;
use std::time::Duration;

use flare_model::{
    Event, FlareError, JobDetail, MutateCommand, ServerFrame, Topic, TopicData, TopicDelta,
};

use super::support::{OPERATOR, TestRelay, VIEWER, eventually, job_zip};

fn job_topic(job_id: &str) -> Topic {
    Topic::Job {
        job_id: job_id.into(),
    }
}

/// The job detail a snapshot or delta of `topic` carries.
fn detail_of(event: Event, topic: &Topic) -> Option<JobDetail> {
    match event {
        Event::Snapshot {
            topic: t,
            data: TopicData::Job(detail),
            ..
        }
        | Event::Delta {
            topic: t,
            delta: TopicDelta::Job(detail),
            ..
        } if &t == topic => Some(detail),
        Event::TopicError {
            topic: t, error, ..
        } if &t == topic => {
            panic!("the job topic must not report an error: {error:?}")
        }
        _ => None,
    }
}

/// The next job detail of `topic` that `want` accepts; fails on a topic error of it.
async fn detail(
    tab: &mut super::support::Tab,
    topic: &Topic,
    mut want: impl FnMut(&JobDetail) -> bool,
) -> JobDetail {
    loop {
        if let ServerFrame::Event { event } = tab.next().await
            && let Some(detail) = detail_of(event, topic)
            && want(&detail)
        {
            return detail;
        }
    }
}

fn round(detail: &JobDetail) -> Option<u64> {
    detail.live.as_ref()?.round_progress()?.current_round
}

#[tokio::test]
async fn a_running_job_carries_live_stats_and_errors_until_it_finishes() {
    let relay = TestRelay::start().await;
    relay.fake.put_job("job-1", "hello-numpy", "DISPATCHED");
    relay.fake.set_round("job-1", 1, 5);
    let mut tab = relay.tab(VIEWER).await;
    let topic = job_topic("job-1");
    tab.subscribe(1, topic.clone()).await;

    // Dispatched, its server process not up yet: asked, but the server says not running.
    let first = detail(&mut tab, &topic, |_| true).await;
    assert_eq!(first.meta.status, "DISPATCHED");
    assert_eq!(first.live, None);
    assert!(
        relay.fake.calls("show_stats") >= 1,
        "a dispatched job is asked"
    );

    relay.fake.put_job("job-1", "hello-numpy", "RUNNING");
    let running = detail(&mut tab, &topic, |d| d.live.is_some()).await;
    assert_eq!(running.meta.status, "RUNNING");
    let live = running.live.as_ref().expect("live");
    let progress = live.round_progress().expect("round progress");
    assert_eq!(progress.workflow, "ScatterAndGather");
    assert_eq!(progress.phase.as_deref(), Some("train"));
    assert_eq!(progress.current_round, Some(1));
    assert_eq!(progress.num_rounds, Some(5));
    assert_eq!(progress.tasks["train"], ["site-1", "site-2"]);
    assert_eq!(
        live.error_counts(),
        BTreeMap::from([
            ("server".to_owned(), 0),
            ("site-1".to_owned(), 0),
            ("site-2".to_owned(), 0)
        ])
    );
    assert!(live.stats.contains_key("site-1"), "all sites: {live:?}");
    assert_eq!(
        live.errors["server"],
        serde_json::json!({}),
        "the server's \"No Error\" is an empty map"
    );

    // The round advances and a site reports an error: one delta carries both.
    relay.fake.set_round("job-1", 2, 5);
    relay.fake.add_error(
        "job-1",
        "site-1",
        "ClientRunner",
        "error",
        "task train failed",
    );
    let advanced = detail(&mut tab, &topic, |d| {
        round(d) == Some(2)
            && d.live
                .as_ref()
                .is_some_and(|l| l.error_counts()["site-1"] == 1)
    })
    .await;
    assert_eq!(advanced.meta.status, "RUNNING");

    // Unchanged stats are an Unchanged delta, not a Job delta.
    let unchanged = tab
        .event(|e| matches!(e, Event::Delta { topic: t, .. } if t == &topic))
        .await;
    assert!(
        matches!(
            unchanged,
            Event::Delta {
                delta: TopicDelta::Unchanged,
                ..
            }
        ),
        "{unchanged:?}"
    );

    // Finished: no live data, and no more stats polls.
    relay
        .fake
        .put_job("job-1", "hello-numpy", "FINISHED:COMPLETED");
    let finished = detail(&mut tab, &topic, |d| d.meta.status != "RUNNING").await;
    assert_eq!(finished.meta.status, "FINISHED:COMPLETED");
    assert_eq!(finished.live, None);
    let (stats, errors) = (
        relay.fake.calls("show_stats"),
        relay.fake.calls("show_errors"),
    );
    let metas = relay.fake.calls("get_job_meta");
    eventually("three more meta polls", || {
        relay.fake.calls("get_job_meta") >= metas + 3
    })
    .await;
    assert_eq!(relay.fake.calls("show_stats"), stats);
    assert_eq!(relay.fake.calls("show_errors"), errors);
}

#[tokio::test]
async fn a_failing_show_stats_keeps_the_last_live_and_the_meta_polling() {
    let relay = TestRelay::start().await;
    relay.fake.put_job("job-1", "hello-numpy", "RUNNING");
    relay.fake.set_round("job-1", 1, 10);
    let broken = || FlareError::InternalError {
        message: "server internal error: stats collector crashed".into(),
    };
    relay.fake.set_failing("show_stats", Some(broken()));
    let mut tab = relay.tab(OPERATOR).await;
    let topic = job_topic("job-1");
    tab.subscribe(1, topic.clone()).await;

    // No live data yet, but the meta comes through without a topic error.
    let first = detail(&mut tab, &topic, |_| true).await;
    assert_eq!(first.meta.status, "RUNNING");
    assert_eq!(first.live, None);

    relay.fake.set_failing("show_stats", None);
    let live = detail(&mut tab, &topic, |d| d.live.is_some()).await;
    assert_eq!(round(&live), Some(1));

    // Failing again: the meta still changes through, with the last live data kept.
    relay.fake.set_failing("show_errors", Some(broken()));
    relay.fake.set_round("job-1", 2, 10);
    relay.fake.put_job("job-1", "renamed", "RUNNING");
    let renamed = detail(&mut tab, &topic, |d| d.meta.name == "renamed").await;
    assert_eq!(round(&renamed), Some(1), "the last live data stays");

    // The server saying the job is not running clears it.
    relay.fake.set_failing(
        "show_errors",
        Some(FlareError::JobNotRunning {
            message: "job job-1 is not running".into(),
        }),
    );
    let cleared = detail(&mut tab, &topic, |d| d.live.is_none()).await;
    assert_eq!(cleared.meta.status, "RUNNING");

    relay.fake.set_failing("show_errors", None);
    let back = detail(&mut tab, &topic, |d| d.live.is_some()).await;
    assert_eq!(round(&back), Some(2));
}

/// A relay whose topics poll only every 60 s: anything sooner is a re-poll on demand.
async fn slow_relay() -> TestRelay {
    TestRelay::start_with(|c| {
        c.poll.system_secs = 60.0;
        c.poll.jobs_secs = 60.0;
        c.poll.job_secs = 60.0;
    })
    .await
}

/// Well below the 60 s poll interval.
const SOON: Duration = Duration::from_secs(3);

#[tokio::test]
async fn an_operator_abort_re_polls_the_job_and_the_job_list_at_once() {
    let relay = slow_relay().await;
    relay.fake.put_job("job-1", "hello-numpy", "RUNNING");
    relay.fake.set_round("job-1", 3, 10);
    let mut watcher = relay.tab(VIEWER).await;
    let topic = job_topic("job-1");
    watcher.subscribe(1, Topic::Jobs).await;
    watcher
        .event(|e| {
            matches!(
                e,
                Event::Snapshot {
                    topic: Topic::Jobs,
                    ..
                }
            )
        })
        .await;
    watcher.subscribe(2, topic.clone()).await;
    let running = detail(&mut watcher, &topic, |_| true).await;
    assert_eq!(round(&running), Some(3));

    // Another tab (an operator's) aborts the job.
    let mut operator = relay.tab(OPERATOR).await;
    operator
        .command(
            1,
            MutateCommand::AbortJob {
                job_id: "job-1".into(),
            },
        )
        .await;
    let deadline = tokio::time::Instant::now() + SOON;
    let reply = tokio::time::timeout_at(deadline, operator.reply(1))
        .await
        .expect("the abort reply");
    assert!(matches!(reply, ServerFrame::Ok { id: 1, .. }), "{reply:?}");

    // Both re-polls land, in either order, well before the next tick.
    let (aborted, upserted, removed) = tokio::time::timeout_at(deadline, async {
        let mut aborted = None;
        let mut jobs = None;
        while aborted.is_none() || jobs.is_none() {
            let ServerFrame::Event { event } = watcher.next().await else {
                continue;
            };
            match event {
                Event::Delta {
                    topic: Topic::Jobs,
                    delta: TopicDelta::Jobs { upserted, removed },
                    ..
                } => jobs = Some((upserted, removed)),
                event => {
                    if let Some(detail) = detail_of(event, &topic)
                        && detail.meta.status != "RUNNING"
                    {
                        aborted = Some(detail);
                    }
                }
            }
        }
        let (upserted, removed) = jobs.expect("seen");
        (aborted.expect("seen"), upserted, removed)
    })
    .await
    .expect("the job and job list deltas well before the next tick");
    assert_eq!(aborted.meta.status, "FINISHED:ABORTED");
    assert_eq!(aborted.live, None);
    assert_eq!(
        aborted.timeline.last().map(|c| c.status.as_str()),
        Some("FINISHED:ABORTED")
    );
    let statuses: Vec<(&str, &str)> = upserted
        .iter()
        .map(|j| (j.job_id.as_str(), j.status.as_str()))
        .collect();
    assert_eq!(statuses, [("job-1", "FINISHED:ABORTED")]);
    assert!(removed.is_empty());
}

#[tokio::test]
async fn a_submitted_job_is_in_the_watched_job_list_at_once() {
    let relay = slow_relay().await;
    let cookie = relay.login(OPERATOR).await;
    let mut tab = relay.tab_for(&cookie).await;
    tab.subscribe(1, Topic::Jobs).await;
    let Event::Snapshot {
        data: TopicData::Jobs(jobs),
        ..
    } = tab.event(|e| matches!(e, Event::Snapshot { .. })).await
    else {
        unreachable!()
    };
    assert!(jobs.is_empty());

    let upload_id = relay.upload_zip(&cookie, job_zip()).await;
    tab.command(
        2,
        MutateCommand::SubmitJob {
            upload_id,
            submit_token: None,
        },
    )
    .await;
    let deadline = tokio::time::Instant::now() + SOON;
    let delta = tokio::time::timeout_at(
        deadline,
        tab.event(|e| {
            matches!(
                e,
                Event::Delta {
                    topic: Topic::Jobs,
                    delta: TopicDelta::Jobs { .. },
                    ..
                }
            )
        }),
    )
    .await
    .expect("the new job well before the next tick");
    let Event::Delta {
        delta: TopicDelta::Jobs { upserted, .. },
        ..
    } = delta
    else {
        unreachable!()
    };
    let ids: Vec<&str> = upserted.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(ids, ["fake-job-1"]);
}
