//! Kiosk tokens: operators create, list and revoke them; a kiosk login is a viewer pinned to the
//! token's identity and study, refused every mutation, and closed when the token is revoked.

use std::time::Duration;

use flare_model::{CreatedKioskToken, FlareError, KioskToken, Role, ServerFrame};
use reqwest::Method;
use serde_json::json;
use tokio_tungstenite::tungstenite::{Error, Message};

use super::support::{IDENTITY, OPERATOR, Tab, TestRelay, VIEWER};

const INVALID: &str = "this kiosk link is no longer valid: ask an operator for a new one";

/// Creates a token as `cookie`'s login; the created token and its secret.
async fn create(relay: &TestRelay, cookie: &str, label: &str, secs: u64) -> (KioskToken, String) {
    let (status, body) = relay
        .api(
            Method::POST,
            "/api/kiosk-tokens",
            Some(cookie),
            Some(json!({ "label": label, "expires_in_secs": secs })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let created: CreatedKioskToken = serde_json::from_value(body).expect("created token");
    let secret = created
        .url
        .strip_prefix("/kiosk#token=")
        .expect("the kiosk url")
        .to_owned();
    (created.token, secret)
}

/// Waits for the socket's close frame and returns its code, within `within`.
async fn close_code(tab: &mut Tab, within: Duration) -> u16 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let next = tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut tab.ws))
            .await
            .expect("the socket closes in time");
        match next {
            Some(Ok(Message::Close(frame))) => return u16::from(frame.expect("frame").code),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn operators_create_list_and_revoke_tokens() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let (token, secret) = create(&relay, &cookie, "Lobby screen", 3600).await;
    assert_eq!(secret.len(), 64);
    assert_eq!(token.label, "Lobby screen");
    assert_eq!(token.identity, IDENTITY);
    assert_eq!(token.study, "default", "the operator's study by default");
    assert_eq!(token.created_by, OPERATOR);
    assert_eq!(token.expires_at_ms - token.created_at_ms, 3_600_000);

    let (_, capped) = create(&relay, &cookie, "Long", 365 * 86_400).await;
    let (status, list) = relay.get("/api/kiosk-tokens", Some(&cookie)).await;
    assert_eq!(status, 200);
    let list: Vec<KioskToken> = serde_json::from_value(list).expect("tokens");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0], token);
    assert_eq!(
        list[1].expires_at_ms - list[1].created_at_ms,
        30 * 86_400_000,
        "capped at max_kiosk_token_secs"
    );
    assert!(!capped.is_empty());

    let (status, body) = relay
        .api(
            Method::POST,
            "/api/kiosk-tokens",
            Some(&cookie),
            Some(json!({ "label": "", "expires_in_secs": 60 })),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = relay
        .api(
            Method::POST,
            "/api/kiosk-tokens",
            Some(&cookie),
            Some(json!({ "label": "x", "study": "Bad Study", "expires_in_secs": 60 })),
        )
        .await;
    assert_eq!(status, 400);
    // A foreign origin is refused.
    let foreign = reqwest::Client::new()
        .post(relay.url("/api/kiosk-tokens"))
        .header("origin", "http://evil.example")
        .header("cookie", &cookie)
        .json(&json!({ "label": "x", "expires_in_secs": 60 }))
        .send()
        .await
        .expect("request");
    assert_eq!(foreign.status(), 403);

    let path = format!("/api/kiosk-tokens/{}", token.id);
    let (status, _) = relay.api(Method::DELETE, &path, Some(&cookie), None).await;
    assert_eq!(status, 200);
    let (status, _) = relay.api(Method::DELETE, &path, Some(&cookie), None).await;
    assert_eq!(status, 404);
    let (_, list) = relay.get("/api/kiosk-tokens", Some(&cookie)).await;
    assert_eq!(list.as_array().expect("list").len(), 1);
    let created = relay
        .audit_lines()
        .into_iter()
        .filter(|l| l["command"] == "create_kiosk_token")
        .count();
    assert_eq!(created, 2);
}

#[tokio::test]
async fn viewers_and_kiosks_cannot_manage_tokens() {
    let relay = TestRelay::start().await;
    let operator = relay.login(OPERATOR).await;
    let (token, secret) = create(&relay, &operator, "Wall", 3600).await;
    let viewer = relay.login(VIEWER).await;
    let (_, _, kiosk) = relay.kiosk_login(&secret).await;
    let kiosk = kiosk.expect("kiosk cookie");
    let path = format!("/api/kiosk-tokens/{}", token.id);
    for cookie in [&viewer, &kiosk] {
        let (status, body) = relay
            .api(
                Method::POST,
                "/api/kiosk-tokens",
                Some(cookie),
                Some(json!({ "label": "x", "expires_in_secs": 60 })),
            )
            .await;
        assert_eq!(status, 403, "{body}");
        let (status, _) = relay.get("/api/kiosk-tokens", Some(cookie)).await;
        assert_eq!(status, 403);
        let (status, _) = relay.api(Method::DELETE, &path, Some(cookie), None).await;
        assert_eq!(status, 403);
    }
    let (status, _) = relay.get("/api/kiosk-tokens", None).await;
    assert_eq!(status, 401);
    assert_eq!(relay.state.kiosk.list(IDENTITY).len(), 1, "nothing changed");
}

