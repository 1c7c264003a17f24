//! The connection actor: a reader task and a writer task around one WebSocket, CellNet direct
//! request/reply correlation, blob-stream requests and replies, ACKs, and connection-loss handling.
//! Any number of requests may be in flight at once; `Conn` is cheap to share.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use flare_model::FlareError;
use futures_util::{SinkExt, StreamExt};
use rmpv::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::sfm::{self, APP_CELLNET, frame_type, get, get_str, get_u64, map, now_f64};
use crate::stream::{self, Ack, ChunkSpec, Reassembler, Received, chunk_ranges, data_type};

/// The server's root cell.
pub(crate) const SERVER: &str = "server";
pub(crate) const HCI_CHANNEL: &str = "hci_channel";
pub(crate) const SESSION_EXPIRED_TOPIC: &str = "SESSION_EXPIRED";

/// A received message: CellNet headers (of chunk 0 for streams) and the (reassembled) payload.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) headers: Vec<(Value, Value)>,
    pub(crate) payload: Vec<u8>,
}

impl Incoming {
    pub(crate) fn header_str(&self, key: &str) -> Option<&str> {
        get_str(&self.headers, key)
    }
}

enum Out {
    Frame(Vec<u8>),
    Close,
}

type Waiter = oneshot::Sender<Result<Incoming, FlareError>>;

/// Requests waiting for their reply, by request id. Each method locks once and lets go before it
/// returns, so no guard ever outlives a call (nor crosses an `.await`).
#[derive(Default)]
struct Waiters(Mutex<HashMap<String, Waiter>>);

impl Waiters {
    fn insert(&self, id: String, waiter: Waiter) {
        self.map().insert(id, waiter);
    }

    fn remove(&self, id: &str) -> Option<Waiter> {
        self.map().remove(id)
    }

    /// The waiters of every id in `ids` that has one.
    fn remove_all(&self, ids: &[String]) -> Vec<Waiter> {
        let mut map = self.map();
        ids.iter().filter_map(|id| map.remove(id)).collect()
    }

    fn drain(&self) -> Vec<Waiter> {
        self.map().drain().map(|(_, w)| w).collect()
    }

    /// Poison-tolerant: every critical section is one map operation, which leaves the map whole
    /// even if a holder panicked.
    fn map(&self) -> MutexGuard<'_, HashMap<String, Waiter>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Shared {
    me: String,
    out: mpsc::UnboundedSender<Out>,
    auth: RwLock<Vec<(String, Value)>>,
    direct: Waiters,
    streams: Waiters,
    closed: AtomicBool,
    /// Why the connection closed; the first reason wins.
    close_reason: OnceLock<FlareError>,
    next_stream_id: AtomicU64,
    frame_counter: AtomicU16,
}

impl Shared {
    fn next_frame_no(&self) -> u16 {
        self.frame_counter.fetch_add(1, Ordering::Relaxed)
    }

