//! The idle limit of a login beside its lifetime: a login nobody uses for `session_idle_secs` ends
//! like a logout (its sockets close with 4001); a socket's commands are uses that keep it alive.

use std::time::Duration;

use flare_model::wire::close_code::SESSION_ENDED;
use flare_model::{ReadCommand, ServerFrame};
use futures_util::StreamExt;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::support::{OPERATOR, Tab, TestRelay};

/// A relay whose logins end after 1 s without a use.
async fn relay() -> TestRelay {
    TestRelay::start_with(|config| {
        config.limits.session_idle_secs = 1;
        config.limits.max_commands_per_sec = 100_000.0;
    })
    .await
}

/// The code of the socket's close frame, skipping other messages, within 10 s.
async fn close_code(tab: &mut Tab) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let next = tokio::time::timeout_at(deadline, tab.ws.next())
            .await
            .expect("the socket closes within 10 s");
        match next {
            Some(Ok(Message::Close(frame))) => return u16::from(frame.expect("frame").code),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_idle_login_ends_like_a_logout_and_its_sockets_close_with_4001() {
    let relay = relay().await;
    let cookie = relay.login(OPERATOR).await;
    let mut tab = relay.tab_for(&cookie).await;
    assert_eq!(close_code(&mut tab).await, SESSION_ENDED);
    let (status, body) = relay.get("/api/session", Some(&cookie)).await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn commands_over_a_socket_keep_its_login_alive() {
    let relay = relay().await;
    let cookie = relay.login(OPERATOR).await;
    let mut tab = relay.tab_for(&cookie).await;
    // Commands back to back for 2.5 s: more than twice the idle limit, never idle.
    let until = Instant::now() + Duration::from_millis(2500);
    let mut id = 0;
    while Instant::now() < until {
        id += 1;
        tab.command(id, ReadCommand::GetSystemInfo).await;
        let reply = tab.reply(id).await;
        assert!(matches!(reply, ServerFrame::Ok { .. }), "{reply:?}");
    }
    let (status, body) = relay.get("/api/session", Some(&cookie)).await;
    assert_eq!(
        status, 200,
        "the login is alive after {id} commands: {body}"
    );
}
