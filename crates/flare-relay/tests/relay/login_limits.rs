//! Login limits beside the per-address one: a bucket per account (many addresses cannot guess one
//! account fast, one address cannot lock an account out), and a bound on the password checks
//! running at once (503 with `Retry-After` past it).

use std::net::{IpAddr, Ipv4Addr};

use super::support::{OPERATOR, PASSWORD, TestRelay, VIEWER};

/// `POST /api/login` from the loopback address `127.0.0.<host>`: the status and `Retry-After`.
async fn login_from(relay: &TestRelay, host: u8, user: &str, password: &str) -> (u16, Option<u64>) {
    let client = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)))
        .build()
        .expect("client");
    let response = client
        .post(relay.url("/api/login"))
        .json(&serde_json::json!({ "user": user, "password": password }))
        .send()
        .await
        .expect("login request");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (response.status().as_u16(), retry_after)
}

#[tokio::test]
async fn many_addresses_cannot_guess_one_account_fast_nor_one_address_lock_it_out() {
    let relay = TestRelay::start_with(|config| {
        config.limits.login_attempts_per_min = 2.0;
        config.limits.login_attempts_per_account_per_min = 5.0;
    })
    .await;
    // Five addresses, one guess each, use up the viewer account's five attempts.
    for host in 2..=6 {
        let (status, _) = login_from(&relay, host, VIEWER, "guess").await;
        assert_eq!(status, 401, "guess from 127.0.0.{host}");
    }
    let (status, retry_after) = login_from(&relay, 7, VIEWER, PASSWORD).await;
    assert_eq!(status, 429, "a sixth address at the same account");
    assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    // Other accounts are not affected, from that same address.
    let (status, _) = login_from(&relay, 7, OPERATOR, PASSWORD).await;
    assert_eq!(status, 200, "another account");

    // One address runs out of its own attempts long before the account's.
    for _ in 0..2 {
        let (status, _) = login_from(&relay, 8, OPERATOR, "guess").await;
        assert_eq!(status, 401);
    }
    let (status, _) = login_from(&relay, 8, OPERATOR, "guess").await;
    assert_eq!(status, 429, "the address's limit");
    let (status, _) = login_from(&relay, 9, OPERATOR, PASSWORD).await;
    assert_eq!(status, 200, "the account still signs in from elsewhere");
}

#[tokio::test]
async fn a_login_past_the_bound_on_password_checks_is_answered_503() {
    let relay = TestRelay::start_with(|config| {
        config.limits.max_concurrent_password_checks = 1;
        config.limits.password_check_wait_secs = 0.2;
    })
    .await;
    let held = relay
        .state
        .password_checks
        .acquire()
        .await
        .expect("the only password check");
    let response = relay.post_login(OPERATOR, PASSWORD).await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().ok()),
        Some(Some("1"))
    );
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body["error"],
        "the relay is busy checking other logins: try again in 1 s"
    );
    drop(held);
    let response = relay.post_login(OPERATOR, PASSWORD).await;
    assert_eq!(response.status(), 200, "once a check is free");
}
