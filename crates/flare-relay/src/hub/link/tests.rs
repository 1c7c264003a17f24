//! Tests of the link's pure transitions: login, failures, loss, refusal and retry, close.

use std::path::{Path, PathBuf};

use flare_model::{Command, Reply};

use super::*;
use crate::upstream::BoxFuture;

/// A session the transitions only compare by identity; it is never asked anything.
struct Stub;

impl UpstreamSession for Stub {
    fn execute<'a>(&'a self, _: &'a Command) -> BoxFuture<'a, Result<Reply, FlareError>> {
        Box::pin(async { Err(not_asked()) })
    }
    fn submit_job<'a>(
        &'a self,
        _: &'a Path,
        _: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String, FlareError>> {
        Box::pin(async { Err(not_asked()) })
    }
    fn download_job<'a>(
        &'a self,
        _: &'a str,
        _: &'a Path,
        _: bool,
    ) -> BoxFuture<'a, Result<PathBuf, FlareError>> {
        Box::pin(async { Err(not_asked()) })
    }
    fn is_closed(&self) -> bool {
        false
    }
    fn server_version(&self) -> String {
        "2.9.0".to_owned()
    }
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

fn not_asked() -> FlareError {
    FlareError::InternalError {
        message: "the link tests ask a session nothing".to_owned(),
    }
}

fn session() -> Arc<dyn UpstreamSession> {
    Arc::new(Stub)
}

fn refusal() -> FlareError {
    FlareError::AuthenticationError {
        message: "not in this study".to_owned(),
        auth_code: Some("AUTH_STUDY_NOT_CONFIGURED".to_owned()),
    }
}

fn is_session(link: &Link, session: &Arc<dyn UpstreamSession>) -> bool {
    link.session().is_some_and(|s| Arc::ptr_eq(s, session))
}

/// A link that was up and lost its session: logging in again.
fn reconnecting() -> Link {
    let mut link = Link::new();
    let s = session();
    link.logged_in(s.clone())
        .unwrap_or_else(|_| panic!("a new link is not closed"));
    assert!(link.lost(&s));
    link
}

#[test]
fn a_new_link_logs_in() {
    let mut link = Link::new();
    assert!(matches!(
        link,
        Link::Connecting {
            was_up: false,
            failures: 0
        }
    ));
    assert!(link.session().is_none());
    assert!(link.refusal().is_none());
    assert!(!link.is_closed());

    let s = session();
    assert!(link.logged_in(s.clone()).is_ok());
    assert!(is_session(&link, &s));
    assert!(link.refusal().is_none());
}

#[test]
fn failed_logins_read_connecting_or_reconnecting_then_down() {
    use LinkState::{Connecting, Down, Reconnecting};
    let cases = [
        (
            "first login",
            Link::new(),
            [Connecting, Connecting, Down, Down],
        ),
        (
            "after a loss",
            reconnecting(),
            [Reconnecting, Reconnecting, Down, Down],
        ),
    ];
    for (what, mut link, expected) in cases {
        let told: Vec<Option<LinkState>> = (0..4).map(|_| link.login_failed()).collect();
        assert_eq!(told, expected.map(Some), "{what}");
        assert!(
            matches!(link, Link::Connecting { failures: 4, .. }),
            "{what}"
        );
    }
}

#[test]
fn a_new_login_task_counts_failures_from_zero() {
    let mut link = reconnecting();
    for _ in 0..3 {
        link.login_failed();
    }
    let s = session();
    assert!(link.logged_in(s.clone()).is_ok());
    assert!(link.lost(&s));
    assert_eq!(link.login_failed(), Some(LinkState::Reconnecting));
}

#[test]
fn only_the_live_session_is_lost_and_only_once() {
    let mut link = Link::new();
    let live = session();
    let stale = session();
    assert!(link.logged_in(live.clone()).is_ok());

    assert!(!link.lost(&stale), "a stale session changes nothing");
    assert!(is_session(&link, &live));

    assert!(link.lost(&live), "the live session: a login must start");
    assert!(matches!(
        link,
        Link::Connecting {
            was_up: true,
            failures: 0
        }
    ));
    assert!(
        !link.lost(&live),
        "lost twice: the second starts no other login"
    );
}

#[test]
fn a_refusal_stands_until_a_socket_attaches_after_the_gap() {
    let gap = Duration::from_secs(5);
    let t0 = Instant::now();
    // (what, link before the refusal, how long after it a socket attaches, retried)
    let cases = [
        ("at once", Link::new(), Duration::ZERO, false),
        (
            "just before the gap",
            Link::new(),
            gap - Duration::from_millis(1),
            false,
        ),
        ("at the gap", Link::new(), gap, true),
        ("long after", reconnecting(), gap * 10, true),
    ];
    for (what, mut link, after, retried) in cases {
        let was_up = matches!(link, Link::Connecting { was_up: true, .. });
        link.refused(refusal(), t0);
        assert_eq!(link.refusal(), Some(&refusal()), "{what}");
        assert!(link.session().is_none(), "{what}");
        assert!(link.login_failed().is_none(), "{what}: no login task runs");

        assert_eq!(link.retry(t0 + after, gap), retried, "{what}");
        if retried {
            assert!(link.refusal().is_none(), "{what}");
            assert!(
                matches!(link, Link::Connecting { was_up: w, failures: 0 } if w == was_up),
                "{what}: still knows whether it was up"
            );
            assert!(
                !link.retry(t0 + after, gap),
                "{what}: one retry, one login task"
            );
        } else {
            assert_eq!(link.refusal(), Some(&refusal()), "{what}");
        }
    }
}

#[test]
fn only_a_refusal_is_retried() {
    let s = session();
    let mut up = Link::new();
    assert!(up.logged_in(s).is_ok());
    let far = Instant::now() + Duration::from_secs(3600);
    for (what, mut link) in [
        ("connecting", Link::new()),
        ("up", up),
        ("closed", Link::Closed { refusal: None }),
    ] {
        assert!(!link.retry(far, Duration::ZERO), "{what}");
    }
}

#[test]
fn closing_hands_back_the_session_and_ends_every_login() {
    let s = session();
    let mut link = Link::new();
    assert!(link.logged_in(s.clone()).is_ok());

    let closed = link.close();
    assert!(closed.is_some_and(|c| Arc::ptr_eq(&c, &s)));
    assert!(link.is_closed());
    assert!(link.session().is_none());
    assert!(!link.lost(&s));
    assert!(
        link.login_failed().is_none(),
        "a login task that fails now stops"
    );

    let late = session();
    let handed_back = link.logged_in(late.clone());
    assert!(
        handed_back.is_err_and(|back| Arc::ptr_eq(&back, &late)),
        "a login that lands after the close is handed back to be logged out"
    );
    assert!(link.session().is_none());
    assert!(link.close().is_none(), "closing twice logs nothing out");
}

#[test]
fn a_refusal_outlives_the_close() {
    let mut refused = Link::new();
    refused.refused(refusal(), Instant::now());
    assert!(refused.close().is_none());
    assert!(refused.is_closed());
    assert_eq!(refused.refusal(), Some(&refusal()));

    // A refusal that lands after the close is kept too.
    let mut connecting = Link::new();
    assert!(connecting.close().is_none());
    assert!(connecting.refusal().is_none());
    connecting.refused(refusal(), Instant::now());
    assert!(connecting.is_closed());
    assert_eq!(connecting.refusal(), Some(&refusal()));
}
