//! Codec unit tests: SFM prefixes and frames, LOBS containers with datums, FOBS envelopes, HCI
//! documents, `join_args`, and reply → error mapping for every meta status and keyword fallback.

use flare_model::{FlareError, ListJobsFilter};
use rmpv::Value;
use serde_json::json;

use crate::fobs::{self, FobsError};
use crate::hci::{
    HciReply, check_reply, check_study_payload, join_args, login_result, request_document,
};
use crate::sfm::{self, FrameError, Prefix, frame_type};

#[test]
fn prefix_round_trips_every_field() {
    let p = Prefix {
        length: 0x0102_0304,
        header_len: 0xfffe,
        frame_type: frame_type::PONG,
        reserved: 0,
        flags: 0x0a0b,
        app_id: 1,
        stream_id: 0xbeef,
        sequence: 0xffff,
    };
    let b = p.encode();
    assert_eq!(
        b,
        [
            1, 2, 3, 4, 0xff, 0xfe, 7, 0, 0x0a, 0x0b, 0, 1, 0xbe, 0xef, 0xff, 0xff
        ]
    );
    assert_eq!(Prefix::decode(&b).unwrap(), p);
}

#[test]
fn malformed_frames_are_rejected() {
    assert_eq!(Prefix::decode(&[0; 15]), Err(FrameError::TooShort(15)));
    let mut f = sfm::encode_frame(
        frame_type::DATA,
        1,
        2,
        3,
        Some(&sfm::map([("a", Value::from(1))])),
        b"xy",
    )
    .unwrap();
    assert!(sfm::decode_frame(&f).is_ok());
    f.push(0);
    assert!(matches!(
        sfm::decode_frame(&f),
        Err(FrameError::LengthMismatch { .. })
    ));
    let big = sfm::map([("h", Value::from("x".repeat(70_000)))]);
    assert!(matches!(
        sfm::encode_frame(frame_type::DATA, 1, 1, 1, Some(&big), b""),
        Err(FrameError::HeadersTooLarge(_))
    ));
}

#[test]
fn data_frame_round_trips_headers_and_payload() {
    let h = sfm::map([
        ("cn__channel", Value::from("hci_channel")),
        ("sm__id", Value::from(1_795_317_167_271_356u64)),
        ("cn__reply_expected", Value::Boolean(false)),
        ("cert", Value::Binary(vec![1, 2, 3])),
        ("cn__send_time", Value::F64(1795317168.662581)),
    ]);
    let b = sfm::encode_frame(frame_type::DATA, 1, 17, 2, Some(&h), b"payload").unwrap();
    let f = sfm::decode_frame(&b).unwrap();
    assert_eq!(Value::Map(f.headers.clone()), h);
    assert_eq!(f.payload, b"payload");
    assert_eq!(
        sfm::get_u64(&f.headers, "sm__id"),
        Some(1_795_317_167_271_356)
    );
    // bytes are msgpack bin (0xc4), floats float64 (0xcb)
    assert!(b.windows(2).any(|w| w == [0xc4, 3]));
    assert!(b.contains(&0xcb));
}

#[test]
fn lobs_resolves_text_and_blob_datums() {
    let text_id = uuid::Uuid::new_v4();
    let blob_id = uuid::Uuid::new_v4();
    let datum_ref = |id: uuid::Uuid| {
        fobs::envelope(
            fobs::DATUM_REF_TYPE,
            sfm::map([(
                "data",
                sfm::map([
                    ("datum_id", Value::from(id.to_string())),
                    ("unwrap", Value::Boolean(true)),
                ]),
            )]),
            "nvflare.fuel.utils.fobs.decomposer.DataClassDecomposer",
        )
    };
    let main = sfm::map([
        ("log", datum_ref(text_id)),
        ("list", Value::Array(vec![datum_ref(blob_id)])),
    ]);
    let bytes = fobs::encode_with_datums(
        &main,
        &[
            (text_id, fobs::MARKER_TEXT, b"a huge log".to_vec()),
            (blob_id, fobs::MARKER_BLOB, vec![9, 8, 7]),
        ],
    );
    let v = fobs::decode(&bytes).unwrap();
    let m = v.as_map().unwrap();
    assert_eq!(sfm::get_str(m, "log"), Some("a huge log"));
    assert_eq!(
        sfm::get(m, "list").unwrap()[0],
        Value::Binary(vec![9, 8, 7])
    );

    // a top-level DatumRef (how > 10 MiB HCI replies arrive)
    let top = fobs::encode_with_datums(
        &datum_ref(text_id),
        &[(text_id, fobs::MARKER_TEXT, b"{}".to_vec())],
    );
    assert_eq!(fobs::decode(&top).unwrap(), Value::from("{}"));
}

