//! Tests of the pure seed and diff: tables of polls and the states, deltas and stamps they give.

use flare_model::{ClientInfo, JobInfo, JobLive, JobMeta, ServerInfo, SystemInfo};
use serde_json::json;

use super::*;

fn system(sites: &[&str]) -> SystemInfo {
    SystemInfo {
        server_info: ServerInfo {
            status: "started".to_owned(),
            start_time: 1_700_000_000.0,
        },
        client_info: sites
            .iter()
            .map(|name| ClientInfo {
                name: (*name).to_owned(),
                last_connect_time: 1_700_000_100.0,
            })
            .collect(),
        job_info: vec![JobInfo {
            job_id: "j1".to_owned(),
            app_name: "app".to_owned(),
        }],
    }
}

fn job(id: &str, status: &str) -> JobSummary {
    JobSummary {
        job_id: id.to_owned(),
        job_name: format!("job {id}"),
        status: status.to_owned(),
        submit_time: "2026-01-01T00:00:00".to_owned(),
        duration: "N/A".to_owned(),
        study: "default".to_owned(),
    }
}

fn meta(status: &str, submit_time: Option<f64>) -> JobMeta {
    JobMeta {
        job_id: "j1".to_owned(),
        name: "hello-numpy".to_owned(),
        status: status.to_owned(),
        submit_time,
        ..JobMeta::default()
    }
}

fn change(status: &str, at_ms: u64) -> StatusChange {
    StatusChange {
        status: status.to_owned(),
        at_ms,
    }
}

fn detail(meta: JobMeta, timeline: Vec<StatusChange>, live: Option<JobLive>) -> JobDetail {
    JobDetail {
        meta,
        timeline,
        live,
    }
}

fn live(round: u64) -> JobLive {
    JobLive {
        stats: [(
            "server".to_owned(),
            json!({"ScatterAndGather": {"current_round": round}}),
        )]
        .into(),
        errors: [("site-1".to_owned(), json!({}))].into(),
    }
}

#[test]
fn live_statuses_are_the_running_ones() {
    let cases = [
        ("RUNNING", true),
        ("DISPATCHED", true),
        ("SUBMITTED", false),
        ("FINISHED:COMPLETED", false),
        ("FINISHED:ABORTED", false),
        ("running", false),
        ("", false),
    ];
    for (status, live) in cases {
        assert_eq!(is_live_status(status), live, "{status:?}");
    }
}

#[test]
fn seed_starts_a_job_timeline_at_its_submit_time() {
    let at = 1_800_000_000_000;
    // (status, submit time in Unix seconds, expected timeline)
    let cases = [
        (
            "RUNNING",
            Some(1_700_000_000.5),
            vec![
                change("SUBMITTED", 1_700_000_000_500),
                change("RUNNING", at),
            ],
        ),
        // A job still submitted has one entry, at its submit time.
        (
            "SUBMITTED",
            Some(1_700_000_000.0),
            vec![change("SUBMITTED", 1_700_000_000_000)],
        ),
        // No usable submit time: the timeline starts at the poll.
        ("RUNNING", None, vec![change("RUNNING", at)]),
        ("RUNNING", Some(0.0), vec![change("RUNNING", at)]),
        ("RUNNING", Some(-5.0), vec![change("RUNNING", at)]),
        ("RUNNING", Some(f64::NAN), vec![change("RUNNING", at)]),
        ("RUNNING", Some(f64::INFINITY), vec![change("RUNNING", at)]),
        ("SUBMITTED", None, vec![change("SUBMITTED", at)]),
    ];
    for (status, submit_time, timeline) in cases {
        let polled = detail(
            meta(status, submit_time),
            // Whatever the poll carried is replaced.
            vec![change("BOGUS", 1)],
            Some(live(3)),
        );
        // Compared field by field: a NaN submit time is not equal to itself.
        let TopicData::Job(seeded) = seed(TopicData::Job(polled), at) else {
            panic!("seed changed the topic kind for {status} {submit_time:?}");
        };
        assert_eq!(seeded.timeline, timeline, "{status} {submit_time:?}");
        assert_eq!(seeded.live, Some(live(3)), "{status} {submit_time:?}");
        assert_eq!(seeded.meta.status, status);
        assert_eq!(seeded.meta.name, "hello-numpy");
    }
}

