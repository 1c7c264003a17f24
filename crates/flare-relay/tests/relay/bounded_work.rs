//! Bounded work per login: a tab's commands end with its socket or its login, and waits are held
//! to the relay's poll floor and timeout ceiling.

use flare_model::{Command, ReadCommand, Reply, ServerFrame};

use tokio_tungstenite::tungstenite;

use super::support::{OPERATOR, TestRelay, VIEWER, eventually, zip_of};

fn wait_for(job_id: &str, timeout: f64, poll_interval: f64) -> ReadCommand {
    ReadCommand::WaitForJob {
        job_id: job_id.into(),
        timeout,
        poll_interval,
    }
}

/// A relay whose waits may poll every 20 ms, with job `j1` running (it never finishes).
async fn relay_with_a_running_job() -> TestRelay {
    let relay = TestRelay::start_with(|c| c.limits.min_job_poll_secs = 0.02).await;
    relay.fake.put_job("j1", "hello-numpy", "RUNNING");
    relay
}

#[tokio::test]
async fn a_tab_that_closes_stops_its_wait_for_job_upstream() {
    let relay = relay_with_a_running_job().await;
    let mut tab = relay.tab(OPERATOR).await;
    tab.command(1, wait_for("j1", 0.0, 0.02)).await;
    eventually("the wait polls upstream", || relay.fake.job_polls() >= 3).await;

    tab.ws.close(None).await.expect("close");

    eventually("the wait to end with its tab", || relay.fake.waiting() == 0).await;
    let polls = relay.fake.job_polls();
    eventually("the tab's hub lease to go", || relay.hub().leases() == 0).await;
    assert_eq!(
        relay.fake.job_polls(),
        polls,
        "no poll after the tab closed"
    );
}

#[tokio::test]
async fn a_logout_stops_the_waits_of_its_tabs() {
    let relay = relay_with_a_running_job().await;
    let cookie = relay.login(OPERATOR).await;
    let mut tab = relay.tab_for(&cookie).await;
    tab.command(1, wait_for("j1", 0.0, 0.02)).await;
    tab.command(
        2,
        ReadCommand::MonitorJob {
            job_id: "j1".into(),
            timeout: 0.0,
            poll_interval: 0.02,
        },
    )
    .await;
    eventually("both waits poll upstream", || relay.fake.waiting() == 2).await;

    let (status, _) = relay
        .api(reqwest::Method::POST, "/api/logout", Some(&cookie), None)
        .await;
    assert_eq!(status, 200);

    eventually("the waits to end with the login", || {
        relay.fake.waiting() == 0
    })
    .await;
}

#[tokio::test]
async fn waits_poll_no_faster_than_the_floor_and_no_longer_than_the_ceiling() {
    let relay = TestRelay::start().await;
    relay
        .fake
        .put_job("j1", "hello-numpy", "FINISHED:COMPLETED");
    let mut tab = relay.tab(OPERATOR).await;
    tab.command(1, wait_for("j1", 0.0, 0.001)).await;
    let reply = tab.reply(1).await;
    assert!(matches!(reply, ServerFrame::Ok { .. }), "{reply:?}");

    let waits: Vec<Command> = relay
        .fake
        .commands()
        .into_iter()
        .filter(|c| c.name() == "wait_for_job")
        .collect();
    assert_eq!(
        waits,
        [Command::Read(wait_for("j1", 24.0 * 3600.0, 1.0))],
        "a poll_interval of 1 ms is raised to 1 s, a timeout of 0 (forever) lowered to 24 h"
    );
}

/// Asserts that a socket was refused before the upgrade with `status` and a message starting with
/// `message`.
fn assert_refused(
    result: Result<super::support::Tab, tungstenite::Error>,
    status: u16,
    message: &str,
) {
    let Err(tungstenite::Error::Http(response)) = result else {
        panic!("expected an HTTP refusal");
    };
    assert_eq!(response.status().as_u16(), status);
    let body: serde_json::Value =
        serde_json::from_slice(response.body().as_deref().unwrap_or_default()).expect("json");
    let error = body["error"].as_str().expect("an error message");
    assert!(error.starts_with(message), "{error}");
}

#[tokio::test]
async fn sockets_are_capped_per_login_and_in_all_before_the_upgrade() {
    let relay = TestRelay::start_with(|c| {
        c.limits.max_sockets_per_session = 2;
        c.limits.max_sockets = 3;
    })
    .await;
    let olga = relay.login(OPERATOR).await;
    let mut first = relay.tab_for(&olga).await;
    let _second = relay.tab_for(&olga).await;
    assert_refused(
        relay.connect(Some(&olga), Some(&relay.origin())).await,
        429,
        "this login already has 2 sockets open: close other console tabs and try again",
    );
    let victor = relay.login(VIEWER).await;
    let _third = relay.tab_for(&victor).await;
    assert_refused(
        relay.connect(Some(&victor), Some(&relay.origin())).await,
        503,
        "the relay already serves its most sockets (3): try again in a minute",
    );

    first.ws.close(None).await.expect("close");
    eventually("the closed tab's place to come free", || {
        relay.state.sockets.open() == 2
    })
    .await;
    let _again = relay.tab_for(&olga).await;
}