#[test]
fn lobs_rejects_broken_containers() {
    let good = fobs::encode(&Value::from("hello"));
    assert_eq!(good[..10], [100, 0, 0, 0, 0, 0, 0, 0, 0, 6]);
    assert_eq!(fobs::decode(&good).unwrap(), Value::from("hello"));
    assert!(matches!(
        fobs::decode(&good[..good.len() - 1]),
        Err(FobsError::Truncated(0))
    ));
    assert_eq!(fobs::decode(&[]), Err(FobsError::NoMain));
    let mut bad = good.clone();
    bad[0] = 99;
    assert_eq!(fobs::decode(&bad), Err(FobsError::UnknownMarker(99)));
    let missing = fobs::encode(&fobs::envelope(
        fobs::DATUM_REF_TYPE,
        sfm::map([("data", sfm::map([("datum_id", Value::from("nope"))]))]),
        "x",
    ));
    assert_eq!(
        fobs::decode(&missing),
        Err(FobsError::MissingDatum("nope".to_owned()))
    );
}

#[test]
fn shareable_and_fl_context_round_trip() {
    let s = fobs::shareable(
        sfm::map([(
            "__peer_ctx__",
            fobs::fl_context(&[("__identity_name__", "admin@x.org")]),
        )]),
        vec![
            ("cn", Value::from("admin@x.org")),
            ("signature", Value::Binary(vec![1; 4])),
        ],
    );
    let decoded = fobs::decode(&fobs::encode(&s)).unwrap();
    assert_eq!(decoded, s);
    let body = fobs::unwrap_shareable(&decoded).unwrap();
    assert_eq!(sfm::get_str(body, "cn"), Some("admin@x.org"));
    let headers = sfm::get(body, "__headers__").unwrap().as_map().unwrap();
    let ctx = fobs::unwrap_fl_context(sfm::get(headers, "__peer_ctx__").unwrap()).unwrap();
    assert_eq!(
        ctx,
        vec![(
            "__identity_name__".to_owned(),
            Value::from("admin@x.org"),
            0
        )]
    );
    // a plain map (the register reply) is its own body; other envelopes are not shareables
    let plain = sfm::map([("__token__", Value::from("t"))]);
    assert!(fobs::unwrap_shareable(&plain).is_some());
    assert!(fobs::unwrap_shareable(&fobs::envelope("tuple", Value::Array(vec![]), "x")).is_none());
}

#[test]
fn join_args_quotes_like_python() {
    assert_eq!(
        join_args(&["list_jobs", "-n", "my job"]),
        r#"list_jobs -n "my job""#
    );
    assert_eq!(
        join_args(&["a\"b", r"c\d", "tab\there", "plain"]),
        r#""a\"b" "c\\d" "tab	here" plain"#
    );
    assert_eq!(join_args::<&str>(&[]), "");
}

#[test]
fn list_jobs_command_has_every_filter() {
    let f = ListJobsFilter {
        detailed: true,
        limit: Some(5),
        id_prefix: Some("abc".into()),
        name_prefix: Some("hello numpy".into()),
        reverse: true,
        submit_token: Some("tok".into()),
    };
    assert_eq!(
        crate::commands::list_jobs_command(&f),
        r#"list_jobs -d -r -m 5 -n "hello numpy" abc --submit-token tok"#
    );
    assert_eq!(
        crate::commands::list_jobs_command(&ListJobsFilter::default()),
        "list_jobs"
    );
    let zero = ListJobsFilter {
        limit: Some(0),
        ..Default::default()
    };
    assert_eq!(crate::commands::list_jobs_command(&zero), "list_jobs");
}

#[test]
fn request_document_carries_command_token_and_meta() {
    let mut meta = serde_json::Map::new();
    meta.insert("cmd_timeout".into(), json!(30.0));
    let doc: serde_json::Value =
        serde_json::from_str(&request_document("check_status server", Some("t0k"), meta)).unwrap();
    assert_eq!(
        doc["data"][0],
        json!({"type": "command", "data": "check_status server"})
    );
    assert_eq!(doc["data"][1], json!({"type": "token", "data": "t0k"}));
    assert_eq!(doc["meta"]["cmd_timeout"], 30.0);
    let time = doc["time"].as_str().unwrap();
    assert_eq!(time.len(), 26, "{time}");
    let login: serde_json::Value = serde_json::from_str(&request_document(
        "_cert_login a",
        None,
        serde_json::Map::new(),
    ))
    .unwrap();
    assert_eq!(login["data"].as_array().unwrap().len(), 1);
}

