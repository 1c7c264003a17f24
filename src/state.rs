//! The console's data store: what the relay pushed per topic, and how events change it.
//!
//! Pure Rust with no browser types, so the event logic is unit-tested natively; the Leptos side
//! keeps one [`Store`] in a signal and calls [`Store::apply`] for every event.

use std::collections::BTreeMap;

use flare_model::{
    Event, FlareError, JobDetail, JobSummary, SystemInfo, Topic, TopicData, TopicDelta,
    UpstreamState,
};

/// The relay's default poll interval, used until two stamps show the real one.
pub const DEFAULT_POLL_MS: u64 = 2_000;

/// One topic's data and how fresh it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel<T> {
    /// None until the first snapshot, and again after a resync until the next one.
    pub data: Option<T>,
    /// Browser time (Unix ms) of the last snapshot or delta, `Unchanged` included.
    pub fresh_ms: Option<u64>,
    /// The relay's gap between the last two stamps: its poll interval for this topic.
    pub interval_ms: u64,
    /// Why the last poll of this topic failed; cleared by the next snapshot or delta.
    pub error: Option<FlareError>,
}

impl<T> Default for Panel<T> {
    fn default() -> Self {
        Panel {
            data: None,
            fresh_ms: None,
            interval_ms: DEFAULT_POLL_MS,
            error: None,
        }
    }
}

impl<T> Panel<T> {
    fn stamp(&mut self, now_ms: u64) {
        if let Some(prev) = self.fresh_ms {
            let gap = now_ms.saturating_sub(prev);
            // Ignore bursts (a snapshot right after a delta). Learn a slower interval at most twice
            // as fast per stamp, so one long gap (a reconnect) does not hide staleness for long.
            if gap >= 250 {
                self.interval_ms = gap
                    .min(self.interval_ms.saturating_mul(2))
                    .clamp(500, 60_000);
            }
        }
        self.fresh_ms = Some(now_ms);
        self.error = None;
    }

    fn reset(&mut self) {
        self.data = None;
        self.error = None;
    }
}

/// Everything the console knows from its socket.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Store {
    pub system: Panel<SystemInfo>,
    /// Jobs by id.
    pub jobs: Panel<BTreeMap<String, JobSummary>>,
    /// Watched jobs by id.
    pub job: BTreeMap<String, Panel<JobDetail>>,
    /// The last upstream state the relay announced.
    pub upstream: Option<UpstreamState>,
    /// The NVFlare server version from the last upstream event that carried one.
    pub server_version: Option<String>,
}

/// What [`Store::apply`] did with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The store changed or was stamped fresh.
    Updated,
    /// The event did not fit (a delta without a snapshot, or data of another topic): dropped.
    Ignored,
}

impl Store {
    /// Applies one pushed event, received at browser time `now_ms`.
    pub fn apply(&mut self, event: Event, now_ms: u64) -> Applied {
        match event {
            Event::Snapshot { topic, data, .. } => self.snapshot(topic, data, now_ms),
            Event::Delta { topic, delta, .. } => self.delta(topic, delta, now_ms),
            Event::Resync { topic, .. } => {
                match topic {
                    Topic::System => self.system.reset(),
                    Topic::Jobs => self.jobs.reset(),
                    Topic::Job { job_id } => self.job.entry(job_id).or_default().reset(),
                }
                Applied::Updated
            }
            Event::TopicError { topic, error, .. } => {
                match topic {
                    Topic::System => self.system.error = Some(error),
                    Topic::Jobs => self.jobs.error = Some(error),
                    Topic::Job { job_id } => {
                        self.job.entry(job_id).or_default().error = Some(error)
                    }
                }
                Applied::Updated
            }
            Event::Upstream(state) => {
                if let Some(version) = &state.server_version {
                    self.server_version = Some(version.clone());
                }
                self.upstream = Some(state);
                Applied::Updated
            }
        }
    }

