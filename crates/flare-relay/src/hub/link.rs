//! The upstream link of a hub: its NVFlare admin session as a state machine, the login loop with
//! backoff, and the link state every tab is told.

use std::sync::Arc;
use std::time::Duration;

use flare_model::{FlareError, LinkState, UpstreamState};
use tokio::time::Instant;

use super::Hub;
use crate::clock::now_ms;
use crate::sync::lock;
use crate::upstream::UpstreamSession;

/// What a hub's upstream session is doing. Exactly one login task runs while `Connecting`, and
/// none in any other state.
pub(super) enum Link {
    /// A login task runs: the first login, or again after a loss or a refusal.
    Connecting {
        /// The hub was logged in before: failures read as reconnecting, not connecting.
        was_up: bool,
        /// Failed login attempts of this task so far.
        failures: u32,
    },
    /// Logged in.
    Up { session: Arc<dyn UpstreamSession> },
    /// NVFlare refused the login (`AuthenticationError`): every command gets that error, and no
    /// login runs until a socket attaches, at most once per [`super::HubSettings::auth_retry_gap`].
    Refused {
        error: FlareError,
        since: Instant,
        was_up: bool,
    },
    /// Shut down: nothing logs in any more. A refusal that stood stays the answer to commands.
    Closed { refusal: Option<FlareError> },
}

impl Link {
    /// A fresh hub's link: its first login is under way.
    pub(super) fn new() -> Self {
        Link::Connecting {
            was_up: false,
            failures: 0,
        }
    }

    /// The session, while logged in.
    pub(super) fn session(&self) -> Option<&Arc<dyn UpstreamSession>> {
        match self {
            Link::Up { session } => Some(session),
            _ => None,
        }
    }

    /// NVFlare's refusal of the login, while it stands.
    pub(super) fn refusal(&self) -> Option<&FlareError> {
        match self {
            Link::Refused { error, .. } => Some(error),
            Link::Closed { refusal } => refusal.as_ref(),
            _ => None,
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        matches!(self, Link::Closed { .. })
    }

    /// The login task logged in: the link is up. A closed link hands the session back to be
    /// logged out.
    pub(super) fn logged_in(
        &mut self,
        session: Arc<dyn UpstreamSession>,
    ) -> Result<(), Arc<dyn UpstreamSession>> {
        if self.is_closed() {
            return Err(session);
        }
        *self = Link::Up { session };
        Ok(())
    }

    /// A login attempt failed for a reason other than a refusal: counts it and says what to tell
    /// the tabs (`Down` from the third failure on). `None` once the link is closed: the login
    /// task stops.
    pub(super) fn login_failed(&mut self) -> Option<LinkState> {
        let Link::Connecting { was_up, failures } = self else {
            return None;
        };
        *failures += 1;
        Some(if *failures >= 3 {
            LinkState::Down
        } else if *was_up {
            LinkState::Reconnecting
        } else {
            LinkState::Connecting
        })
    }

    /// NVFlare refused the login at `now`: no retry until a socket attaches.
    pub(super) fn refused(&mut self, error: FlareError, now: Instant) {
        *self = match self {
            Link::Closed { .. } => Link::Closed {
                refusal: Some(error),
            },
            Link::Connecting { was_up, .. } | Link::Refused { was_up, .. } => Link::Refused {
                error,
                since: now,
                was_up: *was_up,
            },
            Link::Up { .. } => Link::Refused {
                error,
                since: now,
                was_up: true,
            },
        };
    }

    /// `session` broke. True when it was the live one: the link is connecting again and a login
    /// task must start. A stale session (already replaced or closed) changes nothing.
    pub(super) fn lost(&mut self, session: &Arc<dyn UpstreamSession>) -> bool {
        let Link::Up { session: live } = self else {
            return false;
        };
        if !Arc::ptr_eq(live, session) {
            return false;
        }
        *self = Link::Connecting {
            was_up: true,
            failures: 0,
        };
        true
    }

    /// A socket attached at `now`. True when a refusal older than `gap` stood: the link is
    /// connecting again and a login task must start.
    pub(super) fn retry(&mut self, now: Instant, gap: Duration) -> bool {
        let Link::Refused { since, was_up, .. } = *self else {
            return false;
        };
        if now.saturating_duration_since(since) < gap {
            return false;
        }
        *self = Link::Connecting {
            was_up,
            failures: 0,
        };
        true
    }

    /// Shuts the link: returns the session to log out, if one was up.
    pub(super) fn close(&mut self) -> Option<Arc<dyn UpstreamSession>> {
        let refusal = self.refusal().cloned();
        match std::mem::replace(self, Link::Closed { refusal }) {
            Link::Up { session } => Some(session),
            _ => None,
        }
    }
}

impl Hub {
    /// Starts a login task, right after a transition into [`Link::Connecting`] and with the link
    /// lock still held (or before the hub is shared), so that a shutdown cannot slip in between
    /// and miss the task.
    pub(super) fn spawn_login(self: &Arc<Self>) {
        *lock(&self.login_task) = Some(tokio::spawn(self.clone().connect_loop()));
    }

