//! Error texts for people: what went wrong and what to do, from a [`FlareError`].

use flare_model::FlareError;

use crate::api::sentence;

/// A readable sentence or two for `error`, saying what to do where there is something to do.
pub fn describe(error: &FlareError) -> String {
    let what = sentence(error.message());
    match error {
        FlareError::NoConnection { .. }
        | FlareError::SessionClosed { .. }
        | FlareError::SessionExpired { .. } => format!(
            "The relay cannot reach NVFlare: {what} It keeps retrying; check that the NVFlare server is running."
        ),
        FlareError::AuthorizationError { .. } => format!(
            "NVFlare refused this for your identity: {what} Ask a project admin if you need this right."
        ),
        FlareError::JobNotFound { .. } => {
            format!("{what} It may have been deleted; pick one from the job list.")
        }
        FlareError::RateLimited { .. } => format!("{what} Wait a moment, then try again."),
        FlareError::ReadOnlySession { .. } => {
            format!("{what} This is a read-only session; sign in as an operator to change things.")
        }
        _ => what,
    }
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
            describe(&e),
            "No such job: abc. It may have been deleted; pick one from the job list."
        );
        let e = FlareError::InternalError {
            message: "boom".to_owned(),
        };
        assert_eq!(describe(&e), "Boom.");
    }
}
