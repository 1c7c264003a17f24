//! One tab's WebSocket: the hello, then browser frames (commands, subscriptions) in and replies and
//! hub events out. Written against any `Sink`/`Stream` of messages so it can be driven without a
//! network in tests.

use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use flare_model::{
    ClientBody, ClientFrame, Command, Event, FlareError, Hello, MutateCommand, PROTOCOL_VERSION,
    ReadCommand, Reply, ServerFrame, Topic,
};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::Instant;
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::audit::Audit;
use crate::config::Limits;
use crate::hub::{Hub, Start, Subscription, event_frame, frame_text};
use crate::ratelimit::TokenBucket;
use crate::session::{Actor, TabSession};

pub use flare_model::wire::close_code::{
    KIOSK_REVOKED as CLOSE_KIOSK_REVOKED, LAGGING as CLOSE_LAGGING,
    SESSION_ENDED as CLOSE_SESSION_ENDED, TOO_BIG as CLOSE_TOO_BIG,
};

/// Topics one tab may watch at once.
const MAX_TOPICS_PER_TAB: usize = 64;
/// Lags further apart than this do not count towards closing a tab.
const LAG_MEMORY: Duration = Duration::from_secs(60);

/// Everything a tab's loop needs.
pub struct Tab {
    pub session: Arc<TabSession>,
    pub actor: Actor,
    pub hub: Arc<Hub>,
    pub audit: Arc<Audit>,
    pub limits: Limits,
    /// Becomes true when the console login ends.
    pub ended: watch::Receiver<bool>,
    /// True when the login ended because its kiosk token was revoked.
    pub revoked: Arc<std::sync::atomic::AtomicBool>,
    pub expires_at: Instant,
}

