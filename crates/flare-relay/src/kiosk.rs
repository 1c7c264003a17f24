//! Kiosk tokens: revocable read-only logins for shared screens. An operator creates one for its
//! own NVFlare identity and a study; the secret is shown once (in the kiosk URL) and only its
//! SHA-256 is kept, in memory and, with `kiosk_tokens_file`, in a JSON file that survives restarts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use flare_model::KioskToken;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::now_ms;
use crate::sync::lock;

/// The longest label.
pub const MAX_LABEL_CHARS: usize = 80;

/// Why a kiosk token cannot be created or the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot draw a random token")]
    Random,
    #[error("cannot read the kiosk tokens file {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("cannot write the kiosk tokens file {path}: {message}")]
    Save { path: PathBuf, message: String },
}

/// A token as stored: what is listed, and the hash of its secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    token: KioskToken,
    /// Lowercase hex SHA-256 of the secret.
    secret_sha256: String,
    /// Creation order: tokens made in the same millisecond still list in the order they were made.
    #[serde(default)]
    seq: u64,
}

/// The file's shape.
#[derive(Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<Stored>,
}

/// All kiosk tokens of the relay.
pub struct KioskStore {
    file: Option<PathBuf>,
    max_lifetime: Duration,
    tokens: Mutex<HashMap<String, Stored>>,
    next_seq: AtomicU64,
}

/// What a new token is for.
pub struct NewToken<'a> {
    pub label: &'a str,
    pub identity: &'a str,
    pub study: &'a str,
    pub created_by: &'a str,
    pub expires_in_secs: u64,
}

impl KioskStore {
    /// A store kept in `file` (loaded now, expired tokens dropped) or in memory only.
    pub fn open(file: Option<&Path>, max_lifetime: Duration) -> Result<KioskStore, KioskError> {
        let mut tokens = HashMap::new();
        if let Some(path) = file {
            match std::fs::read(path) {
                Ok(bytes) => {
                    let parsed: TokenFile =
                        serde_json::from_slice(&bytes).map_err(|e| KioskError::Load {
                            path: path.to_owned(),
                            message: e.to_string(),
                        })?;
                    let now = now_ms();
                    for stored in parsed.tokens {
                        if stored.token.expires_at_ms > now {
                            tokens.insert(stored.token.id.clone(), stored);
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(KioskError::Load {
                        path: path.to_owned(),
                        message: e.to_string(),
                    });
                }
            }
        }
        let next_seq = tokens.values().map(|s| s.seq + 1).max().unwrap_or(0);
        Ok(KioskStore {
            file: file.map(Path::to_owned),
            max_lifetime,
            tokens: Mutex::new(tokens),
            next_seq: AtomicU64::new(next_seq),
        })
    }

    /// Creates a token; returns it and its secret (shown once). The lifetime is capped at the
    /// configured maximum.
    pub fn create(&self, new: &NewToken<'_>) -> Result<(KioskToken, String), KioskError> {
        let label = new.label.trim();
        let chars = label.chars().count();
        if chars == 0 || chars > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(KioskError::Invalid(format!(
                "a kiosk label has 1 to {MAX_LABEL_CHARS} characters and no control characters"
            )));
        }
        if new.expires_in_secs == 0 {
            return Err(KioskError::Invalid(
                "expires_in_secs must be at least 1".to_owned(),
            ));
        }
        let lifetime = new.expires_in_secs.min(self.max_lifetime.as_secs());
        let id = crate::transfers::random_id().map_err(|_| KioskError::Random)?;
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|_| KioskError::Random)?;
        let secret = hex(&secret);
        let now = now_ms();
        let token = KioskToken {
            id: id[..16].to_owned(),
            label: label.to_owned(),
            identity: new.identity.to_owned(),
            study: new.study.to_owned(),
            created_by: new.created_by.to_owned(),
            created_at_ms: now,
            expires_at_ms: now.saturating_add(lifetime.saturating_mul(1000)),
        };
        let mut tokens = self.lock();
        tokens.retain(|_, s| s.token.expires_at_ms > now);
        tokens.insert(
            token.id.clone(),
            Stored {
                token: token.clone(),
                secret_sha256: sha256_hex(&secret),
                seq: self.next_seq.fetch_add(1, Ordering::Relaxed),
            },
        );
        if let Err(e) = self.save(&tokens) {
            // Not kept: nobody would ever see its secret.
            tokens.remove(&token.id);
            return Err(e);
        }
        Ok((token, secret))
    }