#[tokio::test]
async fn a_kiosk_login_is_a_viewer_pinned_to_the_tokens_study() {
    let relay = TestRelay::start().await;
    let operator = relay.login(OPERATOR).await;
    let (_, secret) = create(&relay, &operator, "Lobby", 3600).await;
    let (status, body, cookie) = relay.kiosk_login(&secret).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"], "kiosk:Lobby");
    assert_eq!(body["role"], "viewer");
    assert_eq!(body["identity"], IDENTITY);
    assert_eq!(body["study"], "default");
    assert_eq!(body["kiosk"], true);
    let cookie = cookie.expect("a session cookie");
    assert!(cookie.starts_with("flare_session="));
    let (status, session) = relay.get("/api/session", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert_eq!(session["kiosk"], true);

    let mut tab = relay
        .connect(Some(&cookie), Some(&relay.origin()))
        .await
        .expect("socket");
    let ServerFrame::Hello { hello } = tab.next().await else {
        panic!("hello first");
    };
    assert_eq!(hello.role, Role::Viewer);
    assert_eq!(hello.user, "kiosk:Lobby");
    assert_eq!(hello.study, "default");

    let other = relay
        .connect_to("/ws?study=other", Some(&cookie), Some(&relay.origin()))
        .await;
    match other {
        Err(Error::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    let (status, _) = relay
        .get("/api/site-history?study=other", Some(&cookie))
        .await;
    assert_eq!(status, 403);
    let (status, _) = relay
        .get("/api/site-history?study=default", Some(&cookie))
        .await;
    assert_eq!(status, 200);

    let (status, body, cookie) = relay.kiosk_login(&"0".repeat(64)).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], INVALID);
    assert!(cookie.is_none());
}

#[tokio::test]
async fn a_forged_abort_over_a_kiosk_socket_is_refused_and_audited() {
    let relay = TestRelay::start().await;
    relay.fake.put_job("j1", "hello", "RUNNING");
    let operator = relay.login(OPERATOR).await;
    let (token, secret) = create(&relay, &operator, "Lab TV", 3600).await;
    let (_, _, cookie) = relay.kiosk_login(&secret).await;
    let mut tab = relay.tab_for(&cookie.expect("cookie")).await;
    tab.send_text(r#"{"id": 9, "command": {"abort_job": {"job_id": "j1"}}}"#)
        .await;
    let ServerFrame::Error {
        id: 9,
        error: FlareError::ReadOnlySession { message },
    } = tab.reply(9).await
    else {
        panic!("the abort is refused");
    };
    assert!(message.contains("abort_job"), "{message}");
    assert_eq!(relay.fake.calls("abort_job"), 0, "it never reached NVFlare");
    let refused: Vec<_> = relay
        .audit_lines()
        .into_iter()
        .filter(|l| l["command"] == "abort_job")
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["outcome"], "refused");
    assert_eq!(refused[0]["user"], "kiosk:Lab TV");
    let kiosk = refused[0]["kiosk_token"].as_str().expect("kiosk_token");
    assert!(
        kiosk.contains(&token.id) && kiosk.contains("Lab TV"),
        "{kiosk}"
    );
}

#[tokio::test]
async fn revoking_closes_the_kiosk_socket_and_the_link_stops_working() {
    let relay = TestRelay::start().await;
    let operator = relay.login(OPERATOR).await;
    let (token, secret) = create(&relay, &operator, "Hall", 3600).await;
    let (_, _, cookie) = relay.kiosk_login(&secret).await;
    let cookie = cookie.expect("cookie");
    let mut tab = relay.tab_for(&cookie).await;

    let path = format!("/api/kiosk-tokens/{}", token.id);
    let (status, body) = relay
        .api(Method::DELETE, &path, Some(&operator), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sessions_ended"], 1);
    assert_eq!(close_code(&mut tab, Duration::from_secs(3)).await, 4003);

    let (status, body, _) = relay.kiosk_login(&secret).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], INVALID);
    let (status, _) = relay.get("/api/session", Some(&cookie)).await;
    assert_eq!(status, 401, "the kiosk session is gone");
}

#[tokio::test]
async fn an_expired_token_is_401_and_its_sessions_end_with_it() {
    let relay = TestRelay::start_with(|c| c.limits.login_attempts_per_min = 600.0).await;
    let operator = relay.login(OPERATOR).await;
    let (_, secret) = create(&relay, &operator, "Brief", 1).await;
    let (status, _, cookie) = relay.kiosk_login(&secret).await;
    assert_eq!(status, 200, "fresh token works");
    let mut tab = relay.tab_for(&cookie.expect("cookie")).await;
    assert_eq!(
        close_code(&mut tab, Duration::from_secs(5)).await,
        4001,
        "the kiosk session expires with its token"
    );
    let (status, body, _) = relay.kiosk_login(&secret).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], INVALID);
}