/// `n` bytes that deflate cannot shrink much (xorshift), so each upload takes a while to unpack.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn concurrent_uploads_take_exactly_the_free_places() {
    const PLACES: usize = 3;
    const UPLOADS: u64 = 8;
    let relay = TestRelay::start_with(|c| c.limits.max_uploads_per_session = PLACES).await;
    let cookie = relay.login(OPERATOR).await;
    let zips: Vec<Vec<u8>> = (0..UPLOADS)
        .map(|i| {
            zip_of(&[
                ("job/meta.json", b"{}"),
                ("job/data.bin", &noise(1024 * 1024, i + 1)),
            ])
        })
        .collect();

    let statuses = futures_util::future::join_all(zips.into_iter().map(|zip| {
        let (relay, cookie) = (&relay, &cookie);
        async move {
            let (status, body) = relay
                .upload(Some(cookie), "/api/upload", "application/zip", zip)
                .await;
            if status == 429 {
                let error = body["error"].as_str().unwrap_or_default();
                assert!(
                    error.starts_with("this login already keeps 3 uploads: submit them"),
                    "{error}"
                );
            }
            status.as_u16()
        }
    }))
    .await;

    let accepted = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((accepted, refused), (PLACES, 8 - PLACES), "{statuses:?}");
}

#[tokio::test]
async fn a_folder_drop_over_the_unpacked_cap_is_refused_and_leaves_nothing() {
    let relay = TestRelay::start_with(|c| c.limits.max_upload_extracted_bytes = 1024).await;
    let cookie = relay.login(OPERATOR).await;
    let file = |name: &'static str, content: Vec<u8>| {
        reqwest::multipart::Part::bytes(content).file_name(name)
    };
    let form = reqwest::multipart::Form::new()
        .part("file", file("job/meta.json", b"{}".to_vec()))
        .part("file", file("job/a.bin", vec![7; 600]))
        .part("file", file("job/b.bin", vec![7; 600]));

    let (status, body) = relay.upload_form(&cookie, form).await;

    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(
            "the unpacked job is too big: entry \"job/b.bin\" takes it past the limit of 1024 bytes"
        ),
        "{error}"
    );
    assert_eq!(relay.work_entries(), Vec::<String>::new());
}

fn result_of(job_id: &str) -> ReadCommand {
    ReadCommand::DownloadJobResult {
        job_id: job_id.into(),
    }
}

/// The download id and size of a download reply, or the error message of a refusal.
fn download_of(reply: ServerFrame) -> Result<(String, u64), String> {
    match reply {
        ServerFrame::Ok {
            ok: Reply::Download {
                download_id, size, ..
            },
            ..
        } => Ok((download_id, size)),
        ServerFrame::Error { error, .. } => Err(error.message().to_owned()),
        other => panic!("expected a download, got {other:?}"),
    }
}

#[tokio::test]
async fn two_tabs_downloading_the_same_job_at_once_share_one_build() {
    let relay = TestRelay::start().await;
    relay
        .fake
        .put_job("j1", "hello-numpy", "FINISHED:COMPLETED");
    let cookie = relay.login(OPERATOR).await;
    let mut first = relay.tab_for(&cookie).await;
    let mut second = relay.tab_for(&cookie).await;
    let held = relay.fake.hold_downloads().await;
    first.command(1, result_of("j1")).await;
    second.command(1, result_of("j1")).await;
    eventually("both requests to wait for a build", || {
        relay.state.transfers.downloads_building() == 2
    })
    .await;

    drop(held);
    let one = download_of(first.reply(1).await).expect("a download");
    let two = download_of(second.reply(1).await).expect("a download");

    assert_eq!(relay.fake.calls("download_job_result"), 1, "one build");
    assert_ne!(one.0, two.0, "each request gets its own download id");
    assert_eq!(one.1, two.1);
    for (id, _) in [one, two] {
        let response = reqwest::Client::new()
            .get(relay.url(&format!("/api/download/{id}")))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("download");
        assert_eq!(response.status(), 200);
    }
}

#[tokio::test]
async fn downloads_per_login_are_capped_in_number_and_in_bytes() {
    let relay = TestRelay::start_with(|c| c.limits.max_downloads_per_session = 2).await;
    for job in ["j1", "j2", "j3"] {
        relay.fake.put_job(job, "hello-numpy", "FINISHED:COMPLETED");
    }
    let mut tab = relay.tab(OPERATOR).await;
    for (id, job) in [(1, "j1"), (2, "j2")] {
        tab.command(id, result_of(job)).await;
        download_of(tab.reply(id).await).expect("a download");
    }
    tab.command(3, result_of("j3")).await;
    let refused = download_of(tab.reply(3).await).expect_err("a third download");
    assert!(
        refused.starts_with("this login already keeps 2 downloads: wait until the oldest expires"),
        "{refused}"
    );

    let relay = TestRelay::start_with(|c| c.limits.max_download_bytes_per_session = 2500).await;
    for job in ["j1", "j2"] {
        relay.fake.put_job(job, "hello-numpy", "FINISHED:COMPLETED");
    }
    let mut tab = relay.tab(OPERATOR).await;
    tab.command(1, result_of("j1")).await;
    let (_, size) = download_of(tab.reply(1).await).expect("a download");
    assert!(
        size <= 2500 && 2 * size > 2500,
        "the fake's zip is {size} bytes"
    );
    tab.command(2, result_of("j2")).await;
    let refused = download_of(tab.reply(2).await).expect_err("past the bytes");
    assert!(
        refused.starts_with(&format!(
            "j2.zip ({size} bytes) would take the downloads of this login past 2500 bytes"
        )),
        "{refused}"
    );
    let builds: Vec<_> = relay
        .work_entries()
        .into_iter()
        .filter(|e| !e.contains('/'))
        .collect();
    assert_eq!(builds.len(), 1, "the refused zip is deleted: {builds:?}");
}
