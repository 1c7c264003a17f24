//! The `sm__*` blob stream layer: chunk headers for sending, and out-of-order reassembly keyed by
//! (origin, `sm__id`) with memory of completed streams so retransmits are re-ACKed.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rmpv::Value;

use crate::sfm::{get, get_str, get_u64};

pub(crate) const CHUNK_SIZE: usize = 1024 * 1024;
pub(crate) const WINDOW_SIZE: u64 = 64 * 1024 * 1024;
pub(crate) const ACK_INTERVAL: u64 = 16 * 1024 * 1024;
/// Largest blob accepted from the server (`streaming_max_blob_size`).
pub(crate) const MAX_BLOB: u64 = 4 * 1024 * 1024 * 1024;
/// How long a completed stream is remembered (server retries for 60 s).
pub(crate) const COMPLETED_TTL: Duration = Duration::from_secs(65);
/// How long an incomplete stream may wait for its missing chunks.
pub(crate) const PARTIAL_TTL: Duration = Duration::from_secs(120);

pub(crate) mod data_type {
    pub(crate) const CHUNK: u64 = 1;
    pub(crate) const FINAL: u64 = 2;
    pub(crate) const ACK: u64 = 3;
    pub(crate) const ERROR: u64 = 6;
}

pub(crate) const STREAM_CHANNEL: &str = "sm__STREAM";
pub(crate) const TOPIC_DATA: &str = "sm__DATA";
pub(crate) const TOPIC_ACK: &str = "sm__ACK";
pub(crate) const TOPIC_ERROR: &str = "sm__ERROR";

/// The `sm__*` headers of chunk `seq` of a blob of `total` bytes starting at `offset`.
pub(crate) struct ChunkSpec<'a> {
    pub(crate) stream_id: u64,
    pub(crate) seq: u64,
    pub(crate) offset: u64,
    pub(crate) total: u64,
    pub(crate) last: bool,
    pub(crate) channel: &'a str,
    pub(crate) topic: &'a str,
    pub(crate) request_id: Option<&'a str>,
}

impl ChunkSpec<'_> {
    pub(crate) fn headers(&self) -> Vec<(String, Value)> {
        let mut h = vec![("sm__pe".to_owned(), Value::from("fobs"))];
        if let Some(ri) = self.request_id {
            h.push(("sm__ri".to_owned(), Value::from(ri)));
        }
        h.extend([
            ("sm__ch".to_owned(), Value::from(self.channel)),
            ("sm__tp".to_owned(), Value::from(self.topic)),
            ("sm__sz".to_owned(), Value::from(self.total)),
            ("sm__id".to_owned(), Value::from(self.stream_id)),
            (
                "sm__dt".to_owned(),
                Value::from(if self.last {
                    data_type::FINAL
                } else {
                    data_type::CHUNK
                }),
            ),
            ("sm__sq".to_owned(), Value::from(self.seq)),
            ("sm__os".to_owned(), Value::from(self.offset)),
            ("sm__rs".to_owned(), Value::Boolean(false)),
            ("sm__op".to_owned(), Value::Boolean(false)),
            ("sm__cs".to_owned(), Value::from(CHUNK_SIZE as u64)),
            ("sm__ws".to_owned(), Value::from(WINDOW_SIZE)),
        ]);
        if self.seq == 0 {
            h.push(("sm__ai".to_owned(), Value::from(ACK_INTERVAL)));
        }
        h
    }
}

/// Splits a blob into chunk ranges (one empty chunk for an empty blob).
pub(crate) fn chunk_ranges(len: usize) -> Vec<std::ops::Range<usize>> {
    if len == 0 {
        return std::iter::once(0..0).collect();
    }
    (0..len)
        .step_by(CHUNK_SIZE)
        .map(|s| s..(s + CHUNK_SIZE).min(len))
        .collect()
}

/// A fully received blob.
#[derive(Debug, PartialEq)]
pub(crate) struct Blob {
    pub(crate) origin: String,
    pub(crate) stream_id: u64,
    /// The headers of chunk 0 (they carry `sm__ri`, `sm__ch`, `sm__tp`, `sm__pe`, app headers).
    pub(crate) headers: Vec<(Value, Value)>,
    pub(crate) data: Vec<u8>,
}

/// The ACK owed to a sender.
#[derive(Debug, PartialEq, Eq, Clone)]
pub(crate) struct Ack {
    pub(crate) origin: String,
    pub(crate) stream_id: u64,
    pub(crate) offset: u64,
    pub(crate) seq: u64,
}

/// What one incoming chunk led to.
#[derive(Debug, PartialEq)]
pub(crate) enum Received {
    /// More chunks are needed.
    Pending,
    /// The stream is complete: ACK it and deliver the blob.
    Complete(Ack, Blob),
    /// A retransmit of a stream completed before: ACK it again, deliver nothing.
    Duplicate(Ack),
    /// The chunk is malformed or the stream broke its own declarations.
    Failed {
        request_id: Option<String>,
        reason: String,
    },
}

struct Partial {
    first_headers: Option<Vec<(Value, Value)>>,
    chunks: BTreeMap<u64, Vec<u8>>,
    final_seq: Option<u64>,
    size: u64,
    request_id: Option<String>,
    started: Instant,
}

