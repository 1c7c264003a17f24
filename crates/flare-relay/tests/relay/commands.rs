//! Commands over the socket: round trips, the viewer's read-only capability, malformed and
//! oversized frames, and the per-tab rate limit.

use flare_model::{FlareError, MutateCommand, ReadCommand, Reply, ServerFrame};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use super::support::{OPERATOR, TestRelay, VIEWER};

fn abort(job_id: &str) -> MutateCommand {
    MutateCommand::AbortJob {
        job_id: job_id.into(),
    }
}

#[tokio::test]
async fn operator_command_round_trips_and_is_audited() {
    let relay = TestRelay::start().await;
    relay.fake.put_job("job-1", "hello-numpy", "RUNNING");
    let mut tab = relay.tab(OPERATOR).await;
    tab.command(7, abort("job-1")).await;
    assert_eq!(
        tab.reply(7).await,
        ServerFrame::Ok {
            id: 7,
            ok: Reply::Text("Abort signal has been sent".into())
        }
    );
    assert_eq!(relay.fake.calls("abort_job"), 1);

    tab.command(
        8,
        ReadCommand::GetJobMeta {
            job_id: "nope".into(),
        },
    )
    .await;
    let ServerFrame::Error { id: 8, error } = tab.reply(8).await else {
        panic!("expected an error reply");
    };
    assert!(matches!(error, FlareError::JobNotFound { .. }), "{error:?}");

    let audit = relay.audit_lines();
    assert_eq!(
        audit.len(),
        1,
        "only the mutating command is audited: {audit:?}"
    );
    assert_eq!(audit[0]["user"], OPERATOR);
    assert_eq!(audit[0]["identity"], "admin@nvidia.com");
    assert_eq!(audit[0]["command"], "abort_job");
    assert_eq!(audit[0]["outcome"], "ok");
}

#[tokio::test]
async fn viewer_abort_job_is_refused_audited_and_never_reaches_nvflare() {
    let relay = TestRelay::start().await;
    relay.fake.put_job("job-1", "hello-numpy", "RUNNING");
    let mut tab = relay.tab(VIEWER).await;
    tab.command(1, abort("job-1")).await;
    assert_eq!(
        tab.reply(1).await,
        ServerFrame::Error {
            id: 1,
            error: FlareError::ReadOnlySession {
                message: "viewer sessions are read-only: abort_job was refused".into()
            }
        }
    );
    // A read still works on the same socket, and the fake saw only that.
    tab.command(
        2,
        ReadCommand::GetJobStatus {
            job_id: "job-1".into(),
        },
    )
    .await;
    assert!(matches!(tab.reply(2).await, ServerFrame::Ok { id: 2, .. }));
    assert_eq!(relay.fake.calls("abort_job"), 0);
    assert!(relay.fake.commands().iter().all(|c| !c.is_mutating()));

    let audit = relay.audit_lines();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["user"], VIEWER);
    assert_eq!(audit[0]["command"], "abort_job");
    assert_eq!(audit[0]["outcome"], "refused");
}

#[tokio::test]
async fn malformed_frames_get_bad_request_and_the_socket_stays_usable() {
    let relay = TestRelay::start().await;
    let mut tab = relay.tab(OPERATOR).await;
    let cases = [
        ("this is not json", 0, "malformed JSON"),
        (
            "{\"id\": 3, \"command\": \"fly_to_the_moon\"}",
            3,
            "unknown command",
        ),
        (
            "{\"id\": 4, \"command\": {\"abort_job\": {}}}",
            4,
            "missing field `job_id`",
        ),
    ];
    for (text, want_id, want) in cases {
        tab.send_text(text).await;
        let ServerFrame::Error {
            id,
            error: FlareError::BadRequest { message },
        } = tab.reply(want_id).await
        else {
            panic!("expected bad_request for {text}");
        };
        assert_eq!(id, want_id);
        assert!(message.contains(want), "{text}: {message}");
    }
    tab.ws
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .expect("send");
    let ServerFrame::Error {
        id: 0,
        error: FlareError::BadRequest { message },
    } = tab.reply(0).await
    else {
        panic!("expected bad_request for a binary frame");
    };
    assert!(message.contains("binary"), "{message}");

    tab.command(9, ReadCommand::GetSystemInfo).await;
    assert!(matches!(
        tab.reply(9).await,
        ServerFrame::Ok {
            id: 9,
            ok: Reply::SystemInfo(_)
        }
    ));
}

#[tokio::test]
async fn an_oversized_message_closes_the_socket_with_1009() {
    let relay = TestRelay::start_with(|c| c.limits.max_message_bytes = 1024).await;
    let mut tab = relay.tab(OPERATOR).await;
    let big = format!(
        "{{\"id\": 1, \"command\": {{\"do_command\": {{\"command\": \"{}\"}}}}}}",
        "x".repeat(4096)
    );
    // The send itself may fail once the relay has closed.
    let _ = tab.ws.send(Message::Text(big.into())).await;
    loop {
        match tab.raw().await {
            Some(Ok(Message::Close(frame))) => {
                let frame = frame.expect("a close frame with a code");
                assert_eq!(u16::from(frame.code), 1009);
                break;
            }
            Some(Ok(Message::Text(text))) => {
                assert!(
                    !text.contains("\"id\":1"),
                    "the oversized command ran: {text}"
                );
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => panic!("the socket ended without a 1009 close frame"),
        }
    }
    assert_eq!(relay.fake.calls("do_command"), 0);
}

#[tokio::test]
async fn a_tab_that_sends_too_fast_is_rate_limited() {
    let relay = TestRelay::start_with(|c| c.limits.max_commands_per_sec = 2.0).await;
    let mut tab = relay.tab(OPERATOR).await;
    for id in 1..=10 {
        tab.command(id, ReadCommand::GetSystemInfo).await;
    }
    // Refusals are written at once and replies when NVFlare answers: collect all ten in any order.
    let mut limited = 0;
    let mut answered = std::collections::BTreeSet::new();
    while answered.len() < 10 {
        match tab.next().await {
            ServerFrame::Error {
                id,
                error: FlareError::RateLimited { message },
            } => {
                assert!(message.contains("too many requests"), "{message}");
                limited += 1;
                answered.insert(id);
            }
            ServerFrame::Ok { id, .. } | ServerFrame::Error { id, .. } => {
                answered.insert(id);
            }
            ServerFrame::Hello { .. } | ServerFrame::Event { .. } => {}
        }
    }
    assert!(limited >= 5, "burst of 4 at 2/s: {limited} of 10 limited");
}
