//! The connection actor against an in-process fake server (a WebSocket over `tokio::io::duplex`):
//! out-of-order reassembly, ACK and re-ACK, correlation, timeouts, PING, errors, connection loss
//! and session expiry. Fast checks of mechanics only; the POC tests prove the real protocol.

use std::sync::Arc;
use std::time::Duration;

use flare_model::FlareError;
use futures_util::{SinkExt, StreamExt};
use rmpv::Value;
use tokio::io::DuplexStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::conn::{Conn, Incoming};
use crate::sfm::{self, frame_type, get, get_str, get_u64};
use crate::stream::{CHUNK_SIZE, chunk_ranges};

type Server = WebSocketStream<DuplexStream>;
type Headers = Vec<(Value, Value)>;

async fn pair() -> (Arc<Conn>, Server) {
    let (c, s) = tokio::io::duplex(8 << 20);
    let client = WebSocketStream::from_raw_socket(c, Role::Client, None).await;
    let server = WebSocketStream::from_raw_socket(s, Role::Server, None).await;
    let conn = Conn::start(client, "_admin_test".to_owned());
    conn.set_auth_headers(vec![
        ("client_name".to_owned(), Value::from("admin@test.org")),
        ("__token__".to_owned(), Value::from("tok")),
        ("__token_signature__".to_owned(), Value::from("sig")),
    ]);
    (Arc::new(conn), server)
}

/// The next frame the client sent: (type, headers, payload).
async fn next_frame(server: &mut Server) -> (u8, Headers, Vec<u8>) {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), server.next())
            .await
            .expect("client sent nothing")
            .expect("stream ended")
            .expect("ws error");
        if let Message::Binary(b) = msg {
            let f = sfm::decode_frame(&b).unwrap();
            return (f.prefix.frame_type, f.headers, f.payload);
        }
    }
}

async fn next_data(server: &mut Server) -> (Headers, Vec<u8>) {
    loop {
        let (t, h, p) = next_frame(server).await;
        if t == frame_type::DATA {
            return (h, p);
        }
    }
}

async fn send(server: &mut Server, entries: Vec<(&str, Value)>, payload: &[u8]) {
    let mut all: Vec<(String, Value)> = vec![
        ("cn__origin".to_owned(), Value::from("server")),
        ("cn__from".to_owned(), Value::from("server")),
        ("cn__destination".to_owned(), Value::from("_admin_test")),
    ];
    all.extend(entries.into_iter().map(|(k, v)| (k.to_owned(), v)));
    let frame =
        sfm::encode_frame(frame_type::DATA, 1, 9, 9, Some(&sfm::map(all)), payload).unwrap();
    server.send(Message::Binary(frame.into())).await.unwrap();
}

/// Starts a streamed request on `channel`/`topic` in a task, as a command does.
fn spawn_stream(
    conn: &Arc<Conn>,
    channel: &'static str,
    topic: &'static str,
    app_headers: Vec<(String, Value)>,
    body: Vec<u8>,
) -> JoinHandle<Result<Incoming, FlareError>> {
    let c = conn.clone();
    tokio::spawn(async move {
        c.request_stream(
            channel,
            topic,
            app_headers,
            body,
            Duration::from_secs(5),
            "t",
        )
        .await
    })
}

/// Starts a direct `task` request on `topic` in a task.
fn spawn_direct(
    conn: &Arc<Conn>,
    topic: &'static str,
    timeout: Duration,
) -> JoinHandle<Result<Incoming, FlareError>> {
    let c = conn.clone();
    tokio::spawn(async move { c.request_direct("task", topic, vec![], None, timeout).await })
}

/// Sends chunk `seq` of a reply blob stream.
async fn send_chunk(server: &mut Server, stream_id: u64, ri: &str, body: &[u8], seq: usize) {
    let ranges = chunk_ranges(body.len());
    let r = ranges[seq].clone();
    let mut h = vec![
        ("cn__msg_type", Value::from("req")),
        ("cn__channel", Value::from("sm__STREAM")),
        ("cn__topic", Value::from("sm__DATA")),
        ("sm__id", Value::from(stream_id)),
        ("sm__sq", Value::from(seq as u64)),
        (
            "sm__dt",
            Value::from(if seq + 1 == ranges.len() { 2 } else { 1 }),
        ),
        ("sm__os", Value::from(r.start as u64)),
        ("sm__sz", Value::from(body.len() as u64)),
        ("sm__rs", Value::Boolean(true)),
    ];
    if seq == 0 {
        h.extend([
            ("sm__ri", Value::from(ri)),
            ("sm__ch", Value::from("return_only")),
            ("sm__tp", Value::from("hci_channel:command")),
            ("sm__pe", Value::from("fobs")),
        ]);
    }
    send(server, h, &body[r]).await;
}