enum Outgoing {
    Frame(Utf8Bytes),
    Subscribed {
        id: u64,
        topic: Topic,
        subscription: Subscription,
        start: Start,
    },
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

/// Runs one tab until it closes.
pub async fn run<S, R, E>(mut sink: S, mut stream: R, tab: Tab) -> TabEnd
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: Display,
{
    let write_timeout = Duration::from_secs_f64(tab.limits.write_timeout_secs);
    let hello = ServerFrame::Hello {
        hello: Hello {
            protocol: PROTOCOL_VERSION,
            role: tab.actor.role,
            user: tab.actor.user.clone(),
            identity: tab.actor.identity.clone(),
            study: tab.actor.study.clone(),
            relay_version: env!("CARGO_PKG_VERSION").to_owned(),
        },
    };
    let mut upstream = tab.hub.upstream();
    let first_state = upstream.borrow_and_update().clone();
    for frame in [
        hello,
        ServerFrame::Event {
            event: Event::Upstream(first_state),
        },
    ] {
        if let Err(end) = write(&mut sink, frame_text(&frame), write_timeout).await {
            return end;
        }
    }

    let (out_tx, mut out_rx) = mpsc::channel::<Outgoing>(64);
    let mut topics: StreamMap<Topic, BroadcastStream<Utf8Bytes>> = StreamMap::new();
    let mut subscriptions: HashMap<Topic, Subscription> = HashMap::new();
    let mut pending: HashSet<Topic> = HashSet::new();
    let inflight = Arc::new(Semaphore::new(tab.limits.max_inflight_commands));
    let rate = tab.limits.max_commands_per_sec;
    let mut bucket = TokenBucket::new(rate, rate * 2.0);
    let mut lags = 0u32;
    let mut last_lag = Instant::now();
    let mut ended = tab.ended.clone();
    let expiry = tokio::time::sleep_until(tab.expires_at);
    tokio::pin!(expiry);

    let end = loop {
        tokio::select! {
            () = &mut expiry => break TabEnd::SessionEnded,
            changed = ended.changed() => {
                if tab.revoked.load(std::sync::atomic::Ordering::SeqCst) {
                    break TabEnd::KioskRevoked;
                }
                if changed.is_err() || *ended.borrow() {
                    break TabEnd::SessionEnded;
                }
            }
            message = stream.next() => {
                let text = match message {
                    None => break TabEnd::Gone,
                    Some(Err(e)) => {
                        let e = e.to_string();
                        tracing::debug!(user = %tab.actor.user, "websocket read failed: {e}");
                        if e.contains("too long") {
                            break TabEnd::TooBig;
                        }
                        break TabEnd::Gone;
                    }
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => {
                        let error = bad_request(0, "binary frames are not accepted: send JSON text frames");
                        if let Err(end) = write(&mut sink, error, write_timeout).await {
                            break end;
                        }
                        continue;
                    }
                    Some(Ok(Message::Close(_))) => break TabEnd::Gone,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                };
                let reply = handle_text(
                    &text, &tab, &mut bucket, &inflight, &out_tx, &mut subscriptions,
                    &mut topics, &mut pending,
                );
                if let Some(reply) = reply
                    && let Err(end) = write(&mut sink, reply, write_timeout).await
                {
                    break end;
                }
            }
            Some(out) = out_rx.recv() => {
                let frames = match out {
                    Outgoing::Frame(frame) => vec![frame],
                    Outgoing::Subscribed { id, topic, subscription, start } => {
                        if !pending.remove(&topic) {
                            continue; // unsubscribed while waiting
                        }
                        subscriptions.insert(topic.clone(), subscription);
                        topics.insert(topic, BroadcastStream::new(start.rx));
                        let ok = frame_text(&ServerFrame::Ok { id, ok: Reply::Done });
                        std::iter::once(ok).chain(start.frames).collect()
                    }
                };
                let mut failed = None;
                for frame in frames {
                    if let Err(end) = write(&mut sink, frame, write_timeout).await {
                        failed = Some(end);
                        break;
                    }
                }
                if let Some(end) = failed {
                    break end;
                }
            }
            Some((topic, item)) = topics.next(), if !topics.is_empty() => {
                match item {
                    Ok(frame) => {
                        if let Err(end) = write(&mut sink, frame, write_timeout).await {
                            break end;
                        }
                    }
                    Err(BroadcastStreamRecvError::Lagged(missed)) => {
                        if last_lag.elapsed() > LAG_MEMORY {
                            lags = 0;
                        }
                        lags += 1;
                        last_lag = Instant::now();
                        tracing::info!(user = %tab.actor.user, ?topic, missed, lags, "tab lagged");
                        if lags > tab.limits.max_lag_resyncs {
                            break TabEnd::Lagging;
                        }
                        let Start { rx, frames } = tab.hub.restart(&topic);
                        topics.insert(topic.clone(), BroadcastStream::new(rx));
                        let resync = event_frame(Event::Resync {
                            topic,
                            reason: format!("the tab fell {missed} events behind"),
                        });
                        let mut failed = None;
                        for frame in std::iter::once(resync).chain(frames) {
                            if let Err(end) = write(&mut sink, frame, write_timeout).await {
                                failed = Some(end);
                                break;
                            }
                        }
                        if let Some(end) = failed {
                            break end;
                        }
                    }
                }
            }
            Ok(()) = upstream.changed() => {
                let state = upstream.borrow_and_update().clone();
                let frame = event_frame(Event::Upstream(state));
                if let Err(end) = write(&mut sink, frame, write_timeout).await {
                    break end;
                }
            }
        }
    };
    let close = match end {
        TabEnd::Lagging => Some((CLOSE_LAGGING, "the tab fell behind too often; reconnect")),
        TabEnd::SessionEnded => Some((CLOSE_SESSION_ENDED, "the console session ended")),
        TabEnd::KioskRevoked => Some((CLOSE_KIOSK_REVOKED, "kiosk token revoked")),
        TabEnd::TooBig => Some((CLOSE_TOO_BIG, "message too big")),
        TabEnd::Gone | TabEnd::WriteStalled => None,
    };
    if let Some((code, reason)) = close {
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        }));
        let _ = tokio::time::timeout(write_timeout, sink.send(frame)).await;
    }
    tracing::debug!(user = %tab.actor.user, ?end, "tab closed");
    end
}

