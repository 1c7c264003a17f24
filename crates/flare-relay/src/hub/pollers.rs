//! The topic pollers: one task per watched topic, the live stats of a watched running job, re-polls
//! after job commands, the site history sample, and what a new subscriber starts from.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use flare_model::{
    Command, Event, FlareError, JobDetail, JobLive, ListJobsFilter, ReadCommand, Reply, SystemInfo,
    TargetType, Topic, TopicData,
};
use serde_json::{Map, Value};
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::diff::{advance, is_live_status};
use super::{Hub, event_frame};
use crate::clock::now_ms;
use crate::sync::lock;

/// One topic of a hub: its fan-out channel, watchers, poller and last poll.
pub(super) struct TopicEntry {
    tx: broadcast::Sender<Utf8Bytes>,
    subscribers: usize,
    poller: Option<JoinHandle<()>>,
    poll_now: Arc<Notify>,
    /// Bumped after every poll attempt, successful or not.
    generation: watch::Sender<u64>,
    cache: Option<Cached>,
    last_error: Option<FlareError>,
}

struct Cached {
    data: TopicData,
    at: Instant,
    at_ms: u64,
}

impl TopicEntry {
    fn new(queue_len: usize) -> Self {
        let (tx, _) = broadcast::channel(queue_len.max(1));
        let (generation, _) = watch::channel(0);
        TopicEntry {
            tx,
            subscribers: 0,
            poller: None,
            poll_now: Arc::new(Notify::new()),
            generation,
            cache: None,
            last_error: None,
        }
    }
}

/// Holds one tab's interest in a topic; dropping it lets the poller stop when nobody is left.
pub struct Subscription {
    hub: Arc<Hub>,
    topic: Topic,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.release(&self.topic);
    }
}

impl Subscription {
    /// The topic this subscription holds.
    pub fn topic(&self) -> &Topic {
        &self.topic
    }
}

/// What a new (or resynced) subscriber starts from: its receiver of later events and the frames
/// to send first (a snapshot and/or the last poll error).
pub struct Start {
    pub rx: broadcast::Receiver<Utf8Bytes>,
    pub frames: Vec<Utf8Bytes>,
}

impl Hub {
    /// True while the topic has a running poller.
    pub fn is_polling(&self, topic: &Topic) -> bool {
        lock(&self.topics)
            .get(topic)
            .is_some_and(|e| e.poller.is_some())
    }

    /// Subscribes a tab to a topic: starts the poller if needed and returns a snapshot from the
    /// cache when it is fresh, else after the next poll.
    pub async fn subscribe(self: &Arc<Self>, topic: Topic) -> (Subscription, Start) {
        let (fresh, mut generation) = {
            let mut topics = lock(&self.topics);
            let entry = topics
                .entry(topic.clone())
                .or_insert_with(|| TopicEntry::new(self.settings.queue_len));
            entry.subscribers += 1;
            let mut generation = entry.generation.subscribe();
            generation.borrow_and_update();
            let interval = self.interval(&topic);
            let fresh = entry
                .cache
                .as_ref()
                .is_some_and(|c| c.at.elapsed() < interval);
            if entry.poller.is_none() {
                let poll_now = entry.poll_now.clone();
                entry.poller = Some(tokio::spawn(self.clone().poller(topic.clone(), poll_now)));
            } else if !fresh {
                entry.poll_now.notify_one();
            }
            (fresh, generation)
        };
        let subscription = Subscription {
            hub: self.clone(),
            topic: topic.clone(),
        };
        if !fresh {
            let wait = self.settings.connect_wait + self.interval(&topic);
            // A timeout still yields what the cache holds: an old snapshot is better than none.
            let _ = tokio::time::timeout(wait, generation.changed()).await;
        }
        let start = self.restart(&topic);
        (subscription, start)
    }

