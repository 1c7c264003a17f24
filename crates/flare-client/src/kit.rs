//! Admin startup kit loading: `startup/fed_admin.json`, the client certificate and key, the root CA.

use std::fmt;
use std::path::{Path, PathBuf};

use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;

/// Why an admin startup kit could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid fed_admin.json: {0}")]
    Config(String),
    #[error("invalid certificate {path}: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("invalid private key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
}

/// How the admin connection is secured (`connection_security` in `fed_admin.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Security {
    Mtls,
    Tls,
    Clear,
}

/// The identity the server's TLS certificate must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ServerCertName {
    /// A certificate of the project's own root: the subject CN is the server's provisioned name
    /// (`admin.server_identity`, what provisioning writes as the server cert's CN), whatever
    /// address the kit dials (POC: `localhost`, CN `server`).
    Participant(String),
    /// A certificate of `customRootCA.pem` (one-way `tls`, e.g. a public certificate on a proxy):
    /// not provisioned by NVFlare, so it must be valid for the dialed host (its subjectAltName).
    Host(String),
}

/// A loaded admin startup kit. The private key stays inside: `Debug` never prints it.
pub struct AdminKit {
    pub(crate) dir: PathBuf,
    pub(crate) project_name: String,
    pub(crate) server_identity: String,
    pub(crate) scheme: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) security: Security,
    pub(crate) identity: String,
    /// The client certificate file as it is on disk (PEM, maybe a chain); sent at login.
    pub(crate) cert_pem: Vec<u8>,
    pub(crate) cert_chain: Vec<CertificateDer<'static>>,
    pub(crate) tls_key: PrivateKeyDer<'static>,
    pub(crate) signing_key: RsaPrivateKey,
    pub(crate) root: CertificateDer<'static>,
    /// Whether `root` is `customRootCA.pem` rather than the project root.
    pub(crate) custom_root: bool,
    /// `admin.upload_dir`, resolved against the kit folder (Python: `transfer`).
    pub(crate) upload_dir: PathBuf,
}

impl fmt::Debug for AdminKit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminKit")
            .field("dir", &self.dir)
            .field("identity", &self.identity)
            .field("project_name", &self.project_name)
            .field("server", &self.server_address())
            .field("scheme", &self.scheme)
            .field("security", &self.security)
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, KitError> {
    std::fs::read(path).map_err(|source| KitError::Io {
        path: path.to_owned(),
        source,
    })
}

fn str_field(admin: &Value, key: &str, default: Option<&str>) -> Result<String, KitError> {
    match admin.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => default
            .map(str::to_owned)
            .ok_or_else(|| KitError::Config(format!("missing admin.{key}"))),
        Some(other) => Err(KitError::Config(format!(
            "admin.{key} must be a string, got {other}"
        ))),
    }
}

/// The subject CN of a DER certificate.
pub(crate) fn cert_cn(der: &[u8]) -> Result<String, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| "certificate has no common name".to_owned())
}

/// Parses every certificate of a PEM file, leaf first.
pub(crate) fn parse_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no certificate in pem".to_owned());
    }
    Ok(certs)
}

/// Parses an RSA private key in PKCS#1 or PKCS#8 PEM.
pub(crate) fn parse_key(pem: &[u8]) -> Result<(PrivateKeyDer<'static>, RsaPrivateKey), String> {
    let der = PrivateKeyDer::from_pem_slice(pem).map_err(|e| e.to_string())?;
    let rsa = match &der {
        PrivateKeyDer::Pkcs1(k) => RsaPrivateKey::from_pkcs1_der(k.secret_pkcs1_der())
            .map_err(|e| format!("bad pkcs#1 rsa key: {e}"))?,
        PrivateKeyDer::Pkcs8(k) => RsaPrivateKey::from_pkcs8_der(k.secret_pkcs8_der())
            .map_err(|e| format!("bad pkcs#8 rsa key: {e}"))?,
        _ => return Err("only rsa keys (pkcs#1 or pkcs#8) are supported".to_owned()),
    };
    Ok((der, rsa))
}

