//! The server's TLS identity: a local TLS listener serves a certificate of the test project
//! (`tests/golden/pki/project`, laid out like a POC's: the server's CN `server` with SAN
//! `localhost`, `site-1`'s, the admin's) and a kit of that project connects to it. Only the
//! server's certificate is accepted, whatever address the kit dials.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use flare_model::FlareError;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::kit::{AdminKit, ServerCertName};

fn pki(name: &str) -> PathBuf {
    super::golden(&format!("pki/project/{name}"))
}

/// A kit of the test project (admin `admin@nvidia.com`, `server_identity` `server`) dialing
/// `host:port`; `custom_root` adds `customRootCA.pem` (read in `tls` mode only).
fn kit(dir: &Path, host: &str, port: u16, security: &str, custom_root: bool) -> AdminKit {
    let startup = dir.join("startup");
    std::fs::create_dir_all(&startup).unwrap();
    for (from, to) in [
        ("admin.crt", "client.crt"),
        ("admin.key", "client.key"),
        ("rootCA.pem", "rootCA.pem"),
    ] {
        std::fs::copy(pki(from), startup.join(to)).unwrap();
    }
    if custom_root {
        std::fs::copy(pki("rootCA.pem"), startup.join("customRootCA.pem")).unwrap();
    }
    let cfg = serde_json::json!({"format_version": 1, "admin": {
        "project_name": "example_project", "username": "", "server_identity": "server",
        "scheme": "http", "host": host, "port": port, "connection_security": security,
        "uid_source": "cert", "client_key": "client.key", "client_cert": "client.crt",
        "ca_cert": "rootCA.pem"}});
    std::fs::write(startup.join("fed_admin.json"), cfg.to_string()).unwrap();
    AdminKit::load(dir).unwrap()
}

/// Serves `<name>.crt` / `<name>.key` for one TLS handshake on 127.0.0.1; the task ends with
/// the server side's outcome.
async fn serve(name: &str) -> (u16, JoinHandle<Result<(), String>>) {
    let chain = CertificateDer::pem_file_iter(pki(&format!("{name}.crt")))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki(&format!("{name}.key"))).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
        drop(tls);
        Ok(())
    });
    (port, task)
}

/// The client's TLS handshake with the kit's configuration, nothing above it.
async fn handshake(kit: &AdminKit) -> Result<(), String> {
    let config = crate::tls::client_config(kit).unwrap();
    let tcp = TcpStream::connect(kit.server_address()).await.unwrap();
    let name = ServerName::try_from(kit.host.clone()).unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn only_the_servers_certificate_is_accepted_whatever_address_is_dialed() {
    // (served certificate, host the kit dials, connection_security, customRootCA.pem, refusal)
    let rows: &[(&str, &str, &str, bool, Option<&str>)] = &[
        ("server", "127.0.0.1", "mtls", false, None),
        ("server", "localhost", "mtls", false, None),
        ("server", "127.0.0.1", "tls", false, None),
        (
            "site-1",
            "127.0.0.1",
            "mtls",
            false,
            Some("presented a certificate for site-1, not for server server"),
        ),
        (
            "site-1",
            "localhost",
            "tls",
            false,
            Some("presented a certificate for site-1, not for server server"),
        ),
        (
            "admin",
            "127.0.0.1",
            "mtls",
            false,
            Some("presented a certificate for admin@nvidia.com, not for server server"),
        ),
        // A customRootCA.pem certificate is not provisioned: it must name the dialed host.
        ("server", "localhost", "tls", true, None),
        (
            "server",
            "127.0.0.1",
            "tls",
            true,
            Some("presented a certificate that is not valid for host 127.0.0.1"),
        ),
        (
            "site-1",
            "localhost",
            "tls",
            true,
            Some("presented a certificate that is not valid for host localhost"),
        ),
    ];
    for (served, host, security, custom, refusal) in rows {
        let (port, server) = serve(served).await;
        let dir = tempfile::tempdir().unwrap();
        let kit = kit(dir.path(), host, port, security, *custom);
        let got = handshake(&kit).await;
        let row = format!("{served} at {host} ({security}, custom root {custom})");
        match refusal {
            None => {
                assert_eq!(got, Ok(()), "{row}");
                assert_eq!(server.await.unwrap(), Ok(()), "{row}");
            }
            Some(why) => {
                let err = got.expect_err(&row);
                assert!(
                    err.contains(&format!("the server at {host}:{port} {why}")),
                    "{row}: {err}"
                );
                assert!(
                    server.await.unwrap().is_err(),
                    "{row}: the server saw no refusal"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_site_posing_as_the_server_is_refused_with_a_clear_error() {
    let (port, _server) = serve("site-1").await;
    let dir = tempfile::tempdir().unwrap();
    let kit = kit(dir.path(), "127.0.0.1", port, "mtls", false);
    assert_eq!(
        kit.server_cert_name(),
        ServerCertName::Participant("server".to_owned())
    );
    let err = crate::transport::connect(&kit, "_admin_test", Duration::from_secs(10))
        .await
        .err()
        .expect("a site's certificate is refused");
    let FlareError::NoConnection { message } = err else {
        panic!("{err:?}");
    };
    assert!(
        message.contains(&format!(
            "the server at 127.0.0.1:{port} presented a certificate for site-1, not for server \
             server (server_identity in fed_admin.json)"
        )),
        "{message}"
    );
}