    /// The listed jobs, in job id order; empty before the first snapshot.
    pub fn job_list(&self) -> Vec<JobSummary> {
        self.jobs
            .data
            .as_ref()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets a topic nobody watches any more (only per-job topics hold memory worth freeing).
    pub fn forget(&mut self, topic: &Topic) {
        if let Topic::Job { job_id } = topic {
            self.job.remove(job_id);
        }
    }

    fn snapshot(&mut self, topic: Topic, data: TopicData, now_ms: u64) -> Applied {
        match (topic, data) {
            (Topic::System, TopicData::System(info)) => {
                self.system.data = Some(info);
                self.system.stamp(now_ms);
            }
            (Topic::Jobs, TopicData::Jobs(list)) => {
                self.jobs.data = Some(
                    list.into_iter()
                        .map(|job| (job.job_id.clone(), job))
                        .collect(),
                );
                self.jobs.stamp(now_ms);
            }
            (Topic::Job { job_id }, TopicData::Job(detail)) => {
                let panel = self.job.entry(job_id).or_default();
                panel.data = Some(detail);
                panel.stamp(now_ms);
            }
            _ => return Applied::Ignored,
        }
        Applied::Updated
    }

    fn delta(&mut self, topic: Topic, delta: TopicDelta, now_ms: u64) -> Applied {
        match (topic, delta) {
            (Topic::System, TopicDelta::Unchanged) if self.system.data.is_some() => {
                self.system.stamp(now_ms)
            }
            (Topic::System, TopicDelta::System(info)) => {
                self.system.data = Some(info);
                self.system.stamp(now_ms);
            }
            (Topic::Jobs, TopicDelta::Unchanged) if self.jobs.data.is_some() => {
                self.jobs.stamp(now_ms)
            }
            (Topic::Jobs, TopicDelta::Jobs { upserted, removed }) => {
                let Some(jobs) = self.jobs.data.as_mut() else {
                    return Applied::Ignored;
                };
                for id in removed {
                    jobs.remove(&id);
                }
                for job in upserted {
                    jobs.insert(job.job_id.clone(), job);
                }
                self.jobs.stamp(now_ms);
            }
            (Topic::Job { job_id }, TopicDelta::Unchanged) => match self.job.get_mut(&job_id) {
                Some(panel) if panel.data.is_some() => panel.stamp(now_ms),
                _ => return Applied::Ignored,
            },
            (Topic::Job { job_id }, TopicDelta::Job(detail)) => {
                let panel = self.job.entry(job_id).or_default();
                panel.data = Some(detail);
                panel.stamp(now_ms);
            }
            _ => return Applied::Ignored,
        }
        Applied::Updated
    }
}

/// How fresh a panel is, for its stamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// No data yet.
    Waiting,
    /// Data `age_ms` old; `stale` once older than about three poll intervals.
    Age { age_ms: u64, stale: bool },
}

/// The freshness of data stamped at `fresh_ms` (browser ms) when the relay polls every `interval_ms`.
pub fn freshness(now_ms: u64, fresh_ms: Option<u64>, interval_ms: u64) -> Freshness {
    match fresh_ms {
        None => Freshness::Waiting,
        Some(at) => {
            let age_ms = now_ms.saturating_sub(at);
            // Three intervals plus a second of slack for the network and the 1 s clock tick.
            let stale = age_ms > 3 * interval_ms.max(500) + 1_000;
            Freshness::Age { age_ms, stale }
        }
    }
}

/// A freshness stamp as the panels show it: "updated 2 s ago".
pub fn freshness_text(freshness: &Freshness) -> String {
    match freshness {
        Freshness::Waiting => "waiting for data…".to_owned(),
        Freshness::Age { age_ms, .. } => format!("updated {}", ago(*age_ms)),
    }
}

