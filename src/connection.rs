//! The live link to the relay: one WebSocket per tab that reconnects with exponential backoff,
//! resubscribes every watched topic, and feeds pushed events into the [`Store`].

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use flare_model::wire::close_code;
use flare_model::{
    ClientBody, ClientFrame, Command, Event, FlareError, Hello, LinkState, Reply, ServerFrame,
    Topic, UpstreamState,
};
use futures::channel::{mpsc, oneshot};
use futures::future::{self, Either};
use futures::{Sink, SinkExt, Stream, StreamExt};
use gloo_net::websocket::{Message, WebSocketError, futures::WebSocket};
use leptos::prelude::*;

use crate::api::{ApiError, Auth, UnauthorizedApi};
use crate::state::Store;
use crate::time::now_ms;

/// First retry delay after the socket drops.
pub const FIRST_BACKOFF_MS: u64 = 500;
/// Longest retry delay.
pub const MAX_BACKOFF_MS: u64 = 10_000;

/// The retry delay after `current_ms`: doubled, at most [`MAX_BACKOFF_MS`].
pub fn next_backoff(current_ms: u64) -> u64 {
    (current_ms.saturating_mul(2)).clamp(FIRST_BACKOFF_MS, MAX_BACKOFF_MS)
}

/// The browser side of the socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketState {
    /// First attempt, not yet greeted by the relay.
    Connecting,
    /// The relay said hello.
    Open,
    /// The socket dropped; the next attempt starts in `retry_ms`.
    Reconnecting { reason: String, retry_ms: u64 },
}

/// What the header's connection indicator shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    /// `data-state`: connected, connecting, reconnecting or down.
    pub state: &'static str,
    pub label: &'static str,
    /// The reason or detail, for the tooltip.
    pub title: String,
}

/// Combines the socket and the relay's upstream link into one indicator.
pub fn indicator(socket: &SocketState, upstream: Option<&UpstreamState>) -> Indicator {
    let reason = |u: &UpstreamState, fallback: &str| {
        u.message.clone().unwrap_or_else(|| fallback.to_owned())
    };
    match socket {
        SocketState::Connecting => Indicator {
            state: "connecting",
            label: "Connecting…",
            title: "Opening the live connection to the relay".to_owned(),
        },
        SocketState::Reconnecting { reason, retry_ms } => Indicator {
            state: "reconnecting",
            label: "Reconnecting…",
            title: format!(
                "Lost the relay: {reason}. Retrying in {:.1} s; the data shown may be stale.",
                *retry_ms as f64 / 1_000.0
            ),
        },
        SocketState::Open => match upstream {
            None => Indicator {
                state: "connecting",
                label: "Connecting…",
                title: "Waiting for the relay's link to NVFlare".to_owned(),
            },
            Some(u) => match u.state {
                LinkState::Connected => Indicator {
                    state: "connected",
                    label: "Connected",
                    title: match &u.server_version {
                        Some(v) => format!("Connected to NVFlare {v}"),
                        None => "Connected to NVFlare".to_owned(),
                    },
                },
                LinkState::Connecting => Indicator {
                    state: "connecting",
                    label: "Connecting…",
                    title: reason(u, "The relay is logging in to NVFlare"),
                },
                LinkState::Reconnecting => Indicator {
                    state: "reconnecting",
                    label: "Reconnecting…",
                    title: reason(u, "The relay lost NVFlare and is reconnecting"),
                },
                LinkState::Down => Indicator {
                    state: "down",
                    label: "Upstream down",
                    title: reason(u, "The relay cannot reach the NVFlare server"),
                },
            },
        },
    }
}

/// A subscribe or unsubscribe frame as JSON text.
fn frame_text(id: u64, body: ClientBody) -> String {
    // Serializing these plain enums cannot fail.
    serde_json::to_string(&ClientFrame { id, body }).unwrap_or_default()
}

#[derive(Default)]
struct Inner {
    /// Watched topics and how many views watch each.
    topics: BTreeMap<Topic, usize>,
    /// The current socket's outbox; None between sockets.
    tx: Option<mpsc::UnboundedSender<String>>,
    /// True once the current socket got its hello: subscriptions go out from then on.
    ready: bool,
    next_id: u64,
    /// Subscribe requests waiting for their reply, so an error lands on the right panel.
    pending: HashMap<u64, Topic>,
    /// Set when the socket is closed on purpose to reconnect to another study: no back-off then.
    switching: bool,
    /// Commands waiting for their reply. Dropped with the socket: the caller then learns that the
    /// connection was lost before the answer came.
    waiting: HashMap<u64, oneshot::Sender<Result<Reply, FlareError>>>,
    closed: bool,
}