    fn send_frame(&self, headers: Value, payload: &[u8]) -> Result<(), FlareError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(self.closed_error());
        }
        let n = self.next_frame_no();
        let bytes = sfm::encode_frame(frame_type::DATA, APP_CELLNET, n, n, Some(&headers), payload)
            .map_err(|e| FlareError::InternalError {
                message: format!("cannot encode frame: {e}"),
            })?;
        self.out
            .send(Out::Frame(bytes))
            .map_err(|_| self.closed_error())
    }

    fn closed_error(&self) -> FlareError {
        self.close_reason
            .get()
            .cloned()
            .unwrap_or_else(|| FlareError::SessionClosed {
                message: "the admin session is closed".to_owned(),
            })
    }

    /// Marks the connection closed (first reason wins) and fails every pending request.
    fn shut(&self, reason: FlareError) {
        // A reason already set stays: the first one wins.
        let _ = self.close_reason.set(reason);
        self.closed.store(true, Ordering::Release);
        let err = self.closed_error();
        let waiters = self.direct.drain().into_iter().chain(self.streams.drain());
        for w in waiters {
            let _ = w.send(Err(err.clone()));
        }
        let _ = self.out.send(Out::Close);
    }

    /// CellNet headers of a message to `SERVER` (or `to`), with the auth headers once registered.
    fn cell_headers(
        &self,
        to: &str,
        channel: &str,
        topic: &str,
        msg_type: &str,
        extra: Vec<(String, Value)>,
        (encoding, payload_len): (&str, usize),
    ) -> Value {
        let now = now_f64();
        let mut h = extra;
        h.extend([
            ("cn__channel".to_owned(), Value::from(channel)),
            ("cn__topic".to_owned(), Value::from(topic)),
            ("cn__secure".to_owned(), Value::Boolean(false)),
            ("cn__from".to_owned(), Value::from(self.me.as_str())),
            ("cn__to".to_owned(), Value::from(to)),
            ("cn__origin".to_owned(), Value::from(self.me.as_str())),
            ("cn__destination".to_owned(), Value::from(to)),
            ("cn__msg_type".to_owned(), Value::from(msg_type)),
            (
                "cn__route".to_owned(),
                Value::Array(vec![Value::Array(vec![
                    Value::from(self.me.as_str()),
                    Value::F64(now),
                ])]),
            ),
            ("cn__payload_encoding".to_owned(), Value::from(encoding)),
            (
                "cn__payload_len".to_owned(),
                Value::from(payload_len as u64),
            ),
            ("cn__send_time".to_owned(), Value::F64(now)),
        ]);
        h.extend(
            self.auth
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .cloned(),
        );
        map(h)
    }

    fn send_ack(&self, ack: &Ack) {
        let extra = vec![
            ("sm__id".to_owned(), Value::from(ack.stream_id)),
            ("sm__dt".to_owned(), Value::from(data_type::ACK)),
            ("sm__os".to_owned(), Value::from(ack.offset)),
            ("sm__sq".to_owned(), Value::from(ack.seq)),
            ("cn__reply_expected".to_owned(), Value::Boolean(false)),
            ("cn__optional".to_owned(), Value::Boolean(false)),
        ];
        let h = self.cell_headers(
            &ack.origin,
            stream::STREAM_CHANNEL,
            stream::TOPIC_ACK,
            "req",
            extra,
            ("none", 0),
        );
        if let Err(e) = self.send_frame(h, &[]) {
            tracing::debug!("cannot ack stream {}: {e}", ack.stream_id);
        }
    }

    fn resolve_stream(&self, request_id: &str, result: Result<Incoming, FlareError>) {
        if let Some(w) = self.streams.remove(request_id) {
            let _ = w.send(result);
        }
    }

    /// Handles one frame from the server.
    fn on_frame(&self, bytes: &[u8], reassembler: &mut Reassembler) {
        let frame = match sfm::decode_frame(bytes) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!("dropping bad frame from server: {e}");
                return;
            }
        };
        match frame.prefix.frame_type {
            frame_type::PING => {
                let n = self.next_frame_no();
                if let Ok(b) = sfm::encode_frame(frame_type::PONG, 0, n, n, None, &[0xc0]) {
                    let _ = self.out.send(Out::Frame(b));
                }
            }
            frame_type::DATA => self.on_message(frame.headers, frame.payload, reassembler),
            _ => {}
        }
    }

    fn on_message(
        &self,
        headers: Vec<(Value, Value)>,
        payload: Vec<u8>,
        reassembler: &mut Reassembler,
    ) {
        let msg_type = get_str(&headers, "cn__msg_type").unwrap_or("req");
        if msg_type == "reply" || msg_type == "return" {
            let ids: Vec<String> = match get(&headers, "cn__req_id") {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                Some(v) => v.as_str().map(str::to_owned).into_iter().collect(),
                None => Vec::new(),
            };
            let waiters = self.direct.remove_all(&ids);
            let n = waiters.len();
            for (i, w) in waiters.into_iter().enumerate() {
                let incoming = Incoming {
                    headers: headers.clone(),
                    payload: if i + 1 == n {
                        payload.clone()
                    } else {
                        Vec::new()
                    },
                };
                let _ = w.send(Ok(incoming));
            }
            return;
        }
        let channel = get_str(&headers, "cn__channel").unwrap_or_default();
        let topic = get_str(&headers, "cn__topic").unwrap_or_default();
        if channel == stream::STREAM_CHANNEL {
            match topic {
                stream::TOPIC_DATA => match reassembler.add(&headers, payload, Instant::now()) {
                    Received::Pending => {}
                    Received::Duplicate(ack) => self.send_ack(&ack),
                    Received::Complete(ack, blob) => {
                        self.send_ack(&ack);
                        self.on_blob(blob.headers, blob.data);
                    }
                    Received::Failed { request_id, reason } => {
                        tracing::warn!("incoming stream failed: {reason}");
                        if let Some(ri) = request_id {
                            self.resolve_stream(
                                &ri,
                                Err(FlareError::InternalError {
                                    message: format!("reply stream failed: {reason}"),
                                }),
                            );
                        }
                    }
                },
                stream::TOPIC_ACK | stream::TOPIC_ERROR => {
                    let is_error = topic == stream::TOPIC_ERROR
                        || get_u64(&headers, "sm__dt") == Some(data_type::ERROR);
                    if is_error {
                        let message = stream::error_message(&headers);
                        tracing::warn!("server reported a stream error: {message}");
                        if let Some(ri) = get_str(&headers, "sm__ri") {
                            self.resolve_stream(
                                ri,
                                Err(FlareError::InternalError {
                                    message: format!("server stream error: {message}"),
                                }),
                            );
                        }
                    }
                }
                _ => {}
            }
            return;
        }
        if channel == HCI_CHANNEL && topic == SESSION_EXPIRED_TOPIC {
            self.on_session_expired(&payload);
            return;
        }
        if get(&headers, "cn__reply_expected").and_then(Value::as_bool) == Some(true) {
            self.reply_to_server(&headers, channel, topic);
        }
    }

    /// Answers a direct request from the server: `ok` to `cellnet.channel/bye`, else an error.
    fn reply_to_server(&self, headers: &[(Value, Value)], channel: &str, topic: &str) {
        let origin = get_str(headers, "cn__origin").unwrap_or(SERVER).to_owned();
        let req_id = get(headers, "cn__req_id").cloned().unwrap_or(Value::Nil);
        let rc = if channel == "cellnet.channel" && topic == "bye" {
            "ok"
        } else {
            "process_exception"
        };
        let extra = vec![
            ("cn__req_id".to_owned(), req_id),
            ("cn__return_code".to_owned(), Value::from(rc)),
            ("cn__reply_expected".to_owned(), Value::Boolean(false)),
            ("cn__optional".to_owned(), Value::Boolean(false)),
        ];
        let h = self.cell_headers(&origin, channel, topic, "reply", extra, ("none", 0));
        let _ = self.send_frame(h, &[]);
    }

    fn on_blob(&self, headers: Vec<(Value, Value)>, data: Vec<u8>) {
        let ch = get_str(&headers, "sm__ch").unwrap_or_default();
        let tp = get_str(&headers, "sm__tp").unwrap_or_default();
        if ch == "return_only" {
            if let Some(ri) = get_str(&headers, "sm__ri").map(str::to_owned) {
                self.resolve_stream(
                    &ri,
                    Ok(Incoming {
                        headers,
                        payload: data,
                    }),
                );
            }
        } else if ch == HCI_CHANNEL && tp == SESSION_EXPIRED_TOPIC {
            self.on_session_expired(&data);
        } else {
            tracing::debug!("ignoring unsolicited stream {ch}/{tp}");
        }
    }

    fn on_session_expired(&self, payload: &[u8]) {
        let reason = crate::fobs::decode(payload)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "session expired".to_owned());
        tracing::info!("server expired the admin session: {reason}");
        self.shut(FlareError::SessionExpired {
            message: format!("the nvflare server expired the admin session: {reason}"),
        });
    }
}