    /// A new receiver and the current snapshot of a topic, taken together so that no event falls
    /// between them; used on subscribe and on resync.
    pub fn restart(&self, topic: &Topic) -> Start {
        let mut topics = lock(&self.topics);
        let entry = topics
            .entry(topic.clone())
            .or_insert_with(|| TopicEntry::new(self.settings.queue_len));
        let rx = entry.tx.subscribe();
        let mut frames = Vec::new();
        if let Some(cached) = &entry.cache {
            frames.push(event_frame(Event::Snapshot {
                topic: topic.clone(),
                data: cached.data.clone(),
                at_ms: cached.at_ms,
            }));
        }
        if let Some(error) = &entry.last_error {
            frames.push(event_frame(Event::TopicError {
                topic: topic.clone(),
                error: error.clone(),
                at_ms: now_ms(),
            }));
        }
        Start { rx, frames }
    }

    fn release(&self, topic: &Topic) {
        let mut topics = lock(&self.topics);
        let Some(entry) = topics.get_mut(topic) else {
            return;
        };
        entry.subscribers = entry.subscribers.saturating_sub(1);
        if entry.subscribers == 0 {
            if let Some(poller) = entry.poller.take() {
                poller.abort();
            }
            if matches!(topic, Topic::Job { .. }) {
                topics.remove(topic);
            }
        }
    }

    /// Polls the topic at once (or right after the poll under way) if someone watches it; used
    /// after a command that changed it, so tabs need not wait for the next tick.
    pub fn poll_soon(&self, topic: &Topic) {
        if let Some(entry) = lock(&self.topics).get(topic)
            && entry.poller.is_some()
        {
            entry.poll_now.notify_one();
        }
    }

    /// Polls every watched topic at once; used when the link comes up.
    pub(super) fn poll_all_now(&self) {
        for entry in lock(&self.topics).values() {
            if entry.poller.is_some() {
                entry.poll_now.notify_one();
            }
        }
    }

    /// Stops every poller; used on shutdown.
    pub(super) fn stop_pollers(&self) {
        for entry in lock(&self.topics).values_mut() {
            if let Some(poller) = entry.poller.take() {
                poller.abort();
            }
        }
    }

    fn interval(&self, topic: &Topic) -> Duration {
        match topic {
            Topic::System => self.settings.poll.system(),
            Topic::Jobs => self.settings.poll.jobs(),
            Topic::Job { .. } => self.settings.poll.job(),
        }
    }

    async fn poller(self: Arc<Self>, topic: Topic, poll_now: Arc<Notify>) {
        let interval = self.interval(&topic);
        loop {
            let started = Instant::now();
            let result = self.poll(&topic).await;
            self.publish(&topic, result);
            tokio::select! {
                () = tokio::time::sleep_until(started + interval) => {}
                () = poll_now.notified() => {}
            }
        }
    }

    async fn poll(self: &Arc<Self>, topic: &Topic) -> Result<TopicData, FlareError> {
        let command = match topic {
            Topic::System => ReadCommand::GetSystemInfo,
            Topic::Jobs => ReadCommand::ListJobs(ListJobsFilter::default()),
            Topic::Job { job_id } => ReadCommand::GetJobMeta {
                job_id: job_id.clone(),
            },
        };
        let reply = self.execute(&Command::Read(command)).await?;
        match (topic, reply) {
            (Topic::System, Reply::SystemInfo(info)) => {
                self.record_sites(&info);
                Ok(TopicData::System(info))
            }
            (Topic::Jobs, Reply::Jobs(jobs)) => Ok(TopicData::Jobs(jobs)),
            (Topic::Job { job_id }, Reply::JobMeta(meta)) => {
                let live = if is_live_status(&meta.status) {
                    self.poll_live(topic, job_id).await
                } else {
                    None
                };
                Ok(TopicData::Job(JobDetail {
                    meta,
                    timeline: Vec::new(),
                    live,
                }))
            }
            (_, other) => Err(FlareError::InternalError {
                message: format!("unexpected reply while polling {topic:?}: {other:?}"),
            }),
        }
    }

