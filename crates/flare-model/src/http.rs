//! The relay's HTTP bodies: logins, the session a cookie belongs to, upload receipts, plain
//! acknowledgements and the one error body every `/api/*` refusal carries.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::wire::Role;

/// `POST /api/login` body. Its `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// `POST /api/kiosk-login` body: the secret from a kiosk link. Its `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskLoginRequest {
    pub token: String,
}

impl fmt::Debug for KioskLoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KioskLoginRequest").finish_non_exhaustive()
    }
}

/// Who a session cookie belongs to: the reply of `/api/login`, `/api/kiosk-login` and
/// `/api/session`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The console user name.
    pub user: String,
    pub role: Role,
    /// The NVFlare identity the relay acts as.
    pub identity: String,
    pub study: String,
    /// The largest body `POST /api/upload` accepts, so a browser can refuse a bigger file first.
    pub max_upload_bytes: u64,
    /// True for a wall screen logged in with a kiosk token; absent otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kiosk: bool,
}

/// `POST /api/upload` reply: the stored job folder, named by the id `submit_job` takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub upload_id: String,
    /// The job folder's name (the zip's single top folder, or the upload's name).
    pub folder_name: String,
    /// Files unpacked.
    pub files: u64,
    /// Bytes unpacked.
    pub bytes: u64,
}

/// `POST /api/logout` reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub ok: bool,
}

/// `DELETE /api/kiosk-tokens/<id>` reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskTokenRevoked {
    pub ok: bool,
    /// The kiosk logins (and with them their sockets) the revocation ended.
    pub sessions_ended: usize,
}

/// The body of every `/api/*` refusal, with a lowercase message that says what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}
