//! SFM framing: the 16-byte big-endian prefix (`>IHBBHHHH`), the msgpack header block and the
//! payload; plus small helpers for msgpack maps with string keys.

use rmpv::Value;

pub(crate) const PREFIX_LEN: usize = 16;
/// The header block must stay below 64 KiB.
pub(crate) const MAX_HEADER_LEN: usize = 0xFFFF;

/// SFM frame types.
pub(crate) mod frame_type {
    pub(crate) const DATA: u8 = 1;
    pub(crate) const HELLO: u8 = 4;
    pub(crate) const READY: u8 = 5;
    pub(crate) const PING: u8 = 6;
    pub(crate) const PONG: u8 = 7;
}

/// The CellNet application id of DATA frames.
pub(crate) const APP_CELLNET: u16 = 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum FrameError {
    #[error("frame too short: {0} bytes")]
    TooShort(usize),
    #[error("frame length {declared} does not match {actual} received bytes")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("header block of {0} bytes does not fit the frame")]
    BadHeaderLen(usize),
    #[error("header block too large: {0} bytes")]
    HeadersTooLarge(usize),
    #[error("header block is not a msgpack map: {0}")]
    BadHeaders(String),
}

/// The 16-byte frame prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Prefix {
    pub(crate) length: u32,
    pub(crate) header_len: u16,
    pub(crate) frame_type: u8,
    pub(crate) reserved: u8,
    pub(crate) flags: u16,
    pub(crate) app_id: u16,
    pub(crate) stream_id: u16,
    pub(crate) sequence: u16,
}

impl Prefix {
    pub(crate) fn encode(&self) -> [u8; PREFIX_LEN] {
        let mut b = [0u8; PREFIX_LEN];
        b[0..4].copy_from_slice(&self.length.to_be_bytes());
        b[4..6].copy_from_slice(&self.header_len.to_be_bytes());
        b[6] = self.frame_type;
        b[7] = self.reserved;
        b[8..10].copy_from_slice(&self.flags.to_be_bytes());
        b[10..12].copy_from_slice(&self.app_id.to_be_bytes());
        b[12..14].copy_from_slice(&self.stream_id.to_be_bytes());
        b[14..16].copy_from_slice(&self.sequence.to_be_bytes());
        b
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Prefix, FrameError> {
        if b.len() < PREFIX_LEN {
            return Err(FrameError::TooShort(b.len()));
        }
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        Ok(Prefix {
            length: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            header_len: u16_at(4),
            frame_type: b[6],
            reserved: b[7],
            flags: u16_at(8),
            app_id: u16_at(10),
            stream_id: u16_at(12),
            sequence: u16_at(14),
        })
    }
}

/// A decoded frame.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Frame {
    pub(crate) prefix: Prefix,
    /// The header map (empty when the frame has no header block).
    pub(crate) headers: Vec<(Value, Value)>,
    pub(crate) payload: Vec<u8>,
}

/// Encodes a frame. `headers` is `None` for frames without a header block (HELLO, READY, PING).
pub(crate) fn encode_frame(
    frame_type: u8,
    app_id: u16,
    stream_id: u16,
    sequence: u16,
    headers: Option<&Value>,
    payload: &[u8],
) -> Result<Vec<u8>, FrameError> {
    let header_bytes = match headers {
        Some(h) => to_msgpack(h),
        None => Vec::new(),
    };
    if header_bytes.len() > MAX_HEADER_LEN {
        return Err(FrameError::HeadersTooLarge(header_bytes.len()));
    }
    let length = PREFIX_LEN + header_bytes.len() + payload.len();
    let prefix = Prefix {
        length: length as u32,
        header_len: header_bytes.len() as u16,
        frame_type,
        reserved: 0,
        flags: 0,
        app_id,
        stream_id,
        sequence,
    };
    let mut out = Vec::with_capacity(length);
    out.extend_from_slice(&prefix.encode());
    out.extend_from_slice(&header_bytes);
    out.extend_from_slice(payload);
    Ok(out)
}

/// Decodes one whole frame (one WebSocket message).
pub(crate) fn decode_frame(b: &[u8]) -> Result<Frame, FrameError> {
    let prefix = Prefix::decode(b)?;
    if prefix.length as usize != b.len() {
        return Err(FrameError::LengthMismatch {
            declared: prefix.length as usize,
            actual: b.len(),
        });
    }
    let hl = prefix.header_len as usize;
    if PREFIX_LEN + hl > b.len() {
        return Err(FrameError::BadHeaderLen(hl));
    }
    let headers = if hl == 0 {
        Vec::new()
    } else {
        match from_msgpack(&b[PREFIX_LEN..PREFIX_LEN + hl])
            .map_err(|e| FrameError::BadHeaders(e.to_string()))?
        {
            Value::Map(m) => m,
            other => return Err(FrameError::BadHeaders(format!("got {other}"))),
        }
    };
    Ok(Frame {
        prefix,
        headers,
        payload: b[PREFIX_LEN + hl..].to_vec(),
    })
}

pub(crate) fn to_msgpack(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, v);
    out
}

pub(crate) fn from_msgpack(mut b: &[u8]) -> Result<Value, rmpv::decode::Error> {
    let v = rmpv::decode::read_value(&mut b)?;
    Ok(v)
}

/// Looks up a string key in a msgpack map.
pub(crate) fn get<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

pub(crate) fn get_str<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a str> {
    get(map, key).and_then(Value::as_str)
}

pub(crate) fn get_u64(map: &[(Value, Value)], key: &str) -> Option<u64> {
    get(map, key).and_then(Value::as_u64)
}

/// Builds a msgpack map from string keys.
pub(crate) fn map<I, K>(entries: I) -> Value
where
    I: IntoIterator<Item = (K, Value)>,
    K: Into<String>,
{
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k.into()), v))
            .collect(),
    )
}

/// Unix time as a float, as Python's `time.time()`.
pub(crate) fn now_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The HELLO payload for an endpoint.
pub(crate) fn hello_payload(fqcn: &str, timestamp: f64) -> Vec<u8> {
    to_msgpack(&map([
        ("endpoint_name", Value::from(fqcn)),
        ("timestamp", Value::F64(timestamp)),
        ("fqcn", Value::from(fqcn)),
    ]))
}