fn with_status(status: &str, extra: serde_json::Value) -> HciReply {
    let mut meta = json!({"status": status, "info": "some-info"});
    for (k, v) in extra.as_object().unwrap() {
        meta[k] = v.clone();
    }
    HciReply(json!({"time": "t", "data": [{"type": "string", "data": "x"}], "meta": meta}))
}

#[test]
fn every_meta_status_maps_to_its_flare_api_error() {
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        ("invalid_job_def", json!({}), "invalid_job_definition"),
        (
            "submit_token_conflict",
            json!({"job_id": "j1"}),
            "submit_token_conflict",
        ),
        (
            "submit_token_job_deleted",
            json!({"job_id": "j2", "submit_record_state": "deleted", "deleted_time": "t"}),
            "submit_token_job_deleted",
        ),
        ("not_authorized", json!({}), "authorization_error"),
        (
            "not_authenticated",
            json!({"auth_code": "AUTH_X"}),
            "authentication_error",
        ),
        ("syntax_error", json!({}), "internal_error"),
        ("invalid_job_id", json!({}), "job_not_found"),
        ("job_running", json!({}), "job_not_done"),
        ("job_not_running", json!({}), "job_not_running"),
        ("clients_running", json!({}), "clients_still_running"),
        ("no_clients", json!({}), "no_clients_available"),
        ("internal_error", json!({}), "internal_error"),
        ("invalid_target", json!({}), "invalid_target"),
        ("no_reply", json!({}), "no_reply"),
        ("error", json!({}), "internal_error"),
        ("no_jobs", json!({}), "internal_error"),
    ];
    for (status, extra, kind) in cases {
        let err = check_reply(&with_status(status, extra), "cmd", false).unwrap_err();
        assert_eq!(err.kind(), kind, "{status}: {err:?}");
    }
    assert!(check_reply(&with_status("ok", json!({})), "cmd", true).is_ok());
    match check_reply(
        &with_status("submit_token_conflict", json!({"job_id": "j1"})),
        "c",
        false,
    ) {
        Err(FlareError::SubmitTokenConflict {
            existing_job_id, ..
        }) => assert_eq!(existing_job_id.as_deref(), Some("j1")),
        other => panic!("{other:?}"),
    }
    match check_reply(
        &with_status(
            "submit_token_job_deleted",
            json!({"job_id": "j2", "submit_record_state": "deleted", "deleted_time": "t"}),
        ),
        "c",
        false,
    ) {
        Err(FlareError::SubmitTokenJobDeleted {
            job_id,
            state,
            deleted_time,
            ..
        }) => {
            assert_eq!(
                (job_id.as_deref(), state.as_deref(), deleted_time.as_deref()),
                (Some("j2"), Some("deleted"), Some("t"))
            );
        }
        other => panic!("{other:?}"),
    }
    match check_reply(
        &with_status("not_authenticated", json!({"auth_code": "AUTH_X"})),
        "c",
        false,
    ) {
        Err(FlareError::AuthenticationError { auth_code, .. }) => {
            assert_eq!(auth_code.as_deref(), Some("AUTH_X"))
        }
        other => panic!("{other:?}"),
    }
    let no_clients = HciReply(
        json!({"data": [{"type": "string", "data": "x"}], "meta": {"status": "invalid_target", "info": "no clients available"}}),
    );
    assert_eq!(
        check_reply(&no_clients, "c", false).unwrap_err().kind(),
        "no_clients_available"
    );
}

#[test]
fn replies_without_meta_fall_back_to_item_keywords() {
    let items =
        |items: serde_json::Value| HciReply(json!({"time": "t", "data": items, "meta": {}}));
    let cases = [
        ("session_inactive: please log in", "session_closed"),
        ("Failed to communicate with site-1", "no_connection"),
        ("wrong server", "no_connection"),
        ("invalid client site-9", "invalid_target"),
        ("unknown site site-9", "invalid_target"),
        ("user is not authorized to do that", "authorization_error"),
    ];
    for (text, kind) in cases {
        let err =
            check_reply(&items(json!([{"type": "error", "data": text}])), "c", false).unwrap_err();
        assert_eq!(err.kind(), kind, "{text}");
    }
    // a success item wins over keywords; plain strings are fine without meta unless meta is enforced
    assert!(check_reply(&items(json!([{"type": "string", "data": "not authorized"}, {"type": "success", "data": ""}])), "c", false).is_ok());
    assert!(
        check_reply(
            &items(json!([{"type": "dict", "data": {"a": 1}}])),
            "c",
            false
        )
        .is_ok()
    );
    assert_eq!(
        check_reply(&items(json!([{"type": "dict", "data": {}}])), "c", true)
            .unwrap_err()
            .kind(),
        "internal_error"
    );
    assert_eq!(
        check_reply(&items(json!([])), "c", false)
            .unwrap_err()
            .kind(),
        "internal_error"
    );
}

