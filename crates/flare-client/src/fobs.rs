//! Payload encoding: the LOBS container (main section + datums) around msgpack, and the FOBS type
//! envelopes an admin client needs (`Shareable`, `FLContext`, `DatumRef`).

use std::collections::HashMap;

use rmpv::Value;

use crate::sfm::{from_msgpack, get, get_str, map, to_msgpack};

pub(crate) const MARKER_MAIN: u8 = 100;
pub(crate) const MARKER_TEXT: u8 = 101;
pub(crate) const MARKER_BLOB: u8 = 102;
pub(crate) const MARKER_FILE: u8 = 103;
const SECTION_HEADER: usize = 10;

pub(crate) const FOBS_TYPE: &str = "__fobs_type__";
pub(crate) const FOBS_DATA: &str = "__fobs_data__";
pub(crate) const FOBS_DC: &str = "__fobs_dc__";

pub(crate) const SHAREABLE_TYPE: &str = "nvflare.apis.shareable.Shareable";
pub(crate) const DICT_DECOMPOSER: &str = "nvflare.fuel.utils.fobs.decomposer.DictDecomposer";
pub(crate) const FL_CONTEXT_TYPE: &str = "nvflare.apis.fl_context.FLContext";
pub(crate) const CONTEXT_DECOMPOSER: &str =
    "nvflare.apis.utils.decomposers.flare_decomposers.ContextDecomposer";
pub(crate) const DATUM_REF_TYPE: &str = "nvflare.fuel.utils.fobs.datum.DatumRef";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum FobsError {
    #[error("truncated lobs section at offset {0}")]
    Truncated(usize),
    #[error("lobs container has no main section")]
    NoMain,
    #[error("unknown lobs section marker {0}")]
    UnknownMarker(u8),
    #[error("bad msgpack in main section: {0}")]
    Msgpack(String),
    #[error("unresolved datum reference {0}")]
    MissingDatum(String),
    #[error("file datums are not supported")]
    FileDatum,
}

fn section(out: &mut Vec<u8>, marker: u8, data: &[u8]) {
    out.push(marker);
    out.push(0);
    out.extend_from_slice(&(data.len() as u64).to_be_bytes());
    out.extend_from_slice(data);
}

/// Encodes `value` as a LOBS container with only a main section (values stay below the
/// 10 MiB datum threshold).
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    let body = to_msgpack(value);
    let mut out = Vec::with_capacity(body.len() + SECTION_HEADER);
    section(&mut out, MARKER_MAIN, &body);
    out
}