    /// The live tokens of an NVFlare identity, oldest first.
    pub fn list(&self, identity: &str) -> Vec<KioskToken> {
        let now = now_ms();
        let tokens = self.lock();
        let mut list: Vec<&Stored> = tokens
            .values()
            .filter(|s| s.token.identity == identity && s.token.expires_at_ms > now)
            .collect();
        list.sort_by_key(|s| (s.token.created_at_ms, s.seq));
        list.into_iter().map(|s| s.token.clone()).collect()
    }

    /// Revokes a token of `identity`; `None` when it has no such token.
    pub fn revoke(&self, identity: &str, id: &str) -> Result<Option<KioskToken>, KioskError> {
        let mut tokens = self.lock();
        if tokens.get(id).is_none_or(|s| s.token.identity != identity) {
            return Ok(None);
        }
        let removed = tokens.remove(id).map(|s| s.token);
        self.save(&tokens)?;
        Ok(removed)
    }

    /// The live token a secret belongs to.
    pub fn check(&self, secret: &str) -> Option<KioskToken> {
        let hash = sha256_hex(secret.trim());
        let now = now_ms();
        self.lock()
            .values()
            .find(|s| s.secret_sha256 == hash && s.token.expires_at_ms > now)
            .map(|s| s.token.clone())
    }

    fn save(&self, tokens: &HashMap<String, Stored>) -> Result<(), KioskError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let mut list: Vec<Stored> = tokens.values().cloned().collect();
        list.sort_by(|a, b| a.token.id.cmp(&b.token.id));
        let save_error = |message: String| KioskError::Save {
            path: path.clone(),
            message,
        };
        let text = serde_json::to_vec_pretty(&TokenFile { tokens: list })
            .map_err(|e| save_error(e.to_string()))?;
        // Written next to the file and renamed over it, so a crash never leaves half a file.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| save_error(e.to_string()))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Stored>> {
        lock(&self.tokens)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new<'a>(label: &'a str, secs: u64) -> NewToken<'a> {
        NewToken {
            label,
            identity: "admin@nvidia.com",
            study: "default",
            created_by: "olga",
            expires_in_secs: secs,
        }
    }

    #[test]
    fn only_the_hash_is_stored_and_tokens_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("kiosk.json");
        let day = Duration::from_secs(86_400);
        let store = KioskStore::open(Some(&file), day).expect("open");
        let (token, secret) = store.create(&new("wall", 7 * 86_400)).expect("create");
        assert_eq!(secret.len(), 64);
        assert!(
            token.expires_at_ms - token.created_at_ms <= 86_400_000,
            "capped at the maximum"
        );
        let text = std::fs::read_to_string(&file).expect("file");
        assert!(!text.contains(&secret), "the secret is not stored");
        assert!(text.contains(&sha256_hex(&secret)));

        let reopened = KioskStore::open(Some(&file), day).expect("reopen");
        assert_eq!(reopened.check(&secret), Some(token.clone()));
        assert_eq!(reopened.list("admin@nvidia.com"), vec![token.clone()]);
        assert!(reopened.list("lead@nvidia.com").is_empty());
        assert!(
            reopened
                .revoke("lead@nvidia.com", &token.id)
                .expect("ok")
                .is_none()
        );
        assert!(
            reopened
                .revoke("admin@nvidia.com", &token.id)
                .expect("ok")
                .is_some()
        );
        assert_eq!(reopened.check(&secret), None);
        let again = KioskStore::open(Some(&file), day).expect("reopen");
        assert_eq!(again.check(&secret), None, "revocation persisted");
    }

    #[test]
    fn labels_and_lifetimes_are_checked() {
        let store = KioskStore::open(None, Duration::from_secs(60)).expect("open");
        for bad in ["", "   ", &"x".repeat(81), "a\nb"] {
            assert!(store.create(&new(bad, 10)).is_err(), "{bad:?}");
        }
        assert!(store.create(&new("ok", 0)).is_err());
        assert!(store.create(&new(&"é".repeat(80), 10)).is_ok());
    }

    #[test]
    fn tokens_list_in_the_order_they_were_made_even_within_one_millisecond() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("kiosk.json");
        let day = Duration::from_secs(86_400);
        let store = KioskStore::open(Some(&file), day).expect("open");
        let labels: Vec<String> = (0..20).map(|i| format!("screen {i}")).collect();
        for label in &labels {
            store.create(&new(label, 60)).expect("create");
        }
        let listed = |store: &KioskStore| -> Vec<String> {
            store
                .list("admin@nvidia.com")
                .into_iter()
                .map(|t| t.label)
                .collect()
        };
        assert_eq!(listed(&store), labels);
        let reopened = KioskStore::open(Some(&file), day).expect("reopen");
        assert_eq!(listed(&reopened), labels, "order survives a restart");
        reopened.create(&new("newest", 60)).expect("create");
        assert_eq!(listed(&reopened).last().map(String::as_str), Some("newest"));
    }
}
