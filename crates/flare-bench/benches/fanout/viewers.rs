//! Viewer WebSockets: each logs in with a shared viewer cookie, subscribes to `jobs` and
//! `system`, and records when each job status arrives.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use flare_model::{ClientBody, ClientFrame, Event, ServerFrame, Topic, TopicData, TopicDelta};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Sockets opened at once while connecting a fleet.
const CONNECT_CONCURRENCY: usize = 32;
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// A job status as one viewer received it.
#[derive(Clone, Debug)]
pub(crate) struct Arrival {
    pub(crate) viewer: usize,
    pub(crate) job_id: String,
    pub(crate) status: String,
    /// The relay's stamp of the poll that saw it (Unix ms).
    pub(crate) at_ms: u64,
    /// When the frame arrived here (Unix µs).
    pub(crate) arrived_us: u64,
}

/// Counters shared by every viewer of a fleet.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) frames: AtomicU64,
    pub(crate) resyncs: AtomicU64,
    pub(crate) closed_by_relay: AtomicU64,
}

/// Open viewer sockets and their reader tasks.
pub(crate) struct Fleet {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    arrivals_tx: mpsc::UnboundedSender<Arrival>,
    pub(crate) arrivals: mpsc::UnboundedReceiver<Arrival>,
    pub(crate) counters: Arc<Counters>,
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

impl Fleet {
    pub(crate) fn new() -> Self {
        let (arrivals_tx, arrivals) = mpsc::unbounded_channel();
        Fleet {
            stop: watch::channel(false).0,
            tasks: Vec::new(),
            arrivals_tx,
            arrivals,
            counters: Arc::default(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Opens viewers `ids` (cookie `cookies[id % len]`), each subscribed with both snapshots in.
    pub(crate) async fn open(
        &mut self,
        addr: &str,
        origin: &str,
        cookies: &[String],
        ids: std::ops::Range<usize>,
    ) -> anyhow::Result<()> {
        let url = format!("ws://{addr}/ws");
        let sockets: Vec<anyhow::Result<(usize, Socket)>> = futures_util::stream::iter(ids)
            .map(|id| {
                let url = url.clone();
                let cookie = cookies[id % cookies.len()].clone();
                async move {
                    let socket =
                        tokio::time::timeout(READY_DEADLINE, connect(&url, origin, &cookie))
                            .await
                            .with_context(|| format!("viewer {id} not subscribed within 60 s"))??;
                    Ok((id, socket))
                }
            })
            .buffer_unordered(CONNECT_CONCURRENCY)
            .collect()
            .await;
        for socket in sockets {
            let (id, socket) = socket?;
            let stop = self.stop.subscribe();
            let tx = self.arrivals_tx.clone();
            let counters = self.counters.clone();
            self.tasks
                .push(tokio::spawn(read_loop(id, socket, stop, tx, counters)));
        }
        Ok(())
    }

    /// Closes every socket and waits (bounded) for the readers to end.
    pub(crate) async fn close(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

async fn connect(url: &str, origin: &str, cookie: &str) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("Origin", origin.parse()?);
    request.headers_mut().insert("Cookie", cookie.parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    for (id, topic) in [(1, Topic::Jobs), (2, Topic::System)] {
        let frame = ClientFrame {
            id,
            body: ClientBody::Subscribe(topic),
        };
        socket
            .send(Message::text(serde_json::to_string(&frame)?))
            .await?;
    }
    let (mut jobs, mut system) = (false, false);
    while !(jobs && system) {
        let Some(message) = socket.next().await else {
            bail!("the relay closed the socket before the snapshots");
        };
        let Message::Text(text) = message? else {
            continue;
        };
        match serde_json::from_str::<ServerFrame>(&text)? {
            ServerFrame::Event {
                event: Event::Snapshot { data, .. },
            } => match data {
                TopicData::Jobs(_) => jobs = true,
                TopicData::System(_) => system = true,
                TopicData::Job(_) => {}
            },
            ServerFrame::Event {
                event: Event::TopicError { topic, error, .. },
            } => bail!("{topic:?} could not be polled: {error:?}"),
            ServerFrame::Error { error, .. } => bail!("subscribe refused: {error:?}"),
            _ => {}
        }
    }
    Ok(socket)
}

async fn read_loop(
    id: usize,
    mut socket: Socket,
    mut stop: watch::Receiver<bool>,
    tx: mpsc::UnboundedSender<Arrival>,
    counters: Arc<Counters>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
                return;
            }
            message = socket.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => {
                        counters.closed_by_relay.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Some(Ok(_)) => continue,
                };
                let arrived_us = now_us();
                counters.frames.fetch_add(1, Ordering::Relaxed);
                if text.contains("\"resync\"") {
                    counters.resyncs.fetch_add(1, Ordering::Relaxed);
                }
                // Only job list changes matter; skip parsing the `unchanged` ticks.
                if !text.contains("\"upserted\"") {
                    continue;
                }
                if let Ok(ServerFrame::Event {
                    event: Event::Delta {
                        topic: Topic::Jobs,
                        delta: TopicDelta::Jobs { upserted, .. },
                        at_ms,
                    },
                }) = serde_json::from_str::<ServerFrame>(&text)
                {
                    for job in upserted {
                        let _ = tx.send(Arrival {
                            viewer: id,
                            job_id: job.job_id,
                            status: job.status,
                            at_ms,
                            arrived_us,
                        });
                    }
                }
            }
        }
    }
}