async fn write<S>(sink: &mut S, frame: Utf8Bytes, timeout: Duration) -> Result<(), TabEnd>
where
    S: Sink<Message> + Unpin,
{
    match tokio::time::timeout(timeout, sink.send(Message::Text(frame))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(TabEnd::Gone),
        Err(_) => Err(TabEnd::WriteStalled),
    }
}

/// Handles one text frame; returns the frame to answer with at once, if any.
#[allow(clippy::too_many_arguments)] // reason: the loop's state, borrowed piecewise
fn handle_text(
    text: &str,
    tab: &Tab,
    bucket: &mut TokenBucket,
    inflight: &Arc<Semaphore>,
    out_tx: &mpsc::Sender<Outgoing>,
    subscriptions: &mut HashMap<Topic, Subscription>,
    topics: &mut StreamMap<Topic, BroadcastStream<Utf8Bytes>>,
    pending: &mut HashSet<Topic>,
) -> Option<Utf8Bytes> {
    let frame = match parse_frame(text) {
        Ok(frame) => frame,
        Err((id, message)) => {
            if bucket.take().is_err() {
                return Some(rate_limited(id, tab.limits.max_commands_per_sec));
            }
            return Some(bad_request(id, &message));
        }
    };
    let id = frame.id;
    if bucket.take().is_err() {
        return Some(rate_limited(id, tab.limits.max_commands_per_sec));
    }
    match frame.body {
        ClientBody::Command(command) => {
            let Ok(permit) = inflight.clone().try_acquire_owned() else {
                let error = FlareError::RateLimited {
                    message: format!(
                        "too many commands in flight: at most {} per tab",
                        tab.limits.max_inflight_commands
                    ),
                };
                return Some(frame_text(&ServerFrame::Error { id, error }));
            };
            let session = tab.session.clone();
            let actor = tab.actor.clone();
            let audit = tab.audit.clone();
            let out_tx = out_tx.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let result = session.dispatch(command, &actor, &audit).await;
                let frame = match result {
                    Ok(ok) => ServerFrame::Ok { id, ok },
                    Err(error) => ServerFrame::Error { id, error },
                };
                // The tab may be gone by now; then nobody needs the reply.
                let _ = out_tx.send(Outgoing::Frame(frame_text(&frame))).await;
            });
            None
        }
        ClientBody::Subscribe(topic) => {
            if let Topic::Job { job_id } = &topic
                && job_id.is_empty()
            {
                return Some(bad_request(id, "a job topic needs a job_id"));
            }
            if subscriptions.contains_key(&topic) || pending.contains(&topic) {
                return Some(frame_text(&ServerFrame::Ok {
                    id,
                    ok: Reply::Done,
                }));
            }
            if subscriptions.len() + pending.len() >= MAX_TOPICS_PER_TAB {
                let message = format!("a tab may watch at most {MAX_TOPICS_PER_TAB} topics");
                return Some(bad_request(id, &message));
            }
            pending.insert(topic.clone());
            let hub = tab.hub.clone();
            let out_tx = out_tx.clone();
            tokio::spawn(async move {
                let (subscription, start) = hub.subscribe(topic.clone()).await;
                let _ = out_tx
                    .send(Outgoing::Subscribed {
                        id,
                        topic,
                        subscription,
                        start,
                    })
                    .await;
            });
            None
        }
        ClientBody::Unsubscribe(topic) => {
            pending.remove(&topic);
            topics.remove(&topic);
            subscriptions.remove(&topic);
            Some(frame_text(&ServerFrame::Ok {
                id,
                ok: Reply::Done,
            }))
        }
    }
}

fn bad_request(id: u64, message: &str) -> Utf8Bytes {
    frame_text(&ServerFrame::Error {
        id,
        error: FlareError::BadRequest {
            message: message.to_owned(),
        },
    })
}

