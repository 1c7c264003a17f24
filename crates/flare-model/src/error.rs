//! Errors: the FLARE API exception family, one variant each with its fields, plus the relay's own
//! refusals. On the wire an error is `{"kind": "<snake_case variant>", "message": ..., ...fields}`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Every way a command can fail, as the Python `Session` would raise it, plus relay-side refusals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FlareError {
    /// `NoConnection`: the NVFlare server cannot be reached.
    NoConnection { message: String },
    /// `SessionClosed`: the upstream session is no longer active.
    SessionClosed { message: String },
    /// The server expired the upstream session (idle timeout or certificate expiry).
    SessionExpired { message: String },
    /// `InvalidArgumentError`.
    InvalidArgument { message: String },
    /// `InvalidJobDefinition`.
    InvalidJobDefinition { message: String },
    /// `SubmitTokenConflict`: the token was used before with different job content.
    SubmitTokenConflict {
        message: String,
        existing_job_id: Option<String>,
    },
    /// `SubmitTokenJobDeleted`: the token's job was deleted.
    SubmitTokenJobDeleted {
        message: String,
        job_id: Option<String>,
        state: Option<String>,
        deleted_time: Option<String>,
    },
    /// `JobNotFound`.
    JobNotFound { message: String },
    /// `JobNotRunning`.
    JobNotRunning { message: String },
    /// `JobNotDone`.
    JobNotDone { message: String },
    /// `InternalError`.
    InternalError { message: String },
    /// `JobTimeout`.
    JobTimeout { message: String },
    /// `AuthenticationError`, with the server's `AUTH_*` code when it gave one.
    AuthenticationError {
        message: String,
        auth_code: Option<String>,
    },
    /// `AuthorizationError`: NVFlare's policy refused the command for this identity.
    AuthorizationError { message: String },
    /// `NoClientsAvailable`.
    NoClientsAvailable { message: String },
    /// `ClientsStillRunning`.
    ClientsStillRunning { message: String },
    /// `InvalidTarget`.
    InvalidTarget { message: String },
    /// `NoReply`.
    NoReply { message: String },
    /// `CommandError`: an in-band study error.
    CommandError {
        error_code: String,
        message: String,
        hint: String,
        exit_code: i32,
    },
    /// The server runs an NVFlare version this console does not support.
    UnsupportedVersion {
        message: String,
        server_version: String,
    },
    /// The relay refused a mutating command from a read-only (viewer) session.
    ReadOnlySession { message: String },
    /// The relay could not understand the request (malformed frame, unknown command, bad field).
    BadRequest { message: String },
    /// The relay refused the request because the tab sends too fast or too much.
    RateLimited { message: String },
    /// The relay has not implemented this command yet.
    Unsupported { message: String },
}

impl FlareError {
    /// The human-readable message of any variant.
    pub fn message(&self) -> &str {
        match self {
            FlareError::NoConnection { message }
            | FlareError::SessionClosed { message }
            | FlareError::SessionExpired { message }
            | FlareError::InvalidArgument { message }
            | FlareError::InvalidJobDefinition { message }
            | FlareError::SubmitTokenConflict { message, .. }
            | FlareError::SubmitTokenJobDeleted { message, .. }
            | FlareError::JobNotFound { message }
            | FlareError::JobNotRunning { message }
            | FlareError::JobNotDone { message }
            | FlareError::InternalError { message }
            | FlareError::JobTimeout { message }
            | FlareError::AuthenticationError { message, .. }
            | FlareError::AuthorizationError { message }
            | FlareError::NoClientsAvailable { message }
            | FlareError::ClientsStillRunning { message }
            | FlareError::InvalidTarget { message }
            | FlareError::NoReply { message }
            | FlareError::CommandError { message, .. }
            | FlareError::UnsupportedVersion { message, .. }
            | FlareError::ReadOnlySession { message }
            | FlareError::BadRequest { message }
            | FlareError::RateLimited { message }
            | FlareError::Unsupported { message } => message,
        }
    }

    /// The wire `kind` of this error, e.g. `"job_not_found"`.
    pub fn kind(&self) -> &'static str {
        match self {
            FlareError::NoConnection { .. } => "no_connection",
            FlareError::SessionClosed { .. } => "session_closed",
            FlareError::SessionExpired { .. } => "session_expired",
            FlareError::InvalidArgument { .. } => "invalid_argument",
            FlareError::InvalidJobDefinition { .. } => "invalid_job_definition",
            FlareError::SubmitTokenConflict { .. } => "submit_token_conflict",
            FlareError::SubmitTokenJobDeleted { .. } => "submit_token_job_deleted",
            FlareError::JobNotFound { .. } => "job_not_found",
            FlareError::JobNotRunning { .. } => "job_not_running",
            FlareError::JobNotDone { .. } => "job_not_done",
            FlareError::InternalError { .. } => "internal_error",
            FlareError::JobTimeout { .. } => "job_timeout",
            FlareError::AuthenticationError { .. } => "authentication_error",
            FlareError::AuthorizationError { .. } => "authorization_error",
            FlareError::NoClientsAvailable { .. } => "no_clients_available",
            FlareError::ClientsStillRunning { .. } => "clients_still_running",
            FlareError::InvalidTarget { .. } => "invalid_target",
            FlareError::NoReply { .. } => "no_reply",
            FlareError::CommandError { .. } => "command_error",
            FlareError::UnsupportedVersion { .. } => "unsupported_version",
            FlareError::ReadOnlySession { .. } => "read_only_session",
            FlareError::BadRequest { .. } => "bad_request",
            FlareError::RateLimited { .. } => "rate_limited",
            FlareError::Unsupported { .. } => "unsupported",
        }
    }

    /// True when the error means the upstream connection is gone and a new login may help.
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            FlareError::NoConnection { .. }
                | FlareError::SessionClosed { .. }
                | FlareError::SessionExpired { .. }
        )
    }
}

impl fmt::Display for FlareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind(), self.message())
    }
}

impl std::error::Error for FlareError {}