/// A streamed request on its way: its correlation id and the slot its reply lands in.
pub(crate) struct PendingReply {
    ri: String,
    rx: oneshot::Receiver<Result<Incoming, FlareError>>,
}

/// A live connection to the server.
pub(crate) struct Conn {
    shared: Arc<Shared>,
}

impl Conn {
    /// Starts the reader and writer tasks on a WebSocket whose SFM handshake is done.
    pub(crate) fn start<S>(ws: WebSocketStream<S>, me: String) -> Conn
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Out>();
        let first_id = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(1);
        let shared = Arc::new(Shared {
            me,
            out: out_tx,
            auth: RwLock::new(Vec::new()),
            direct: Waiters::default(),
            streams: Waiters::default(),
            closed: AtomicBool::new(false),
            close_reason: OnceLock::new(),
            next_stream_id: AtomicU64::new(first_id),
            frame_counter: AtomicU16::new(2),
        });
        let (mut sink, mut source) = ws.split();
        let writer_shared = Arc::downgrade(&shared);
        tokio::spawn(async move {
            while let Some(out) = out_rx.recv().await {
                match out {
                    Out::Frame(b) => {
                        if let Err(e) = sink.send(Message::Binary(b.into())).await {
                            if let Some(s) = writer_shared.upgrade() {
                                s.shut(lost(&e.to_string()));
                            }
                            break;
                        }
                    }
                    Out::Close => break,
                }
            }
            let _ = sink.close().await;
        });
        let reader_shared = Arc::downgrade(&shared);
        tokio::spawn(async move {
            let mut reassembler = Reassembler::new();
            let reason = loop {
                let msg = source.next().await;
                let Some(s) = reader_shared.upgrade() else {
                    return;
                };
                match msg {
                    Some(Ok(Message::Binary(b))) => s.on_frame(&b, &mut reassembler),
                    Some(Ok(Message::Close(_))) | None => {
                        break lost("the server closed the connection");
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break lost(&e.to_string()),
                }
            };
            if let Some(s) = reader_shared.upgrade() {
                s.shut(reason);
            }
        });
        Conn { shared }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Installs the per-message authentication headers (after registration).
    pub(crate) fn set_auth_headers(&self, headers: Vec<(String, Value)>) {
        *self
            .shared
            .auth
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = headers;
    }

    /// Closes the connection locally; pending requests fail with `reason`.
    pub(crate) fn shutdown(&self, reason: FlareError) {
        self.shared.shut(reason);
    }

    /// A direct CellNet request to the server; waits for its reply.
    pub(crate) async fn request_direct(
        &self,
        channel: &str,
        topic: &str,
        app_headers: Vec<(String, Value)>,
        payload: Option<(&str, Vec<u8>)>,
        timeout: Duration,
    ) -> Result<Incoming, FlareError> {
        let req_id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.shared.direct.insert(req_id.clone(), tx);
        let (encoding, body) = payload.unwrap_or(("none", Vec::new()));
        let mut extra = app_headers;
        extra.extend([
            ("cn__req_id".to_owned(), Value::from(req_id.as_str())),
            ("cn__reply_expected".to_owned(), Value::Boolean(true)),
            ("cn__optional".to_owned(), Value::Boolean(false)),
        ]);
        let h =
            self.shared
                .cell_headers(SERVER, channel, topic, "req", extra, (encoding, body.len()));
        if let Err(e) = self.shared.send_frame(h, &body) {
            self.shared.direct.remove(&req_id);
            return Err(e);
        }
        self.wait(rx, timeout, &format!("{channel}/{topic}"), || {
            self.shared.direct.remove(&req_id);
        })
        .await
    }

    /// A streamed request (FOBS body) to the server; waits for the `return_only` reply stream.
    pub(crate) async fn request_stream(
        &self,
        channel: &str,
        topic: &str,
        app_headers: Vec<(String, Value)>,
        body: Vec<u8>,
        timeout: Duration,
        what: &str,
    ) -> Result<Incoming, FlareError> {
        let ri = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.shared.streams.insert(ri.clone(), tx);
        if let Err(e) = self.send_stream(channel, topic, &app_headers, &body, Some(&ri)) {
            self.shared.streams.remove(&ri);
            return Err(e);
        }
        self.wait(rx, timeout, what, || {
            self.shared.streams.remove(&ri);
        })
        .await
    }

    /// Fire-and-forget: a streamed message with no reply expected (download confirmations,
    /// `ObjectStreamer.Abort`).
    pub(crate) fn send_oneway(
        &self,
        channel: &str,
        topic: &str,
        body: &[u8],
    ) -> Result<(), FlareError> {
        self.send_stream(channel, topic, &[], body, None)
    }

    /// Sends a streamed request now; its reply is awaited later with
    /// [`Conn::finish_stream_request`], so several requests can be in flight from one task.
    pub(crate) fn start_stream_request(
        &self,
        channel: &str,
        topic: &str,
        body: &[u8],
    ) -> Result<PendingReply, FlareError> {
        let ri = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.shared.streams.insert(ri.clone(), tx);
        if let Err(e) = self.send_stream(channel, topic, &[], body, Some(&ri)) {
            self.shared.streams.remove(&ri);
            return Err(e);
        }
        Ok(PendingReply { ri, rx })
    }

    /// Waits for the reply of a request sent by [`Conn::start_stream_request`].
    pub(crate) async fn finish_stream_request(
        &self,
        pending: PendingReply,
        timeout: Duration,
        what: &str,
    ) -> Result<Incoming, FlareError> {
        let PendingReply { ri, rx } = pending;
        self.wait(rx, timeout, what, || {
            self.shared.streams.remove(&ri);
        })
        .await
    }

    /// Sends a blob stream (fire-and-forget chunks) with `sm__ri` when it is a request.
    fn send_stream(
        &self,
        channel: &str,
        topic: &str,
        app_headers: &[(String, Value)],
        body: &[u8],
        request_id: Option<&str>,
    ) -> Result<(), FlareError> {
        let stream_id = self.shared.next_stream_id.fetch_add(1, Ordering::Relaxed);
        let ranges = chunk_ranges(body.len());
        let last_seq = ranges.len() - 1;
        for (seq, range) in ranges.into_iter().enumerate() {
            let spec = ChunkSpec {
                stream_id,
                seq: seq as u64,
                offset: range.start as u64,
                total: body.len() as u64,
                last: seq == last_seq,
                channel,
                topic,
                request_id,
            };
            let mut extra = app_headers.to_vec();
            extra.extend(spec.headers());
            extra.extend([
                ("cn__reply_expected".to_owned(), Value::Boolean(false)),
                ("cn__optional".to_owned(), Value::Boolean(false)),
            ]);
            let chunk = &body[range];
            let h = self.shared.cell_headers(
                SERVER,
                stream::STREAM_CHANNEL,
                stream::TOPIC_DATA,
                "req",
                extra,
                ("bytes", chunk.len()),
            );
            self.shared.send_frame(h, chunk)?;
        }
        Ok(())
    }

    async fn wait(
        &self,
        rx: oneshot::Receiver<Result<Incoming, FlareError>>,
        timeout: Duration,
        what: &str,
        on_timeout: impl FnOnce(),
    ) -> Result<Incoming, FlareError> {
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.shared.closed_error()),
            Err(_) => {
                on_timeout();
                if self.is_closed() {
                    return Err(self.shared.closed_error());
                }
                Err(FlareError::NoReply {
                    message: format!(
                        "the nvflare server did not reply to {what} within {:.1}s",
                        timeout.as_secs_f64()
                    ),
                })
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if !self.is_closed() {
            self.shared.shut(FlareError::SessionClosed {
                message: "the admin session was dropped".to_owned(),
            });
        }
    }
}

fn lost(detail: &str) -> FlareError {
    FlareError::NoConnection {
        message: format!(
            "lost the connection to the nvflare server ({detail}): check that the server is still running"
        ),
    }
}
