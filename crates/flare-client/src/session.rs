//! The admin session: connect, challenge, register, cert login, version check; HCI commands over
//! the shared connection; logout and bye on close.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine;
use flare_model::{Command, FlareError, Reply};
use rmpv::Value;
use serde_json::Map;

use crate::conn::{Conn, HCI_CHANNEL};
use crate::crypto::{cert_public_key, pss_sign, pss_verify, verify_server_chain};
use crate::fobs;
use crate::hci::{self, HciReply};
use crate::kit::{AdminKit, cert_cn, parse_certs};
use crate::sfm::{get, get_str};

/// Default per-command timeout, as `new_secure_session(timeout=10)`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The NVFlare minor version this client speaks.
pub const SUPPORTED_VERSION: &str = "2.9";
const NVFLARE_VERSION: &str = "2.9.0";
const CHALLENGE_TRIES: u32 = 5;

fn internal(message: impl Into<String>) -> FlareError {
    FlareError::InternalError {
        message: message.into(),
    }
}

fn auth_error(message: impl Into<String>) -> FlareError {
    FlareError::AuthenticationError {
        message: message.into(),
        auth_code: None,
    }
}

/// True when `version` is a 2.9.x release this client supports.
pub fn is_supported_version(version: &str) -> bool {
    let mut parts = version.trim().split('.');
    parts.next() == Some("2") && parts.next().is_some_and(|m| m == "9")
}

/// A logged-in admin session. Cheap to share (`Arc<Session>`); every method takes `&self`, and any
/// number of commands may run at once over the one connection.
pub struct Session {
    conn: Conn,
    identity: String,
    study: String,
    server_version: String,
    token: String,
    timeout: Mutex<Option<Duration>>,
    closing: AtomicBool,
    /// Signs submitted job folders (`.__nvfl_sig.json`), as Python's `push_folder` does.
    pub(crate) signer: crate::jobzip::Signer,
    pub(crate) upload_dir: std::path::PathBuf,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("identity", &self.identity)
            .field("study", &self.study)
            .field("server_version", &self.server_version)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connects to the kit's server and logs in to `study` (`"default"` for the default study).
    pub async fn login(kit: &AdminKit, study: &str) -> Result<Session, FlareError> {
        if kit.scheme != "http" {
            return Err(FlareError::Unsupported {
                message: format!(
                    "admin scheme {:?} is not supported by the native client yet: only \"http\" \
                     (websocket) kits are",
                    kit.scheme
                ),
            });
        }
        let me = format!("_admin_{}", uuid::Uuid::new_v4());
        let ws = crate::transport::connect(kit, &me, DEFAULT_TIMEOUT).await?;
        let conn = Conn::start(ws, me);
        match Self::authenticate(kit, study, conn).await {
            Ok(s) => Ok(s),
            Err((conn, e)) => {
                let _ = conn
                    .request_direct(
                        "cellnet.channel",
                        "bye",
                        Vec::new(),
                        None,
                        Duration::from_secs(2),
                    )
                    .await;
                conn.shutdown(e.clone());
                Err(e)
            }
        }
    }

    async fn authenticate(
        kit: &AdminKit,
        study: &str,
        conn: Conn,
    ) -> Result<Session, (Conn, FlareError)> {
        let proof = match challenge(kit, &conn).await {
            Ok(c) => c,
            Err(e) => return Err((conn, e)),
        };
        let version = match register(kit, &conn, &proof).await {
            Ok(v) => v,
            Err(e) => return Err((conn, e)),
        };
        if let Some(v) = &version
            && !is_supported_version(v)
        {
            return Err((conn, unsupported(v)));
        }
        let mut session = Session {
            conn,
            identity: kit.identity.clone(),
            study: study.to_owned(),
            server_version: version.clone().unwrap_or_default(),
            token: String::new(),
            timeout: Mutex::new(None),
            closing: AtomicBool::new(false),
            signer: crate::jobzip::Signer::new(kit.signing_key.clone(), kit.cert_pem.clone()),
            upload_dir: kit.upload_dir.clone(),
        };
        match session.cert_login(kit).await {
            Ok(token) => session.token = token,
            Err(e) => return Err((session.into_conn(), e)),
        }
        if version.is_none() {
            // Servers that do not announce their version at registration: ask, if permitted.
            match session
                .hci("report_version server", Map::new(), DEFAULT_TIMEOUT)
                .await
            {
                Ok(r) => {
                    if let Some(v) = r
                        .dict_data()
                        .pointer("/server/version")
                        .and_then(serde_json::Value::as_str)
                    {
                        session.server_version = v.to_owned();
                    }
                }
                Err(e) => tracing::debug!("cannot learn the server version: {e}"),
            }
            if session.server_version.is_empty() {
                session.server_version = "unknown".to_owned();
            } else if !is_supported_version(&session.server_version) {
                let e = unsupported(&session.server_version);
                session.close().await;
                return Err((session.into_conn(), e));
            }
        }
        Ok(session)
    }

