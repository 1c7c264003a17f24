//! The relay's shared state: users, login sessions, hubs, audit trail and the limits every
//! handler reads.

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::audit::Audit;
use crate::auth::{LoginLimiter, Sessions, User, Users};
use crate::config::{Config, Limits};
use crate::hub::{HubSettings, Hubs};
use crate::kiosk::KioskStore;
use crate::transfers::Transfers;
use crate::upstream::Connector;
use crate::ws::SocketSlots;

/// Why the relay cannot start with a configuration.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("user {user:?}: cannot use admin kit {kit}: {message}")]
    Kit {
        user: String,
        kit: PathBuf,
        message: String,
    },
    #[error(transparent)]
    Kiosk(#[from] crate::kiosk::KioskError),
    #[error("cannot open the audit file {path}: {source}")]
    AuditFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Cheap to clone; handed to every handler.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What [`AppState`] holds.
pub struct Inner {
    pub users: Users,
    pub sessions: Sessions,
    pub hubs: Hubs,
    pub audit: Arc<Audit>,
    /// Exact `Origin` values allowed.
    pub origins: Vec<String>,
    pub limits: Limits,
    pub console_dir: PathBuf,
    /// Cookies get `Secure` when the relay serves HTTPS.
    pub secure_cookies: bool,
    pub login_limiter: LoginLimiter,
    /// Bounds the password checks running at once (argon2 is CPU- and memory-heavy).
    pub password_checks: Semaphore,
    /// How long a login waits for a free password check before it is answered 503.
    pub password_check_wait: Duration,
    pub session_ttl: Duration,
    /// Uploads, downloads and the job library.
    pub transfers: Arc<Transfers>,
    /// Kiosk tokens (hashes of their secrets).
    pub kiosk: KioskStore,
    /// The WebSockets open, per login and in all.
    pub sockets: Arc<SocketSlots>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state for a relay bound at `bound`: resolves every user's NVFlare identity from
    /// its kit (a wrong kit fails here, before serving) and opens the audit file.
    pub fn new(
        config: &Config,
        connector: Arc<dyn Connector>,
        bound: SocketAddr,
    ) -> Result<AppState, StateError> {
        let mut users = Vec::new();
        for user in &config.users {
            let identity = connector.identity(&user.kit).map_err(|e| StateError::Kit {
                user: user.name.clone(),
                kit: user.kit.clone(),
                message: e.message().to_owned(),
            })?;
            users.push(User::new(
                user.name.clone(),
                user.role,
                identity,
                user.kit.clone(),
                user.study.clone(),
                user.password_hash.clone(),
            ));
        }
        let audit = match &config.audit_file {
            Some(path) => Audit::with_file(path).map_err(|source| StateError::AuditFile {
                path: path.clone(),
                source,
            })?,
            None => Audit::tracing_only(),
        };
        let session_ttl = Duration::from_secs(config.limits.session_ttl_secs);
        let session_idle = Duration::from_secs(config.limits.session_idle_secs);
        let transfers = Transfers::new(config);
        transfers.start_sweeper();
        let kiosk = KioskStore::open(
            config.kiosk_tokens_file.as_deref(),
            Duration::from_secs(config.limits.max_kiosk_token_secs),
        )?;
        let mut hub_settings = HubSettings::new(config.poll.clone(), config.limits.queue_len);
        hub_settings.idle = Duration::from_secs_f64(config.limits.hub_idle_secs);
        hub_settings.history = config.history.clone();
        let state = AppState(Arc::new(Inner {
            users: Users::new(users),
            sessions: Sessions::new(session_ttl, session_idle),
            hubs: Hubs::new(connector, hub_settings),
            audit: Arc::new(audit),
            origins: config.origins_for(bound),
            limits: config.limits.clone(),
            console_dir: config.console_dir.clone(),
            secure_cookies: config.tls.is_some(),
            login_limiter: LoginLimiter::new(
                config.limits.login_attempts_per_min,
                config.limits.login_attempts_per_account_per_min,
            ),
            password_checks: Semaphore::new(config.limits.max_concurrent_password_checks),
            password_check_wait: Duration::from_secs_f64(config.limits.password_check_wait_secs),
            session_ttl,
            transfers,
            kiosk,
            sockets: SocketSlots::new(
                config.limits.max_sockets_per_session,
                config.limits.max_sockets,
            ),
        }));
        state.start_session_reaper();
        Ok(state)
    }

    /// Ends idle and expired logins every [`Sessions::reap_every`], so their sockets close
    /// although nobody asks about them; stops when the state is dropped.
    fn start_session_reaper(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak = Arc::downgrade(&self.0);
        let every = self.sessions.reap_every();
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(state) = weak.upgrade() else {
                    return;
                };
                state.sessions.reap();
            }
        });
    }
}