impl Inner {
    fn send(&mut self, body: ClientBody) -> Option<u64> {
        if !self.ready {
            return None;
        }
        let tx = self.tx.as_ref()?;
        self.next_id += 1;
        let id = self.next_id;
        tx.unbounded_send(frame_text(id, body)).ok()?;
        Some(id)
    }

    fn subscribe(&mut self, topic: Topic) {
        if let Some(id) = self.send(ClientBody::Subscribe(topic.clone())) {
            self.pending.insert(id, topic);
        }
    }
}

/// How long [`Connection::command`] waits for the socket to be greeted before giving up.
pub const CONNECT_WAIT_MS: u64 = 20_000;

/// The error a command gets when the socket drops before its reply.
pub fn connection_lost() -> FlareError {
    FlareError::NoConnection {
        message: "the connection to the relay dropped before the reply came; the command may or \
                  may not have run"
            .to_owned(),
    }
}

/// True for an error after which the command may or may not have reached NVFlare.
pub fn outcome_unknown(error: &FlareError) -> bool {
    matches!(
        error,
        FlareError::NoConnection { .. } | FlareError::NoReply { .. }
    )
}

/// The tab's connection; cheap to copy, provided as context by the signed-in shell.
#[derive(Clone, Copy)]
pub struct Connection {
    pub socket: RwSignal<SocketState>,
    pub hello: RwSignal<Option<Hello>>,
    pub store: RwSignal<Store>,
    /// The study this tab asked for (`/ws?study=`); None = the session's default study.
    pub study: RwSignal<Option<String>>,
    /// True once the relay closed the socket with 4003: this kiosk screen's link was revoked.
    pub revoked: RwSignal<bool>,
    auth: RwSignal<Auth>,
    inner: StoredValue<Inner, LocalStorage>,
}

impl Connection {
    /// A connection not yet started; `auth` is set to signed-out when the relay forgets the session.
    pub fn new(auth: RwSignal<Auth>) -> Self {
        Connection {
            socket: RwSignal::new(SocketState::Connecting),
            hello: RwSignal::new(None),
            store: RwSignal::new(Store::default()),
            study: RwSignal::new(None),
            revoked: RwSignal::new(false),
            auth,
            inner: StoredValue::new_local(Inner::default()),
        }
    }

    /// Starts the connect / read / back off / reconnect loop.
    pub fn start(self) {
        leptos::task::spawn_local(self.run());
    }

    /// Closes the socket and stops reconnecting.
    pub fn close(self) {
        let _ = self.inner.try_update_value(|inner| {
            inner.closed = true;
            inner.ready = false;
            inner.waiting.clear();
            // Dropping the outbox ends the writer, which closes the socket.
            inner.tx = None;
        });
    }

    /// Attaches the tab to `study` (None: the session's default): drops what it knows of the old
    /// study and reconnects at once with `?study=`. No-op when already there.
    pub fn set_study(self, study: Option<String>) {
        if self.study.get_untracked() == study {
            return;
        }
        self.study.set(study);
        self.hello.set(None);
        self.store.update(|s| {
            s.system = Default::default();
            s.jobs = Default::default();
            s.job.clear();
        });
        self.socket.set(SocketState::Connecting);
        let _ = self.inner.try_update_value(|inner| {
            if inner.tx.is_some() {
                inner.switching = true;
            }
            inner.ready = false;
            inner.waiting.clear();
            // Dropping the outbox ends the writer, which closes the socket; `run` reconnects.
            inner.tx = None;
        });
    }

