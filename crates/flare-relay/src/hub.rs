//! Hubs: one upstream NVFlare session and one set of topic pollers per (identity, study), shared by
//! every tab mapped to it.
//!
//! Each topic is polled by its own task, only while at least one tab subscribes. A poll result is
//! diffed against the cached state and published once, pre-serialized, on a bounded
//! `tokio::sync::broadcast` channel: the hub never waits for a tab, and a tab that falls more than
//! `queue_len` events behind sees `Lagged` and gets a resync (see [`crate::ws`]).
//!
//! A watched job that is `RUNNING` or `DISPATCHED` is also asked for `show_stats` and
//! `show_errors` (all sites) on each poll; they travel as the detail's `live`, which is `None`
//! once the job is not running. After a successful job command, [`Hub::poll_soon`] re-polls the
//! topics it changed at once.
//!
//! Deltas are idempotent (upserts, removals and whole replacements), so a delta that lands after a
//! snapshot already holding it changes nothing.
//!
//! Every system poll also feeds the hub's site connectivity history ([`SiteHistoryBook`]). Besides
//! that, each hub samples `get_system_info` once per `history.sample_secs` (default 30 s) while it
//! exists, skipped when a watched system topic sampled recently: that is the only polling that runs
//! without watchers, one call per interval per (identity, study).
//!
//! Lifetime: sockets hold a [`HubLease`]; a hub without leases for `limits.hub_idle_secs` is
//! removed by [`Hubs`]' reaper, which stops its tasks and logs its upstream session out. When
//! NVFlare refuses the login itself (`AuthenticationError`, e.g. `AUTH_STUDY_NOT_CONFIGURED` for a
//! study the identity is not mapped to), the hub stays `down` with that reason, answers every
//! command with that error and does not retry until a socket attaches again (at most once per
//! [`HubSettings::auth_retry_gap`]).

use std::collections::HashMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use flare_model::{
    Command, Event, FlareError, JobDetail, JobLive, JobSummary, LinkState, ListJobsFilter,
    ReadCommand, Reply, ServerFrame, SiteHistory, StatusChange, SystemInfo, TargetType, Topic,
    TopicData, TopicDelta, UpstreamState,
};
use serde_json::{Map, Value};
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::{HistoryConfig, PollConfig};
use crate::history::SiteHistoryBook;
use crate::upstream::{Connector, UpstreamSession};

/// Tunables of every hub.
#[derive(Clone, Debug)]
pub struct HubSettings {
    pub poll: PollConfig,
    /// Events a topic buffers per tab before that tab lags.
    pub queue_len: usize,
    /// How long a command or a first poll waits for the very first login.
    pub connect_wait: Duration,
    /// First and largest pause between login attempts.
    pub backoff_start: Duration,
    pub backoff_max: Duration,
    /// After NVFlare refused the login, the least time before an attaching socket retries it.
    pub auth_retry_gap: Duration,
    /// A hub with no socket for this long is shut down.
    pub idle: Duration,
    /// The site connectivity history window and background sample interval.
    pub history: HistoryConfig,
}

impl HubSettings {
    /// Settings with the given poll intervals and queue length and the standard backoff, idle
    /// time (300 s) and history (6 h, sampled every 30 s).
    pub fn new(poll: PollConfig, queue_len: usize) -> Self {
        HubSettings {
            poll,
            queue_len,
            connect_wait: Duration::from_secs(10),
            backoff_start: Duration::from_secs(1),
            backoff_max: Duration::from_secs(15),
            auth_retry_gap: Duration::from_secs(5),
            idle: Duration::from_secs(300),
            history: HistoryConfig::default(),
        }
    }
}

type HubMap = Mutex<HashMap<(String, String), Arc<Hub>>>;

/// All hubs of the relay, created on first use.
pub struct Hubs {
    connector: Arc<dyn Connector>,
    settings: HubSettings,
    hubs: Arc<HubMap>,
}

