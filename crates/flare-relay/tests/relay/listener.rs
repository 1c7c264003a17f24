//! The listener's limits: header and body read timeouts, and the cap on connections served at
//! once (an open WebSocket holds its place).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::support::{OPERATOR, Tab, TestRelay};

/// Reads from `stream` until `done` holds for what came, the peer closes, or 10 s pass (a
/// failure); what came.
async fn read_until(stream: &mut TcpStream, done: impl Fn(&str) -> bool) -> String {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            if done(&String::from_utf8_lossy(&got)) {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an answer or a close within 10 s");
    String::from_utf8_lossy(&got).into_owned()
}

/// Sends `GET /api/session` on a fresh connection; the connection when the relay answered it.
async fn served(relay: &TestRelay, keep_alive: bool) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(relay.addr).await.expect("connect");
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let request =
        format!("GET /api/session HTTP/1.1\r\nHost: x\r\nConnection: {connection}\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return None;
    }
    let answer = read_until(&mut stream, |got| got.contains("\r\n\r\n")).await;
    answer.starts_with("HTTP/1.1 ").then_some(stream)
}

/// Retries `attempt` every 20 ms until it gives something, for at most 10 s.
async fn until_some<T, F: Future<Output = Option<T>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(got) = attempt().await {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_client_that_never_ends_its_headers_is_disconnected() {
    let relay = TestRelay::start_with(|c| c.limits.header_read_timeout_secs = 0.3).await;
    let mut stream = TcpStream::connect(relay.addr).await.expect("connect");
    stream
        .write_all(b"GET /api/session HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");

    let answer = read_until(&mut stream, |_| false).await;

    assert!(!answer.contains("200"), "{answer}");
}

#[tokio::test]
async fn a_stalled_request_body_fails_after_the_body_timeout() {
    let relay = TestRelay::start_with(|c| c.limits.body_read_timeout_secs = 0.3).await;
    let cookie = relay.login(OPERATOR).await;
    let mut stream = TcpStream::connect(relay.addr).await.expect("connect");
    let head = format!(
        "POST /api/upload HTTP/1.1\r\nHost: x\r\nOrigin: {}\r\nCookie: {cookie}\r\n\
         Content-Type: application/zip\r\nContent-Length: 100000\r\n\r\nPK\x03\x04",
        relay.origin()
    );
    stream.write_all(head.as_bytes()).await.expect("write");

    let answer = read_until(&mut stream, |got| got.contains("send it again")).await;

    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("the upload broke off"), "{answer}");
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_and_an_open_websocket_holds_its_place() {
    let relay = TestRelay::start_with(|c| c.limits.max_connections = 2).await;
    let cookie = relay.login(OPERATOR).await;
    // The login's connection may still hold its place for a moment: retry until there is room.
    let mut tab: Tab = until_some("a socket", || async {
        relay
            .connect(Some(&cookie), Some(&relay.origin()))
            .await
            .ok()
    })
    .await;
    let _held = until_some("a kept-alive connection", || served(&relay, true)).await;

    assert!(
        served(&relay, false).await.is_none(),
        "a third connection is closed unanswered"
    );

    tab.ws.close(None).await.expect("close");
    until_some("the socket's place to come free", || async {
        served(&relay, false).await
    })
    .await;
}