    pub(crate) fn conn(&self) -> &Conn {
        &self.conn
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// Fails with `SessionClosed` once `close` ran.
    pub(crate) fn ensure_open(&self) -> Result<(), FlareError> {
        if self.closing.load(Ordering::Acquire) {
            return Err(FlareError::SessionClosed {
                message: "the admin session is closed".to_owned(),
            });
        }
        Ok(())
    }

    fn into_conn(self) -> Conn {
        self.conn
    }

    async fn cert_login(&self, kit: &AdminKit) -> Result<String, FlareError> {
        let signature = pss_sign(&kit.signing_key, kit.identity.as_bytes())
            .map_err(|e| internal(format!("cannot sign the login: {e}")))?;
        let headers = vec![
            ("user_name".to_owned(), Value::from(kit.identity.as_str())),
            ("cert".to_owned(), Value::Binary(kit.cert_pem.clone())),
            ("signature".to_owned(), Value::Binary(signature)),
            ("study".to_owned(), Value::from(self.study.as_str())),
        ];
        let command = hci::join_args(&["_cert_login", kit.identity.as_str()]);
        let doc = hci::request_document(&command, None, Map::new());
        let reply = self
            .send_document(&doc, headers, DEFAULT_TIMEOUT, "_cert_login")
            .await?;
        hci::login_result(&reply)
    }

    /// The admin identity (certificate CN).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The study this session is bound to.
    pub fn study(&self) -> &str {
        &self.study
    }

    /// The server's NVFlare version, e.g. `"2.9.0"` (`"unknown"` when the server did not say).
    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// True once the connection is gone, the server expired the session, or `close` ran.
    pub fn is_closed(&self) -> bool {
        self.conn.is_closed() || self.closing.load(Ordering::Acquire)
    }

    /// The per-command reply timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .unwrap_or(DEFAULT_TIMEOUT)
    }

    /// Sets the per-command timeout (also sent to the server as `cmd_timeout`); `None` restores
    /// the default of 10 s.
    pub fn set_timeout(&self, timeout: Option<Duration>) {
        *self
            .timeout
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = timeout;
    }

