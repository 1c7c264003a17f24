//! `/ws` refusals before the upgrade, and the hello.

use flare_model::{Event, Hello, LinkState, PROTOCOL_VERSION, Role, ServerFrame};
use tokio_tungstenite::tungstenite::{Error, Message};

use super::support::{IDENTITY, OPERATOR, TestRelay, VIEWER};

fn status(result: Result<super::support::Tab, Error>) -> u16 {
    match result {
        Err(Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected a refusal, the socket opened"),
    }
}

#[tokio::test]
async fn websocket_without_a_session_cookie_is_401() {
    let relay = TestRelay::start().await;
    let origin = relay.origin();
    assert_eq!(status(relay.connect(None, Some(&origin)).await), 401);
    assert_eq!(status(relay.connect(None, None).await), 401);
    let forged = "flare_session=00000000000000000000000000000000";
    assert_eq!(
        status(relay.connect(Some(forged), Some(&origin)).await),
        401
    );
}

#[tokio::test]
async fn websocket_with_a_foreign_or_missing_origin_is_403() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let near_misses = [
        "http://evil.example".to_owned(),
        format!("{}/", relay.origin()),
        format!("https://127.0.0.1:{}", relay.addr.port()),
    ];
    for origin in &near_misses {
        assert_eq!(
            status(relay.connect(Some(&cookie), Some(origin)).await),
            403,
            "{origin}"
        );
    }
    assert_eq!(status(relay.connect(Some(&cookie), None).await), 403);
    let localhost = format!("http://localhost:{}", relay.addr.port());
    assert!(relay.connect(Some(&cookie), Some(&localhost)).await.is_ok());
    // Nothing refused reached NVFlare: no hub was created by the refusals.
    assert_eq!(
        relay.state.hubs.len(),
        1,
        "only the accepted socket made a hub"
    );
}

#[tokio::test]
async fn hello_carries_protocol_role_and_identity_then_the_upstream_state() {
    let relay = TestRelay::start().await;
    for (user, role) in [(OPERATOR, Role::Operator), (VIEWER, Role::Viewer)] {
        let cookie = relay.login(user).await;
        let mut tab = relay
            .connect(Some(&cookie), Some(&relay.origin()))
            .await
            .expect("socket");
        let hello = tab.next().await;
        assert_eq!(
            hello,
            ServerFrame::Hello {
                hello: Hello {
                    protocol: PROTOCOL_VERSION,
                    role,
                    user: user.into(),
                    identity: IDENTITY.into(),
                    study: "default".into(),
                    relay_version: env!("CARGO_PKG_VERSION").into(),
                }
            }
        );
        let ServerFrame::Event {
            event: Event::Upstream(state),
        } = tab.next().await
        else {
            panic!("expected the upstream state after hello");
        };
        if state.state != LinkState::Connected {
            let connected =
                tab.event(|e| matches!(e, Event::Upstream(s) if s.state == LinkState::Connected));
            let Event::Upstream(state) = connected.await else {
                unreachable!()
            };
            assert_eq!(state.server_version.as_deref(), Some("2.9.0"));
        } else {
            assert_eq!(state.server_version.as_deref(), Some("2.9.0"));
        }
    }
    assert_eq!(
        relay.fake.logins(),
        1,
        "both users share one upstream session"
    );
}

#[tokio::test]
async fn logout_closes_the_sessions_sockets() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let mut tab = relay
        .connect(Some(&cookie), Some(&relay.origin()))
        .await
        .expect("socket");
    assert!(matches!(tab.next().await, ServerFrame::Hello { .. }));
    let logout = reqwest::Client::new()
        .post(relay.url("/api/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), 200);
    loop {
        match tab.raw().await {
            Some(Ok(Message::Close(frame))) => {
                let frame = frame.expect("close frame");
                assert_eq!(u16::from(frame.code), 4001);
                break;
            }
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    let origin = relay.origin();
    assert_eq!(
        status(relay.connect(Some(&cookie), Some(&origin)).await),
        401
    );
}
