//! Golden vectors: frames and documents captured from the stock Python client talking to a real
//! NVFlare 2.9.0 POC (`decoded_basic.txt`, `transcript_basic.json`).

use std::fmt;

use rmpv::Value;
use serde::de::{Deserializer, MapAccess, Visitor};

use super::{golden, hex};
use crate::hci::{HciReply, check_reply, login_result};
use crate::sfm::{self, Prefix, frame_type, hello_payload};

struct FrameLine {
    index: usize,
    kind: String,
    len: usize,
    hlen: usize,
    app: u16,
    sid: u16,
    seq: u16,
    raw: Option<Vec<u8>>,
    headers_json: Option<String>,
    payload_hex: Option<(usize, Vec<u8>)>,
}

fn field<T: std::str::FromStr>(line: &str, key: &str) -> T {
    let start = line.find(&format!(" {key}=")).expect(key) + key.len() + 2;
    let rest = &line[start..];
    let end = rest.find(' ').unwrap_or(rest.len());
    rest[..end].parse().ok().expect("number")
}

fn frames() -> Vec<FrameLine> {
    let text = std::fs::read_to_string(golden("decoded_basic.txt")).expect("decoded_basic.txt");
    let mut out: Vec<FrameLine> = Vec::new();
    for line in text.lines() {
        if line.starts_with('[') && line.contains(" len=") {
            let index = line[1..line.find(']').unwrap()].parse().unwrap();
            let kind = line.split_whitespace().nth(3).unwrap().to_owned();
            out.push(FrameLine {
                index,
                kind,
                len: field(line, "len"),
                hlen: field(line, "hlen"),
                app: field(line, "app"),
                sid: field(line, "sid"),
                seq: field(line, "seq"),
                raw: None,
                headers_json: None,
                payload_hex: None,
            });
        } else if let Some(f) = out.last_mut() {
            let t = line.trim_start();
            if let Some(h) = t.strip_prefix("raw[0:96]: ") {
                f.raw = Some(hex(h.trim()));
            } else if let Some(h) = t.strip_prefix("headers: ") {
                f.headers_json = Some(h.to_owned());
            } else if let Some(p) = t.strip_prefix("payload (bytes): ") {
                let (n, rest) = p.split_once(" bytes: ").unwrap();
                f.payload_hex = Some((n.parse().unwrap(), hex(rest.trim())));
            }
        }
    }
    out
}

fn type_code(kind: &str) -> u8 {
    match kind {
        "DATA" => frame_type::DATA,
        "HELLO" => frame_type::HELLO,
        "READY" => frame_type::READY,
        "PING" => frame_type::PING,
        "PONG" => frame_type::PONG,
        other => panic!("unknown frame kind {other}"),
    }
}

#[test]
fn every_captured_prefix_decodes_to_its_annotation_and_reencodes_identically() {
    let frames = frames();
    let with_raw: Vec<_> = frames.iter().filter(|f| f.raw.is_some()).collect();
    assert!(with_raw.len() >= 6, "only {} raw frames", with_raw.len());
    for f in with_raw {
        let raw = f.raw.as_ref().unwrap();
        let p = Prefix::decode(raw).unwrap();
        assert_eq!(p.length as usize, f.len, "frame {}", f.index);
        assert_eq!(p.header_len as usize, f.hlen, "frame {}", f.index);
        assert_eq!(p.frame_type, type_code(&f.kind), "frame {}", f.index);
        assert_eq!((p.app_id, p.stream_id, p.sequence), (f.app, f.sid, f.seq));
        assert_eq!(p.encode().as_slice(), &raw[..16], "frame {}", f.index);
    }
}

#[test]
fn observed_ready_frame_decodes_and_reencodes_byte_for_byte() {
    let frames = frames();
    let ready = frames.iter().find(|f| f.kind == "READY").unwrap();
    let raw = ready.raw.as_ref().unwrap();
    assert_eq!(
        raw.len(),
        ready.len,
        "the whole READY frame is in the capture"
    );
    let frame = sfm::decode_frame(raw).unwrap();
    assert!(frame.headers.is_empty());
    let payload = sfm::from_msgpack(&frame.payload).unwrap();
    let m = payload.as_map().unwrap();
    assert_eq!(sfm::get_str(m, "endpoint_name"), Some("server"));
    assert_eq!(sfm::get_str(m, "fqcn"), Some("server"));
    let ts = sfm::get(m, "timestamp").unwrap().as_f64().unwrap();
    assert_eq!(ts.to_bits(), 0x41dac0976be230e2);
    let again = sfm::encode_frame(frame_type::READY, 0, 1, 1, None, &frame.payload).unwrap();
    assert_eq!(&again, raw);
}

#[test]
fn hello_frame_matches_the_captured_bytes() {
    let frames = frames();
    let hello = frames.iter().find(|f| f.kind == "HELLO").unwrap();
    let fqcn = "_admin_86c8d56a-186e-4389-95d8-aca0c7373f27";
    let payload = hello_payload(fqcn, f64::from_bits(0x41dac0976be21b17));
    let frame = sfm::encode_frame(frame_type::HELLO, 0, 1, 1, None, &payload).unwrap();
    assert_eq!(frame.len(), hello.len);
    assert_eq!(&frame[..96], hello.raw.as_ref().unwrap().as_slice());
}