#[test]
fn seed_leaves_system_and_jobs_as_polled() {
    for data in [
        TopicData::System(system(&["site-1", "site-2"])),
        TopicData::Jobs(vec![job("j1", "RUNNING"), job("j2", "SUBMITTED")]),
        TopicData::Jobs(Vec::new()),
    ] {
        assert_eq!(seed(data.clone(), 42), data);
    }
}

#[test]
fn diff_of_two_polls() {
    let running = detail(
        meta("RUNNING", Some(1.0)),
        vec![change("SUBMITTED", 1_000), change("RUNNING", 5_000)],
        Some(live(2)),
    );
    let at = 9_000;
    // The job once it finished at the poll time, and once it had new live stats.
    let finished = detail(
        meta("FINISHED:COMPLETED", Some(1.0)),
        vec![
            change("SUBMITTED", 1_000),
            change("RUNNING", 5_000),
            change("FINISHED:COMPLETED", at),
        ],
        None,
    );
    let new_stats = detail(
        meta("RUNNING", Some(1.0)),
        running.timeline.clone(),
        Some(live(3)),
    );
    // (what, cached, polled, expected new state, expected delta)
    let cases: Vec<(&str, TopicData, TopicData, TopicData, TopicDelta)> = vec![
        (
            "same system",
            TopicData::System(system(&["site-1"])),
            TopicData::System(system(&["site-1"])),
            TopicData::System(system(&["site-1"])),
            TopicDelta::Unchanged,
        ),
        (
            "a site joined",
            TopicData::System(system(&["site-1"])),
            TopicData::System(system(&["site-1", "site-2"])),
            TopicData::System(system(&["site-1", "site-2"])),
            TopicDelta::System(system(&["site-1", "site-2"])),
        ),
        (
            "same jobs in another order",
            TopicData::Jobs(vec![job("j1", "RUNNING"), job("j2", "SUBMITTED")]),
            TopicData::Jobs(vec![job("j2", "SUBMITTED"), job("j1", "RUNNING")]),
            TopicData::Jobs(vec![job("j2", "SUBMITTED"), job("j1", "RUNNING")]),
            TopicDelta::Unchanged,
        ),
        (
            "a job finished, one was deleted, one is new",
            TopicData::Jobs(vec![job("j1", "RUNNING"), job("j2", "SUBMITTED")]),
            TopicData::Jobs(vec![
                job("j1", "FINISHED:COMPLETED"),
                job("j3", "SUBMITTED"),
            ]),
            TopicData::Jobs(vec![
                job("j1", "FINISHED:COMPLETED"),
                job("j3", "SUBMITTED"),
            ]),
            TopicDelta::Jobs {
                upserted: vec![job("j1", "FINISHED:COMPLETED"), job("j3", "SUBMITTED")],
                removed: vec!["j2".to_owned()],
            },
        ),
        (
            "same job: the timeline keeps its stamps",
            TopicData::Job(running.clone()),
            // A poll never carries a timeline: the diff keeps the cached one.
            TopicData::Job(detail(
                meta("RUNNING", Some(1.0)),
                Vec::new(),
                Some(live(2)),
            )),
            TopicData::Job(running.clone()),
            TopicDelta::Unchanged,
        ),
        (
            "the job finished: its status joins the timeline at the poll time",
            TopicData::Job(running.clone()),
            TopicData::Job(detail(
                meta("FINISHED:COMPLETED", Some(1.0)),
                Vec::new(),
                None,
            )),
            TopicData::Job(finished.clone()),
            TopicDelta::Job(finished),
        ),
        (
            "new live stats, same status: a delta without a timeline entry",
            TopicData::Job(running.clone()),
            TopicData::Job(detail(
                meta("RUNNING", Some(1.0)),
                Vec::new(),
                Some(live(3)),
            )),
            TopicData::Job(new_stats.clone()),
            TopicDelta::Job(new_stats),
        ),
        (
            "other topic data replaces the system whole",
            TopicData::Jobs(vec![job("j1", "RUNNING")]),
            TopicData::System(system(&["site-1"])),
            TopicData::System(system(&["site-1"])),
            TopicDelta::System(system(&["site-1"])),
        ),
        (
            "other topic data replaces the jobs whole",
            TopicData::System(system(&["site-1"])),
            TopicData::Jobs(vec![job("j1", "RUNNING")]),
            TopicData::Jobs(vec![job("j1", "RUNNING")]),
            TopicDelta::Jobs {
                upserted: vec![job("j1", "RUNNING")],
                removed: Vec::new(),
            },
        ),
        (
            "other topic data replaces the job whole, as polled",
            TopicData::System(system(&["site-1"])),
            TopicData::Job(detail(meta("RUNNING", None), Vec::new(), None)),
            TopicData::Job(detail(meta("RUNNING", None), Vec::new(), None)),
            TopicDelta::Job(detail(meta("RUNNING", None), Vec::new(), None)),
        ),
    ];
    for (what, cached, polled, state, delta) in cases {
        assert_eq!(diff(cached, polled, at), (state, delta), "{what}");
    }
}

