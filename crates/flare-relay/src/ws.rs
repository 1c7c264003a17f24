//! One tab's WebSocket: the hello, then browser frames (commands, subscriptions) in and replies and
//! hub events out. Written against any `Sink`/`Stream` of messages so it can be driven without a
//! network in tests.
//!
//! The loop's state is a [`TabLoop`] with one method per `select!` arm; frame parsing lives in
//! `ws/frames.rs`. The socket holds the tab's [`TabSession`] for commands and its
//! [`Subscriptions`] for live views, never the hub: a viewer's socket has no way to a mutating
//! command but the session's refusal.
//!
//! Commands and subscriptions run on tasks the [`TabLoop`] owns (a `JoinSet`): when the tab ends,
//! for whatever reason, they are aborted, so a `wait_for_job` or any other call in flight never
//! outlives its socket. `wait_for_job` / `monitor_job` are bounded on the way in: a `poll_interval`
//! below `limits.min_job_poll_secs` is raised to it, a `timeout` above `limits.max_job_wait_secs`
//! (or 0, "forever") lowered to it. Sockets themselves are capped per login and in all (`slots`),
//! before the upgrade.

use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use flare_model::{
    ClientBody, Command, Event, Hello, PROTOCOL_VERSION, ReadCommand, Reply, ServerFrame, Topic,
    UpstreamState,
};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::config::Limits;
use crate::hub::{Start, Subscription, event_frame, frame_text};
use crate::ratelimit::TokenBucket;
use crate::session::{Subscriptions, TabSession};

mod frames;
mod slots;

pub use flare_model::wire::close_code::{
    KIOSK_REVOKED as CLOSE_KIOSK_REVOKED, LAGGING as CLOSE_LAGGING,
    SESSION_ENDED as CLOSE_SESSION_ENDED, TOO_BIG as CLOSE_TOO_BIG,
};
pub use frames::{BadFrame, FrameError, parse_command, parse_frame};
use frames::{bad_request, rate_limited};
pub use slots::{SocketRefusal, SocketSlot, SocketSlots};

/// Topics one tab may watch at once.
const MAX_TOPICS_PER_TAB: usize = 64;
/// Lags further apart than this do not count towards closing a tab.
const LAG_MEMORY: Duration = Duration::from_secs(60);

/// Everything a tab's loop needs.
pub struct Tab {
    /// The tab's capability: commands, who it acts for, and its subscriptions.
    pub session: Arc<TabSession>,
    pub limits: Limits,
    /// Becomes true when the console login ends.
    pub ended: watch::Receiver<bool>,
    /// True when the login ended because its kiosk token was revoked.
    pub revoked: Arc<AtomicBool>,
    pub expires_at: Instant,
}

/// Why a tab's loop ended.
#[derive(Debug, PartialEq, Eq)]
pub enum TabEnd {
    /// The browser closed or the connection broke.
    Gone,
    /// A write did not finish within the write timeout.
    WriteStalled,
    /// The tab lagged more than `max_lag_resyncs` times.
    Lagging,
    /// The console login ended.
    SessionEnded,
    /// The kiosk token of the login was revoked.
    KioskRevoked,
    /// The browser sent a message above the size limit.
    TooBig,
}

impl TabEnd {
    /// The close frame the relay sends for this end, if any.
    fn close_frame(&self) -> Option<(u16, &'static str)> {
        match self {
            TabEnd::Lagging => Some((CLOSE_LAGGING, "the tab fell behind too often; reconnect")),
            TabEnd::SessionEnded => Some((CLOSE_SESSION_ENDED, "the console session ended")),
            TabEnd::KioskRevoked => Some((CLOSE_KIOSK_REVOKED, "kiosk token revoked")),
            TabEnd::TooBig => Some((CLOSE_TOO_BIG, "message too big")),
            TabEnd::Gone | TabEnd::WriteStalled => None,
        }
    }
}

/// A failed socket read, told apart by type.
pub trait ReadError: Display {
    /// True when the browser's message (or frame) was above the size limit.
    fn is_too_big(&self) -> bool;
}

/// axum's socket error wraps tungstenite's, which says `Capacity(MessageTooLong)` for a message
/// or frame above `max_message_size` / `max_frame_size`.
impl ReadError for axum::Error {
    fn is_too_big(&self) -> bool {
        use tungstenite::error::{CapacityError, Error};
        let inner = std::error::Error::source(self).and_then(|e| e.downcast_ref::<Error>());
        matches!(
            inner,
            Some(Error::Capacity(CapacityError::MessageTooLong { .. }))
        )
    }
}