/// A JSON object parsed with its key order kept (the capture lists headers in wire order).
struct Ordered(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, serde_json::Value>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn to_rmpv(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(u) => Value::from(u),
            None => Value::F64(n.as_f64().unwrap()),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(to_rmpv).collect()),
        serde_json::Value::Object(_) => panic!("nested maps are not in cellnet headers"),
    }
}

#[test]
fn complete_header_maps_reencode_to_their_captured_length_and_bytes() {
    let mut checked = 0;
    for f in frames() {
        let Some(json) = &f.headers_json else {
            continue;
        };
        if json.contains("...(+") || json.contains("<bin ") {
            continue; // values elided in the capture
        }
        let Ordered(entries) = serde_json::from_str(json).unwrap();
        let headers = sfm::map(entries.iter().map(|(k, v)| (k.clone(), to_rmpv(v))));
        let bytes = sfm::to_msgpack(&headers);
        assert_eq!(bytes.len(), f.hlen, "frame {} header block", f.index);
        if let Some(raw) = &f.raw {
            assert_eq!(&bytes[..raw.len() - 16], &raw[16..], "frame {}", f.index);
        }
        checked += 1;
    }
    assert!(checked >= 1, "no complete header map in the capture");
}

#[test]
fn lobs_main_sections_match_the_captured_payload_prefixes() {
    let mut checked = 0;
    for f in frames() {
        let Some((len, prefix)) = &f.payload_hex else {
            continue;
        };
        if prefix.len() < 13 || prefix[0] != crate::fobs::MARKER_MAIN || prefix[10] != 0xda {
            continue;
        }
        // main section: 64 00 <u64 size> then msgpack str16 <u16 len>.
        let str_len = u16::from_be_bytes([prefix[11], prefix[12]]) as usize;
        let encoded = crate::fobs::encode(&Value::from("x".repeat(str_len)));
        assert_eq!(encoded.len(), *len, "frame {}", f.index);
        assert_eq!(&encoded[..13], &prefix[..13], "frame {}", f.index);
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} lobs payloads checked");
}

fn transcript() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(golden("transcript_basic.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn reply_of(frame: u64) -> HciReply {
    let t = transcript();
    let entry = t
        .iter()
        .find(|e| e["frame"] == frame)
        .unwrap_or_else(|| panic!("frame {frame}"));
    HciReply(entry["payload"].clone())
}

#[test]
fn captured_login_reply_yields_the_session_token() {
    let r = reply_of(8);
    let token = login_result(&r).unwrap();
    assert!(token.starts_with("eyJuIjog") && token.contains(':'));
}

#[test]
fn captured_check_status_server_maps_to_system_info() {
    let r = reply_of(16);
    check_reply(&r, "check_status server", true).unwrap();
    let info = crate::commands::system_info_from(&r);
    assert_eq!(info.server_info.status, "stopped");
    assert_eq!(info.server_info.start_time, 1795316056.4429371);
    let names: Vec<_> = info.client_info.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["site-1", "site-2"]);
    assert!(info.job_info.is_empty());
}

#[test]
fn captured_list_jobs_maps_to_job_summaries() {
    let r = reply_of(20);
    check_reply(&r, "list_jobs", true).unwrap();
    let jobs: Vec<flare_model::JobSummary> =
        serde_json::from_value(r.meta_field("jobs").unwrap().clone()).unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].job_id, "25296df4-dc9e-4a13-9172-78cbf90ca55b");
    assert_eq!(jobs[0].status, "FINISHED:COMPLETED");
    assert_eq!(jobs[1].duration, "0:00:13.473257");
    assert_eq!(jobs[1].study, "default");
}

#[test]
fn captured_client_status_without_meta_status_is_ok() {
    let r = reply_of(24);
    check_reply(&r, "check_status client", true).unwrap();
    assert_eq!(
        r.meta_field("client_status").unwrap()[1]["status"],
        "no_jobs"
    );
}

#[test]
fn captured_list_studies_and_report_version_parse() {
    let r = reply_of(28);
    check_reply(&r, "list_studies", true).unwrap();
    let list: flare_model::StudyList = serde_json::from_value(r.dict_data()).unwrap();
    assert_eq!(list.identity.role, "project_admin");
    let r = reply_of(32);
    check_reply(&r, "report_version all", false).unwrap();
    assert_eq!(r.dict_data()["site-2"]["version"], "2.9.0");
}

#[test]
fn captured_register_payload_uses_the_envelopes_we_build() {
    let t = transcript();
    let reg = t
        .iter()
        .find(|e| e["cn_tp"] == "register" && e["dir"] == "out")
        .unwrap();
    let captured = &reg["payload"];
    let built = crate::fobs::shareable(
        sfm::map([(
            "__peer_ctx__",
            crate::fobs::fl_context(&[("__identity_name__", "admin@nvidia.com")]),
        )]),
        vec![
            ("cert", Value::Binary(vec![0; 1212])),
            ("signature", Value::Binary(vec![0; 256])),
            ("cn", Value::from("admin@nvidia.com")),
        ],
    );
    // Render bins as the capture does, then compare the whole structure.
    fn render(v: &Value) -> serde_json::Value {
        match v {
            Value::Binary(b) => serde_json::Value::from(format!("<bin {}>", b.len())),
            Value::Map(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| (k.as_str().unwrap().to_owned(), render(v)))
                    .collect(),
            ),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(render).collect()),
            Value::Nil => serde_json::Value::Null,
            Value::String(s) => serde_json::Value::from(s.as_str().unwrap()),
            Value::Integer(i) => serde_json::Value::from(i.as_i64().unwrap()),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(&render(&built), captured);
}