fn rate_limited(id: u64, per_sec: f64) -> Utf8Bytes {
    frame_text(&ServerFrame::Error {
        id,
        error: FlareError::RateLimited {
            message: format!("too many requests: this tab may send {per_sec} per second"),
        },
    })
}

/// Parses a browser frame, or says what is wrong with it and which id to answer with.
pub fn parse_frame(text: &str) -> Result<ClientFrame, (u64, String)> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| (0, format!("malformed JSON: {e}")))?;
    let Value::Object(mut fields) = value else {
        return Err((
            0,
            "a frame must be a JSON object such as {\"id\": 1, \"command\": \"get_system_info\"}"
                .to_owned(),
        ));
    };
    let id = match fields.remove("id") {
        Some(id) => id
            .as_u64()
            .ok_or_else(|| (0, format!("id must be a non-negative integer, not {id}")))?,
        None => return Err((0, "the frame has no id".to_owned())),
    };
    if fields.len() != 1 {
        let keys: Vec<&String> = fields.keys().collect();
        return Err((
            id,
            format!(
                "a frame needs exactly one of command, subscribe or unsubscribe besides id, not {keys:?}"
            ),
        ));
    }
    let Some((key, body)) = fields.into_iter().next() else {
        return Err((id, "the frame is empty".to_owned()));
    };
    let body = match key.as_str() {
        "command" => ClientBody::Command(parse_command(body).map_err(|m| (id, m))?),
        "subscribe" => ClientBody::Subscribe(parse_topic(body).map_err(|m| (id, m))?),
        "unsubscribe" => ClientBody::Unsubscribe(parse_topic(body).map_err(|m| (id, m))?),
        other => {
            return Err((
                id,
                format!(
                    "unknown frame field {other:?}: expected command, subscribe or unsubscribe"
                ),
            ));
        }
    };
    Ok(ClientFrame { id, body })
}

fn parse_topic(value: Value) -> Result<Topic, String> {
    serde_json::from_value(value).map_err(|e| {
        format!("bad topic: {e} (topics are \"system\", \"jobs\" or {{\"job\": {{\"job_id\": \"...\"}}}})")
    })
}