#[test]
fn study_errors_are_in_band_command_errors() {
    let payload = json!({"error_code": "STUDY_NOT_FOUND", "message": "no study x", "hint": "list studies", "exit_code": 4});
    assert_eq!(
        check_study_payload(&payload).unwrap_err(),
        FlareError::CommandError {
            error_code: "STUDY_NOT_FOUND".into(),
            message: "no study x".into(),
            hint: "list studies".into(),
            exit_code: 4
        }
    );
    assert!(check_study_payload(&json!({"name": "s"})).is_ok());
}

#[test]
fn login_rejections_carry_their_auth_code() {
    let reply = |s: &str| HciReply(json!({"data": [{"type": "string", "data": s}], "meta": {}}));
    match login_result(&reply("REJECT: AUTH_UNKNOWN_STUDY: study 'x' is unknown")).unwrap_err() {
        FlareError::AuthenticationError { message, auth_code } => {
            assert_eq!(auth_code.as_deref(), Some("AUTH_UNKNOWN_STUDY"));
            assert_eq!(message, "study 'x' is unknown");
        }
        other => panic!("{other:?}"),
    }
    match login_result(&reply("REJECT")).unwrap_err() {
        FlareError::AuthenticationError { auth_code, .. } => assert_eq!(auth_code, None),
        other => panic!("{other:?}"),
    }
    match login_result(&reply("REJECT: bad cert")).unwrap_err() {
        FlareError::AuthenticationError { message, auth_code } => {
            assert_eq!((message.as_str(), auth_code), ("bad cert", None));
        }
        other => panic!("{other:?}"),
    }
    let ok = HciReply(
        json!({"data": [{"type": "string", "data": "OK"}, {"type": "token", "data": "a:b"}]}),
    );
    assert_eq!(login_result(&ok).unwrap(), "a:b");
}

#[test]
fn log_filters_tail_then_grep_keeping_line_ends_like_python() {
    let text = "a1\nb2\na3\nb4\n";
    assert_eq!(crate::commands::filter_log(text, None, None), text);
    assert_eq!(crate::commands::filter_log(text, Some(2), None), "a3\nb4\n");
    // Python tails first, then greps the tail: only "a3" of the last two lines matches "a".
    assert_eq!(
        crate::commands::filter_log(text, Some(2), Some("a")),
        "a3\n"
    );
    assert_eq!(
        crate::commands::filter_log(text, None, Some("b")),
        "b2\nb4\n"
    );
    assert_eq!(crate::commands::filter_log(text, Some(0), None), "");
    assert_eq!(crate::commands::filter_log(text, Some(9), None), text);
    assert_eq!(crate::commands::filter_log(text, None, Some("")), text);
}

#[test]
fn supported_versions_are_2_9_only() {
    assert!(crate::is_supported_version("2.9.0"));
    assert!(crate::is_supported_version("2.9.12rc1"));
    assert!(!crate::is_supported_version("2.8.1"));
    assert!(!crate::is_supported_version("2.10.0"));
    assert!(!crate::is_supported_version("3.9.0"));
}

#[test]
fn reassembler_waits_for_every_chunk_and_checks_the_size() {
    use crate::stream::{Reassembler, Received};
    let h = |seq: u64, dt: u64, sz: u64| {
        vec![
            (Value::from("cn__origin"), Value::from("server")),
            (Value::from("sm__id"), Value::from(5)),
            (Value::from("sm__sq"), Value::from(seq)),
            (Value::from("sm__dt"), Value::from(dt)),
            (Value::from("sm__sz"), Value::from(sz)),
        ]
    };
    let now = std::time::Instant::now();
    let mut r = Reassembler::new();
    assert_eq!(r.add(&h(1, 2, 4), b"cd".to_vec(), now), Received::Pending);
    assert_eq!(r.pending_streams(), 1);
    match r.add(&h(0, 1, 4), b"ab".to_vec(), now) {
        Received::Complete(ack, blob) => {
            assert_eq!((ack.offset, ack.seq, ack.stream_id), (4, 1, 5));
            assert_eq!(blob.data, b"abcd");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        r.add(&h(1, 2, 4), b"cd".to_vec(), now),
        Received::Duplicate(_)
    ));
    // after the memory window the same id is a new stream again
    let later = now + crate::stream::COMPLETED_TTL + std::time::Duration::from_secs(1);
    let mut bad = h(0, 2, 9);
    bad[1].1 = Value::from(6);
    assert!(matches!(
        r.add(&bad, b"short".to_vec(), later),
        Received::Failed { .. }
    ));
    assert_eq!(r.pending_streams(), 0);
}
