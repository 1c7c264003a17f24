//! The pure side of polling: a topic's first state, the delta between two polls, and which job
//! statuses have live stats to ask for.

use std::collections::HashMap;

use flare_model::{Event, JobDetail, JobSummary, StatusChange, Topic, TopicData, TopicDelta};

/// What a successful poll makes of a topic: its new cached state and the event for its tabs, both
/// stamped `at_ms`. The first poll gives a snapshot; later ones a delta, where `Unchanged` still
/// tells the tabs the data is fresh as of `at_ms`.
pub(super) fn advance(
    topic: &Topic,
    cached: Option<TopicData>,
    polled: TopicData,
    at_ms: u64,
) -> (TopicData, Event) {
    match cached {
        None => {
            let data = seed(polled, at_ms);
            let event = Event::Snapshot {
                topic: topic.clone(),
                data: data.clone(),
                at_ms,
            };
            (data, event)
        }
        Some(old) => {
            let (data, delta) = diff(old, polled, at_ms);
            let event = Event::Delta {
                topic: topic.clone(),
                delta,
                at_ms,
            };
            (data, event)
        }
    }
}

/// True for a job status whose job may have a live server process to ask for stats and errors.
pub(super) fn is_live_status(status: &str) -> bool {
    matches!(status, "RUNNING" | "DISPATCHED")
}

/// The first state of a topic: a job's timeline starts at its submit time when the meta has it.
fn seed(data: TopicData, at_ms: u64) -> TopicData {
    match data {
        TopicData::Job(JobDetail { meta, live, .. }) => {
            let mut timeline = Vec::new();
            if let Some(submitted) = meta.submit_time.filter(|t| t.is_finite() && *t > 0.0) {
                timeline.push(StatusChange {
                    status: "SUBMITTED".to_owned(),
                    // Unix seconds to milliseconds; the cast saturates on nonsense.
                    at_ms: (submitted * 1000.0) as u64,
                });
            }
            if timeline
                .last()
                .is_none_or(|last| last.status != meta.status)
            {
                timeline.push(StatusChange {
                    status: meta.status.clone(),
                    at_ms,
                });
            }
            TopicData::Job(JobDetail {
                meta,
                timeline,
                live,
            })
        }
        other => other,
    }
}

/// The new state of a topic and the delta from the old one.
fn diff(old: TopicData, new: TopicData, at_ms: u64) -> (TopicData, TopicDelta) {
    match (old, new) {
        (TopicData::System(old), TopicData::System(new)) => {
            let delta = if old == new {
                TopicDelta::Unchanged
            } else {
                TopicDelta::System(new.clone())
            };
            (TopicData::System(new), delta)
        }
        (TopicData::Jobs(old), TopicData::Jobs(new)) => {
            let delta = diff_jobs(&old, &new);
            (TopicData::Jobs(new), delta)
        }
        (TopicData::Job(old), TopicData::Job(new)) => {
            let mut timeline = old.timeline.clone();
            if timeline
                .last()
                .is_none_or(|last| last.status != new.meta.status)
            {
                timeline.push(StatusChange {
                    status: new.meta.status.clone(),
                    at_ms,
                });
            }
            let detail = JobDetail {
                meta: new.meta,
                timeline,
                live: new.live,
            };
            let delta = if detail == old {
                TopicDelta::Unchanged
            } else {
                TopicDelta::Job(detail.clone())
            };
            (TopicData::Job(detail), delta)
        }
        (_, new) => {
            let delta = match &new {
                TopicData::System(s) => TopicDelta::System(s.clone()),
                TopicData::Jobs(jobs) => TopicDelta::Jobs {
                    upserted: jobs.clone(),
                    removed: Vec::new(),
                },
                TopicData::Job(j) => TopicDelta::Job(j.clone()),
            };
            (new, delta)
        }
    }
}

/// Jobs added or changed, and ids gone.
pub fn diff_jobs(old: &[JobSummary], new: &[JobSummary]) -> TopicDelta {
    let before: HashMap<&str, &JobSummary> = old.iter().map(|j| (j.job_id.as_str(), j)).collect();
    let after: HashMap<&str, &JobSummary> = new.iter().map(|j| (j.job_id.as_str(), j)).collect();
    let upserted: Vec<JobSummary> = new
        .iter()
        .filter(|j| before.get(j.job_id.as_str()) != Some(j))
        .cloned()
        .collect();
    let removed: Vec<String> = old
        .iter()
        .filter(|j| !after.contains_key(j.job_id.as_str()))
        .map(|j| j.job_id.clone())
        .collect();
    if upserted.is_empty() && removed.is_empty() {
        TopicDelta::Unchanged
    } else {
        TopicDelta::Jobs { upserted, removed }
    }
}

#[cfg(test)]
mod tests;
