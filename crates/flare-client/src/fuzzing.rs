//! Entry points for fuzz targets and the corpus replay: thin wrappers over the private decoders
//! (`sfm`, `fobs`, `stream`, `jobzip`) that take raw bytes and return a `Result`, plus the seeds
//! built from the golden captures. Not an API: `fuzz/` and the corpus replay test call it.

use std::time::{Duration, Instant};

use rmpv::Value;

use crate::hci::{self, HciReply};
use crate::stream::{ChunkSpec, Reassembler, Received};
use crate::{fobs, jobzip, sfm, stream};

/// The most records a `stream_reassembly` input is cut into.
const MAX_RECORDS: usize = 4096;

/// One seed input of a fuzz target.
#[derive(Clone, Debug)]
pub struct Seed {
    /// The fuzz target (`fuzz/fuzz_targets/<target>.rs`).
    pub target: &'static str,
    /// A file name for the corpus.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Decodes one SFM frame (one WebSocket message), as the connection actor does, and checks that
/// the parts add up to the declared length. Returns the payload length.
pub fn sfm_frame(data: &[u8]) -> Result<usize, String> {
    let frame = sfm::decode_frame(data).map_err(|e| e.to_string())?;
    let header_len = usize::from(frame.prefix.header_len);
    assert_eq!(
        sfm::PREFIX_LEN + header_len + frame.payload.len(),
        data.len(),
        "frame parts do not add up"
    );
    // What the actor reads from every frame.
    let _ = sfm::get_str(&frame.headers, "cn__channel");
    let _ = sfm::get_str(&frame.headers, "cn__topic");
    let _ = sfm::get_str(&frame.headers, "cn__req_id");
    let _ = sfm::get_u64(&frame.headers, "cn__payload_len");
    if frame.prefix.frame_type == sfm::frame_type::DATA
        && frame.headers.is_empty()
        && header_len > 0
    {
        return Err("data frame with an empty header map".to_owned());
    }
    Ok(frame.payload.len())
}

/// Decodes a LOBS/FOBS container like a reply payload: the value, its `Shareable` dict, its
/// `FLContext`, and, when it is a string holding JSON, the HCI reply checks. Returns a size.
pub fn fobs_decode(data: &[u8]) -> Result<usize, String> {
    let value = fobs::decode(data).map_err(|e| e.to_string())?;
    let dict = fobs::unwrap_shareable(&value).map_or(0, <[_]>::len);
    if let Some(headers) = fobs::unwrap_shareable(&value)
        .and_then(|d| sfm::get(d, "__headers__"))
        .and_then(Value::as_map)
    {
        let _ = sfm::get(headers, "__peer_ctx__").map(fl_context_props);
    }
    let mut checked = 0;
    if let Some(text) = value.as_str()
        && let Ok(json) = serde_json::from_str::<serde_json::Value>(text)
    {
        let reply = HciReply(json);
        let _ = hci::check_reply(&reply, "fuzz", true);
        let _ = hci::check_reply(&reply, "fuzz", false);
        let _ = hci::login_result(&reply);
        let _ = reply.dict_data();
        let _ = reply.strings();
        let _ = reply.token();
        checked = reply.tables().count() + reply.items().len();
    }
    Ok(dict + checked)
}

/// The props of an `FLContext` envelope, read as the session reads its peer context.
fn fl_context_props(v: &Value) -> usize {
    let Some(m) = v.as_map() else { return 0 };
    sfm::get(m, fobs::FOBS_DATA)
        .and_then(Value::as_array)
        .and_then(|d| d.get(1))
        .and_then(Value::as_map)
        .map_or(0, Vec::len)
}

/// Feeds a sequence of records `[u16 big-endian length][SFM frame]` to one [`Reassembler`], as
/// the connection actor feeds it `sm__DATA` messages; each frame's `reserved` byte advances the
/// clock by that many seconds so streams also expire. Completed blobs are decoded as FOBS.
/// Returns the number of completed blobs.
pub fn stream_reassembly(data: &[u8]) -> Result<usize, String> {
    let mut reassembler = Reassembler::new();
    let mut now = Instant::now();
    let mut rest = data;
    let mut completed = 0;
    for _ in 0..MAX_RECORDS {
        let [a, b, tail @ ..] = rest else { break };
        let len = usize::from(u16::from_be_bytes([*a, *b])).min(tail.len());
        let (record, tail) = tail.split_at(len);
        rest = tail;
        let Ok(frame) = sfm::decode_frame(record) else {
            continue;
        };
        now += Duration::from_secs(u64::from(frame.prefix.reserved));
        match reassembler.add(&frame.headers, frame.payload, now) {
            Received::Complete(ack, blob) => {
                assert_eq!(
                    ack.offset,
                    blob.data.len() as u64,
                    "ack offset is not the size"
                );
                completed += 1;
                let _ = fobs::decode(&blob.data);
            }
            Received::Failed { reason, .. } => {
                let _ = stream::error_message(&frame.headers);
                if reason.is_empty() {
                    return Err("failure without a reason".to_owned());
                }
            }
            Received::Pending | Received::Duplicate(_) => {}
        }
    }
    Ok(completed)
}

/// Reads an uploaded job zip in memory as `submit_job_zip` does (entry names and symlinks checked,
/// wrapper folder stripped). Returns the number of entries.
pub fn zip_reader(data: &[u8]) -> Result<usize, String> {
    let entries = jobzip::read_zip(data).map_err(|e| e.to_string())?;
    for e in &entries {
        entry_name(&e.path)?;
    }
    Ok(entries.len())
}

/// The client's zip entry-name check; an accepted name has only normal components.
pub fn entry_name(name: &str) -> Result<(), String> {
    jobzip::safe_relative(name)?;
    assert!(
        !name.starts_with('/') && !name.contains('\\') && !name.split('/').any(|p| p == ".."),
        "unsafe name accepted: {name:?}"
    );
    Ok(())
}

/// Seeds for the client's targets built from the golden captures: `transcript` is
/// `tests/golden/transcript_basic.json`, `decoded` is `tests/golden/decoded_basic.txt`.
pub fn golden_seeds(transcript: &str, decoded: &str) -> Result<Vec<Seed>, String> {
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(transcript).map_err(|e| e.to_string())?;
    let mut seeds = Vec::new();
    let mut stream_id = 1;
    for entry in &entries {
        let frame = entry["frame"].as_u64().unwrap_or_default();
        let payload = &entry["payload"];
        let (value, headers) = if let Some(channel) = entry["sm_ch"].as_str() {
            // A blob stream: the payload is the HCI document, sent as a FOBS string.
            let doc = Value::from(payload.to_string());
            let topic = entry["sm_tp"].as_str().unwrap_or_default();
            let spec = ChunkSpec {
                stream_id,
                seq: 0,
                offset: 0,
                total: 0,
                last: true,
                channel,
                topic,
                request_id: entry["ri"].as_str(),
            };
            stream_id += 1;
            (doc, Some(spec_headers(&spec)))
        } else {
            (rmp_of(payload), None)
        };
        let body = fobs::encode(&value);
        let name = format!("golden-frame-{frame:02}");
        let cell = cell_headers(entry);
        let sfm = data_frame(frame as u16, frame as u16, &cell, &body)?;
        seeds.push(seed("sfm_frame", &name, sfm));
        if let Some(mut spec) = headers {
            // The same blob as one stream of up to three chunks, sent out of order.
            let cuts = [0, body.len() / 3, 2 * body.len() / 3, body.len()];
            let mut records = Vec::new();
            for (i, w) in cuts.windows(2).enumerate().rev() {
                spec.retain(|(k, _)| k != "sm__sq" && k != "sm__dt" && k != "sm__sz");
                spec.extend([
                    ("sm__sq".to_owned(), Value::from(i as u64)),
                    (
                        "sm__dt".to_owned(),
                        Value::from(if i == 2 { 2u64 } else { 1 }),
                    ),
                    ("sm__sz".to_owned(), Value::from(body.len() as u64)),
                ]);
                let map = sfm::map(spec.iter().map(|(k, v)| (k.as_str(), v.clone())));
                let f = data_frame(frame as u16, i as u16, &map, &body[w[0]..w[1]])?;
                records.extend_from_slice(&(f.len() as u16).to_be_bytes());
                records.extend_from_slice(&f);
            }
            seeds.push(seed("stream_reassembly", &name, records));
        }
        seeds.push(seed("fobs_decode", &name, body));
    }
    // The captured frame prefixes (the first 96 bytes of each frame), truncated as captured.
    for line in decoded.lines() {
        if let Some(hex) = line.trim().strip_prefix("raw[0:96]: ") {
            let bytes = (0..hex.len() / 2)
                .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                .collect::<Vec<_>>();
            let name = format!("golden-raw-{:02}", seeds.len());
            seeds.push(seed("sfm_frame", &name, bytes));
        }
    }
    Ok(seeds)
}

fn seed(target: &'static str, name: &str, bytes: Vec<u8>) -> Seed {
    Seed {
        target,
        name: name.to_owned(),
        bytes,
    }
}

fn spec_headers(spec: &ChunkSpec<'_>) -> Vec<(String, Value)> {
    let mut h = spec.headers();
    h.push(("cn__origin".to_owned(), Value::from("server")));
    h
}

/// A CellNet data frame of stream `stream_id` with `headers`.
fn data_frame(
    stream_id: u16,
    sequence: u16,
    headers: &Value,
    payload: &[u8],
) -> Result<Vec<u8>, String> {
    sfm::encode_frame(
        sfm::frame_type::DATA,
        sfm::APP_CELLNET,
        stream_id,
        sequence,
        Some(headers),
        payload,
    )
    .map_err(|e| e.to_string())
}

/// CellNet headers like the captured ones, for a transcript entry.
fn cell_headers(entry: &serde_json::Value) -> Value {
    let s = |k: &str| entry[k].as_str().unwrap_or_default().to_owned();
    let (channel, topic) = if entry["sm_ch"].is_string() {
        ("sm__STREAM".to_owned(), "sm__DATA".to_owned())
    } else {
        (s("cn_ch"), s("cn_tp"))
    };
    sfm::map([
        ("cn__channel", Value::from(channel)),
        ("cn__topic", Value::from(topic)),
        ("cn__from", Value::from("server")),
        ("cn__origin", Value::from("server")),
        ("cn__msg_type", Value::from("reply")),
        ("cn__return_code", Value::from("ok")),
        ("cn__payload_encoding", Value::from("fobs")),
        (
            "cn__route",
            Value::Array(vec![Value::Array(vec![
                Value::from("server"),
                Value::F64(1_795_317_168.45),
            ])]),
        ),
    ])
}

/// A transcript payload as the msgpack value it was: `"<bin N>"` stands for N bytes.
fn rmp_of(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(f)) => Value::F64(f),
            _ => Value::Nil,
        },
        serde_json::Value::String(s) => match s
            .strip_prefix("<bin ")
            .and_then(|r| r.strip_suffix('>'))
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => Value::Binary((0..n).map(|i| i as u8).collect()),
            None => Value::from(s.as_str()),
        },
        serde_json::Value::Array(a) => Value::Array(a.iter().map(rmp_of).collect()),
        serde_json::Value::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Value::from(k.as_str()), rmp_of(v)))
                .collect(),
        ),
    }
}