    /// `show_stats` and `show_errors` of a running job. `None` when the server says the job is not
    /// running; on any other failure the last live data stays (the meta poll goes on regardless).
    async fn poll_live(self: &Arc<Self>, topic: &Topic, job_id: &str) -> Option<JobLive> {
        let stats = Command::Read(ReadCommand::ShowStats {
            job_id: job_id.to_owned(),
            target_type: TargetType::All,
            targets: Vec::new(),
        });
        let errors = Command::Read(ReadCommand::ShowErrors {
            job_id: job_id.to_owned(),
            target_type: TargetType::All,
            targets: Vec::new(),
        });
        let (stats, errors) = tokio::join!(self.execute(&stats), self.execute(&errors));
        let failure = match (stats, errors) {
            (Ok(Reply::SiteMap(stats)), Ok(Reply::SiteMap(mut errors))) => {
                // NVFlare 2.9 answers a site without errors with the text "No Error"; the model
                // wants an empty map there.
                for errors in errors.values_mut() {
                    if errors
                        .as_str()
                        .is_some_and(|s| s.trim().eq_ignore_ascii_case("no error"))
                    {
                        *errors = Value::Object(Map::new());
                    }
                }
                return Some(JobLive { stats, errors });
            }
            (Err(e @ FlareError::JobNotRunning { .. }), _)
            | (_, Err(e @ FlareError::JobNotRunning { .. })) => {
                tracing::debug!(job_id, "no live stats: {e}");
                return None;
            }
            (Err(e), _) | (_, Err(e)) => e.to_string(),
            (Ok(stats), Ok(errors)) => {
                format!("unexpected replies to show_stats/show_errors: {stats:?} / {errors:?}")
            }
        };
        tracing::debug!(
            identity = %self.identity, study = %self.study, job_id,
            "cannot poll the live stats of a running job, keeping the last: {failure}"
        );
        let topics = lock(&self.topics);
        match topics.get(topic).and_then(|e| e.cache.as_ref()) {
            Some(Cached {
                data: TopicData::Job(detail),
                ..
            }) => detail.live.clone(),
            _ => None,
        }
    }

    /// Diffs a poll result against the cache, stores it, and publishes the event.
    fn publish(&self, topic: &Topic, result: Result<TopicData, FlareError>) {
        let mut topics = lock(&self.topics);
        let Some(entry) = topics.get_mut(topic) else {
            return;
        };
        let at_ms = now_ms();
        let event = match result {
            Ok(polled) => {
                entry.last_error = None;
                let cached = entry.cache.take().map(|c| c.data);
                let (data, event) = advance(topic, cached, polled, at_ms);
                entry.cache = Some(Cached {
                    data,
                    at: Instant::now(),
                    at_ms,
                });
                event
            }
            Err(error) => {
                entry.last_error = Some(error.clone());
                Event::TopicError {
                    topic: topic.clone(),
                    error,
                    at_ms,
                }
            }
        };
        // No receiver is fine: the subscriber that asked for this poll reads the cache.
        let _ = entry.tx.send(event_frame(event));
        entry.generation.send_modify(|g| *g += 1);
    }

    fn record_sites(&self, info: &SystemInfo) {
        lock(&self.history).record(now_ms(), info.client_info.iter().map(|c| c.name.as_str()));
    }

    /// The background sample: one `get_system_info` per `history.sample_secs`, skipped when the
    /// watched system topic polled within that interval (its poll already recorded a sample).
    pub(super) async fn sample_loop(self: Arc<Self>) {
        let every = self.settings.history.sample_every();
        loop {
            tokio::time::sleep(every).await;
            let recent = lock(&self.topics).get(&Topic::System).is_some_and(|e| {
                e.poller.is_some() && e.cache.as_ref().is_some_and(|c| c.at.elapsed() < every)
            });
            if recent {
                continue;
            }
            match self
                .execute(&Command::Read(ReadCommand::GetSystemInfo))
                .await
            {
                Ok(Reply::SystemInfo(info)) => self.record_sites(&info),
                Ok(other) => tracing::debug!("unexpected reply to get_system_info: {other:?}"),
                Err(e) => tracing::debug!(
                    identity = %self.identity, study = %self.study,
                    "no site history sample: {e}"
                ),
            }
        }
    }
}