    /// Sends one command and waits for its reply. Waits (at most [`CONNECT_WAIT_MS`]) for the
    /// socket when it is between connections.
    pub async fn command(self, command: impl Into<Command>) -> Result<Reply, FlareError> {
        let text_for =
            |id: u64, command: &Command| frame_text(id, ClientBody::Command(command.clone()));
        let command = command.into();
        let deadline = now_ms() + CONNECT_WAIT_MS;
        loop {
            let sent = self
                .inner
                .try_update_value(|inner| {
                    if !inner.ready {
                        return None;
                    }
                    let tx = inner.tx.clone()?;
                    inner.next_id += 1;
                    let id = inner.next_id;
                    tx.unbounded_send(text_for(id, &command)).ok()?;
                    let (reply_tx, reply_rx) = oneshot::channel();
                    inner.waiting.insert(id, reply_tx);
                    Some(reply_rx)
                })
                .flatten();
            if let Some(rx) = sent {
                return rx.await.unwrap_or_else(|_| Err(connection_lost()));
            }
            if self.is_closed() || now_ms() >= deadline {
                return Err(FlareError::NoConnection {
                    message: "not connected to the relay; try again when the connection is back"
                        .to_owned(),
                });
            }
            sleep(200).await;
        }
    }

    fn is_closed(self) -> bool {
        self.inner.try_with_value(|i| i.closed).unwrap_or(true)
    }

    /// Starts watching `topic` (counted: the relay is asked once however many views watch it).
    pub fn subscribe(self, topic: Topic) {
        self.inner.update_value(|inner| {
            let count = inner.topics.entry(topic.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                inner.subscribe(topic);
            }
        });
    }

    /// Stops watching `topic`; the last watcher unsubscribes at the relay.
    pub fn unsubscribe(self, topic: &Topic) {
        let gone = self
            .inner
            .try_update_value(|inner| {
                let Some(count) = inner.topics.get_mut(topic) else {
                    return false;
                };
                *count -= 1;
                if *count > 0 {
                    return false;
                }
                inner.topics.remove(topic);
                inner.send(ClientBody::Unsubscribe(topic.clone()));
                true
            })
            .unwrap_or(false);
        if gone {
            let _ = self.store.try_update(|s| s.forget(topic));
        }
    }

    /// Handles one text frame from the relay. Frames that arrive after the signed-in frame is gone
    /// (the socket is still closing) are dropped: every access below is a `try_` one.
    pub fn handle_text(self, text: &str) {
        let frame: ServerFrame = match serde_json::from_str(text) {
            Ok(frame) => frame,
            Err(err) => {
                leptos::logging::warn!("flare-console: ignoring a frame it cannot read: {err}");
                return;
            }
        };
        match frame {
            ServerFrame::Hello { hello } => {
                let _ = self.hello.try_set(Some(hello));
                let _ = self.socket.try_set(SocketState::Open);
                let _ = self.inner.try_update_value(|inner| {
                    inner.ready = true;
                    inner.pending.clear();
                    let topics: Vec<Topic> = inner.topics.keys().cloned().collect();
                    for topic in topics {
                        inner.subscribe(topic);
                    }
                });
            }
            ServerFrame::Event { event } => {
                let now = now_ms();
                let _ = self.store.try_update(|s| {
                    s.apply(event, now);
                });
            }
            ServerFrame::Ok { id, ok } => {
                let waiter = self
                    .inner
                    .try_update_value(|inner| {
                        inner.pending.remove(&id);
                        inner.waiting.remove(&id)
                    })
                    .flatten();
                if let Some(tx) = waiter {
                    let _ = tx.send(Ok(ok));
                }
            }
            ServerFrame::Error { id, error } => {
                let waiter = self
                    .inner
                    .try_update_value(|inner| inner.waiting.remove(&id))
                    .flatten();
                if let Some(tx) = waiter {
                    let _ = tx.send(Err(error));
                    return;
                }
                let topic = self
                    .inner
                    .try_update_value(|inner| inner.pending.remove(&id))
                    .flatten();
                match topic {
                    Some(topic) => {
                        let _ = self.store.try_update(|s| {
                            s.apply(
                                Event::TopicError {
                                    topic,
                                    error,
                                    at_ms: now_ms(),
                                },
                                now_ms(),
                            );
                        });
                    }
                    None => leptos::logging::warn!("flare-console: request {id} failed: {error}"),
                }
            }
        }
    }

