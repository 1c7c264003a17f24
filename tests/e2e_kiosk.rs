//! End-to-end tests of kiosk screens: an operator creates a kiosk link, a second browser shows
//! the wall screen and a job running to its end there, a forged abort over the kiosk socket is
//! refused, revoking the link ends the screen's access, and the wall shows stale state while
//! NVFlare is down and recovers without a reload — against real NVFlare POCs, the real relay
//! binary and headless Chromium. Nothing is mocked.
#![cfg(not(target_arch = "wasm32"))]

use std::time::Duration;

use fantoccini::{Client, Locator};
use flare_e2e::{
    Deadline, OPERATOR, Relay, click_css, click_nav_link, command, command_when_connected,
    current_path, mark_page, not_reloaded, open_ws, poc, post_for_session, screenshot,
    session_cookie, sign_in_to_overview, submit_hello_numpy, wait_css, wait_job_finished,
    wait_path, wait_xpath, with_browser,
};
use flare_model::{FlareError, ServerFrame};
use flare_poc::Poc;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const COMPLETED: &str = "FINISHED:COMPLETED";
/// Long enough for a hello-numpy job on a busy 2-core machine shared with other POC users.
const JOB_LIMIT: Duration = Duration::from_secs(300);
const PAGE_LIMIT: Duration = Duration::from_secs(60);
/// A POC restart: sites reconnect, and the relay's backoff reaches 15 s.
const RECOVER_LIMIT: Duration = Duration::from_secs(300);

// --- helpers -------------------------------------------------------------------------------------

/// A kiosk token as `POST /api/kiosk-tokens` answers it.
struct KioskLink {
    id: String,
    /// The path with its secret, `/kiosk#token=<hex>`.
    url: String,
}

impl KioskLink {
    fn secret(&self) -> &str {
        self.url
            .split_once("#token=")
            .map(|(_, t)| t)
            .unwrap_or_else(|| panic!("no #token= in the kiosk url {}", self.url))
    }
}