impl Hubs {
    /// The hub registry; inside a tokio runtime it also starts the reaper of idle hubs.
    pub fn new(connector: Arc<dyn Connector>, settings: HubSettings) -> Self {
        let hubs = Arc::new(Mutex::new(HashMap::new()));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(reap(Arc::downgrade(&hubs), settings.idle));
        }
        Hubs {
            connector,
            settings,
            hubs,
        }
    }

    /// The hub of (identity, study), created (and logging in) on first use. Counts as a use for
    /// the idle timer, but does not keep the hub alive: sockets use [`Hubs::attach`].
    pub fn get(&self, identity: &str, kit: &Path, study: &str) -> Arc<Hub> {
        let mut hubs = lock(&self.hubs);
        let hub = hubs
            .entry((identity.to_owned(), study.to_owned()))
            .or_insert_with(|| {
                Hub::start(
                    identity.to_owned(),
                    kit.to_owned(),
                    study.to_owned(),
                    self.connector.clone(),
                    self.settings.clone(),
                )
            })
            .clone();
        *lock(&hub.last_used) = Instant::now();
        hub
    }

    /// The hub of (identity, study) for a socket: kept alive while the lease lives. A hub whose
    /// login NVFlare refused tries again (see [`HubSettings::auth_retry_gap`]).
    pub fn attach(&self, identity: &str, kit: &Path, study: &str) -> HubLease {
        let lease = self.get_leased(identity, kit, study);
        lease.retry_refused();
        lease
    }

    fn get_leased(&self, identity: &str, kit: &Path, study: &str) -> HubLease {
        let hub = self.get(identity, kit, study);
        let map = lock(&self.hubs);
        hub.leases.fetch_add(1, Ordering::SeqCst);
        let registered = map
            .get(&(identity.to_owned(), study.to_owned()))
            .is_some_and(|h| Arc::ptr_eq(h, &hub));
        drop(map);
        if registered {
            return HubLease { hub };
        }
        // Reaped between get and the lease: start over with a fresh hub.
        hub.leases.fetch_sub(1, Ordering::SeqCst);
        self.get_leased(identity, kit, study)
    }

    /// The hub of (identity, study) if it exists; never logs in.
    pub fn existing(&self, identity: &str, study: &str) -> Option<Arc<Hub>> {
        lock(&self.hubs)
            .get(&(identity.to_owned(), study.to_owned()))
            .cloned()
    }

    /// The settings every hub gets.
    pub fn settings(&self) -> &HubSettings {
        &self.settings
    }

    /// How many hubs exist.
    pub fn len(&self) -> usize {
        lock(&self.hubs).len()
    }

    /// True before any hub was created.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Removes hubs without leases idle for `idle`, until the registry is gone.
async fn reap(hubs: Weak<HubMap>, idle: Duration) {
    let tick = (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(30));
    loop {
        tokio::time::sleep(tick).await;
        let Some(hubs) = hubs.upgrade() else {
            return;
        };
        let idle_hubs: Vec<Arc<Hub>> = {
            let mut map = lock(&hubs);
            let mut gone = Vec::new();
            map.retain(|_, hub| {
                let keep =
                    hub.leases.load(Ordering::SeqCst) > 0 || lock(&hub.last_used).elapsed() < idle;
                if !keep {
                    gone.push(hub.clone());
                }
                keep
            });
            gone
        };
        for hub in idle_hubs {
            hub.shutdown();
        }
    }
}

/// A socket's hold on a hub: while one exists the hub is not shut down for idleness.
pub struct HubLease {
    hub: Arc<Hub>,
}

impl HubLease {
    /// The hub itself.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }
}

impl Deref for HubLease {
    type Target = Arc<Hub>;
    fn deref(&self) -> &Arc<Hub> {
        &self.hub
    }
}

