//! The relay's configuration: a TOML file (see `relay.example.toml`), validated before anything binds.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flare_model::Role;
use serde::Deserialize;

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// The whole configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; loopback unless `[tls]` is configured.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Folder of the built console (trunk's `dist`).
    #[serde(default = "default_console_dir")]
    pub console_dir: PathBuf,
    /// Exact `Origin` values allowed to open the WebSocket; derived from `listen` when absent.
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
    /// Where to append the audit trail (JSON lines), besides the `audit` tracing target.
    #[serde(default)]
    pub audit_file: Option<PathBuf>,
    /// A folder of job folders (each with a `meta.json`) operators may submit as `library:<name>`.
    #[serde(default)]
    pub job_library: Option<PathBuf>,
    /// Where uploads and downloads are unpacked and built, one fresh temporary folder each; the
    /// system's temporary folder when absent.
    #[serde(default)]
    pub work_dir: Option<PathBuf>,
    /// Where kiosk tokens (their hashes, never the secrets) are kept across restarts; in memory
    /// only when absent.
    #[serde(default)]
    pub kiosk_tokens_file: Option<PathBuf>,
    #[serde(default)]
    pub poll: PollConfig,
    #[serde(default)]
    pub history: HistoryConfig,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    #[serde(default)]
    pub users: Vec<UserConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: default_listen(),
            console_dir: default_console_dir(),
            allowed_origins: None,
            audit_file: None,
            job_library: None,
            work_dir: None,
            kiosk_tokens_file: None,
            poll: PollConfig::default(),
            history: HistoryConfig::default(),
            limits: Limits::default(),
            tls: None,
            users: Vec::new(),
        }
    }
}

/// Poll intervals of the hubs, in seconds.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollConfig {
    pub system_secs: f64,
    pub jobs_secs: f64,
    pub job_secs: f64,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            system_secs: 2.0,
            jobs_secs: 2.0,
            job_secs: 1.0,
        }
    }
}

impl PollConfig {
    /// The interval of the system topic.
    pub fn system(&self) -> Duration {
        Duration::from_secs_f64(self.system_secs)
    }
    /// The interval of the job list topic.
    pub fn jobs(&self) -> Duration {
        Duration::from_secs_f64(self.jobs_secs)
    }
    /// The interval of a watched job.
    pub fn job(&self) -> Duration {
        Duration::from_secs_f64(self.job_secs)
    }
}

/// Site connectivity history of each hub (`GET /api/site-history`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryConfig {
    /// How far back the history reaches; older spans are dropped.
    pub keep_hours: f64,
    /// The background sample interval: one `get_system_info` per hub (identity × study) this
    /// often, also while nobody watches.
    pub sample_secs: f64,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            keep_hours: 6.0,
            sample_secs: 30.0,
        }
    }
}

impl HistoryConfig {
    /// How long spans are kept.
    pub fn keep(&self) -> Duration {
        Duration::from_secs_f64(self.keep_hours * 3600.0)
    }
    /// The background sample interval.
    pub fn sample_every(&self) -> Duration {
        Duration::from_secs_f64(self.sample_secs)
    }
}