/// Creates a kiosk token for the default study over the relay's HTTP API as the operator.
async fn create_kiosk_token(relay: &Relay, cookie: &str, label: &str) -> KioskLink {
    let response = reqwest::Client::new()
        .post(format!("{}/api/kiosk-tokens", relay.base))
        .header("Origin", &relay.base)
        .header("Cookie", cookie)
        .json(&json!({"label": label, "study": "default", "expires_in_secs": 3600}))
        .send()
        .await
        .expect("POST /api/kiosk-tokens");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("kiosk token json");
    assert_eq!(status, 200, "POST /api/kiosk-tokens: {body}");
    KioskLink {
        id: body["token"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no token id in {body}"))
            .to_owned(),
        url: body["url"]
            .as_str()
            .unwrap_or_else(|| panic!("no url in {body}"))
            .to_owned(),
    }
}

/// `DELETE /api/kiosk-tokens/<id>` as the operator; returns the JSON answer.
async fn revoke_kiosk_token(relay: &Relay, cookie: &str, id: &str) -> Value {
    let response = reqwest::Client::new()
        .delete(format!("{}/api/kiosk-tokens/{id}", relay.base))
        .header("Origin", &relay.base)
        .header("Cookie", cookie)
        .send()
        .await
        .expect("DELETE /api/kiosk-tokens");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("revoke json");
    assert_eq!(status, 200, "DELETE /api/kiosk-tokens/{id}: {body}");
    body
}

/// `POST /api/kiosk-login` with the token's secret: the status and the session cookie, if set.
async fn kiosk_login(relay: &Relay, secret: &str) -> (u16, Option<String>) {
    post_for_session(relay, "/api/kiosk-login", json!({"token": secret})).await
}

/// Whether an element matches `css` right now.
async fn present(client: &Client, css: &str) -> bool {
    client.find(Locator::Css(css)).await.is_ok()
}

/// Opens the kiosk link in `client`, waits for the wall screen with both sites and marks the page
/// (see [`not_reloaded`]).
async fn open_wall(client: &Client, base: &str, url: &str) {
    let full = if url.starts_with("http") {
        url.to_owned()
    } else {
        format!("{base}{url}")
    };
    client.goto(&full).await.expect("open the kiosk link");
    wait_path(client, "/wall", PAGE_LIMIT).await;
    wait_css(client, "#wall", PAGE_LIMIT).await;
    wait_css(client, r#"li.wall-site[data-site="site-1"]"#, PAGE_LIMIT).await;
    wait_css(client, r#"li.wall-site[data-site="site-2"]"#, PAGE_LIMIT).await;
    mark_page(client).await;
}

// --- tests ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_link_from_the_screens_page_shows_the_wall_in_a_second_browser_with_a_job_to_its_end()
{
    let poc = poc().await;
    let relay = Relay::start("kiosk-wall", poc).await;
    let base = relay.base.clone();

    // The operator creates the link on the Screens page.
    let url = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let out = url.clone();
    let b = base.clone();
    with_browser("kiosk-operator", |client| async move {
        sign_in_to_overview(&client, &b, OPERATOR, PAGE_LIMIT).await;
        click_nav_link(&client, "Screens", PAGE_LIMIT).await;
        wait_path(&client, "/kiosk-tokens", PAGE_LIMIT).await;
        wait_css(&client, "#kiosk-label", PAGE_LIMIT)
            .await
            .send_keys("e2e lobby")
            .await
            .expect("type the label");
        click_css(&client, "#create-kiosk", PAGE_LIMIT).await;
        let field = wait_css(&client, "#kiosk-url", PAGE_LIMIT).await;
        let deadline = Deadline::new("the kiosk link", PAGE_LIMIT);
        let link = loop {
            let value = field.prop("value").await.ok().flatten().unwrap_or_default();
            if value.contains("#token=") {
                break value;
            }
            deadline.tick(value).await;
        };
        wait_xpath(
            &client,
            "//table[@id='kiosk-tokens']//td[contains(., 'e2e lobby')]",
            PAGE_LIMIT,
        )
        .await;
        screenshot(&client, "kiosk-operator").await;
        *out.lock().expect("url") = link;
    })
    .await;
    let link = url.lock().expect("url").clone();
    assert!(
        link.contains("/kiosk#token="),
        "the Screens page offers {link}"
    );

    // A second, fresh browser opens it: the wall, and a job from elsewhere live to its end.
    let b = base.clone();
    let job = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let job_out = job.clone();
    with_browser("kiosk-wall", |client| async move {
        open_wall(&client, &b, &link).await;
        screenshot(&client, "kiosk-wall").await;
        let job_id = submit_hello_numpy(poc, 3, 2.0).await;
        *job_out.lock().expect("job") = job_id.clone();
        wait_css(
            &client,
            &format!(r#"li.wall-run[data-job-id="{job_id}"]"#),
            JOB_LIMIT,
        )
        .await;
        screenshot(&client, "kiosk-wall-running").await;
        // Finished and completed: under "Last finished" (not the failed list).
        wait_css(
            &client,
            &format!(r#".wall-recent ul.wall-list:not(.wall-failed) li[data-job-id="{job_id}"]"#),
            JOB_LIMIT,
        )
        .await;
        assert!(
            !present(&client, &format!(r#"li.wall-run[data-job-id="{job_id}"]"#)).await,
            "job {job_id} is still under Running jobs"
        );
        assert!(not_reloaded(&client).await, "the wall reloaded");
        screenshot(&client, "kiosk-wall-finished").await;
    })
    .await;
    let job_id = job.lock().expect("job").clone();
    let cookie = session_cookie(&relay, OPERATOR).await;
    let mut ws = open_ws(&relay, Some(&cookie), &relay.base)
        .await
        .expect("operator socket");
    assert_eq!(
        wait_job_finished(&mut ws, &job_id, JOB_LIMIT).await,
        COMPLETED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_abort_over_a_kiosk_socket_is_refused_and_the_job_completes() {
    let poc = poc().await;
    let relay = Relay::start("kiosk-forged", poc).await;
    let operator = session_cookie(&relay, OPERATOR).await;
    let link = create_kiosk_token(&relay, &operator, "e2e forged").await;

    // The kiosk page's login and socket, done by hand.
    let (status, cookie) = kiosk_login(&relay, link.secret()).await;
    assert_eq!(status, 200, "POST /api/kiosk-login");
    let cookie = cookie.expect("a kiosk session cookie");
    let mut kiosk = open_ws(&relay, Some(&cookie), &relay.base)
        .await
        .unwrap_or_else(|s| panic!("the kiosk socket was refused: {s}"));

    let job_id = submit_hello_numpy(poc, 3, 1.0).await;
    // The kiosk socket reads like any viewer once its hub is connected.
    command_when_connected(&mut kiosk, json!({"get_job_status": {"job_id": job_id}})).await;
    let reply = command(&mut kiosk, 1, json!({"abort_job": {"job_id": job_id}})).await;
    match reply {
        ServerFrame::Error {
            error: FlareError::ReadOnlySession { message },
            ..
        } => assert!(!message.is_empty(), "an empty refusal"),
        other => panic!("a kiosk abort_job answered {other:?}"),
    }
    let audit = relay.audit_text();
    assert!(
        audit
            .lines()
            .any(|l| l.contains("abort_job") && l.contains("kiosk_token")),
        "the refused kiosk abort is not audited with its token: {audit}"
    );
    drop(kiosk);

    let mut ws = open_ws(&relay, Some(&operator), &relay.base)
        .await
        .expect("operator socket");
    assert_eq!(
        wait_job_finished(&mut ws, &job_id, JOB_LIMIT).await,
        COMPLETED,
        "the job after a forged kiosk abort"
    );
    revoke_kiosk_token(&relay, &operator, &link.id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_kiosk_token_closes_its_sockets_with_4003_and_the_wall_says_so() {
    let poc = poc().await;
    let relay = Relay::start("kiosk-revoke", poc).await;
    let operator = session_cookie(&relay, OPERATOR).await;
    let link = create_kiosk_token(&relay, &operator, "e2e revoke").await;
    // A raw kiosk socket to see the close code.
    let (_, cookie) = kiosk_login(&relay, link.secret()).await;
    let cookie = cookie.expect("a kiosk session cookie");
    let mut raw = open_ws(&relay, Some(&cookie), &relay.base)
        .await
        .unwrap_or_else(|s| panic!("the kiosk socket was refused: {s}"));

    let base = relay.base.clone();
    let relay_ref = &relay;
    let (operator_ref, link_ref) = (&operator, &link);
    with_browser("kiosk-revoke", |client| async move {
        open_wall(&client, &base, &link_ref.url).await;
        // Revoked over the operator API (the Screens page's Revoke button calls the same).
        let answer = revoke_kiosk_token(relay_ref, operator_ref, &link_ref.id).await;
        assert_eq!(answer["ok"], json!(true), "revoke answered {answer}");

        let deadline = Deadline::new("the raw kiosk socket to close", PAGE_LIMIT);
        let code = loop {
            match tokio::time::timeout(Duration::from_secs(1), raw.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    break frame.map(|f| u16::from(f.code));
                }
                Ok(Some(Ok(_))) => {}
                Ok(other) => panic!("the kiosk socket ended without a close frame: {other:?}"),
                Err(_) => deadline.tick("open").await,
            }
        };
        assert_eq!(code, Some(4003), "close code of a revoked kiosk socket");

        let deadline = Deadline::new("the wall to say the link was revoked", PAGE_LIMIT);
        loop {
            if present(&client, "#wall-revoked").await || present(&client, "#kiosk-error").await {
                break;
            }
            deadline.tick(current_path(&client).await).await;
        }
        screenshot(&client, "kiosk-revoked").await;
        let text = wait_css(&client, "#wall-revoked, #kiosk-error", PAGE_LIMIT)
            .await
            .text()
            .await
            .unwrap_or_default();
        assert!(text.contains("revoked"), "the revoked message: {text}");
    })
    .await;
    // The link itself no longer signs in.
    let (status, _) = kiosk_login(&relay, link.secret()).await;
    assert_eq!(status, 401, "kiosk login with a revoked token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wall_shows_stale_state_while_nvflare_is_down_and_recovers_without_a_reload() {
    // A POC of this test's own: the shared one is never stopped.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let private = tokio::task::spawn_blocking(move || Poc::start_private(port))
        .await
        .expect("start a private POC");
    let poc = private.poc();
    let relay = Relay::start("kiosk-outage", poc).await;
    let operator = session_cookie(&relay, OPERATOR).await;
    let link = create_kiosk_token(&relay, &operator, "e2e outage").await;
    let base = relay.base.clone();
    let private_ref = &private;
    with_browser("kiosk-outage", |client| async move {
        open_wall(&client, &base, &link.url).await;
        assert!(
            !present(&client, "#wall-banner").await,
            "a banner while all is well"
        );

        tokio::task::block_in_place(|| private_ref.stop());
        let deadline = Deadline::new("the wall to show the outage", RECOVER_LIMIT);
        let kind = loop {
            if let Ok(banner) = client.find(Locator::Css("#wall-banner")).await {
                break banner.attr("data-kind").await.ok().flatten();
            }
            deadline.tick("no banner").await;
        };
        assert!(
            matches!(kind.as_deref(), Some("upstream" | "stale")),
            "banner kind while NVFlare is down: {kind:?}"
        );
        let deadline = Deadline::new("the sites to show stale", RECOVER_LIMIT);
        loop {
            let stale = client
                .find_all(Locator::Css("li.wall-site .wall-stale-tag"))
                .await
                .unwrap_or_default()
                .len();
            if stale > 0 {
                break;
            }
            deadline.tick(stale).await;
        }
        screenshot(&client, "kiosk-outage").await;

        tokio::task::block_in_place(|| private_ref.start());
        let deadline = Deadline::new("the wall to recover", RECOVER_LIMIT);
        loop {
            let banner = present(&client, "#wall-banner").await;
            let up = present(
                &client,
                r#"li.wall-site[data-site="site-1"][data-connected="true"]:not(.stale)"#,
            )
            .await
                && present(
                    &client,
                    r#"li.wall-site[data-site="site-2"][data-connected="true"]:not(.stale)"#,
                )
                .await;
            if !banner && up {
                break;
            }
            deadline.tick((banner, up)).await;
        }
        assert!(not_reloaded(&client).await, "the wall reloaded to recover");
        screenshot(&client, "kiosk-recovered").await;
    })
    .await;
    drop(relay);
    drop(private);
}