impl Drop for HubLease {
    fn drop(&mut self) {
        *lock(&self.hub.last_used) = Instant::now();
        self.hub.leases.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One upstream session and its pollers.
pub struct Hub {
    identity: String,
    study: String,
    kit: PathBuf,
    connector: Arc<dyn Connector>,
    settings: HubSettings,
    link: Mutex<Link>,
    state_tx: watch::Sender<UpstreamState>,
    topics: Mutex<HashMap<Topic, TopicEntry>>,
    history: Mutex<SiteHistoryBook>,
    /// Sockets attached ([`HubLease`]s alive).
    leases: AtomicUsize,
    last_used: Mutex<Instant>,
    sampler: Mutex<Option<JoinHandle<()>>>,
}

struct Link {
    session: Option<Arc<dyn UpstreamSession>>,
    reconnecting: bool,
    ever_connected: bool,
    /// The login task while one runs.
    task: Option<JoinHandle<()>>,
    /// NVFlare refused the login (`AuthenticationError`): no retry until a socket attaches.
    refused: Option<(FlareError, Instant)>,
    /// Set by [`Hub::shutdown`]: nothing logs in any more.
    closed: bool,
}

struct TopicEntry {
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
    fn start(
        identity: String,
        kit: PathBuf,
        study: String,
        connector: Arc<dyn Connector>,
        settings: HubSettings,
    ) -> Arc<Hub> {
        let history =
            SiteHistoryBook::new(settings.history.keep(), settings.history.sample_every());
        let (state_tx, _) = watch::channel(UpstreamState {
            state: LinkState::Connecting,
            server_version: None,
            message: None,
            at_ms: now_ms(),
        });
        let hub = Arc::new(Hub {
            identity,
            study,
            kit,
            connector,
            settings,
            link: Mutex::new(Link {
                session: None,
                reconnecting: true,
                ever_connected: false,
                task: None,
                refused: None,
                closed: false,
            }),
            state_tx,
            topics: Mutex::new(HashMap::new()),
            history: Mutex::new(history),
            leases: AtomicUsize::new(0),
            last_used: Mutex::new(Instant::now()),
            sampler: Mutex::new(None),
        });
        let task = tokio::spawn(hub.clone().connect_loop());
        lock(&hub.link).task = Some(task);
        *lock(&hub.sampler) = Some(tokio::spawn(hub.clone().sample_loop()));
        hub
    }

    /// Stops the hub: its pollers, sampler and login task end and the upstream session logs out.
    /// Called by the reaper once the hub is out of the registry.
    pub fn shutdown(&self) {
        let session = {
            let mut link = lock(&self.link);
            link.closed = true;
            if let Some(task) = link.task.take() {
                task.abort();
            }
            link.session.take()
        };
        if let Some(sampler) = lock(&self.sampler).take() {
            sampler.abort();
        }
        for entry in lock(&self.topics).values_mut() {
            if let Some(poller) = entry.poller.take() {
                poller.abort();
            }
        }
        self.set_state(
            LinkState::Down,
            None,
            Some("the relay closed this idle NVFlare session".to_owned()),
        );
        tracing::info!(identity = %self.identity, study = %self.study, "idle hub shut down");
        if let Some(session) = session {
            tokio::spawn(async move { session.close().await });
        }
    }

    /// True once [`Hub::shutdown`] ran.
    pub fn is_shut_down(&self) -> bool {
        lock(&self.link).closed
    }

    /// Sockets attached now.
    pub fn leases(&self) -> usize {
        self.leases.load(Ordering::SeqCst)
    }

    /// The site connectivity history this hub recorded.
    pub fn site_history(&self) -> SiteHistory {
        lock(&self.history).snapshot()
    }

    fn record_sites(&self, info: &SystemInfo) {
        lock(&self.history).record(now_ms(), info.client_info.iter().map(|c| c.name.as_str()));
    }

    /// The background sample: one `get_system_info` per `history.sample_secs`, skipped when the
    /// watched system topic polled within that interval (its poll already recorded a sample).
    async fn sample_loop(self: Arc<Self>) {
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

    /// After NVFlare refused the login: tries once more, unless the last refusal is more recent
    /// than [`HubSettings::auth_retry_gap`].
    fn retry_refused(self: &Arc<Self>) {
        let mut link = lock(&self.link);
        let due = link
            .refused
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() >= self.settings.auth_retry_gap);
        if !due || link.closed || link.reconnecting {
            return;
        }
        link.refused = None;
        link.reconnecting = true;
        self.set_state(
            LinkState::Connecting,
            None,
            Some("logging in to NVFlare again".to_owned()),
        );
        link.task = Some(tokio::spawn(self.clone().connect_loop()));
    }

    /// The NVFlare identity this hub acts as.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The study of the upstream session.
    pub fn study(&self) -> &str {
        &self.study
    }

    /// The link state, as pushed to tabs; a fresh receiver sees the current state first.
    pub fn upstream(&self) -> watch::Receiver<UpstreamState> {
        self.state_tx.subscribe()
    }

    /// True while the topic has a running poller.
    pub fn is_polling(&self, topic: &Topic) -> bool {
        lock(&self.topics)
            .get(topic)
            .is_some_and(|e| e.poller.is_some())
    }

    /// Runs one command upstream. Crate-private: tabs go through the role capabilities of
    /// [`crate::session`].
    pub(crate) async fn execute(self: &Arc<Self>, command: &Command) -> Result<Reply, FlareError> {
        let session = self.ready_session().await?;
        let result = session.execute(command).await;
        self.check_result(&session, &result);
        result
    }

    /// Submits a job folder upstream (see [`UpstreamSession::submit_job`]). Crate-private like
    /// [`Hub::execute`].
    pub(crate) async fn submit_job(
        self: &Arc<Self>,
        job_dir: &Path,
        submit_token: Option<&str>,
    ) -> Result<String, FlareError> {
        let session = self.ready_session().await?;
        let result = session.submit_job(job_dir, submit_token).await;
        self.check_result(&session, &result);
        result
    }

    /// Pulls a job's result or components into a new folder under `dest_dir` (see
    /// [`UpstreamSession::download_job`]).
    pub(crate) async fn download_job(
        self: &Arc<Self>,
        job_id: &str,
        dest_dir: &Path,
        components: bool,
    ) -> Result<PathBuf, FlareError> {
        let session = self.ready_session().await?;
        let result = session.download_job(job_id, dest_dir, components).await;
        self.check_result(&session, &result);
        result
    }

    /// Marks the session lost when a call's error says the connection is gone.
    fn check_result<T>(
        self: &Arc<Self>,
        session: &Arc<dyn UpstreamSession>,
        result: &Result<T, FlareError>,
    ) {
        if let Err(error) = result
            && (error.is_connection_lost() || session.is_closed())
        {
            self.lost(session, error.message());
        }
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

    /// Polls the topic at once (or right after the poll under way) if someone watches it; used
    /// after a command that changed it, so tabs need not wait for the next tick.
    pub fn poll_soon(&self, topic: &Topic) {
        if let Some(entry) = lock(&self.topics).get(topic)
            && entry.poller.is_some()
        {
            entry.poll_now.notify_one();
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
            Ok(data) => {
                entry.last_error = None;
                let (data, event) = match entry.cache.take() {
                    None => {
                        let data = seed(data, at_ms);
                        let event = Event::Snapshot {
                            topic: topic.clone(),
                            data: data.clone(),
                            at_ms,
                        };
                        (data, event)
                    }
                    Some(old) => {
                        let (data, delta) = diff(old.data, data, at_ms);
                        let event = Event::Delta {
                            topic: topic.clone(),
                            delta,
                            at_ms,
                        };
                        (data, event)
                    }
                };
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

    /// The live session, or why there is none. Waits for the first login for a while.
    async fn ready_session(self: &Arc<Self>) -> Result<Arc<dyn UpstreamSession>, FlareError> {
        if let Some(session) = self.connected_session() {
            return Ok(session);
        }
        if let Some(refused) = self.refused() {
            return Err(refused);
        }
        let mut state = self.state_tx.subscribe();
        if state.borrow_and_update().state == LinkState::Connecting {
            let connecting = state.wait_for(|s| s.state != LinkState::Connecting);
            let _ = tokio::time::timeout(self.settings.connect_wait, connecting).await;
            if let Some(session) = self.connected_session() {
                return Ok(session);
            }
            if let Some(refused) = self.refused() {
                return Err(refused);
            }
        }
        let why = self
            .state_tx
            .borrow()
            .message
            .clone()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        Err(FlareError::NoConnection {
            message: format!("the relay is reconnecting to the NVFlare server{why}"),
        })
    }

    fn refused(&self) -> Option<FlareError> {
        lock(&self.link).refused.as_ref().map(|(e, _)| e.clone())
    }

    fn connected_session(self: &Arc<Self>) -> Option<Arc<dyn UpstreamSession>> {
        let session = lock(&self.link).session.clone()?;
        if session.is_closed() {
            self.lost(&session, "the NVFlare session was closed");
            return None;
        }
        Some(session)
    }

    /// Marks the session lost (once) and starts logging in again.
    fn lost(self: &Arc<Self>, session: &Arc<dyn UpstreamSession>, why: &str) {
        let mut link = lock(&self.link);
        let same = link
            .session
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, session));
        if !same {
            return;
        }
        link.session = None;
        if link.closed {
            return;
        }
        tracing::warn!(identity = %self.identity, study = %self.study, "upstream lost: {why}");
        self.set_state(LinkState::Reconnecting, None, Some(why.to_owned()));
        if !link.reconnecting {
            link.reconnecting = true;
            link.task = Some(tokio::spawn(self.clone().connect_loop()));
        }
    }

    async fn connect_loop(self: Arc<Self>) {
        let mut delay = self.settings.backoff_start;
        let mut failures = 0u32;
        loop {
            match self.connector.login(&self.kit, &self.study).await {
                Ok(session) => {
                    let version = session.server_version();
                    tracing::info!(
                        identity = %self.identity, study = %self.study, server_version = %version,
                        "upstream connected"
                    );
                    let closed = {
                        let mut link = lock(&self.link);
                        if !link.closed {
                            link.session = Some(session.clone());
                            link.reconnecting = false;
                            link.ever_connected = true;
                        }
                        link.closed
                    };
                    if closed {
                        session.close().await;
                        return;
                    }
                    self.set_state(LinkState::Connected, Some(version), None);
                    for entry in lock(&self.topics).values() {
                        if entry.poller.is_some() {
                            entry.poll_now.notify_one();
                        }
                    }
                    return;
                }
                Err(FlareError::AuthenticationError { message, auth_code }) => {
                    let code = auth_code.as_deref().unwrap_or("no code");
                    let reason = format!(
                        "NVFlare refused the login of {} to study {:?}: {message} ({code}); \
                         reconnect to try again",
                        self.identity, self.study
                    );
                    tracing::warn!(identity = %self.identity, study = %self.study, "{reason}");
                    {
                        let mut link = lock(&self.link);
                        link.refused = Some((
                            FlareError::AuthenticationError {
                                message: reason.clone(),
                                auth_code,
                            },
                            Instant::now(),
                        ));
                        link.reconnecting = false;
                    }
                    self.set_state(LinkState::Down, None, Some(reason));
                    return;
                }
                Err(error) => {
                    failures += 1;
                    let ever = lock(&self.link).ever_connected;
                    let state = if failures >= 3 {
                        LinkState::Down
                    } else if ever {
                        LinkState::Reconnecting
                    } else {
                        LinkState::Connecting
                    };
                    let message = format!(
                        "login to NVFlare failed: {}; retrying in {}s",
                        error.message(),
                        delay.as_secs_f64()
                    );
                    tracing::warn!(identity = %self.identity, study = %self.study, "{message}");
                    self.set_state(state, None, Some(message));
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.settings.backoff_max);
                }
            }
        }
    }

    fn set_state(&self, state: LinkState, server_version: Option<String>, message: Option<String>) {
        self.state_tx.send_if_modified(|current| {
            let changed = current.state != state
                || current.server_version != server_version
                || current.message != message;
            if changed {
                *current = UpstreamState {
                    state,
                    server_version,
                    message,
                    at_ms: now_ms(),
                };
            }
            changed
        });
    }
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

/// True for a job status whose job may have a live server process to ask for stats and errors.
fn is_live_status(status: &str) -> bool {
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

/// An event as the text frame every tab receives.
pub fn event_frame(event: Event) -> Utf8Bytes {
    frame_text(&ServerFrame::Event { event })
}

/// Any server frame as JSON text.
pub fn frame_text(frame: &ServerFrame) -> Utf8Bytes {
    // The wire types are plain data with string keys: serializing them cannot fail.
    let text = serde_json::to_string(frame).unwrap_or_else(|e| {
        tracing::error!("cannot serialize a server frame: {e}");
        String::from("{}")
    });
    Utf8Bytes::from(text)
}

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Locks a mutex whose data stays consistent even if a holder panicked (every critical section
/// here is a few assignments).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