/// Reassembles incoming blob streams.
#[derive(Default)]
pub(crate) struct Reassembler {
    partial: HashMap<(String, u64), Partial>,
    completed: HashMap<(String, u64), (Ack, Instant)>,
}

impl Reassembler {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn prune(&mut self, now: Instant) {
        self.completed
            .retain(|_, (_, at)| now.duration_since(*at) < COMPLETED_TTL);
        self.partial
            .retain(|_, p| now.duration_since(p.started) < PARTIAL_TTL);
    }

    /// Adds one `sm__DATA` chunk (its CellNet headers and payload).
    pub(crate) fn add(
        &mut self,
        headers: &[(Value, Value)],
        payload: Vec<u8>,
        now: Instant,
    ) -> Received {
        self.prune(now);
        let origin = get_str(headers, "cn__origin")
            .unwrap_or_default()
            .to_owned();
        let request_id = get_str(headers, "sm__ri").map(str::to_owned);
        let (Some(stream_id), Some(seq)) = (get_u64(headers, "sm__id"), get_u64(headers, "sm__sq"))
        else {
            return Received::Failed {
                request_id,
                reason: "stream chunk without sm__id or sm__sq".to_owned(),
            };
        };
        let key = (origin.clone(), stream_id);
        if let Some((ack, _)) = self.completed.get(&key) {
            return Received::Duplicate(ack.clone());
        }
        let dt = get_u64(headers, "sm__dt").unwrap_or(data_type::CHUNK);
        let size = get_u64(headers, "sm__sz").unwrap_or(0);
        if size > MAX_BLOB {
            self.partial.remove(&key);
            return Received::Failed {
                request_id,
                reason: format!("stream of {size} bytes exceeds the blob limit"),
            };
        }
        let p = self.partial.entry(key.clone()).or_insert_with(|| Partial {
            first_headers: None,
            chunks: BTreeMap::new(),
            final_seq: None,
            size,
            request_id: None,
            started: now,
        });
        if p.request_id.is_none() {
            p.request_id = request_id;
        }
        if seq == 0 {
            p.first_headers = Some(headers.to_vec());
        }
        if dt == data_type::FINAL {
            p.final_seq = Some(seq);
        }
        p.chunks.entry(seq).or_insert(payload);
        let Some(final_seq) = p.final_seq else {
            return Received::Pending;
        };
        let Some(count) = final_seq.checked_add(1) else {
            let request_id = p.request_id.clone();
            self.partial.remove(&key);
            return Received::Failed {
                request_id,
                reason: format!("final stream chunk {final_seq} is out of range"),
            };
        };
        if p.first_headers.is_none() || p.chunks.len() as u64 != count {
            return Received::Pending;
        }
        let Some(p) = self.partial.remove(&key) else {
            return Received::Pending;
        };
        let data: Vec<u8> = p.chunks.into_values().flatten().collect();
        if data.len() as u64 != p.size {
            return Received::Failed {
                request_id: p.request_id,
                reason: format!(
                    "stream size mismatch: declared {} bytes, received {}",
                    p.size,
                    data.len()
                ),
            };
        }
        let ack = Ack {
            origin: origin.clone(),
            stream_id,
            offset: p.size,
            seq: final_seq,
        };
        self.completed.insert(key, (ack.clone(), now));
        Received::Complete(
            ack,
            Blob {
                origin,
                stream_id,
                headers: p.first_headers.unwrap_or_default(),
                data,
            },
        )
    }

    /// Number of streams still being received.
    #[cfg(test)]
    pub(crate) fn pending_streams(&self) -> usize {
        self.partial.len()
    }
}

/// The error text of an `sm__ERROR` (or error ACK) message.
pub(crate) fn error_message(headers: &[(Value, Value)]) -> String {
    let msg = get_str(headers, "sm__em").unwrap_or("stream error");
    match get(headers, "sm__et").and_then(Value::as_str) {
        Some(t) => format!("{t}: {msg}"),
        None => msg.to_owned(),
    }
}

#[cfg(test)]
mod fuzz_regressions {
    //! Inputs that crashed the reassembler (`fuzz/regressions/stream_reassembly/`), as named cases.

    use std::time::Instant;

    use rmpv::Value;

    use super::{Reassembler, Received, data_type};

    fn chunk(seq: u64, dt: u64) -> Vec<(Value, Value)> {
        [("sm__id", 1u64), ("sm__sq", seq), ("sm__dt", dt)]
            .into_iter()
            .map(|(k, v)| (Value::from(k), Value::from(v)))
            .collect()
    }

    /// A final chunk numbered `u64::MAX` after chunk 0 overflowed the chunk count (a panic in
    /// debug builds); now the stream fails with a reason.
    #[test]
    fn a_final_chunk_numbered_u64_max_fails_the_stream() {
        let mut r = Reassembler::new();
        let now = Instant::now();
        assert_eq!(
            r.add(&chunk(0, data_type::CHUNK), vec![1], now),
            Received::Pending
        );
        let got = r.add(&chunk(u64::MAX, data_type::FINAL), vec![2], now);
        assert!(
            matches!(&got, Received::Failed { reason, .. } if reason.contains("out of range")),
            "{got:?}"
        );
        assert_eq!(r.pending_streams(), 0);
        let input = include_bytes!("../../../fuzz/regressions/stream_reassembly/final-seq-u64-max");
        assert_eq!(crate::fuzzing::stream_reassembly(input), Ok(0));
    }
}
