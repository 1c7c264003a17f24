//! Tests of the socket loop: lag counting, close frames, read errors, and slow tabs on a fake hub.

use super::*;

#[test]
fn waits_are_bounded_by_the_poll_floor_and_the_timeout_ceiling() {
    let limits = Limits {
        min_job_poll_secs: 1.0,
        max_job_wait_secs: 100.0,
        ..Limits::default()
    };
    let wait = |timeout: f64, poll_interval: f64| {
        Command::Read(ReadCommand::WaitForJob {
            job_id: "j1".into(),
            timeout,
            poll_interval,
        })
    };
    for ((timeout, poll), want) in [
        ((10.0, 2.0), (10.0, 2.0)),
        ((10.0, 0.001), (10.0, 1.0)),
        ((0.0, 2.0), (100.0, 2.0)),
        ((-1.0, 2.0), (100.0, 2.0)),
        ((1e9, 2.0), (100.0, 2.0)),
        ((5.0, 60.0), (5.0, 5.0)),
        ((0.5, 0.0), (0.5, 1.0)),
        ((f64::NAN, f64::INFINITY), (100.0, 1.0)),
    ] {
        assert_eq!(
            bounded(wait(timeout, poll), &limits),
            wait(want.0, want.1),
            "timeout {timeout}, poll_interval {poll}"
        );
    }
    let monitor = Command::Read(ReadCommand::MonitorJob {
        job_id: "j1".into(),
        timeout: 0.0,
        poll_interval: 0.0,
    });
    let Command::Read(ReadCommand::MonitorJob {
        timeout,
        poll_interval,
        ..
    }) = bounded(monitor, &limits)
    else {
        panic!("still a monitor_job");
    };
    assert_eq!((timeout, poll_interval), (100.0, 1.0));
    let other = Command::Read(ReadCommand::GetSystemInfo);
    assert_eq!(bounded(other.clone(), &limits), other);
}

#[test]
fn lags_count_while_they_come_within_the_memory() {
    let start = Instant::now();
    let mut lags = Lags::new(start);
    assert_eq!(lags.record(start + Duration::from_secs(1)), 1);
    assert_eq!(lags.record(start + Duration::from_secs(30)), 2);
    assert_eq!(
        lags.record(start + Duration::from_secs(90)),
        3,
        "60 s apart"
    );
    let later = start + Duration::from_secs(151);
    assert_eq!(lags.record(later), 1, "more than 60 s apart: counted anew");
}

#[test]
fn only_capacity_errors_are_too_big() {
    use tungstenite::error::{CapacityError, Error};
    let too_long = CapacityError::MessageTooLong {
        size: 2048,
        max_size: 1024,
    };
    assert!(axum::Error::new(Error::Capacity(too_long)).is_too_big());
    for other in [
        Error::ConnectionClosed,
        Error::Capacity(CapacityError::TooManyHeaders),
        Error::Io(std::io::Error::other("too long")),
    ] {
        assert!(!axum::Error::new(other).is_too_big());
    }
}

#[test]
fn only_some_ends_send_a_close_frame() {
    let codes = [
        (TabEnd::Lagging, Some(CLOSE_LAGGING)),
        (TabEnd::SessionEnded, Some(CLOSE_SESSION_ENDED)),
        (TabEnd::KioskRevoked, Some(CLOSE_KIOSK_REVOKED)),
        (TabEnd::TooBig, Some(CLOSE_TOO_BIG)),
        (TabEnd::Gone, None),
        (TabEnd::WriteStalled, None),
    ];
    for (end, code) in codes {
        assert_eq!(end.close_frame().map(|(code, _)| code), code, "{end:?}");
    }
}

mod slow_tabs {
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use flare_model::{ClientFrame, Event, Role};
    use tokio_stream::wrappers::ReceiverStream;

    use super::super::*;
    use crate::audit::Audit;
    use crate::config::PollConfig;
    use crate::fake::FakeNvflare;
    use crate::hub::{Hub, HubSettings, Hubs};
    use crate::session::Actor;

    /// A read error of the test's socket: never a size one.
    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Broken(String);

    impl ReadError for Broken {
        fn is_too_big(&self) -> bool {
            false
        }
    }

    type Incoming = mpsc::Sender<Result<Message, Broken>>;