#[tokio::test]
async fn out_of_order_reply_chunks_are_reassembled_acked_and_retransmits_reacked() {
    let (conn, mut server) = pair().await;
    let req = spawn_stream(&conn, "hci_channel", "command", vec![], b"request".to_vec());
    let (h, p) = next_data(&mut server).await;
    assert_eq!(p, b"request");
    assert_eq!(get_str(&h, "cn__channel"), Some("sm__STREAM"));
    assert_eq!(get_str(&h, "sm__ch"), Some("hci_channel"));
    assert_eq!(get_u64(&h, "sm__dt"), Some(2));
    assert_eq!(
        get_str(&h, "__token__"),
        Some("tok"),
        "stream chunks carry auth headers"
    );
    let ri = get_str(&h, "sm__ri").unwrap().to_owned();

    let body: Vec<u8> = (0..CHUNK_SIZE * 5 / 2).map(|i| (i % 251) as u8).collect();
    for seq in [2, 0, 1] {
        send_chunk(&mut server, 42, &ri, &body, seq).await;
    }
    let got = req.await.unwrap().unwrap();
    assert_eq!(got.payload, body);
    assert_eq!(got.header_str("sm__ch"), Some("return_only"));

    for round in 0..2 {
        let (ack, _) = next_data(&mut server).await;
        assert_eq!(get_str(&ack, "cn__topic"), Some("sm__ACK"), "round {round}");
        assert_eq!(get_u64(&ack, "sm__id"), Some(42));
        assert_eq!(get_u64(&ack, "sm__dt"), Some(3));
        assert_eq!(get_u64(&ack, "sm__os"), Some(body.len() as u64));
        assert_eq!(get_u64(&ack, "sm__sq"), Some(2));
        assert_eq!(get_str(&ack, "cn__destination"), Some("server"));
        assert_eq!(
            get_str(&ack, "__token__"),
            Some("tok"),
            "acks carry auth headers"
        );
        // the server retransmits a chunk of the completed stream: it must be acked again
        if round == 0 {
            send_chunk(&mut server, 42, &ri, &body, 1).await;
        }
    }
}

#[tokio::test]
async fn big_requests_are_chunked_at_one_mib() {
    let (conn, mut server) = pair().await;
    let body: Vec<u8> = vec![7; CHUNK_SIZE * 2 + 10];
    let _req = spawn_stream(
        &conn,
        "aux_communication",
        "x",
        vec![("cert".to_owned(), Value::Binary(vec![1]))],
        body.clone(),
    );
    let mut got = Vec::new();
    for seq in 0..3u64 {
        let (h, p) = next_data(&mut server).await;
        assert_eq!(get_u64(&h, "sm__sq"), Some(seq));
        assert_eq!(get_u64(&h, "sm__os"), Some(got.len() as u64));
        assert_eq!(get_u64(&h, "sm__dt"), Some(if seq == 2 { 2 } else { 1 }));
        assert_eq!(
            get(&h, "cert"),
            Some(&Value::Binary(vec![1])),
            "app headers on every chunk"
        );
        got.extend(p);
    }
    assert_eq!(got, body);
}

#[tokio::test]
async fn direct_replies_are_matched_by_request_id_in_any_order() {
    let (conn, mut server) = pair().await;
    let spawn = |topic| spawn_direct(&conn, topic, Duration::from_secs(5));
    let a = spawn("a");
    let (ha, _) = next_data(&mut server).await;
    let b = spawn("b");
    let (hb, _) = next_data(&mut server).await;
    assert_eq!(get(&hb, "cn__reply_expected"), Some(&Value::Boolean(true)));
    for h in [&hb, &ha] {
        let topic = get_str(h, "cn__topic").unwrap().to_owned();
        send(
            &mut server,
            vec![
                ("cn__msg_type", Value::from("reply")),
                ("cn__req_id", get(h, "cn__req_id").unwrap().clone()),
                ("cn__return_code", Value::from("ok")),
            ],
            topic.as_bytes(),
        )
        .await;
    }
    assert_eq!(a.await.unwrap().unwrap().payload, b"a");
    assert_eq!(b.await.unwrap().unwrap().payload, b"b");
}

