//! Studies: `/ws?study=`, one hub and upstream login per (identity, study), refused studies, and
//! idle hubs shutting down.

use flare_model::{Event, FlareError, LinkState, ReadCommand, ServerFrame};
use tokio_tungstenite::tungstenite::Error;

use super::support::{IDENTITY, OPERATOR, Tab, TestRelay, eventually};

fn status(result: Result<Tab, Error>) -> u16 {
    match result {
        Err(Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected a refusal, the socket opened"),
    }
}

fn link(state: LinkState) -> impl FnMut(&Event) -> bool {
    move |e| matches!(e, Event::Upstream(s) if s.state == state)
}

/// Opens `/ws?study=<study>` and returns the tab and the hello's study.
async fn open(relay: &TestRelay, cookie: &str, study: &str) -> (Tab, String) {
    let mut tab = relay
        .connect_to(
            &format!("/ws?study={study}"),
            Some(cookie),
            Some(&relay.origin()),
        )
        .await
        .expect("socket");
    let ServerFrame::Hello { hello } = tab.next().await else {
        panic!("expected the hello first");
    };
    (tab, hello.study)
}

#[tokio::test]
async fn two_sockets_on_two_studies_use_two_hubs_and_two_logins() {
    let relay = TestRelay::start().await;
    relay.fake.add_study("cancer-2026");
    let cookie = relay.login(OPERATOR).await;
    let (mut default_tab, study) = open(&relay, &cookie, "default").await;
    assert_eq!(study, "default");
    let (mut study_tab, study) = open(&relay, &cookie, "cancer-2026").await;
    assert_eq!(
        study, "cancer-2026",
        "the hello reports the study asked for"
    );
    for tab in [&mut default_tab, &mut study_tab] {
        tab.command(1, ReadCommand::GetSystemInfo).await;
        assert!(matches!(tab.reply(1).await, ServerFrame::Ok { id: 1, .. }));
    }
    assert_eq!(relay.state.hubs.len(), 2);
    assert_eq!(relay.fake.logins_to("default"), 1);
    assert_eq!(relay.fake.logins_to("cancer-2026"), 1);
    // A second socket on a study shares its hub.
    let (mut again, _) = open(&relay, &cookie, "cancer-2026").await;
    again.command(2, ReadCommand::GetSystemInfo).await;
    assert!(matches!(
        again.reply(2).await,
        ServerFrame::Ok { id: 2, .. }
    ));
    assert_eq!(relay.fake.logins_to("cancer-2026"), 1);
    assert_eq!(relay.state.hubs.len(), 2);
}

#[tokio::test]
async fn a_bad_study_name_is_400_before_the_upgrade() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let origin = relay.origin();
    for bad in ["Default", "a%2Fb", "", "a%20b", &"x".repeat(64)] {
        let path = format!("/ws?study={bad}");
        assert_eq!(
            status(relay.connect_to(&path, Some(&cookie), Some(&origin)).await),
            400,
            "{bad}"
        );
    }
    assert_eq!(relay.state.hubs.len(), 0, "no hub for a refused socket");
    // Without a session it is 401 first, whatever the study.
    assert_eq!(
        status(relay.connect_to("/ws?study=Bad", None, Some(&origin)).await),
        401
    );
}

#[tokio::test]
async fn a_refused_study_is_down_with_the_code_and_is_not_retried() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let (mut tab, study) = open(&relay, &cookie, "unknown-study").await;
    assert_eq!(study, "unknown-study");
    let Event::Upstream(down) = tab.event(link(LinkState::Down)).await else {
        unreachable!()
    };
    let message = down.message.expect("a down state says why");
    assert!(message.contains("AUTH_STUDY_NOT_CONFIGURED"), "{message}");
    assert!(message.contains("unknown-study"), "{message}");

    tab.command(3, ReadCommand::ListJobs(Default::default()))
        .await;
    let ServerFrame::Error {
        error: FlareError::AuthenticationError { message, auth_code },
        ..
    } = tab.reply(3).await
    else {
        panic!("a command gets the login refusal");
    };
    assert_eq!(auth_code.as_deref(), Some("AUTH_STUDY_NOT_CONFIGURED"));
    assert!(message.contains("refused"), "{message}");
    assert_eq!(relay.fake.refusals(), 1, "no retry while the socket stays");

    // Another socket right away does not retry either (the retry gap has not passed).
    let (mut second, _) = open(&relay, &cookie, "unknown-study").await;
    second.command(4, ReadCommand::GetSystemInfo).await;
    assert!(matches!(
        second.reply(4).await,
        ServerFrame::Error {
            error: FlareError::AuthenticationError { .. },
            ..
        }
    ));
    assert_eq!(relay.fake.refusals(), 1);
    assert_eq!(relay.fake.logins(), 0);
}

#[tokio::test]
async fn an_idle_hub_is_shut_down_and_logs_out_but_a_watched_one_stays() {
    let relay = TestRelay::start_with(|c| c.limits.hub_idle_secs = 0.2).await;
    relay.fake.add_study("s1");
    let cookie = relay.login(OPERATOR).await;
    let (mut kept, _) = open(&relay, &cookie, "default").await;
    let (mut idle, _) = open(&relay, &cookie, "s1").await;
    idle.event(link(LinkState::Connected)).await;
    kept.command(1, ReadCommand::GetSystemInfo).await;
    assert!(matches!(kept.reply(1).await, ServerFrame::Ok { .. }));
    let hub = relay
        .state
        .hubs
        .existing(IDENTITY, "s1")
        .expect("the study's hub");
    drop(idle);

    eventually("the idle hub to be shut down", || {
        relay.state.hubs.existing(IDENTITY, "s1").is_none() && relay.fake.logouts() == 1
    })
    .await;
    assert!(hub.is_shut_down());
    assert!(
        relay.state.hubs.existing(IDENTITY, "default").is_some(),
        "a hub with a socket stays"
    );
    kept.command(2, ReadCommand::GetSystemInfo).await;
    assert!(matches!(kept.reply(2).await, ServerFrame::Ok { .. }));

    // Coming back to the study logs in again.
    let (mut back, _) = open(&relay, &cookie, "s1").await;
    back.command(3, ReadCommand::GetSystemInfo).await;
    assert!(matches!(back.reply(3).await, ServerFrame::Ok { .. }));
    assert_eq!(relay.fake.logins_to("s1"), 2);
}