#[test]
fn diff_jobs_lists_upserts_in_poll_order_and_removals_in_cache_order() {
    let cases: Vec<(Vec<JobSummary>, Vec<JobSummary>, TopicDelta)> = vec![
        (Vec::new(), Vec::new(), TopicDelta::Unchanged),
        (
            vec![job("a", "RUNNING")],
            vec![job("a", "RUNNING")],
            TopicDelta::Unchanged,
        ),
        (
            Vec::new(),
            vec![job("b", "SUBMITTED"), job("a", "RUNNING")],
            TopicDelta::Jobs {
                upserted: vec![job("b", "SUBMITTED"), job("a", "RUNNING")],
                removed: Vec::new(),
            },
        ),
        (
            vec![
                job("a", "RUNNING"),
                job("b", "SUBMITTED"),
                job("c", "RUNNING"),
            ],
            vec![job("b", "SUBMITTED")],
            TopicDelta::Jobs {
                upserted: Vec::new(),
                removed: vec!["a".to_owned(), "c".to_owned()],
            },
        ),
        (
            vec![job("a", "RUNNING")],
            vec![JobSummary {
                duration: "0:01:02".to_owned(),
                ..job("a", "RUNNING")
            }],
            TopicDelta::Jobs {
                upserted: vec![JobSummary {
                    duration: "0:01:02".to_owned(),
                    ..job("a", "RUNNING")
                }],
                removed: Vec::new(),
            },
        ),
    ];
    for (old, new, delta) in cases {
        assert_eq!(diff_jobs(&old, &new), delta, "{old:?} -> {new:?}");
    }
}

#[test]
fn advance_stamps_every_event_with_the_poll_time() {
    let topic = Topic::Job {
        job_id: "j1".to_owned(),
    };
    let polled = TopicData::Job(detail(meta("RUNNING", Some(1.0)), Vec::new(), None));

    // The first poll: a snapshot, seeded and stamped.
    let (state, event) = advance(&topic, None, polled.clone(), 5_000);
    let seeded = TopicData::Job(detail(
        meta("RUNNING", Some(1.0)),
        vec![change("SUBMITTED", 1_000), change("RUNNING", 5_000)],
        None,
    ));
    assert_eq!(state, seeded);
    assert_eq!(
        event,
        Event::Snapshot {
            topic: topic.clone(),
            data: seeded.clone(),
            at_ms: 5_000,
        }
    );

    // Nothing changed: an `Unchanged` delta that still carries the new poll's time, and a
    // state whose timeline keeps the old stamps.
    let (state, event) = advance(&topic, Some(state), polled, 8_000);
    assert_eq!(state, seeded);
    assert_eq!(
        event,
        Event::Delta {
            topic: topic.clone(),
            delta: TopicDelta::Unchanged,
            at_ms: 8_000,
        }
    );

    // A change: the delta and the timeline entry carry the same time.
    let finished = TopicData::Job(detail(
        meta("FINISHED:COMPLETED", Some(1.0)),
        Vec::new(),
        None,
    ));
    let (state, event) = advance(&topic, Some(state), finished, 11_000);
    let TopicData::Job(now) = &state else {
        panic!("a job topic became {state:?}");
    };
    assert_eq!(
        now.timeline.last(),
        Some(&change("FINISHED:COMPLETED", 11_000))
    );
    assert_eq!(
        event,
        Event::Delta {
            topic,
            delta: TopicDelta::Job(now.clone()),
            at_ms: 11_000,
        }
    );
}