/// Parses a command, naming an unknown command or the bad argument of a known one.
pub fn parse_command(value: Value) -> Result<Command, String> {
    let name = match &value {
        Value::String(name) => name.clone(),
        Value::Object(fields) if fields.len() == 1 => {
            fields.keys().next().cloned().unwrap_or_default()
        }
        _ => {
            return Err(
                "a command is a name such as \"get_system_info\" or an object with one key \
                        such as {\"abort_job\": {\"job_id\": \"...\"}}"
                    .to_owned(),
            );
        }
    };
    let read_error = match serde_json::from_value::<ReadCommand>(value.clone()) {
        Ok(command) => return Ok(Command::Read(command)),
        Err(e) => e,
    };
    let mutate_error = match serde_json::from_value::<MutateCommand>(value) {
        Ok(command) => return Ok(Command::Mutate(command)),
        Err(e) => e,
    };
    let unknown = |e: &serde_json::Error| e.to_string().starts_with("unknown variant");
    match (unknown(&read_error), unknown(&mutate_error)) {
        (true, true) => Err(format!("unknown command {name:?}")),
        (false, _) => Err(format!("bad arguments for {name}: {read_error}")),
        (true, false) => Err(format!("bad arguments for {name}: {mutate_error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_like_the_model_serializes_them() {
        let frames = [
            ClientFrame {
                id: 1,
                body: ClientBody::Command(Command::Read(ReadCommand::GetSystemInfo)),
            },
            ClientFrame {
                id: 2,
                body: ClientBody::Command(Command::Mutate(MutateCommand::AbortJob {
                    job_id: "j".into(),
                })),
            },
            ClientFrame {
                id: 3,
                body: ClientBody::Subscribe(Topic::Job { job_id: "j".into() }),
            },
            ClientFrame {
                id: 4,
                body: ClientBody::Unsubscribe(Topic::Jobs),
            },
        ];
        for frame in frames {
            let text = serde_json::to_string(&frame).expect("serialize");
            assert_eq!(parse_frame(&text), Ok(frame), "{text}");
        }
    }

    #[test]
    fn bad_frames_say_what_is_wrong() {
        let cases = [
            ("{not json", 0, "malformed JSON"),
            ("[1]", 0, "must be a JSON object"),
            ("{\"command\": \"get_system_info\"}", 0, "no id"),
            (
                "{\"id\": -1, \"command\": \"x\"}",
                0,
                "non-negative integer",
            ),
            ("{\"id\": 5}", 5, "exactly one of"),
            (
                "{\"id\": 6, \"shout\": 1}",
                6,
                "unknown frame field \"shout\"",
            ),
            (
                "{\"id\": 7, \"command\": \"fly\"}",
                7,
                "unknown command \"fly\"",
            ),
            (
                "{\"id\": 8, \"command\": {\"abort_job\": {}}}",
                8,
                "bad arguments for abort_job",
            ),
            (
                "{\"id\": 9, \"command\": {\"get_job_meta\": {}}}",
                9,
                "missing field `job_id`",
            ),
            (
                "{\"id\": 10, \"subscribe\": \"everything\"}",
                10,
                "bad topic",
            ),
        ];
        for (text, want_id, want) in cases {
            let (id, message) = parse_frame(text).expect_err(text);
            assert_eq!(id, want_id, "{text}");
            assert!(message.contains(want), "{text}: {message}");
        }
    }

    mod slow_tabs {
        use std::path::Path;
        use std::sync::atomic::{AtomicUsize, Ordering};

        use flare_model::{Event, Role};
        use tokio_stream::wrappers::ReceiverStream;

        use super::super::*;
        use crate::config::PollConfig;
        use crate::fake::FakeNvflare;
        use crate::hub::{HubSettings, Hubs};

        type Incoming = mpsc::Sender<Result<Message, String>>;

        /// Starts a tab whose outgoing messages land in a one-slot channel: it writes only as fast
        /// as the test reads.
        fn start_tab(
            hub: &Arc<Hub>,
            limits: &Limits,
        ) -> (
            Incoming,
            mpsc::Receiver<Message>,
            tokio::task::JoinHandle<TabEnd>,
        ) {
            let (in_tx, in_rx) = mpsc::channel(8);
            let (out_tx, out_rx) = mpsc::channel::<Message>(1);
            let sink = Box::pin(futures_util::sink::unfold(
                out_tx,
                |tx, message| async move {
                    tx.send(message).await.map_err(|_| "reader gone")?;
                    Ok::<_, &str>(tx)
                },
            ));
            let actor = Actor {
                user: "ann".into(),
                role: Role::Viewer,
                identity: "admin".into(),
                study: "default".into(),
                kiosk: None,
            };
            let audit = Arc::new(Audit::tracing_only());
            let (ended_tx, ended) = watch::channel(false);
            let tab = Tab {
                session: Arc::new(TabSession::new(
                    hub.clone(),
                    actor.clone(),
                    audit.clone(),
                    crate::session::TabFiles {
                        transfers: crate::transfers::Transfers::new(
                            &crate::config::Config::default(),
                        ),
                        owner: "login-1".into(),
                    },
                )),
                actor,
                hub: hub.clone(),
                audit,
                limits: limits.clone(),
                ended,
                revoked: Default::default(),
                expires_at: Instant::now() + Duration::from_secs(3600),
            };
            let task = tokio::spawn(async move {
                let end = run(sink, ReceiverStream::new(in_rx), tab).await;
                drop(ended_tx);
                end
            });
            (in_tx, out_rx, task)
        }

        async fn subscribe_jobs(tx: &Incoming) {
            let frame = ClientFrame {
                id: 1,
                body: ClientBody::Subscribe(Topic::Jobs),
            };
            let text = serde_json::to_string(&frame).expect("json");
            tx.send(Ok(Message::Text(text.into()))).await.expect("send");
        }

        async fn next_event(rx: &mut mpsc::Receiver<Message>) -> Option<Event> {
            loop {
                let message = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                    .await
                    .expect("a message within 10 s")?;
                let Message::Text(text) = message else {
                    return None;
                };
                if let Ok(ServerFrame::Event { event }) = serde_json::from_str(&text) {
                    return Some(event);
                }
            }
        }

        async fn polls_pass(fake: &FakeNvflare, n: usize) {
            let target = fake.calls("list_jobs") + n;
            let deadline = Instant::now() + Duration::from_secs(10);
            while fake.calls("list_jobs") < target {
                assert!(Instant::now() < deadline, "the poller stalled");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_slow_tab_is_resynced_then_closed_while_a_fast_tab_keeps_receiving() {
            let fake = FakeNvflare::new();
            let poll = PollConfig {
                system_secs: 1.0,
                jobs_secs: 0.01,
                job_secs: 1.0,
            };
            let hubs = Hubs::new(Arc::new(fake.clone()), HubSettings::new(poll, 2));
            let hub = hubs.get("admin", Path::new("kits/admin"), "default");
            let limits = Limits {
                max_lag_resyncs: 1,
                ..Limits::default()
            };

            let (fast_in, mut fast_out, fast_task) = start_tab(&hub, &limits);
            subscribe_jobs(&fast_in).await;
            let fast_events = Arc::new(AtomicUsize::new(0));
            let counter = fast_events.clone();
            let fast_reader = tokio::spawn(async move {
                while let Some(event) = next_event(&mut fast_out).await {
                    assert!(
                        !matches!(event, Event::Resync { .. }),
                        "the fast tab lagged"
                    );
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });

            let (slow_in, mut slow_out, slow_task) = start_tab(&hub, &limits);
            subscribe_jobs(&slow_in).await;
            while !matches!(
                next_event(&mut slow_out).await,
                Some(Event::Snapshot { .. })
            ) {}

            // The slow tab reads nothing while the hub publishes well past its queue.
            let fast_before = fast_events.load(Ordering::Relaxed);
            polls_pass(&fake, 8).await;
            let resync = loop {
                match next_event(&mut slow_out).await {
                    Some(event @ Event::Resync { .. }) => break event,
                    Some(_) => {}
                    None => panic!("the slow tab closed before a resync"),
                }
            };
            assert!(
                matches!(
                    resync,
                    Event::Resync {
                        topic: Topic::Jobs,
                        ..
                    }
                ),
                "{resync:?}"
            );
            assert!(
                matches!(
                    next_event(&mut slow_out).await,
                    Some(Event::Snapshot { .. })
                ),
                "a snapshot follows the resync"
            );

            // It lags again: more than max_lag_resyncs, so the relay closes it.
            polls_pass(&fake, 8).await;
            let close = loop {
                match tokio::time::timeout(Duration::from_secs(10), slow_out.recv())
                    .await
                    .expect("a message within 10 s")
                {
                    Some(Message::Close(frame)) => break frame,
                    Some(_) => {}
                    None => panic!("the slow tab ended without a close frame"),
                }
            };
            assert_eq!(close.map(|f| f.code), Some(CLOSE_LAGGING));
            assert_eq!(slow_task.await.expect("join"), TabEnd::Lagging);

            // Meanwhile the fast tab received every tick and is still open.
            assert!(
                fast_events.load(Ordering::Relaxed) >= fast_before + 16,
                "the fast tab kept receiving"
            );
            assert!(!fast_task.is_finished());
            drop(fast_in);
            assert_eq!(fast_task.await.expect("join"), TabEnd::Gone);
            fast_reader.await.expect("fast reader");
            drop(slow_in);
        }
    }
}