    /// Starts a tab whose outgoing messages land in a one-slot channel: it writes only as fast
    /// as the test reads.
    fn start_tab(
        hub: &Arc<Hub>,
        limits: &Limits,
    ) -> (
        Incoming,
        mpsc::Receiver<Message>,
        tokio::task::JoinHandle<TabEnd>,
    ) {
        let (in_tx, in_rx) = mpsc::channel(8);
        let (out_tx, out_rx) = mpsc::channel::<Message>(1);
        let sink = Box::pin(futures_util::sink::unfold(
            out_tx,
            |tx, message| async move {
                tx.send(message).await.map_err(|_| "reader gone")?;
                Ok::<_, &str>(tx)
            },
        ));
        let actor = Actor {
            user: "ann".into(),
            role: Role::Viewer,
            identity: "admin".into(),
            study: "default".into(),
            kiosk: None,
        };
        let audit = Arc::new(Audit::tracing_only());
        let (ended_tx, ended) = watch::channel(false);
        let tab = Tab {
            session: Arc::new(TabSession::new(
                hub.clone(),
                actor,
                audit,
                crate::session::TabFiles {
                    transfers: crate::transfers::Transfers::new(&crate::config::Config::default()),
                    owner: "login-1".into(),
                },
            )),
            limits: limits.clone(),
            ended,
            revoked: Default::default(),
            expires_at: Instant::now() + Duration::from_secs(3600),
        };
        let task = tokio::spawn(async move {
            let end = run(sink, ReceiverStream::new(in_rx), tab).await;
            drop(ended_tx);
            end
        });
        (in_tx, out_rx, task)
    }

    async fn subscribe_jobs(tx: &Incoming) {
        let frame = ClientFrame {
            id: 1,
            body: ClientBody::Subscribe(Topic::Jobs),
        };
        let text = serde_json::to_string(&frame).expect("json");
        tx.send(Ok(Message::Text(text.into()))).await.expect("send");
    }

    async fn next_event(rx: &mut mpsc::Receiver<Message>) -> Option<Event> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .expect("a message within 10 s")?;
            let Message::Text(text) = message else {
                return None;
            };
            if let Ok(ServerFrame::Event { event }) = serde_json::from_str(&text) {
                return Some(event);
            }
        }
    }

    async fn polls_pass(fake: &FakeNvflare, n: usize) {
        let target = fake.calls("list_jobs") + n;
        let deadline = Instant::now() + Duration::from_secs(10);
        while fake.calls("list_jobs") < target {
            assert!(Instant::now() < deadline, "the poller stalled");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_tab_is_resynced_then_closed_while_a_fast_tab_keeps_receiving() {
        let fake = FakeNvflare::new();
        let poll = PollConfig {
            system_secs: 1.0,
            jobs_secs: 0.01,
            job_secs: 1.0,
        };
        let hubs = Hubs::new(Arc::new(fake.clone()), HubSettings::new(poll, 2));
        let hub = hubs.get("admin", Path::new("kits/admin"), "default");
        let limits = Limits {
            max_lag_resyncs: 1,
            ..Limits::default()
        };

        let (fast_in, mut fast_out, fast_task) = start_tab(&hub, &limits);
        subscribe_jobs(&fast_in).await;
        let fast_events = Arc::new(AtomicUsize::new(0));
        let counter = fast_events.clone();
        let fast_reader = tokio::spawn(async move {
            while let Some(event) = next_event(&mut fast_out).await {
                assert!(
                    !matches!(event, Event::Resync { .. }),
                    "the fast tab lagged"
                );
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });

        let (slow_in, mut slow_out, slow_task) = start_tab(&hub, &limits);
        subscribe_jobs(&slow_in).await;
        while !matches!(
            next_event(&mut slow_out).await,
            Some(Event::Snapshot { .. })
        ) {}

        // The slow tab reads nothing while the hub publishes well past its queue.
        let fast_before = fast_events.load(Ordering::Relaxed);
        polls_pass(&fake, 8).await;
        let resync = loop {
            match next_event(&mut slow_out).await {
                Some(event @ Event::Resync { .. }) => break event,
                Some(_) => {}
                None => panic!("the slow tab closed before a resync"),
            }
        };
        assert!(
            matches!(
                resync,
                Event::Resync {
                    topic: Topic::Jobs,
                    ..
                }
            ),
            "{resync:?}"
        );
        assert!(
            matches!(
                next_event(&mut slow_out).await,
                Some(Event::Snapshot { .. })
            ),
            "a snapshot follows the resync"
        );

        // It lags again: more than max_lag_resyncs, so the relay closes it.
        polls_pass(&fake, 8).await;
        let close = loop {
            match tokio::time::timeout(Duration::from_secs(10), slow_out.recv())
                .await
                .expect("a message within 10 s")
            {
                Some(Message::Close(frame)) => break frame,
                Some(_) => {}
                None => panic!("the slow tab ended without a close frame"),
            }
        };
        assert_eq!(close.map(|f| f.code), Some(CLOSE_LAGGING));
        assert_eq!(slow_task.await.expect("join"), TabEnd::Lagging);

        // Meanwhile the fast tab received every tick and is still open.
        assert!(
            fast_events.load(Ordering::Relaxed) >= fast_before + 16,
            "the fast tab kept receiving"
        );
        assert!(!fast_task.is_finished());
        drop(fast_in);
        assert_eq!(fast_task.await.expect("join"), TabEnd::Gone);
        fast_reader.await.expect("fast reader");
        drop(slow_in);
    }
}