/// Sizes and rates that keep one tab or one client from hurting the others.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest WebSocket message (and frame) a tab may send.
    pub max_message_bytes: usize,
    /// Commands and subscriptions a tab may send per second (burst: twice that).
    pub max_commands_per_sec: f64,
    /// Commands of one tab waiting for NVFlare at once.
    pub max_inflight_commands: usize,
    /// Events buffered per topic for a tab before it lags and gets a resync.
    pub queue_len: usize,
    /// Resyncs a tab may need before the relay closes it for lagging.
    pub max_lag_resyncs: u32,
    /// Seconds a write to a tab may take before the relay gives up on the tab.
    pub write_timeout_secs: f64,
    /// Bytes the relay buffers for writing to one tab.
    pub max_write_buffer_bytes: usize,
    /// Lifetime of a console login.
    pub session_ttl_secs: u64,
    /// Seconds a console login may go without an authenticated request or socket frame before it
    /// ends like a logout (its sockets close with 4001).
    pub session_idle_secs: u64,
    /// Login attempts per client address per minute (burst: the same number).
    pub login_attempts_per_min: f64,
    /// Login attempts per account name per minute, from all addresses together (burst: the same
    /// number); above the per-address limit, so one address cannot lock an account out.
    pub login_attempts_per_account_per_min: f64,
    /// Password checks (argon2, CPU- and memory-heavy) running at once, all logins together.
    pub max_concurrent_password_checks: usize,
    /// Seconds a login waits for a free password check before it is answered 503.
    pub password_check_wait_secs: f64,
    /// Largest request body `POST /api/upload` accepts (a zip or a multipart folder).
    pub max_upload_bytes: u64,
    /// Largest total size of an upload's files once unpacked.
    pub max_upload_extracted_bytes: u64,
    /// Most files and folders one upload may hold.
    pub max_upload_entries: usize,
    /// Uploads one console session may keep at once.
    pub max_uploads_per_session: usize,
    /// Seconds an upload stays submittable before it is deleted.
    pub upload_ttl_secs: u64,
    /// Seconds a built job download stays fetchable before it is deleted.
    pub download_ttl_secs: u64,
    /// Seconds a hub (upstream session of one identity × study) lives on with no socket attached
    /// before it logs out and stops.
    pub hub_idle_secs: f64,
    /// The longest lifetime a kiosk token may be given; longer requests are capped.
    pub max_kiosk_token_secs: u64,
    /// The shortest `poll_interval` of `wait_for_job` / `monitor_job`; shorter ones are raised to
    /// it.
    pub min_job_poll_secs: f64,
    /// The longest `timeout` of `wait_for_job` / `monitor_job`; longer ones, and 0 (wait
    /// forever), are lowered to it.
    pub max_job_wait_secs: f64,
    /// WebSockets one console login may hold open at once (its tabs).
    pub max_sockets_per_session: usize,
    /// WebSockets the relay holds open at once, all logins together.
    pub max_sockets: usize,
    /// Built downloads one console login may keep at once.
    pub max_downloads_per_session: usize,
    /// Bytes of built downloads one console login may keep in the work dir at once.
    pub max_download_bytes_per_session: u64,
    /// TCP connections the relay serves at once (an open WebSocket is one); more are closed at
    /// once.
    pub max_connections: usize,
    /// Seconds a client may take to send a request's headers.
    pub header_read_timeout_secs: f64,
    /// Seconds a request body may stall (between two chunks) before the request fails.
    pub body_read_timeout_secs: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 65536,
            max_commands_per_sec: 20.0,
            max_inflight_commands: 16,
            queue_len: 64,
            max_lag_resyncs: 3,
            write_timeout_secs: 10.0,
            max_write_buffer_bytes: 4 * 1024 * 1024,
            session_ttl_secs: 12 * 3600,
            session_idle_secs: 30 * 60,
            login_attempts_per_min: 10.0,
            login_attempts_per_account_per_min: 30.0,
            max_concurrent_password_checks: 4,
            password_check_wait_secs: 5.0,
            max_upload_bytes: 256 * 1024 * 1024,
            max_upload_extracted_bytes: 1024 * 1024 * 1024,
            max_upload_entries: 10_000,
            max_uploads_per_session: 16,
            upload_ttl_secs: 3600,
            download_ttl_secs: 3600,
            hub_idle_secs: 300.0,
            max_kiosk_token_secs: 30 * 24 * 3600,
            min_job_poll_secs: 1.0,
            max_job_wait_secs: 24.0 * 3600.0,
            max_sockets_per_session: 32,
            max_sockets: 4096,
            max_downloads_per_session: 16,
            max_download_bytes_per_session: 4 * 1024 * 1024 * 1024,
            max_connections: 4608,
            header_read_timeout_secs: 10.0,
            body_read_timeout_secs: 30.0,
        }
    }
}