    async fn run(self) {
        let mut backoff = FIRST_BACKOFF_MS;
        while !self.is_closed() {
            let (reason, greeted, code) = self.run_socket().await;
            if self.is_closed() {
                break;
            }
            if code == Some(close_code::KIOSK_REVOKED) {
                let _ = self.revoked.try_set(true);
                self.close();
                break;
            }
            let switching = self
                .inner
                .try_update_value(|i| std::mem::take(&mut i.switching))
                .unwrap_or(false);
            if switching {
                continue;
            }
            if greeted {
                backoff = FIRST_BACKOFF_MS;
            }
            // A dropped socket may mean the relay forgot the session: then sign-in is the way on.
            if let Err(ApiError::Unauthorized(_)) = UnauthorizedApi.session().await {
                self.close();
                self.auth.set(Auth::SignedOut { by_user: false });
                break;
            }
            if self
                .socket
                .try_set(SocketState::Reconnecting {
                    reason,
                    retry_ms: backoff,
                })
                .is_some()
            {
                // try_set hands the value back when the signal is gone: the frame was unmounted.
                break;
            }
            sleep(backoff).await;
            backoff = next_backoff(backoff);
        }
    }

    /// One socket's life. Returns why it ended, whether the relay greeted it, and the close code.
    async fn run_socket(self) -> (String, bool, Option<u16>) {
        let study = self.study.get_untracked();
        let ws = match WebSocket::open(&ws_url(study.as_deref())) {
            Ok(ws) => ws,
            Err(err) => return (format!("cannot open a WebSocket ({err})"), false, None),
        };
        let (write, read) = ws.split();
        let (tx, rx) = mpsc::unbounded::<String>();
        // Closed meanwhile: dropping the outbox here ends the pump, which closes the socket.
        let _ = self.inner.try_update_value(|inner| {
            if !inner.closed {
                inner.tx = Some(tx);
                inner.ready = false;
            }
        });
        // The pump owns both halves: when it returns they are dropped, and dropping gloo's
        // WebSocket is what closes it (its `Sink::poll_close` does nothing).
        let (reason, code) = self.pump(read, write, rx).await;
        let _ = self.inner.try_update_value(|inner| {
            inner.tx = None;
            inner.ready = false;
            // Their replies will never come on this socket.
            inner.waiting.clear();
        });
        // The state is Connecting or Reconnecting before each socket; only a hello makes it Open.
        let greeted = self.socket.try_get_untracked() == Some(SocketState::Open);
        (reason, greeted, code)
    }

    /// Moves frames both ways until the relay closes the socket or the outbox is dropped
    /// ([`Connection::set_study`], [`Connection::close`]). Returns why it ended and the close
    /// code. Ending on a dropped outbox matters: a socket that carries no events (a page that only
    /// sends commands) would otherwise stay open, and `run` would never reconnect.
    async fn pump<R, W>(
        self,
        mut read: R,
        mut write: W,
        mut outbox: mpsc::UnboundedReceiver<String>,
    ) -> (String, Option<u16>)
    where
        R: Stream<Item = Result<Message, WebSocketError>> + Unpin,
        W: Sink<Message> + Unpin,
    {
        enum Step {
            In(Option<Result<Message, WebSocketError>>),
            Out(Option<String>),
        }
        loop {
            let step = match future::select(read.next(), outbox.next()).await {
                Either::Left((msg, _)) => Step::In(msg),
                Either::Right((text, _)) => Step::Out(text),
            };
            match step {
                Step::Out(Some(text)) => {
                    if write.send(Message::Text(text)).await.is_err() {
                        return ("cannot write to the relay".to_owned(), None);
                    }
                }
                Step::Out(None) => return ("the connection was closed".to_owned(), None),
                Step::In(None) => return ("the relay closed the connection".to_owned(), None),
                Step::In(Some(Ok(Message::Text(text)))) => {
                    // Switched to another study meanwhile: this socket's frames are not ours.
                    if self
                        .inner
                        .try_with_value(|i| i.tx.is_none())
                        .unwrap_or(true)
                    {
                        return ("the connection was closed".to_owned(), None);
                    }
                    self.handle_text(&text)
                }
                Step::In(Some(Ok(Message::Bytes(_)))) => {}
                Step::In(Some(Err(WebSocketError::ConnectionClose(ev)))) => {
                    let reason = if !ev.reason.is_empty() {
                        ev.reason
                    } else if ev.code == 1006 {
                        "the relay cannot be reached".to_owned()
                    } else {
                        format!("the connection closed (code {})", ev.code)
                    };
                    return (reason, Some(ev.code));
                }
                Step::In(Some(Err(err))) => return (err.to_string(), None),
            }
        }
    }
}