/// Encodes `value` with the given datums (id, marker, bytes) appended.
#[cfg(test)]
pub(crate) fn encode_with_datums(value: &Value, datums: &[(uuid::Uuid, u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = encode(value);
    for (id, marker, bytes) in datums {
        let mut data = id.as_bytes().to_vec();
        data.extend_from_slice(bytes);
        section(&mut out, *marker, &data);
    }
    out
}

/// Decodes a LOBS container and resolves every `DatumRef` against its datums.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, FobsError> {
    let mut pos = 0;
    let mut main = None;
    let mut datums: HashMap<String, Value> = HashMap::new();
    while pos < bytes.len() {
        if pos + SECTION_HEADER > bytes.len() {
            return Err(FobsError::Truncated(pos));
        }
        let marker = bytes[pos];
        let mut size_bytes = [0u8; 8];
        size_bytes.copy_from_slice(&bytes[pos + 2..pos + 10]);
        let size = u64::from_be_bytes(size_bytes) as usize;
        let start = pos + SECTION_HEADER;
        let end = start.checked_add(size).ok_or(FobsError::Truncated(pos))?;
        if end > bytes.len() {
            return Err(FobsError::Truncated(pos));
        }
        let data = &bytes[start..end];
        match marker {
            MARKER_MAIN => {
                main = Some(from_msgpack(data).map_err(|e| FobsError::Msgpack(e.to_string()))?);
            }
            MARKER_TEXT | MARKER_BLOB => {
                if data.len() < 16 {
                    return Err(FobsError::Truncated(pos));
                }
                let id = uuid::Uuid::from_slice(&data[..16])
                    .map_err(|_| FobsError::Truncated(pos))?
                    .to_string();
                let value = if marker == MARKER_TEXT {
                    Value::from(String::from_utf8_lossy(&data[16..]).into_owned())
                } else {
                    Value::Binary(data[16..].to_vec())
                };
                datums.insert(id, value);
            }
            MARKER_FILE => return Err(FobsError::FileDatum),
            other => return Err(FobsError::UnknownMarker(other)),
        }
        pos = end;
    }
    let main = main.ok_or(FobsError::NoMain)?;
    resolve(main, &datums)
}

fn resolve(v: Value, datums: &HashMap<String, Value>) -> Result<Value, FobsError> {
    match v {
        Value::Map(m) => {
            if get_str(&m, FOBS_TYPE) == Some(DATUM_REF_TYPE) {
                let id = get(&m, FOBS_DATA)
                    .and_then(|d| d.as_map())
                    .and_then(|d| get(d, "data"))
                    .and_then(|d| d.as_map())
                    .and_then(|d| get_str(d, "datum_id"))
                    .unwrap_or_default()
                    .to_owned();
                return datums.get(&id).cloned().ok_or(FobsError::MissingDatum(id));
            }
            m.into_iter()
                .map(|(k, v)| Ok((k, resolve(v, datums)?)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Map)
        }
        Value::Array(a) => a
            .into_iter()
            .map(|v| resolve(v, datums))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other),
    }
}

/// A FOBS envelope.
pub(crate) fn envelope(fobs_type: &str, data: Value, decomposer: &str) -> Value {
    map([
        (FOBS_TYPE, Value::from(fobs_type)),
        (FOBS_DATA, data),
        (FOBS_DC, Value::from(decomposer)),
    ])
}

/// A `Shareable` with the given `__headers__` and body entries.
pub(crate) fn shareable(headers: Value, body: Vec<(&str, Value)>) -> Value {
    let mut entries = vec![("__headers__".to_owned(), headers)];
    entries.extend(body.into_iter().map(|(k, v)| (k.to_owned(), v)));
    envelope(SHAREABLE_TYPE, map(entries), DICT_DECOMPOSER)
}

/// An `FLContext` with public, non-sticky string props (mask 0).
pub(crate) fn fl_context(props: &[(&str, &str)]) -> Value {
    let props = map(props.iter().map(|(k, v)| {
        (
            *k,
            map([("value", Value::from(*v)), ("mask", Value::from(0))]),
        )
    }));
    envelope(
        FL_CONTEXT_TYPE,
        Value::Array(vec![Value::Nil, props]),
        CONTEXT_DECOMPOSER,
    )
}

/// The dict inside a `Shareable` envelope (or the value itself when it is a plain map).
pub(crate) fn unwrap_shareable(v: &Value) -> Option<&[(Value, Value)]> {
    let m = v.as_map()?;
    match get_str(m, FOBS_TYPE) {
        Some(SHAREABLE_TYPE) => get(m, FOBS_DATA)?.as_map().map(Vec::as_slice),
        Some(_) => None,
        None => Some(m.as_slice()),
    }
}

/// The props of an `FLContext` envelope as (name, value, mask).
#[cfg(test)]
pub(crate) fn unwrap_fl_context(v: &Value) -> Option<Vec<(String, Value, i64)>> {
    let m = v.as_map()?;
    if get_str(m, FOBS_TYPE) != Some(FL_CONTEXT_TYPE) {
        return None;
    }
    let data = get(m, FOBS_DATA)?.as_array()?;
    let props = data.get(1)?.as_map()?;
    props
        .iter()
        .map(|(k, p)| {
            let p = p.as_map()?;
            Some((
                k.as_str()?.to_owned(),
                get(p, "value")?.clone(),
                get(p, "mask").and_then(Value::as_i64).unwrap_or(0),
            ))
        })
        .collect()
}
