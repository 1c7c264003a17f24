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
//!
//! Inside: `registry` (the hubs and their reaper), `link` (the upstream session as a state
//! machine, and the login loop), `pollers` (topic polling, live stats, the history sample) and
//! `diff` (the pure seed and diff of poll results).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use flare_model::{
    Command, Event, FlareError, LinkState, Reply, ServerFrame, SiteHistory, Topic, UpstreamState,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::clock::now_ms;
use crate::history::SiteHistoryBook;
use crate::sync::lock;
use crate::upstream::{Connector, UpstreamSession};

mod diff;
mod link;
mod pollers;
mod registry;

pub use diff::diff_jobs;
use link::Link;
use pollers::TopicEntry;
pub use pollers::{Start, Subscription};
pub use registry::{HubLease, HubSettings, Hubs};

/// One upstream session and its pollers.
pub struct Hub {
    identity: String,
    study: String,
    kit: PathBuf,
    connector: Arc<dyn Connector>,
    settings: HubSettings,
    link: Mutex<Link>,
    /// The login task while the link is connecting (a finished one after).
    login_task: Mutex<Option<JoinHandle<()>>>,
    state_tx: watch::Sender<UpstreamState>,
    topics: Mutex<HashMap<Topic, TopicEntry>>,
    history: Mutex<SiteHistoryBook>,
    /// Sockets attached ([`HubLease`]s alive).
    leases: AtomicUsize,
    last_used: Mutex<Instant>,
    sampler: Mutex<Option<JoinHandle<()>>>,
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
            link: Mutex::new(Link::new()),
            login_task: Mutex::new(None),
            state_tx,
            topics: Mutex::new(HashMap::new()),
            history: Mutex::new(history),
            leases: AtomicUsize::new(0),
            last_used: Mutex::new(Instant::now()),
            sampler: Mutex::new(None),
        });
        hub.spawn_login();
        *lock(&hub.sampler) = Some(tokio::spawn(hub.clone().sample_loop()));
        hub
    }

    /// Stops the hub: its pollers, sampler and login task end and the upstream session logs out.
    /// Called by the reaper once the hub is out of the registry.
    pub fn shutdown(&self) {
        let session = {
            let mut link = lock(&self.link);
            if let Some(task) = lock(&self.login_task).take() {
                task.abort();
            }
            link.close()
        };
        if let Some(sampler) = lock(&self.sampler).take() {
            sampler.abort();
        }
        self.stop_pollers();
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
        lock(&self.link).is_closed()
    }

    /// Sockets attached now.
    pub fn leases(&self) -> usize {
        self.leases.load(Ordering::SeqCst)
    }

    /// The site connectivity history this hub recorded.
    pub fn site_history(&self) -> SiteHistory {
        lock(&self.history).snapshot()
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