impl AdminKit {
    /// Loads the kit in `kit_dir`, the folder that contains `startup/`.
    pub fn load(kit_dir: impl AsRef<Path>) -> Result<AdminKit, KitError> {
        let dir = kit_dir.as_ref().to_owned();
        let startup = dir.join("startup");
        let cfg_path = startup.join("fed_admin.json");
        let cfg: Value = serde_json::from_slice(&read(&cfg_path)?)
            .map_err(|e| KitError::Config(e.to_string().to_lowercase()))?;
        let admin = cfg
            .get("admin")
            .ok_or_else(|| KitError::Config("missing admin section".to_owned()))?;
        let host = str_field(admin, "host", None)?;
        let port = admin
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| KitError::Config("admin.port must be a port number".to_owned()))?;
        let scheme = str_field(admin, "scheme", Some("grpc"))?;
        let security = match str_field(admin, "connection_security", Some("mtls"))?.as_str() {
            "mtls" => Security::Mtls,
            "tls" => Security::Tls,
            "clear" => Security::Clear,
            other => {
                return Err(KitError::Config(format!(
                    "unknown connection_security {other:?}"
                )));
            }
        };
        let project_name = str_field(admin, "project_name", Some(""))?;
        let upload_dir = dir.join(str_field(admin, "upload_dir", Some("transfer"))?);
        let server_identity = str_field(admin, "server_identity", Some("server"))?;
        let cert_path = startup.join(str_field(admin, "client_cert", Some("client.crt"))?);
        let key_path = startup.join(str_field(admin, "client_key", Some("client.key"))?);
        let mut ca_path = startup.join(str_field(admin, "ca_cert", Some("rootCA.pem"))?);
        let mut custom_root = false;
        if security == Security::Tls {
            let custom = startup.join("customRootCA.pem");
            if custom.exists() {
                ca_path = custom;
                custom_root = true;
            }
        }

        let cert_pem = read(&cert_path)?;
        let cert_chain = parse_certs(&cert_pem).map_err(|reason| KitError::Certificate {
            path: cert_path.clone(),
            reason,
        })?;
        let identity = cert_cn(&cert_chain[0]).map_err(|reason| KitError::Certificate {
            path: cert_path.clone(),
            reason,
        })?;
        let username = str_field(admin, "username", Some(""))?;
        if !username.is_empty() && username != identity {
            return Err(KitError::Config(format!(
                "username {username:?} does not match the certificate cn {identity:?}"
            )));
        }
        let (tls_key, signing_key) =
            parse_key(&read(&key_path)?).map_err(|reason| KitError::Key {
                path: key_path.clone(),
                reason,
            })?;
        let root = parse_certs(&read(&ca_path)?)
            .map_err(|reason| KitError::Certificate {
                path: ca_path.clone(),
                reason,
            })?
            .remove(0);

        Ok(AdminKit {
            dir,
            project_name,
            server_identity,
            scheme,
            host,
            port,
            security,
            identity,
            cert_pem,
            cert_chain,
            tls_key,
            signing_key,
            root,
            custom_root,
            upload_dir,
        })
    }

    /// The admin identity: the client certificate's CN.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The kit's upload folder (`admin.upload_dir`, relative to the kit folder): where
    /// `get_available_apps_to_upload` looks and where bare job names are resolved.
    pub fn upload_dir(&self) -> &Path {
        &self.upload_dir
    }

    /// The identity the server's TLS certificate must carry: the provisioned server name for the
    /// project root, the dialed host for a custom root.
    pub(crate) fn server_cert_name(&self) -> ServerCertName {
        if self.custom_root {
            ServerCertName::Host(self.host.clone())
        } else {
            ServerCertName::Participant(self.server_identity.clone())
        }
    }

    /// `"host:port"` of the server's admin listener.
    pub fn server_address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}