/// A frame a spawned task hands back to the loop.
enum Outgoing {
    Frame(Utf8Bytes),
    Subscribed {
        id: u64,
        topic: Topic,
        subscription: Subscription,
        start: Start,
    },
}

/// How often a tab lagged lately.
#[derive(Debug)]
struct Lags {
    count: u32,
    last: Instant,
}

impl Lags {
    fn new(now: Instant) -> Self {
        Lags {
            count: 0,
            last: now,
        }
    }

    /// Counts a lag at `now` and returns the lags so far; one more than [`LAG_MEMORY`] after the
    /// last starts the count again.
    fn record(&mut self, now: Instant) -> u32 {
        if now.saturating_duration_since(self.last) > LAG_MEMORY {
            self.count = 0;
        }
        self.count += 1;
        self.last = now;
        self.count
    }
}

/// Runs one tab until it closes.
pub async fn run<S, R, E>(sink: S, stream: R, tab: Tab) -> TabEnd
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: ReadError,
{
    let expires_at = tab.expires_at;
    let mut tab = TabLoop::new(sink, tab);
    if let Err(end) = tab.hello().await {
        return end;
    }
    let end = tab.serve(stream, expires_at).await;
    tab.close(end).await
}

/// A tab's loop: the socket's write half, what the tab watches, and its limits.
struct TabLoop<S> {
    sink: S,
    session: Arc<TabSession>,
    subscriptions: Subscriptions,
    limits: Limits,
    write_timeout: Duration,
    ended: watch::Receiver<bool>,
    revoked: Arc<AtomicBool>,
    upstream: watch::Receiver<UpstreamState>,
    /// Replies of commands and subscriptions that ran on their own tasks.
    out_tx: mpsc::Sender<Outgoing>,
    out_rx: mpsc::Receiver<Outgoing>,
    /// Events of the topics subscribed.
    topics: StreamMap<Topic, BroadcastStream<Utf8Bytes>>,
    subscribed: HashMap<Topic, Subscription>,
    /// Topics asked for whose subscription is not back yet.
    pending: HashSet<Topic>,
    inflight: Arc<Semaphore>,
    /// The tab's commands and subscriptions in flight; aborted when the loop is dropped.
    tasks: JoinSet<()>,
    bucket: TokenBucket,
    lags: Lags,
}

impl<S: Sink<Message> + Unpin> TabLoop<S> {
    fn new(sink: S, tab: Tab) -> Self {
        let subscriptions = tab.session.subscriptions();
        let upstream = subscriptions.upstream();
        let (out_tx, out_rx) = mpsc::channel(64);
        let rate = tab.limits.max_commands_per_sec;
        TabLoop {
            sink,
            session: tab.session,
            subscriptions,
            write_timeout: Duration::from_secs_f64(tab.limits.write_timeout_secs),
            inflight: Arc::new(Semaphore::new(tab.limits.max_inflight_commands)),
            bucket: TokenBucket::new(rate, rate * 2.0),
            limits: tab.limits,
            ended: tab.ended,
            revoked: tab.revoked,
            upstream,
            out_tx,
            out_rx,
            topics: StreamMap::new(),
            subscribed: HashMap::new(),
            pending: HashSet::new(),
            tasks: JoinSet::new(),
            lags: Lags::new(Instant::now()),
        }
    }

    fn user(&self) -> &str {
        &self.session.actor().user
    }