    /// After NVFlare refused the login: tries once more, unless the last refusal is more recent
    /// than [`super::HubSettings::auth_retry_gap`].
    pub(super) fn retry_refused(self: &Arc<Self>) {
        let mut link = lock(&self.link);
        if !link.retry(Instant::now(), self.settings.auth_retry_gap) {
            return;
        }
        self.set_state(
            LinkState::Connecting,
            None,
            Some("logging in to NVFlare again".to_owned()),
        );
        self.spawn_login();
    }

    /// The live session, or why there is none. Waits for the first login for a while.
    pub(super) async fn ready_session(
        self: &Arc<Self>,
    ) -> Result<Arc<dyn UpstreamSession>, FlareError> {
        if let Some(session) = self.connected_session() {
            return Ok(session);
        }
        if let Some(refused) = self.refusal() {
            return Err(refused);
        }
        let mut state = self.state_tx.subscribe();
        if state.borrow_and_update().state == LinkState::Connecting {
            let connecting = state.wait_for(|s| s.state != LinkState::Connecting);
            let _ = tokio::time::timeout(self.settings.connect_wait, connecting).await;
            if let Some(session) = self.connected_session() {
                return Ok(session);
            }
            if let Some(refused) = self.refusal() {
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

    fn refusal(&self) -> Option<FlareError> {
        lock(&self.link).refusal().cloned()
    }

    fn connected_session(self: &Arc<Self>) -> Option<Arc<dyn UpstreamSession>> {
        let session = lock(&self.link).session()?.clone();
        if session.is_closed() {
            self.lost(&session, "the NVFlare session was closed");
            return None;
        }
        Some(session)
    }

    /// Marks the session lost (once) and starts logging in again.
    pub(super) fn lost(self: &Arc<Self>, session: &Arc<dyn UpstreamSession>, why: &str) {
        let mut link = lock(&self.link);
        if !link.lost(session) {
            return;
        }
        tracing::warn!(identity = %self.identity, study = %self.study, "upstream lost: {why}");
        self.set_state(LinkState::Reconnecting, None, Some(why.to_owned()));
        self.spawn_login();
    }

    /// The login task: tries until NVFlare answers, with exponential backoff, then ends.
    async fn connect_loop(self: Arc<Self>) {
        let mut delay = self.settings.backoff_start;
        loop {
            match self.connector.login(&self.kit, &self.study).await {
                Ok(session) => {
                    let version = session.server_version();
                    tracing::info!(
                        identity = %self.identity, study = %self.study, server_version = %version,
                        "upstream connected"
                    );
                    let up = lock(&self.link).logged_in(session);
                    if let Err(session) = up {
                        session.close().await;
                        return;
                    }
                    self.set_state(LinkState::Connected, Some(version), None);
                    self.poll_all_now();
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
                    let error = FlareError::AuthenticationError {
                        message: reason.clone(),
                        auth_code,
                    };
                    lock(&self.link).refused(error, Instant::now());
                    self.set_state(LinkState::Down, None, Some(reason));
                    return;
                }
                Err(error) => {
                    let Some(state) = lock(&self.link).login_failed() else {
                        return;
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

    /// Publishes the link state to every tab, if it changed.
    pub(super) fn set_state(
        &self,
        state: LinkState,
        server_version: Option<String>,
        message: Option<String>,
    ) {
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

#[cfg(test)]
mod tests;