/// "just now", "12 s ago", "3 min ago", "2 h ago", "4 d ago".
pub fn ago(age_ms: u64) -> String {
    let s = age_ms / 1_000;
    match s {
        0 => "just now".to_owned(),
        1..=59 => format!("{s} s ago"),
        60..=3_599 => format!("{} min ago", s / 60),
        3_600..=86_399 => format!("{} h ago", s / 3_600),
        _ => format!("{} d ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flare_model::{JobMeta, LinkState, StatusChange};

    fn job(id: &str, name: &str, status: &str) -> JobSummary {
        JobSummary {
            job_id: id.to_owned(),
            job_name: name.to_owned(),
            status: status.to_owned(),
            submit_time: "2026-11-22T04:00:00".to_owned(),
            duration: "N/A".to_owned(),
            study: "default".to_owned(),
        }
    }

    fn jobs_snapshot(list: Vec<JobSummary>) -> Event {
        Event::Snapshot {
            topic: Topic::Jobs,
            data: TopicData::Jobs(list),
            at_ms: 1,
        }
    }

    #[test]
    fn jobs_delta_upserts_and_removes_rows() {
        let mut store = Store::default();
        store.apply(
            jobs_snapshot(vec![
                job("a", "one", "RUNNING"),
                job("b", "two", "SUBMITTED"),
            ]),
            1_000,
        );
        let applied = store.apply(
            Event::Delta {
                topic: Topic::Jobs,
                delta: TopicDelta::Jobs {
                    upserted: vec![
                        job("a", "one", "FINISHED:COMPLETED"),
                        job("c", "three", "SUBMITTED"),
                    ],
                    removed: vec!["b".to_owned()],
                },
                at_ms: 2,
            },
            3_000,
        );
        assert_eq!(applied, Applied::Updated);
        let jobs = store.jobs.data.as_ref().unwrap();
        assert_eq!(jobs.keys().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(jobs["a"].status, "FINISHED:COMPLETED");
        assert_eq!(store.jobs.fresh_ms, Some(3_000));
        assert_eq!(store.jobs.interval_ms, 2_000);
    }

    #[test]
    fn unchanged_delta_only_stamps_freshness() {
        let mut store = Store::default();
        store.apply(jobs_snapshot(vec![job("a", "one", "RUNNING")]), 1_000);
        let before = store.jobs.data.clone();
        store.apply(
            Event::Delta {
                topic: Topic::Jobs,
                delta: TopicDelta::Unchanged,
                at_ms: 2,
            },
            2_500,
        );
        assert_eq!(store.jobs.data, before);
        assert_eq!(store.jobs.fresh_ms, Some(2_500));
    }

    #[test]
    fn delta_before_any_snapshot_is_ignored() {
        let mut store = Store::default();
        let applied = store.apply(
            Event::Delta {
                topic: Topic::Jobs,
                delta: TopicDelta::Jobs {
                    upserted: vec![job("a", "one", "RUNNING")],
                    removed: vec![],
                },
                at_ms: 2,
            },
            2_000,
        );
        assert_eq!(applied, Applied::Ignored);
        assert_eq!(store.jobs.data, None);
        assert_eq!(store.jobs.fresh_ms, None);
    }

    #[test]
    fn resync_drops_the_topic_until_the_next_snapshot() {
        let mut store = Store::default();
        store.apply(jobs_snapshot(vec![job("a", "one", "RUNNING")]), 1_000);
        store.apply(
            Event::Resync {
                topic: Topic::Jobs,
                reason: "lagged".to_owned(),
            },
            1_500,
        );
        assert_eq!(store.jobs.data, None);
        store.apply(jobs_snapshot(vec![job("b", "two", "RUNNING")]), 2_000);
        let jobs = store.jobs.data.as_ref().unwrap();
        assert_eq!(jobs.keys().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn topic_error_is_kept_until_fresh_data_arrives() {
        let mut store = Store::default();
        store.apply(jobs_snapshot(vec![]), 1_000);
        store.apply(
            Event::TopicError {
                topic: Topic::Jobs,
                error: FlareError::NoConnection {
                    message: "server unreachable".to_owned(),
                },
                at_ms: 2,
            },
            3_000,
        );
        assert!(store.jobs.error.is_some());
        assert_eq!(store.jobs.fresh_ms, Some(1_000));
        store.apply(
            Event::Delta {
                topic: Topic::Jobs,
                delta: TopicDelta::Unchanged,
                at_ms: 3,
            },
            5_000,
        );
        assert_eq!(store.jobs.error, None);
    }

    #[test]
    fn job_topic_snapshot_and_delta_replace_the_detail() {
        let mut store = Store::default();
        let topic = Topic::Job {
            job_id: "j1".to_owned(),
        };
        let detail = |status: &str, changes: &[&str]| JobDetail {
            meta: JobMeta {
                job_id: "j1".to_owned(),
                name: "hello".to_owned(),
                status: status.to_owned(),
                ..JobMeta::default()
            },
            timeline: changes
                .iter()
                .enumerate()
                .map(|(i, s)| StatusChange {
                    status: (*s).to_owned(),
                    at_ms: i as u64,
                })
                .collect(),
            live: None,
        };
        store.apply(
            Event::Snapshot {
                topic: topic.clone(),
                data: TopicData::Job(detail("RUNNING", &["SUBMITTED", "RUNNING"])),
                at_ms: 1,
            },
            1_000,
        );
        store.apply(
            Event::Delta {
                topic: topic.clone(),
                delta: TopicDelta::Job(detail(
                    "FINISHED:COMPLETED",
                    &["SUBMITTED", "RUNNING", "FINISHED:COMPLETED"],
                )),
                at_ms: 2,
            },
            1_500,
        );
        let panel = &store.job["j1"];
        let data = panel.data.as_ref().unwrap();
        assert_eq!(data.meta.status, "FINISHED:COMPLETED");
        assert_eq!(data.timeline.len(), 3);
        store.forget(&topic);
        assert!(store.job.is_empty());
    }

    #[test]
    fn snapshot_of_the_wrong_shape_is_ignored() {
        let mut store = Store::default();
        let applied = store.apply(
            Event::Snapshot {
                topic: Topic::System,
                data: TopicData::Jobs(vec![]),
                at_ms: 1,
            },
            1_000,
        );
        assert_eq!(applied, Applied::Ignored);
        assert_eq!(store.system.data, None);
    }

    #[test]
    fn upstream_event_keeps_the_last_known_server_version() {
        let mut store = Store::default();
        let up = |state, version: Option<&str>| {
            Event::Upstream(UpstreamState {
                state,
                server_version: version.map(str::to_owned),
                message: None,
                at_ms: 1,
            })
        };
        store.apply(up(LinkState::Connected, Some("2.9.0")), 1_000);
        store.apply(up(LinkState::Reconnecting, None), 2_000);
        assert_eq!(store.server_version.as_deref(), Some("2.9.0"));
        assert_eq!(
            store.upstream.as_ref().unwrap().state,
            LinkState::Reconnecting
        );
    }

    #[test]
    fn poll_interval_is_learned_from_stamps_without_jumping_on_a_long_gap() {
        let mut store = Store::default();
        store.apply(jobs_snapshot(vec![]), 0);
        let unchanged = || Event::Delta {
            topic: Topic::Jobs,
            delta: TopicDelta::Unchanged,
            at_ms: 0,
        };
        store.apply(unchanged(), 1_000);
        assert_eq!(store.jobs.interval_ms, 1_000);
        // A reconnect after 30 s only doubles the estimate...
        store.apply(jobs_snapshot(vec![]), 31_000);
        assert_eq!(store.jobs.interval_ms, 2_000);
        // ...and the next regular tick brings it back.
        store.apply(unchanged(), 32_000);
        assert_eq!(store.jobs.interval_ms, 1_000);
    }

    #[test]
    fn freshness_turns_stale_after_about_three_intervals() {
        assert_eq!(freshness(10_000, None, 2_000), Freshness::Waiting);
        assert_eq!(
            freshness(10_000, Some(8_000), 2_000),
            Freshness::Age {
                age_ms: 2_000,
                stale: false
            }
        );
        assert_eq!(
            freshness(20_000, Some(8_000), 2_000),
            Freshness::Age {
                age_ms: 12_000,
                stale: true
            }
        );
    }

    #[test]
    fn freshness_text_reads_like_a_person_wrote_it() {
        let cases = [
            (400, "updated just now"),
            (2_300, "updated 2 s ago"),
            (59_999, "updated 59 s ago"),
            (61_000, "updated 1 min ago"),
            (7_300_000, "updated 2 h ago"),
            (3 * 86_400_000, "updated 3 d ago"),
        ];
        for (age_ms, text) in cases {
            let f = Freshness::Age {
                age_ms,
                stale: false,
            };
            assert_eq!(freshness_text(&f), text, "age {age_ms}");
        }
        assert_eq!(freshness_text(&Freshness::Waiting), "waiting for data…");
    }
}