    pub(crate) fn explicit_timeout(&self) -> Option<Duration> {
        *self
            .timeout
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs one typed command.
    pub async fn execute(&self, command: &Command) -> Result<Reply, FlareError> {
        if self.closing.load(Ordering::Acquire) {
            return Err(FlareError::SessionClosed {
                message: "the admin session is closed".to_owned(),
            });
        }
        crate::commands::execute(self, command).await
    }

    /// Sends one HCI command line and returns its reply document, unchecked.
    pub(crate) async fn hci(
        &self,
        command: &str,
        mut meta: Map<String, serde_json::Value>,
        timeout: Duration,
    ) -> Result<HciReply, FlareError> {
        if let Some(t) = self.explicit_timeout() {
            meta.insert("cmd_timeout".to_owned(), serde_json::json!(t.as_secs_f64()));
        }
        let doc = hci::request_document(command, Some(&self.token), meta);
        let name = command.split_whitespace().next().unwrap_or(command);
        self.send_document(&doc, Vec::new(), timeout, name).await
    }

    /// `hci` with the session's timeout.
    pub(crate) async fn command(
        &self,
        command: &str,
        meta: Map<String, serde_json::Value>,
    ) -> Result<HciReply, FlareError> {
        self.hci(command, meta, self.timeout()).await
    }

    async fn send_document(
        &self,
        doc: &str,
        headers: Vec<(String, Value)>,
        timeout: Duration,
        what: &str,
    ) -> Result<HciReply, FlareError> {
        let body = fobs::encode(&Value::from(doc));
        let incoming = self
            .conn
            .request_stream(HCI_CHANNEL, "command", headers, body, timeout, what)
            .await?;
        let value = fobs::decode(&incoming.payload)
            .map_err(|e| internal(format!("cannot decode the reply to {what}: {e}")))?;
        let text = value
            .as_str()
            .ok_or_else(|| internal(format!("the reply to {what} is not a json document")))?;
        let json = serde_json::from_str(text)
            .map_err(|e| internal(format!("the reply to {what} is not valid json: {e}")))?;
        Ok(HciReply(json))
    }

    /// Logs out and says bye; idempotent. Pending commands fail with `SessionClosed`.
    pub async fn close(&self) {
        if self.closing.swap(true, Ordering::AcqRel) || self.conn.is_closed() {
            self.conn.shutdown(FlareError::SessionClosed {
                message: "the admin session is closed".to_owned(),
            });
            return;
        }
        let short = Duration::from_secs(3);
        if let Err(e) = self.hci("_logout", Map::new(), short).await {
            tracing::debug!("logout failed: {e}");
        }
        if let Err(e) = self
            .conn
            .request_direct("cellnet.channel", "bye", Vec::new(), None, short)
            .await
        {
            tracing::debug!("bye failed: {e}");
        }
        self.conn.shutdown(FlareError::SessionClosed {
            message: "the admin session is closed".to_owned(),
        });
    }
}

fn unsupported(version: &str) -> FlareError {
    FlareError::UnsupportedVersion {
        message: format!(
            "nvflare server {version} is not supported: this console speaks the {SUPPORTED_VERSION} \
             admin protocol"
        ),
        server_version: version.to_owned(),
    }
}

pub(crate) fn return_code_error(
    what: &str,
    incoming: &crate::conn::Incoming,
) -> Option<FlareError> {
    let rc = incoming.header_str("cn__return_code").unwrap_or("ok");
    if rc == "ok" {
        return None;
    }
    let detail = incoming.header_str("cn__error").unwrap_or_default();
    Some(match rc {
        "unauthenticated" | "authentication_error" => auth_error(format!(
            "the server refused the {what}: {}",
            if detail.is_empty() { rc } else { detail }
        )),
        _ => FlareError::NoConnection {
            message: format!("{what} failed: {rc} {detail}").trim().to_owned(),
        },
    })
}

/// Challenge: proves the server holds the key of a certificate issued by the project root.
async fn challenge(kit: &AdminKit, conn: &Conn) -> Result<ServerProof, FlareError> {
    let nonce = uuid::Uuid::new_v4().to_string();
    let mut tries = 0;
    let reply = loop {
        tries += 1;
        let headers = vec![
            ("cn".to_owned(), Value::from(kit.identity.as_str())),
            ("nonce".to_owned(), Value::from(nonce.as_str())),
        ];
        let r = conn
            .request_direct("task", "challenge", headers, None, DEFAULT_TIMEOUT)
            .await?;
        let rc = r.header_str("cn__return_code").unwrap_or("ok");
        if (rc == "comm_error" || rc == "target_unreachable") && tries < CHALLENGE_TRIES {
            // The server cell is not ready yet: try again shortly (bounded).
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if rc == "unauthenticated" {
            return Err(auth_error("the server is not in secure mode"));
        }
        if let Some(e) = return_code_error("challenge", &r) {
            return Err(e);
        }
        break r;
    };
    let body =
        fobs::decode(&reply.payload).map_err(|e| internal(format!("bad challenge reply: {e}")))?;
    let s = fobs::unwrap_shareable(&body)
        .ok_or_else(|| internal("challenge reply is not a shareable"))?;
    let server_cn = get_str(s, "cn").unwrap_or_default();
    let server_nonce = get_str(s, "nonce").unwrap_or_default();
    let signature = get(s, "signature")
        .and_then(Value::as_slice)
        .unwrap_or_default();
    let cert_pem = get(s, "cert").and_then(Value::as_slice).unwrap_or_default();
    if server_cn != kit.server_identity {
        return Err(auth_error(format!(
            "the server identifies as {server_cn:?}, expected {:?}",
            kit.server_identity
        )));
    }
    let certs =
        parse_certs(cert_pem).map_err(|e| auth_error(format!("bad server certificate: {e}")))?;
    let leaf = certs[0].clone();
    verify_server_chain(
        &leaf,
        &certs[1..],
        &kit.root,
        rustls_pki_types::UnixTime::now(),
    )
    .map_err(|e| {
        auth_error(format!(
            "the server certificate does not chain to the root ca: {e}"
        ))
    })?;
    let cert_name =
        cert_cn(&leaf).map_err(|e| auth_error(format!("bad server certificate: {e}")))?;
    if cert_name != server_cn {
        return Err(auth_error(format!(
            "the server certificate cn {cert_name:?} does not match {server_cn:?}"
        )));
    }
    let key = cert_public_key(&leaf).map_err(auth_error)?;
    if !pss_verify(&key, format!("{server_cn}{nonce}").as_bytes(), signature) {
        return Err(auth_error("the server's challenge signature is invalid"));
    }
    Ok(ServerProof {
        cert: leaf,
        nonce: server_nonce.to_owned(),
    })
}

/// What the challenge established: the server's certificate and its nonce for `register`.
struct ServerProof {
    cert: rustls_pki_types::CertificateDer<'static>,
    nonce: String,
}

/// Registration: installs the auth headers; returns the server's NVFlare version when announced.
async fn register(
    kit: &AdminKit,
    conn: &Conn,
    proof: &ServerProof,
) -> Result<Option<String>, FlareError> {
    let signature = pss_sign(
        &kit.signing_key,
        format!("{}{}", kit.identity, proof.nonce).as_bytes(),
    )
    .map_err(|e| internal(format!("cannot sign the registration: {e}")))?;
    let body = fobs::shareable(
        crate::sfm::map([(
            "__peer_ctx__",
            fobs::fl_context(&[("__identity_name__", kit.identity.as_str())]),
        )]),
        vec![
            ("cert", Value::Binary(kit.cert_pem.clone())),
            ("signature", Value::Binary(signature)),
            ("cn", Value::from(kit.identity.as_str())),
        ],
    );
    let headers = vec![
        ("client_name".to_owned(), Value::from(kit.identity.as_str())),
        ("client_type".to_owned(), Value::from("admin")),
        ("client_ip".to_owned(), Value::from("127.0.0.1")),
        (
            "project_name".to_owned(),
            Value::from(kit.project_name.as_str()),
        ),
        ("federation_protocol_version".to_owned(), Value::from(1)),
        ("nvflare_version".to_owned(), Value::from(NVFLARE_VERSION)),
    ];
    let r = conn
        .request_direct(
            "task",
            "register",
            headers,
            Some(("fobs", fobs::encode(&body))),
            DEFAULT_TIMEOUT,
        )
        .await?;
    if let Some(e) = return_code_error("registration", &r) {
        return Err(e);
    }
    let reply =
        fobs::decode(&r.payload).map_err(|e| internal(format!("bad register reply: {e}")))?;
    let m =
        fobs::unwrap_shareable(&reply).ok_or_else(|| internal("register reply is not a map"))?;
    let token = get_str(m, "__token__").unwrap_or_default();
    let token_sig = get_str(m, "__token_signature__").unwrap_or_default();
    if token.is_empty() || token_sig.is_empty() {
        return Err(auth_error("the server did not issue a registration token"));
    }
    match base64::engine::general_purpose::STANDARD.decode(token_sig) {
        Ok(sig) => {
            let key = cert_public_key(&proof.cert).map_err(auth_error)?;
            if !pss_verify(&key, format!("{}{token}", kit.identity).as_bytes(), &sig) {
                return Err(auth_error("the server's token signature is invalid"));
            }
        }
        Err(_) => return Err(auth_error("the server's token signature is not base64")),
    }
    let mut auth = vec![("client_name".to_owned(), Value::from(kit.identity.as_str()))];
    if let Some(ssid) = get_str(m, "ssid").filter(|s| !s.is_empty()) {
        auth.push(("ssid".to_owned(), Value::from(ssid)));
    }
    auth.push(("__token__".to_owned(), Value::from(token)));
    auth.push(("__token_signature__".to_owned(), Value::from(token_sig)));
    conn.set_auth_headers(auth);
    Ok(get_str(m, "nvflare_version").map(str::to_owned))
}