    /// Writes frames in order, each within the write timeout.
    async fn write_all(
        &mut self,
        frames: impl IntoIterator<Item = Utf8Bytes>,
    ) -> Result<(), TabEnd> {
        for frame in frames {
            let send = self.sink.send(Message::Text(frame));
            match tokio::time::timeout(self.write_timeout, send).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(TabEnd::Gone),
                Err(_) => return Err(TabEnd::WriteStalled),
            }
        }
        Ok(())
    }

    /// The hello and the current upstream state.
    async fn hello(&mut self) -> Result<(), TabEnd> {
        let actor = self.session.actor();
        let hello = ServerFrame::Hello {
            hello: Hello {
                protocol: PROTOCOL_VERSION,
                role: actor.role,
                user: actor.user.clone(),
                identity: actor.identity.clone(),
                study: actor.study.clone(),
                relay_version: env!("CARGO_PKG_VERSION").to_owned(),
            },
        };
        let state = self.upstream.borrow_and_update().clone();
        let upstream = event_frame(Event::Upstream(state));
        self.write_all([frame_text(&hello), upstream]).await
    }

    /// Serves the tab until it ends.
    async fn serve<R, E>(&mut self, mut stream: R, expires_at: Instant) -> TabEnd
    where
        R: Stream<Item = Result<Message, E>> + Unpin,
        E: ReadError,
    {
        let expiry = tokio::time::sleep_until(expires_at);
        tokio::pin!(expiry);
        loop {
            let step = tokio::select! {
                () = &mut expiry => Err(TabEnd::SessionEnded),
                changed = self.ended.changed() => self.on_login_changed(changed.is_ok()),
                message = stream.next() => self.on_message(message).await,
                Some(out) = self.out_rx.recv() => self.on_outgoing(out).await,
                Some((topic, item)) = self.topics.next(), if !self.topics.is_empty() => {
                    self.on_topic(topic, item).await
                }
                Ok(()) = self.upstream.changed() => self.on_upstream().await,
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    self.on_task_done(done)
                }
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    /// Sends the close frame `end` calls for, within the write timeout.
    async fn close(mut self, end: TabEnd) -> TabEnd {
        // First: nothing the tab started may go on talking to NVFlare while the close is sent.
        self.tasks.abort_all();
        if let Some((code, reason)) = end.close_frame() {
            let frame = Message::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from(reason),
            }));
            let _ = tokio::time::timeout(self.write_timeout, self.sink.send(frame)).await;
        }
        tracing::debug!(user = %self.user(), ?end, "tab closed");
        end
    }

    /// The login changed (`live` false once its sender is gone): a revocation or logout ends the
    /// tab.
    fn on_login_changed(&self, live: bool) -> Result<(), TabEnd> {
        if self.revoked.load(Ordering::SeqCst) {
            return Err(TabEnd::KioskRevoked);
        }
        if !live || *self.ended.borrow() {
            return Err(TabEnd::SessionEnded);
        }
        Ok(())
    }

    /// A message from the browser.
    async fn on_message<E: ReadError>(
        &mut self,
        message: Option<Result<Message, E>>,
    ) -> Result<(), TabEnd> {
        let text = match message {
            None | Some(Ok(Message::Close(_))) => return Err(TabEnd::Gone),
            Some(Err(e)) => {
                tracing::debug!(user = %self.user(), "websocket read failed: {e}");
                return Err(if e.is_too_big() {
                    TabEnd::TooBig
                } else {
                    TabEnd::Gone
                });
            }
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                let message = "binary frames are not accepted: send JSON text frames";
                return self.write_all([bad_request(0, message)]).await;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => return Ok(()),
        };
        match self.on_text(&text) {
            Some(reply) => self.write_all([reply]).await,
            None => Ok(()),
        }
    }

    /// Handles one text frame; returns the frame to answer with at once, if any. Every frame,
    /// a bad one too, takes a token of the tab's rate limit.
    fn on_text(&mut self, text: &str) -> Option<Utf8Bytes> {
        let frame = parse_frame(text);
        let id = match &frame {
            Ok(frame) => frame.id,
            Err(bad) => bad.id,
        };
        if self.bucket.take().is_err() {
            let per_sec = self.limits.max_commands_per_sec;
            let message = format!("too many requests: this tab may send {per_sec} per second");
            return Some(rate_limited(id, message));
        }
        let frame = match frame {
            Ok(frame) => frame,
            Err(bad) => return Some(bad_request(id, &bad.error.to_string())),
        };
        match frame.body {
            ClientBody::Command(command) => self.command(id, command),
            ClientBody::Subscribe(topic) => self.subscribe(id, topic),
            ClientBody::Unsubscribe(topic) => Some(self.unsubscribe(id, &topic)),
        }
    }

    /// Runs a command (bounded, see [`bounded`]) on a task of the tab; its reply comes back
    /// through `out_tx`.
    fn command(&mut self, id: u64, command: Command) -> Option<Utf8Bytes> {
        let Ok(permit) = self.inflight.clone().try_acquire_owned() else {
            let message = format!(
                "too many commands in flight: at most {} per tab",
                self.limits.max_inflight_commands
            );
            return Some(rate_limited(id, message));
        };
        let command = bounded(command, &self.limits);
        let session = self.session.clone();
        let out_tx = self.out_tx.clone();
        self.tasks.spawn(async move {
            let _permit = permit;
            let frame = match session.dispatch(command).await {
                Ok(ok) => ServerFrame::Ok { id, ok },
                Err(error) => ServerFrame::Error { id, error },
            };
            // The tab may be gone by now; then nobody needs the reply.
            let _ = out_tx.send(Outgoing::Frame(frame_text(&frame))).await;
        });
        None
    }

    /// Subscribes on its own task (the first snapshot may wait for a poll); the subscription
    /// comes back through `out_tx`.
    fn subscribe(&mut self, id: u64, topic: Topic) -> Option<Utf8Bytes> {
        if let Topic::Job { job_id } = &topic
            && job_id.is_empty()
        {
            return Some(bad_request(id, "a job topic needs a job_id"));
        }
        if self.subscribed.contains_key(&topic) || self.pending.contains(&topic) {
            return Some(done(id));
        }
        if self.subscribed.len() + self.pending.len() >= MAX_TOPICS_PER_TAB {
            let message = format!("a tab may watch at most {MAX_TOPICS_PER_TAB} topics");
            return Some(bad_request(id, &message));
        }
        self.pending.insert(topic.clone());
        let subscriptions = self.subscriptions.clone();
        let out_tx = self.out_tx.clone();
        self.tasks.spawn(async move {
            let (subscription, start) = subscriptions.subscribe(topic.clone()).await;
            let subscribed = Outgoing::Subscribed {
                id,
                topic,
                subscription,
                start,
            };
            let _ = out_tx.send(subscribed).await;
        });
        None
    }

    fn unsubscribe(&mut self, id: u64, topic: &Topic) -> Utf8Bytes {
        self.pending.remove(topic);
        self.topics.remove(topic);
        self.subscribed.remove(topic);
        done(id)
    }

    /// A command's reply or a subscription, back from its task.
    async fn on_outgoing(&mut self, out: Outgoing) -> Result<(), TabEnd> {
        match out {
            Outgoing::Frame(frame) => self.write_all([frame]).await,
            Outgoing::Subscribed {
                id,
                topic,
                subscription,
                start,
            } => {
                if !self.pending.remove(&topic) {
                    return Ok(()); // unsubscribed while waiting
                }
                self.subscribed.insert(topic.clone(), subscription);
                self.topics.insert(topic, BroadcastStream::new(start.rx));
                self.write_all(std::iter::once(done(id)).chain(start.frames))
                    .await
            }
        }
    }

    /// An event of a watched topic, or word that the tab fell behind it: a resync (a fresh
    /// receiver and snapshot), or the end once it happened too often.
    async fn on_topic(
        &mut self,
        topic: Topic,
        item: Result<Utf8Bytes, BroadcastStreamRecvError>,
    ) -> Result<(), TabEnd> {
        let missed = match item {
            Ok(frame) => return self.write_all([frame]).await,
            Err(BroadcastStreamRecvError::Lagged(missed)) => missed,
        };
        let lags = self.lags.record(Instant::now());
        tracing::info!(user = %self.user(), ?topic, missed, lags, "tab lagged");
        if lags > self.limits.max_lag_resyncs {
            return Err(TabEnd::Lagging);
        }
        let Start { rx, frames } = self.subscriptions.restart(&topic);
        self.topics.insert(topic.clone(), BroadcastStream::new(rx));
        let resync = event_frame(Event::Resync {
            topic,
            reason: format!("the tab fell {missed} events behind"),
        });
        self.write_all(std::iter::once(resync).chain(frames)).await
    }

    /// A command or subscription task ended; one that panicked is logged.
    fn on_task_done(&self, done: Result<(), JoinError>) -> Result<(), TabEnd> {
        if let Err(e) = done
            && e.is_panic()
        {
            tracing::error!(user = %self.user(), "a command task of the tab panicked: {e}");
        }
        Ok(())
    }

    /// The upstream link changed state.
    async fn on_upstream(&mut self) -> Result<(), TabEnd> {
        let state = self.upstream.borrow_and_update().clone();
        self.write_all([event_frame(Event::Upstream(state))]).await
    }
}

/// `command` within the relay's bounds: a `wait_for_job` / `monitor_job` polls no more often than
/// every `min_job_poll_secs` and waits at most `max_job_wait_secs` (a `timeout` of 0 or less,
/// "forever" for NVFlare, becomes that ceiling too). Other commands pass unchanged.
pub fn bounded(mut command: Command, limits: &Limits) -> Command {
    if let Command::Read(
        ReadCommand::WaitForJob {
            timeout,
            poll_interval,
            ..
        }
        | ReadCommand::MonitorJob {
            timeout,
            poll_interval,
            ..
        },
    ) = &mut command
    {
        let (floor, ceiling) = (limits.min_job_poll_secs, limits.max_job_wait_secs);
        if timeout.is_nan() || *timeout <= 0.0 || *timeout > ceiling {
            *timeout = ceiling;
        }
        if !poll_interval.is_finite() {
            *poll_interval = floor;
        }
        *poll_interval = poll_interval.clamp(floor, timeout.max(floor));
    }
    command
}

/// The `ok: done` reply to a subscription change.
fn done(id: u64) -> Utf8Bytes {
    frame_text(&ServerFrame::Ok {
        id,
        ok: Reply::Done,
    })
}

#[cfg(test)]
mod tests;
