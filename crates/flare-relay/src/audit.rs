//! The console audit trail: every mutating command and every refusal, to the `audit` tracing target
//! and, when configured, as one JSON line per record in an audit file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use flare_model::Role;
use serde::Serialize;

use crate::sync::lock;

/// One audited action.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRecord<'a> {
    /// Unix milliseconds.
    pub at_ms: u64,
    /// The console user.
    pub user: &'a str,
    pub role: Role,
    /// The NVFlare identity the relay acted as.
    pub identity: &'a str,
    pub study: &'a str,
    /// The FLARE API method name.
    pub command: &'a str,
    /// `ok`, `refused`, or `error`.
    pub outcome: &'a str,
    /// The error message when the outcome is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    /// For a kiosk session: its token, as `<id> (<label>)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kiosk_token: Option<&'a str>,
}

/// Where audit records go.
pub struct Audit {
    file: Option<Mutex<File>>,
}

impl Audit {
    /// An audit trail that only logs to the `audit` tracing target.
    pub fn tracing_only() -> Self {
        Audit { file: None }
    }

    /// An audit trail that also appends JSON lines to `path`.
    pub fn with_file(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Audit {
            file: Some(Mutex::new(file)),
        })
    }

    /// Records one action.
    pub fn record(&self, record: &AuditRecord<'_>) {
        tracing::info!(
            target: "audit",
            user = record.user,
            role = ?record.role,
            identity = record.identity,
            study = record.study,
            command = record.command,
            outcome = record.outcome,
            message = record.message.unwrap_or(""),
            kiosk_token = record.kiosk_token.unwrap_or(""),
            "audit"
        );
        if let Some(file) = &self.file {
            let Ok(mut line) = serde_json::to_vec(record) else {
                return;
            };
            line.push(b'\n');
            // One short append per record; a blocking write this small is cheaper than a thread hop.
            let mut file = lock(file);
            if let Err(e) = file.write_all(&line) {
                tracing::error!("cannot write the audit file: {e}");
            }
        }
    }
}