/// The socket path: `/ws`, or `/ws?study=<name>` for another study than the default.
pub fn ws_path(study: Option<&str>) -> String {
    match study {
        Some(s) => format!("/ws?study={}", encode_component(s)),
        None => "/ws".to_owned(),
    }
}

/// Percent-encodes a URL query or path component (study names are `[a-z0-9_-]`, but be safe).
pub fn encode_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `ws(s)://<this host>/ws[?study=]`.
fn ws_url(study: Option<&str>) -> String {
    let location = window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    format!(
        "{scheme}://{}{}",
        location.host().unwrap_or_default(),
        ws_path(study)
    )
}

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep(ms: u64) {
    let (tx, rx) = oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = tx.send(());
        },
        Duration::from_millis(ms),
    );
    // The sender lives in the timer callback; it is dropped only after firing.
    let _ = rx.await;
}

/// Watches `topic` while the calling component lives; returns the connection from context.
pub fn use_topic(topic: Topic) -> Connection {
    let conn = expect_context::<Connection>();
    conn.subscribe(topic.clone());
    on_cleanup(move || conn.unsubscribe(&topic));
    conn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_half_a_second_to_ten() {
        let mut delays = vec![FIRST_BACKOFF_MS];
        while delays.len() < 8 {
            delays.push(next_backoff(*delays.last().unwrap()));
        }
        assert_eq!(
            delays,
            [500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]
        );
    }

    fn upstream(state: LinkState, message: Option<&str>) -> UpstreamState {
        UpstreamState {
            state,
            server_version: Some("2.9.0".to_owned()),
            message: message.map(str::to_owned),
            at_ms: 0,
        }
    }

    #[test]
    fn indicator_combines_socket_and_upstream() {
        let up = upstream(LinkState::Connected, None);
        let down = upstream(LinkState::Down, Some("connection refused"));
        let cases = [
            (SocketState::Connecting, None, "connecting"),
            (SocketState::Open, None, "connecting"),
            (SocketState::Open, Some(&up), "connected"),
            (SocketState::Open, Some(&down), "down"),
            (
                SocketState::Reconnecting {
                    reason: "x".to_owned(),
                    retry_ms: 500,
                },
                Some(&up),
                "reconnecting",
            ),
        ];
        for (socket, upstream, want) in cases {
            assert_eq!(indicator(&socket, upstream).state, want, "{socket:?}");
        }
        assert_eq!(
            indicator(&SocketState::Open, Some(&down)).title,
            "connection refused"
        );
        assert_eq!(
            indicator(&SocketState::Open, Some(&up)).title,
            "Connected to NVFlare 2.9.0"
        );
    }

    const HELLO: &str = r#"{"hello":{"protocol":1,"role":"operator","user":"u","identity":"admin@nvidia.com","study":"default","relay_version":"0"}}"#;

    /// Gives the connection a fresh outbox, as a new socket does, and returns its receiving end.
    fn new_socket(conn: Connection) -> mpsc::UnboundedReceiver<String> {
        let (tx, rx) = mpsc::unbounded();
        conn.inner.update_value(|i| {
            i.tx = Some(tx);
            i.ready = false;
        });
        rx
    }

    fn drain(rx: &mut mpsc::UnboundedReceiver<String>) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    #[test]
    fn every_watched_topic_is_resubscribed_after_each_hello() {
        let conn = Connection::new(RwSignal::new(Auth::Checking));
        let job = Topic::Job {
            job_id: "j1".to_owned(),
        };
        let mut rx = new_socket(conn);
        conn.subscribe(Topic::Jobs);
        conn.subscribe(Topic::Jobs);
        conn.subscribe(job.clone());
        assert!(
            drain(&mut rx).is_empty(),
            "nothing goes out before the hello"
        );

        conn.handle_text(HELLO);
        assert_eq!(
            drain(&mut rx),
            [
                r#"{"id":1,"subscribe":"jobs"}"#,
                r#"{"id":2,"subscribe":{"job":{"job_id":"j1"}}}"#
            ]
        );

        // The socket drops; a new one gets the same topics again.
        let mut rx = new_socket(conn);
        conn.handle_text(HELLO);
        assert_eq!(drain(&mut rx).len(), 2);

        // Two views watch jobs: only the last one to leave unsubscribes.
        conn.unsubscribe(&Topic::Jobs);
        assert!(drain(&mut rx).is_empty());
        conn.unsubscribe(&Topic::Jobs);
        assert_eq!(drain(&mut rx), [r#"{"id":5,"unsubscribe":"jobs"}"#]);
    }

    #[test]
    fn a_refused_subscription_lands_on_its_panel() {
        let conn = Connection::new(RwSignal::new(Auth::Checking));
        let mut rx = new_socket(conn);
        conn.handle_text(HELLO);
        conn.subscribe(Topic::Job {
            job_id: "gone".to_owned(),
        });
        assert_eq!(drain(&mut rx).len(), 1);
        conn.handle_text(
            r#"{"id":1,"error":{"kind":"job_not_found","message":"no such job: gone"}}"#,
        );
        let store = conn.store.get_untracked();
        assert!(matches!(
            store.job["gone"].error,
            Some(flare_model::FlareError::JobNotFound { .. })
        ));
    }

    #[test]
    fn a_command_reply_reaches_its_caller_and_a_dropped_socket_fails_the_rest() {
        use futures::FutureExt;
        let conn = Connection::new(RwSignal::new(Auth::Checking));
        let mut rx = new_socket(conn);
        conn.handle_text(HELLO);
        let mut first = Box::pin(conn.command(flare_model::ReadCommand::ListStudies));
        assert!(first.as_mut().now_or_never().is_none());
        assert_eq!(drain(&mut rx), [r#"{"id":1,"command":"list_studies"}"#]);
        conn.handle_text(r#"{"id":1,"ok":{"job_id":"j9"}}"#);
        assert_eq!(
            first.now_or_never(),
            Some(Ok(Reply::JobId("j9".to_owned())))
        );

        let mut second = Box::pin(conn.command(flare_model::MutateCommand::AbortJob {
            job_id: "j9".to_owned(),
        }));
        assert!(second.as_mut().now_or_never().is_none());
        conn.inner.update_value(|i| i.waiting.clear());
        assert_eq!(second.now_or_never(), Some(Err(connection_lost())));
    }

    #[test]
    fn switching_study_ends_a_socket_that_carries_nothing() {
        use futures::FutureExt;
        let conn = Connection::new(RwSignal::new(Auth::Checking));
        let (tx, outbox) = mpsc::unbounded();
        conn.inner.update_value(|i| i.tx = Some(tx));
        let (sink, mut sent) = mpsc::unbounded::<Message>();
        // The relay sends nothing after the hello: a page that only runs commands.
        let mut pump = Box::pin(conn.pump(futures::stream::pending(), sink, outbox));
        assert!(pump.as_mut().now_or_never().is_none());
        conn.handle_text(HELLO);
        conn.subscribe(Topic::Jobs);
        assert!(pump.as_mut().now_or_never().is_none());
        assert_eq!(
            sent.try_recv().ok(),
            Some(Message::Text(r#"{"id":1,"subscribe":"jobs"}"#.to_owned()))
        );

        conn.set_study(Some("cancer-2".to_owned()));
        assert!(
            pump.now_or_never().is_some(),
            "the old socket must end so that run reconnects with ?study="
        );
        assert!(conn.inner.with_value(|i| i.switching));
        assert_eq!(conn.study.get_untracked().as_deref(), Some("cancer-2"));
        assert_eq!(conn.socket.get_untracked(), SocketState::Connecting);
    }

    #[test]
    fn study_goes_into_the_socket_query() {
        assert_eq!(ws_path(None), "/ws");
        assert_eq!(ws_path(Some("cancer-2")), "/ws?study=cancer-2");
        assert_eq!(ws_path(Some("a b")), "/ws?study=a%20b");
    }

    #[test]
    fn subscribe_frames_match_the_wire() {
        assert_eq!(
            frame_text(3, ClientBody::Subscribe(Topic::Jobs)),
            r#"{"id":3,"subscribe":"jobs"}"#
        );
        assert_eq!(
            frame_text(
                4,
                ClientBody::Unsubscribe(Topic::Job {
                    job_id: "j".to_owned()
                })
            ),
            r#"{"id":4,"unsubscribe":{"job":{"job_id":"j"}}}"#
        );
    }
}
