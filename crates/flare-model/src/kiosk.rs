//! Kiosk tokens: revocable read-only logins for shared screens, managed by operators over
//! `/api/kiosk-tokens`.

use serde::{Deserialize, Serialize};

/// A kiosk token as the relay lists it; the secret itself is shown only once, at creation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskToken {
    pub id: String,
    pub label: String,
    /// The NVFlare identity (admin cert CN) the screen shows.
    pub identity: String,
    pub study: String,
    /// The console user who created it.
    pub created_by: String,
    /// Unix milliseconds.
    pub created_at_ms: u64,
    /// Unix milliseconds.
    pub expires_at_ms: u64,
}

/// `POST /api/kiosk-tokens` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKioskToken {
    pub label: String,
    /// Defaults to the creator's study.
    #[serde(default)]
    pub study: Option<String>,
    pub expires_in_secs: u64,
}

/// `POST /api/kiosk-tokens` reply: the token and the URL that logs a screen in with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedKioskToken {
    pub token: KioskToken,
    /// Path and fragment of the kiosk URL, e.g. `/kiosk#token=...`; the secret is in the fragment so it
    /// never reaches a server log.
    pub url: String,
}
