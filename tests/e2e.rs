//! End-to-end tests: a real NVFlare POC, the real relay binary serving the built console, and
//! headless Chromium driven over WebDriver. Nothing is mocked.
#![cfg(not(target_arch = "wasm32"))]

use std::time::Duration;

use fantoccini::Locator;
use flare_e2e::{
    Deadline, OPERATOR, Relay, VIEWER, click_xpath, command, current_path, next_frame, open_ws,
    poc, screenshot, session_cookie, sign_in, sign_in_to_overview, submit_hello_numpy, wait_css,
    wait_path, with_browser,
};
use flare_model::{FlareError, Reply, Role, ServerFrame};
use serde_json::json;

/// The status a successful hello-numpy run ends in.
const COMPLETED: &str = "FINISHED:COMPLETED";
/// Long enough for a hello-numpy job on a busy 2-core machine (≈ 15 s when idle).
const JOB_LIMIT: Duration = Duration::from_secs(300);
const PAGE_LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_page_signs_in_and_overview_shows_both_sites() {
    let poc = poc().await;
    let relay = Relay::start("overview", poc).await;
    let base = relay.base.clone();
    with_browser("overview", |client| async move {
        sign_in(&client, &base, OPERATOR).await;
        wait_css(&client, r#".site[data-site="site-1"]"#, PAGE_LIMIT).await;
        wait_css(&client, r#"[data-site="site-2"]"#, PAGE_LIMIT).await;
        assert_ne!(current_path(&client).await, "/login");
        screenshot(&client, "overview").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_shortcuts_go_to_pages_focus_the_filter_and_list_themselves() {
    let poc = poc().await;
    let relay = Relay::start("shortcuts", poc).await;
    let base = relay.base.clone();
    with_browser("shortcuts", |client| async move {
        sign_in(&client, &base, OPERATOR).await;
        wait_css(&client, r#".site[data-site="site-1"]"#, PAGE_LIMIT).await;
        let keys = |keys: &'static str| {
            let client = client.clone();
            async move {
                let focused = client.active_element().await.expect("the focused element");
                focused.send_keys(keys).await.expect("send keys");
            }
        };
        keys("gj").await;
        wait_path(&client, "/jobs", PAGE_LIMIT).await;
        wait_css(&client, "#filter-name", PAGE_LIMIT).await;

        keys("/").await;
        let focused = client.active_element().await.expect("the focused element");
        assert_eq!(
            focused.attr("id").await.expect("id").as_deref(),
            Some("filter-name"),
            "/ focuses the name filter"
        );
        // Typed into a field, the same letters are text, not a shortcut.
        keys("gw").await;
        let typed = client
            .find(Locator::Css("#filter-name"))
            .await
            .expect("the name filter")
            .prop("value")
            .await
            .expect("its value");
        assert_eq!(typed.as_deref(), Some("gw"));
        assert_eq!(current_path(&client).await, "/jobs");

        client
            .execute("document.activeElement.blur()", vec![])
            .await
            .expect("leave the field");
        keys("?").await;
        let help = wait_css(&client, "#shortcuts-dialog[open]", PAGE_LIMIT).await;
        let text = help.text().await.expect("the dialog's text");
        assert!(text.contains("Wall screen"), "{text}");
        screenshot(&client, "shortcuts").await;
        keys("?").await;
        let closing = Deadline::new("the shortcuts dialog to close", PAGE_LIMIT);
        while client
            .find(Locator::Css("#shortcuts-dialog[open]"))
            .await
            .is_ok()
        {
            closing.tick("still open").await;
        }
        keys("go").await;
        wait_path(&client, "/", PAGE_LIMIT).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_submitted_by_python_appears_live_finishes_and_has_a_detail_page() {
    let poc = poc().await;
    let relay = Relay::start("jobs", poc).await;
    let base = relay.base.clone();
    with_browser("jobs", |client| async move {
        sign_in_to_overview(&client, &base, OPERATOR, PAGE_LIMIT).await;
        // In-app navigation to the jobs page (no page load).
        click_xpath(
            &client,
            "//a[@href='/jobs' or normalize-space(.)='Jobs']",
            PAGE_LIMIT,
        )
        .await;
        let deadline = Deadline::new("the jobs page", PAGE_LIMIT);
        loop {
            let path = current_path(&client).await;
            if path == "/jobs" {
                break;
            }
            deadline.tick(path).await;
        }
        client
            .execute("window.__marker = 1;", vec![])
            .await
            .expect("mark the page");

        let job_id = submit_hello_numpy(poc, 3, 0.0).await;
        let row = format!(r#"tr[data-job-id="{job_id}"]"#);
        wait_css(&client, &row, PAGE_LIMIT).await;
        let badge = format!("{row} .status[data-status]");
        let deadline = Deadline::new("the job's status badge to show FINISHED", JOB_LIMIT);
        let finished = loop {
            let status = match client.find(Locator::Css(&badge)).await {
                Ok(el) => el.attr("data-status").await.ok().flatten(),
                Err(_) => None,
            };
            match status {
                Some(status) if status.starts_with("FINISHED") => break status,
                seen => deadline.tick(seen).await,
            }
        };
        assert_eq!(finished, COMPLETED, "status badge of job {job_id}");
        let marker = client
            .execute("return window.__marker === 1;", vec![])
            .await
            .expect("read the marker");
        assert_eq!(
            marker,
            json!(true),
            "the page reloaded while the job list updated"
        );
        screenshot(&client, "jobs").await;

        // The detail page, loaded directly (deep link).
        let detail = format!("{base}/jobs/{job_id}");
        client.goto(&detail).await.expect("open the job page");
        let meta = wait_css(&client, "dl#job-meta", PAGE_LIMIT).await;
        let deadline = Deadline::new("the job meta to show the job id and name", PAGE_LIMIT);
        loop {
            let text = meta.text().await.unwrap_or_default();
            if text.contains(&job_id) && text.contains("hello-numpy") {
                break;
            }
            deadline.tick(text).await;
        }
        let deadline = Deadline::new("job timeline entries", PAGE_LIMIT);
        loop {
            let items = client
                .find_all(Locator::Css("#job-timeline li"))
                .await
                .unwrap_or_default();
            if !items.is_empty() {
                break;
            }
            deadline.tick(items.len()).await;
        }
        screenshot(&client, "job-detail").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_abort_is_refused_read_only_and_the_job_is_not_aborted() {
    let poc = poc().await;
    let relay = Relay::start("viewer", poc).await;
    // Slow rounds keep the job running while the viewer tries to abort it.
    let job_id = submit_hello_numpy(poc, 3, 2.0).await;

    let viewer = session_cookie(&relay, VIEWER).await;
    let mut ws = open_ws(&relay, Some(&viewer), &relay.base)
        .await
        .expect("viewer websocket");
    match next_frame(&mut ws, Duration::from_secs(30)).await {
        ServerFrame::Hello { hello } => assert_eq!(hello.role, Role::Viewer),
        other => panic!("expected hello first, got {other:?}"),
    }
    let reply = command(&mut ws, 1, json!({"abort_job": {"job_id": job_id}})).await;
    match reply {
        ServerFrame::Error {
            error: FlareError::ReadOnlySession { .. },
            ..
        } => {}
        other => panic!("expected read_only_session, got {other:?}"),
    }

    // The job runs on to completion: it was never aborted.
    let operator = session_cookie(&relay, OPERATOR).await;
    let mut ws = open_ws(&relay, Some(&operator), &relay.base)
        .await
        .expect("operator websocket");
    let deadline = Deadline::new("the job to finish", JOB_LIMIT);
    let mut id = 1;
    let status = loop {
        id += 1;
        let status = match command(&mut ws, id, json!({"get_job_meta": {"job_id": job_id}})).await {
            ServerFrame::Ok {
                ok: Reply::JobMeta(meta),
                ..
            } => meta.status,
            other => panic!("get_job_meta: {other:?}"),
        };
        if status.starts_with("FINISHED") {
            break status;
        }
        deadline.tick(status).await;
    };
    assert_eq!(status, COMPLETED, "job {job_id} after the viewer's abort");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrade_needs_a_session_and_the_exact_origin() {
    let poc = poc().await;
    let relay = Relay::start("ws-auth", poc).await;

    let no_cookie = open_ws(&relay, None, &relay.base).await;
    assert_eq!(
        no_cookie.err(),
        Some(401),
        "upgrade without a session cookie"
    );

    let cookie = session_cookie(&relay, OPERATOR).await;
    let foreign = open_ws(&relay, Some(&cookie), "http://evil.example").await;
    assert_eq!(foreign.err(), Some(403), "upgrade from a foreign Origin");

    // The same cookie from the console's own origin is accepted.
    let mut ws = open_ws(&relay, Some(&cookie), &relay.base)
        .await
        .expect("upgrade with cookie and exact origin");
    assert!(matches!(
        next_frame(&mut ws, Duration::from_secs(30)).await,
        ServerFrame::Hello { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_shows_an_alert_and_stays_on_login() {
    let poc = poc().await;
    let relay = Relay::start("wrong-password", poc).await;
    let base = relay.base.clone();
    with_browser("wrong-password", |client| async move {
        let wrong = flare_e2e::Login {
            name: OPERATOR.name,
            password: "not-the-password",
        };
        sign_in(&client, &base, wrong).await;
        let deadline = Deadline::new("an alert saying the password is wrong", PAGE_LIMIT);
        let text = loop {
            let mut texts = Vec::new();
            for alert in client
                .find_all(Locator::Css(r#"[role="alert"]"#))
                .await
                .unwrap_or_default()
            {
                texts.push(alert.text().await.unwrap_or_default());
            }
            if let Some(text) = texts.iter().find(|t| t.to_lowercase().contains("password")) {
                break text.clone();
            }
            deadline.tick(texts).await;
        };
        assert!(
            text.len() > "password".len(),
            "a clear message, not a bare word: {text}"
        );
        assert_eq!(current_path(&client).await, "/login");
        screenshot(&client, "login-error").await;
    })
    .await;
}
