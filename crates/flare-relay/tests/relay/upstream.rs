//! The upstream link: loss, reconnecting with backoff, and commands while down.

use flare_model::{Event, FlareError, LinkState, ReadCommand, ServerFrame, Topic};

use super::support::{OPERATOR, TestRelay};

fn link(state: LinkState) -> impl FnMut(&Event) -> bool {
    move |e| matches!(e, Event::Upstream(s) if s.state == state)
}

#[tokio::test]
async fn upstream_failure_goes_reconnecting_then_connected_and_polling_resumes() {
    let relay = TestRelay::start().await;
    let mut tab = relay.tab(OPERATOR).await;
    tab.subscribe(1, Topic::System).await;
    tab.event(|e| matches!(e, Event::Snapshot { .. })).await;

    relay.fake.set_up(false);
    let Event::Upstream(down) = tab.event(link(LinkState::Reconnecting)).await else {
        unreachable!()
    };
    assert!(down.message.is_some(), "a reconnecting state says why");

    tab.command(5, ReadCommand::GetSystemInfo).await;
    let ServerFrame::Error {
        id: 5,
        error: FlareError::NoConnection { message },
    } = tab.reply(5).await
    else {
        panic!("a command while down gets no_connection");
    };
    assert!(message.contains("reconnecting"), "{message}");

    relay.fake.set_up(true);
    let Event::Upstream(up) = tab.event(link(LinkState::Connected)).await else {
        unreachable!()
    };
    assert_eq!(up.server_version.as_deref(), Some("2.9.0"));
    assert_eq!(relay.fake.logins(), 2, "logged in again by itself");
    // Polling resumed on the new session.
    tab.event(|e| {
        matches!(
            e,
            Event::Delta {
                topic: Topic::System,
                ..
            }
        )
    })
    .await;
    tab.command(6, ReadCommand::GetSystemInfo).await;
    assert!(matches!(tab.reply(6).await, ServerFrame::Ok { id: 6, .. }));
}
