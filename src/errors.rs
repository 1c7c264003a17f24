//! Error texts for people: what went wrong and what to do, from a [`FlareError`].

use flare_model::FlareError;

use crate::api::sentence;

/// An error worded for the screen: a short summary that says what to do, and the underlying
/// message when the summary does not already carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Described {
    pub summary: String,
    pub detail: Option<String>,
}

/// Words `error` for a panel.
pub fn describe(error: &FlareError) -> Described {
    let what = sentence(error.message());
    let (summary, detail) = match error {
        FlareError::NoConnection { .. }
        | FlareError::SessionClosed { .. }
        | FlareError::SessionExpired { .. } => (
            "Cannot reach NVFlare. The relay keeps retrying; this panel updates by itself when \
             the server is back."
                .to_owned(),
            Some(what),
        ),
        FlareError::AuthorizationError { .. } => (
            "NVFlare does not allow this for your identity. Ask a project admin if you need it."
                .to_owned(),
            Some(what),
        ),
        FlareError::JobNotFound { .. } => (
            format!("{what} It may have been deleted; pick one from the job list."),
            None,
        ),
        FlareError::RateLimited { .. } => (format!("{what} Wait a moment, then try again."), None),
        FlareError::ReadOnlySession { .. } => (
            format!("{what} This is a read-only session; sign in as an operator to change things."),
            None,
        ),
        _ => (what, None),
    };
    Described { summary, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_happened_and_what_to_do() {
        let e = FlareError::JobNotFound {
            message: "no such job: abc".to_owned(),
        };
        assert_eq!(
            describe(&e).summary,
            "No such job: abc. It may have been deleted; pick one from the job list."
        );
        let e = FlareError::NoConnection {
            message: "connection refused".to_owned(),
        };
        let d = describe(&e);
        assert!(d.summary.starts_with("Cannot reach NVFlare."));
        assert_eq!(d.detail.as_deref(), Some("Connection refused."));
        let e = FlareError::InternalError {
            message: "boom".to_owned(),
        };
        assert_eq!(
            describe(&e),
            Described {
                summary: "Boom.".to_owned(),
                detail: None
            }
        );
    }
}