#[tokio::test]
async fn a_timeout_is_no_reply_and_the_connection_survives_it() {
    let (conn, mut server) = pair().await;
    let err = conn
        .request_direct("task", "slow", vec![], None, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(err, FlareError::NoReply { .. }), "{err:?}");
    assert!(!conn.is_closed());
    let _ = next_data(&mut server).await;
    let again = spawn_direct(&conn, "fast", Duration::from_secs(5));
    let (h, _) = next_data(&mut server).await;
    send(
        &mut server,
        vec![
            ("cn__msg_type", Value::from("reply")),
            ("cn__req_id", get(&h, "cn__req_id").unwrap().clone()),
        ],
        b"",
    )
    .await;
    assert!(again.await.unwrap().is_ok());
}

#[tokio::test]
async fn sfm_ping_is_answered_with_pong() {
    let (_conn, mut server) = pair().await;
    let ping = sfm::encode_frame(frame_type::PING, 0, 5, 5, None, &[0xc0]).unwrap();
    server.send(Message::Binary(ping.into())).await.unwrap();
    let (t, h, p) = next_frame(&mut server).await;
    assert_eq!(t, frame_type::PONG);
    assert!(h.is_empty());
    assert_eq!(p, [0xc0]);
}

#[tokio::test]
async fn a_stream_error_fails_the_matching_request() {
    let (conn, mut server) = pair().await;
    let req = spawn_stream(&conn, "hci_channel", "command", vec![], b"x".to_vec());
    let (h, _) = next_data(&mut server).await;
    send(
        &mut server,
        vec![
            ("cn__msg_type", Value::from("req")),
            ("cn__channel", Value::from("sm__STREAM")),
            ("cn__topic", Value::from("sm__ERROR")),
            ("sm__dt", Value::from(6)),
            ("sm__em", Value::from("boom")),
            ("sm__ri", get(&h, "sm__ri").unwrap().clone()),
        ],
        b"",
    )
    .await;
    let err = req.await.unwrap().unwrap_err();
    assert!(err.message().contains("boom"), "{err:?}");
    assert!(!conn.is_closed());
}

#[tokio::test]
async fn losing_the_connection_fails_pending_requests_and_closes() {
    let (conn, mut server) = pair().await;
    let req = spawn_direct(&conn, "x", Duration::from_secs(30));
    let _ = next_data(&mut server).await;
    drop(server);
    let err = req.await.unwrap().unwrap_err();
    assert!(matches!(err, FlareError::NoConnection { .. }), "{err:?}");
    assert!(conn.is_closed());
    let err = conn
        .request_direct("task", "y", vec![], None, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(err.is_connection_lost(), "{err:?}");
}

#[tokio::test]
async fn a_session_expired_push_closes_with_session_expired() {
    let (conn, mut server) = pair().await;
    let req = spawn_direct(&conn, "x", Duration::from_secs(30));
    let _ = next_data(&mut server).await;
    let reason = crate::fobs::encode(&Value::from("idle too long"));
    send(
        &mut server,
        vec![
            ("cn__msg_type", Value::from("req")),
            ("cn__channel", Value::from("sm__STREAM")),
            ("cn__topic", Value::from("sm__DATA")),
            ("sm__id", Value::from(7)),
            ("sm__sq", Value::from(0)),
            ("sm__dt", Value::from(2)),
            ("sm__sz", Value::from(reason.len() as u64)),
            ("sm__ch", Value::from("hci_channel")),
            ("sm__tp", Value::from("SESSION_EXPIRED")),
        ],
        &reason,
    )
    .await;
    let err = req.await.unwrap().unwrap_err();
    assert!(matches!(err, FlareError::SessionExpired { .. }), "{err:?}");
    assert!(err.message().contains("idle too long"));
    assert!(conn.is_closed());
}

#[tokio::test]
async fn the_server_bye_is_answered_ok() {
    let (_conn, mut server) = pair().await;
    send(
        &mut server,
        vec![
            ("cn__msg_type", Value::from("req")),
            ("cn__channel", Value::from("cellnet.channel")),
            ("cn__topic", Value::from("bye")),
            ("cn__req_id", Value::from("r1")),
            ("cn__reply_expected", Value::Boolean(true)),
        ],
        b"",
    )
    .await;
    let (h, _) = next_data(&mut server).await;
    assert_eq!(get_str(&h, "cn__msg_type"), Some("reply"));
    assert_eq!(get_str(&h, "cn__req_id"), Some("r1"));
    assert_eq!(get_str(&h, "cn__return_code"), Some("ok"));
}
