//! The hub registry: one hub per (identity, study), created on first use, held by socket leases
//! and reaped once idle.

use std::collections::HashMap;
use std::ops::Deref;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::time::Instant;

use super::Hub;
use crate::config::{HistoryConfig, PollConfig};
use crate::sync::lock;
use crate::upstream::Connector;

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