/// HTTPS certificate and key (PEM files).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A console user: a password hash, a role, and the NVFlare startup kit and study it acts with.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    /// argon2 PHC string (`flare-relay hash-password`).
    pub password_hash: String,
    pub role: Role,
    /// The admin startup kit folder (holds `startup/fed_admin.json`).
    pub kit: PathBuf,
    #[serde(default = "default_study")]
    pub study: String,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_console_dir() -> PathBuf {
    PathBuf::from("dist")
}

fn default_study() -> String {
    "default".to_owned()
}

impl Config {
    /// Reads a config file; relative paths in it are resolved against the file's folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::parse(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        Ok(config)
    }

    /// Parses a config from TOML text, without resolving paths.
    pub fn parse(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        join(&mut self.console_dir);
        for path in [
            &mut self.audit_file,
            &mut self.job_library,
            &mut self.work_dir,
            &mut self.kiosk_tokens_file,
        ]
        .into_iter()
        .flatten()
        {
            join(path);
        }
        if let Some(tls) = &mut self.tls {
            join(&mut tls.cert);
            join(&mut tls.key);
        }
        for user in &mut self.users {
            join(&mut user.kit);
        }
    }

    /// Checks everything that does not need the network: values, hashes, the TLS rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if !self.listen.ip().is_loopback() && self.tls.is_none() {
            return invalid(format!(
                "refusing to listen on {} without TLS: set [tls] cert and key, or listen on 127.0.0.1",
                self.listen
            ));
        }
        for (name, secs) in [
            ("poll.system_secs", self.poll.system_secs),
            ("poll.jobs_secs", self.poll.jobs_secs),
            ("poll.job_secs", self.poll.job_secs),
            (
                "limits.max_commands_per_sec",
                self.limits.max_commands_per_sec,
            ),
            ("limits.write_timeout_secs", self.limits.write_timeout_secs),
            (
                "limits.login_attempts_per_min",
                self.limits.login_attempts_per_min,
            ),
            (
                "limits.login_attempts_per_account_per_min",
                self.limits.login_attempts_per_account_per_min,
            ),
            (
                "limits.password_check_wait_secs",
                self.limits.password_check_wait_secs,
            ),
            ("limits.hub_idle_secs", self.limits.hub_idle_secs),
            ("limits.min_job_poll_secs", self.limits.min_job_poll_secs),
            ("limits.max_job_wait_secs", self.limits.max_job_wait_secs),
            (
                "limits.header_read_timeout_secs",
                self.limits.header_read_timeout_secs,
            ),
            (
                "limits.body_read_timeout_secs",
                self.limits.body_read_timeout_secs,
            ),
            ("history.keep_hours", self.history.keep_hours),
            ("history.sample_secs", self.history.sample_secs),
        ] {
            if !(secs.is_finite() && secs > 0.0 && secs < 1e6) {
                return invalid(format!("{name} must be a positive number, not {secs}"));
            }
        }
        for (name, n) in [
            ("limits.max_message_bytes", self.limits.max_message_bytes),
            ("limits.queue_len", self.limits.queue_len),
            (
                "limits.max_concurrent_password_checks",
                self.limits.max_concurrent_password_checks,
            ),
            (
                "limits.max_inflight_commands",
                self.limits.max_inflight_commands,
            ),
            (
                "limits.max_write_buffer_bytes",
                self.limits.max_write_buffer_bytes,
            ),
            (
                "limits.max_sockets_per_session",
                self.limits.max_sockets_per_session,
            ),
            ("limits.max_sockets", self.limits.max_sockets),
            (
                "limits.max_downloads_per_session",
                self.limits.max_downloads_per_session,
            ),
            ("limits.max_connections", self.limits.max_connections),
        ] {
            if n == 0 {
                return invalid(format!("{name} must be at least 1"));
            }
        }
        for (name, n) in [
            ("limits.session_ttl_secs", self.limits.session_ttl_secs),
            ("limits.session_idle_secs", self.limits.session_idle_secs),
            ("limits.max_upload_bytes", self.limits.max_upload_bytes),
            (
                "limits.max_upload_extracted_bytes",
                self.limits.max_upload_extracted_bytes,
            ),
            (
                "limits.max_upload_entries",
                self.limits.max_upload_entries as u64,
            ),
            (
                "limits.max_uploads_per_session",
                self.limits.max_uploads_per_session as u64,
            ),
            ("limits.upload_ttl_secs", self.limits.upload_ttl_secs),
            ("limits.download_ttl_secs", self.limits.download_ttl_secs),
            (
                "limits.max_kiosk_token_secs",
                self.limits.max_kiosk_token_secs,
            ),
            (
                "limits.max_download_bytes_per_session",
                self.limits.max_download_bytes_per_session,
            ),
        ] {
            if n == 0 {
                return invalid(format!("{name} must be at least 1"));
            }
        }
        if let Some(origins) = &self.allowed_origins {
            for origin in origins {
                if origin.ends_with('/') || !origin.contains("://") {
                    return invalid(format!(
                        "allowed origin {origin:?} must look like scheme://host[:port], without a path"
                    ));
                }
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for user in &self.users {
            if user.name.is_empty() {
                return invalid("a user has an empty name".to_owned());
            }
            if !names.insert(user.name.as_str()) {
                return invalid(format!("user {:?} is configured twice", user.name));
            }
            if let Err(e) = crate::auth::check_hash_strength(&user.password_hash) {
                return invalid(format!("user {:?}: password_hash {e}", user.name));
            }
            if !crate::study::is_valid(&user.study) {
                return invalid(format!(
                    "user {:?}: study {:?} is not `default` or ^[a-z0-9_-]{{1,63}}$",
                    user.name, user.study
                ));
            }
        }
        Ok(())
    }

    /// The origins allowed to open the WebSocket: the configured list, or the relay's own address
    /// under 127.0.0.1 and localhost.
    pub fn origins_for(&self, bound: SocketAddr) -> Vec<String> {
        if let Some(list) = &self.allowed_origins {
            return list.clone();
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let port = bound.port();
        vec![
            format!("{scheme}://127.0.0.1:{port}"),
            format!("{scheme}://localhost:{port}"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$2Wn3nBt6zTBlTN1QDUKnJKoRxiYSuvQKXVhIg8Fk2Xo";

    #[test]
    fn example_config_parses_and_validates_with_a_real_hash() {
        let text = include_str!("../relay.example.toml").replace("$argon2id$v=19$...", HASH);
        let config = Config::parse(&text).expect("example parses");
        config.validate().expect("example validates");
        assert_eq!(config.listen, default_listen());
        assert_eq!(config.users[0].role, Role::Operator);
        assert_eq!(config.poll.job(), Duration::from_secs(1));
        assert_eq!(config.limits.max_message_bytes, 65536);
        assert_eq!(config.history.keep(), Duration::from_secs(6 * 3600));
        assert_eq!(config.history.sample_every(), Duration::from_secs(30));
    }

    #[test]
    fn example_job_file_settings_parse_when_uncommented() {
        let text = include_str!("../relay.example.toml")
            .replace("$argon2id$v=19$...", HASH)
            .replace("# job_library", "job_library")
            .replace("# work_dir", "work_dir")
            .replace("# [limits]", "[limits]")
            .replace("# max_upload", "max_upload")
            .replace("# upload_ttl", "upload_ttl")
            .replace("# download_ttl", "download_ttl")
            .replace("# hub_idle", "hub_idle")
            .replace("# max_kiosk", "max_kiosk")
            .replace("# kiosk_tokens_file", "kiosk_tokens_file");
        let mut config = Config::parse(&text).expect("example parses");
        config.validate().expect("example validates");
        config.resolve_paths(Path::new("/etc/flare"));
        assert_eq!(
            config.job_library,
            Some(PathBuf::from("/etc/flare/../../jobs"))
        );
        assert_eq!(config.work_dir, Some(PathBuf::from("/etc/flare/work")));
        assert_eq!(
            config.kiosk_tokens_file,
            Some(PathBuf::from("/etc/flare/kiosk-tokens.json"))
        );
        assert_eq!(config.limits.max_kiosk_token_secs, 30 * 24 * 3600);
        assert_eq!(config.limits.hub_idle_secs, 300.0);
        let limits = &config.limits;
        assert_eq!(limits.max_upload_bytes, 256 * 1024 * 1024);
        assert_eq!(limits.max_upload_extracted_bytes, 1024 * 1024 * 1024);
        assert_eq!(limits.max_upload_entries, 10_000);
        assert_eq!(limits.upload_ttl_secs, Limits::default().upload_ttl_secs);

        let zero = Config::parse("[limits]\nmax_upload_entries = 0\n").expect("parses");
        let err = zero.validate().expect_err("zero entries");
        assert!(err.to_string().contains("max_upload_entries"), "{err}");
    }

    #[test]
    fn non_loopback_without_tls_is_refused() {
        let config = Config::parse("listen = \"0.0.0.0:8080\"").expect("parses");
        let err = config.validate().expect_err("must refuse");
        assert!(err.to_string().contains("without TLS"), "{err}");
    }

    #[test]
    fn default_origins_follow_the_bound_port() {
        let config = Config::default();
        let origins = config.origins_for("127.0.0.1:4567".parse().expect("addr"));
        assert_eq!(
            origins,
            ["http://127.0.0.1:4567", "http://localhost:4567"].map(String::from)
        );
    }

    #[test]
    fn unknown_fields_and_bad_hashes_are_refused() {
        assert!(Config::parse("listn = \"127.0.0.1:1\"").is_err());
        let config = Config::parse(
            "[[users]]\nname = \"a\"\npassword_hash = \"plain\"\nrole = \"viewer\"\nkit = \"k\"\n",
        )
        .expect("parses");
        let err = config.validate().expect_err("bad hash");
        assert!(err.to_string().contains("PHC"), "{err}");
    }

    #[test]
    fn hashes_below_owasps_minimum_are_refused_naming_the_user() {
        let user = |hash: &str| {
            format!(
                "[[users]]\nname = \"ann\"\npassword_hash = \"{hash}\"\nrole = \"viewer\"\nkit = \"k\"\n"
            )
        };
        let tail = "$c2FsdHNhbHRzYWx0$2Wn3nBt6zTBlTN1QDUKnJKoRxiYSuvQKXVhIg8Fk2Xo";
        for (params, ok) in [
            ("argon2id$v=19$m=19456,t=2,p=1", true),
            ("argon2id$v=19$m=47104,t=1,p=1", true),
            ("argon2id$v=19$m=7168,t=5,p=1", true),
            ("argon2id$v=19$m=65536,t=3,p=4", true),
            ("argon2id$v=19$m=256,t=1,p=1", false),
            ("argon2id$v=19$m=19455,t=2,p=1", false),
            ("argon2id$v=19$m=19456,t=1,p=1", false),
            ("argon2id$v=19$m=12288,t=2,p=1", false),
            ("argon2i$v=19$m=19456,t=2,p=1", false),
        ] {
            let config = Config::parse(&user(&format!("${params}{tail}"))).expect("parses");
            let result = config.validate();
            assert_eq!(result.is_ok(), ok, "{params}: {result:?}");
            if let Err(e) = result {
                let e = e.to_string();
                assert!(e.contains("user \"ann\": password_hash "), "{e}");
                assert!(e.contains("flare-relay hash-password"), "{e}");
            }
        }
        let weak = Config::parse(&user(&format!("$argon2id$v=19$m=256,t=1,p=1{tail}")))
            .expect("parses")
            .validate()
            .expect_err("weak");
        assert!(
            weak.to_string()
                .contains("is too weak (argon2id m=256 KiB, t=1, p=1): OWASP's minimum is m=19456 KiB, t=2, p=1"),
            "{weak}"
        );
    }

    #[test]
    fn relative_paths_resolve_against_the_config_folder() {
        let mut config = Config::parse(
            "console_dir = \"dist\"\n[[users]]\nname = \"a\"\npassword_hash = \"x\"\nrole = \"viewer\"\nkit = \"kits/a\"\n",
        )
        .expect("parses");
        config.resolve_paths(Path::new("/etc/flare"));
        assert_eq!(config.console_dir, PathBuf::from("/etc/flare/dist"));
        assert_eq!(config.users[0].kit, PathBuf::from("/etc/flare/kits/a"));
    }
}
