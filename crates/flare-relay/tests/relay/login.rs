//! `/api/login`, `/api/session`, `/api/logout`.

use serde_json::{Value, json};

use super::support::{IDENTITY, OPERATOR, PASSWORD, TestRelay, VIEWER};

#[tokio::test]
async fn login_answers_who_and_sets_a_strict_http_only_cookie() {
    let relay = TestRelay::start().await;
    let response = relay.post_login(OPERATOR, PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let token = cookie
        .strip_prefix("flare_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("flare_session cookie");
    assert_eq!(token.len(), 64, "256 random bits in hex");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP relay: {cookie}");
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({
            "user": OPERATOR,
            "role": "operator",
            "identity": IDENTITY,
            "study": "default",
            "max_upload_bytes": 256 * 1024 * 1024,
        })
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let relay = TestRelay::start().await;
    for (user, password) in [(OPERATOR, "wrong"), ("nobody", PASSWORD)] {
        let response = relay.post_login(user, password).await;
        assert_eq!(response.status(), 401, "{user}");
        assert!(response.headers().get("set-cookie").is_none());
        let body: Value = response.json().await.expect("json");
        assert_eq!(body, json!({"error": "wrong user name or password"}));
    }
}

#[tokio::test]
async fn malformed_login_body_is_a_400_with_the_reason() {
    let relay = TestRelay::start().await;
    let response = reqwest::Client::new()
        .post(relay.url("/api/login"))
        .body("{\"user\": \"olga\"}")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert!(
        body["error"]
            .as_str()
            .expect("message")
            .contains("password"),
        "{body}"
    );
}

#[tokio::test]
async fn session_endpoint_follows_login_and_logout() {
    let relay = TestRelay::start_with(|c| c.limits.max_upload_bytes = 5 * 1024 * 1024).await;
    let client = reqwest::Client::new();
    // `GET /api/session` as a browser's same-origin GET sends it: without an `Origin`.
    let get_session = |cookie: Option<&str>| {
        let mut request = client.get(relay.url("/api/session"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move { request.send().await.expect("get") }
    };
    let anonymous = get_session(None).await;
    assert_eq!(anonymous.status(), 401);

    let cookie = relay.login(VIEWER).await;
    let session = get_session(Some(&cookie)).await;
    assert_eq!(session.status(), 200);
    let body: Value = session.json().await.expect("json");
    assert_eq!(body["role"], "viewer");
    assert_eq!(body["user"], VIEWER);
    assert_eq!(
        body["max_upload_bytes"],
        5 * 1024 * 1024,
        "the configured upload limit, so the browser can refuse a bigger file before sending"
    );

    let logout = client
        .post(relay.url("/api/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("post");
    assert_eq!(logout.status(), 200);
    assert!(
        logout.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .contains("Max-Age=0")
    );
    let after = get_session(Some(&cookie)).await;
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn logins_are_rate_limited_per_client() {
    let relay = TestRelay::start_with(|c| c.limits.login_attempts_per_min = 3.0).await;
    for _ in 0..3 {
        assert_eq!(relay.post_login(OPERATOR, "wrong").await.status(), 401);
    }
    let limited = relay.post_login(OPERATOR, PASSWORD).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_some());
    let body: Value = limited.json().await.expect("json");
    assert!(
        body["error"]
            .as_str()
            .expect("message")
            .contains("too many login attempts")
    );
}

#[tokio::test]
async fn a_foreign_origin_cannot_log_in() {
    let relay = TestRelay::start().await;
    let response = reqwest::Client::new()
        .post(relay.url("/api/login"))
        .header("origin", "http://evil.example")
        .json(&json!({"user": OPERATOR, "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 403);
}

/// Each refusal answers for the first check that fails: the body limit before the login gate,
/// the login before the `Origin`, the `Origin` before the role, the gate before the body's shape.
#[tokio::test]
async fn refusals_come_in_the_order_of_the_checks() {
    let relay = TestRelay::start().await;
    let viewer = relay.login(VIEWER).await;
    let foreign = "http://evil.example";
    let send = |method: reqwest::Method, path: &str, cookie: Option<&str>, body: String| {
        let mut request = reqwest::Client::new()
            .request(method, relay.url(path))
            .header("origin", foreign)
            .body(body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (status, response.text().await.expect("body"))
        }
    };
    let post = reqwest::Method::POST;
    let huge = "x".repeat(32 * 1024);
    let cases = [
        (post.clone(), "/api/login", None, huge.clone(), 413, ""),
        (post.clone(), "/api/kiosk-login", None, huge, 413, ""),
        (
            post.clone(),
            "/api/login",
            None,
            "{not json".to_owned(),
            403,
            "not allowed",
        ),
        (
            post.clone(),
            "/api/kiosk-tokens",
            None,
            "{}".to_owned(),
            401,
            "not logged in",
        ),
        (
            post.clone(),
            "/api/kiosk-tokens",
            Some(viewer.as_str()),
            "{}".to_owned(),
            403,
            "not allowed",
        ),
        (
            reqwest::Method::GET,
            "/api/download/x",
            None,
            String::new(),
            401,
            "not logged in",
        ),
        (
            reqwest::Method::GET,
            "/api/download/x",
            Some(viewer.as_str()),
            String::new(),
            403,
            "not allowed",
        ),
        (
            post,
            "/api/upload",
            None,
            String::new(),
            401,
            "not logged in",
        ),
    ];
    for (method, path, cookie, body, want_status, want_message) in cases {
        let (status, text) = send(method, path, cookie, body).await;
        assert_eq!(status, want_status, "{path} {cookie:?}: {text}");
        assert!(text.contains(want_message), "{path}: {text}");
    }
}
