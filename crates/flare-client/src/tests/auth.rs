//! Signature, certificate and kit tests with a committed test PKI (`tests/golden/pki`, made once
//! with openssl; not a POC key).

use rsa::pkcs8::DecodePublicKey;
use rsa::{Pss, RsaPublicKey};
use rustls_pki_types::UnixTime;
use sha2::{Digest, Sha256};

use super::golden;
use crate::crypto::{cert_public_key, max_salt_len, pss_sign, pss_verify, verify_server_chain};
use crate::kit::{AdminKit, KitError, cert_cn, parse_certs, parse_key};

fn read(name: &str) -> Vec<u8> {
    std::fs::read(golden(&format!("pki/{name}"))).unwrap()
}

#[test]
fn pss_uses_the_maximum_salt_and_round_trips() {
    assert_eq!(max_salt_len(2048), 222);
    let (_, key) = parse_key(&read("client.key")).unwrap();
    let cert = parse_certs(&read("client.crt")).unwrap();
    let public = cert_public_key(&cert[0]).unwrap();
    let sig = pss_sign(&key, b"admin@test.orgnonce").unwrap();
    assert_eq!(sig.len(), 256);
    assert!(pss_verify(&public, b"admin@test.orgnonce", &sig));
    assert!(!pss_verify(&public, b"admin@test.orgnoncE", &sig));
    // The signature really carries a 222-byte salt: a verifier expecting salt 32 rejects it.
    let digest = Sha256::digest(b"admin@test.orgnonce");
    assert!(
        public
            .verify(Pss::new_with_salt::<Sha256>(222), &digest, &sig)
            .is_ok()
    );
    assert!(
        public
            .verify(Pss::new_with_salt::<Sha256>(32), &digest, &sig)
            .is_err()
    );
    // and a salt-32 signature (what ring would make) is not what FLARE verifies with salt 222
    let short = key
        .sign_with_rng(
            &mut rsa::rand_core::OsRng,
            Pss::new_with_salt::<Sha256>(32),
            &digest,
        )
        .unwrap();
    assert!(!pss_verify(&public, b"admin@test.orgnonce", &short));
    let _ = RsaPublicKey::from_public_key_der; // the SPKI path is the one cert_public_key uses
}

#[test]
fn server_chain_validates_to_its_root_only() {
    let server = parse_certs(&read("server.crt")).unwrap();
    let root = parse_certs(&read("rootCA.pem")).unwrap().remove(0);
    let other = parse_certs(&read("otherCA.pem")).unwrap().remove(0);
    assert_eq!(cert_cn(&server[0]).unwrap(), "server");
    verify_server_chain(&server[0], &[], &root, UnixTime::now()).unwrap();
    assert!(verify_server_chain(&server[0], &[], &other, UnixTime::now()).is_err());
    // the root itself is not a server end-entity
    assert!(verify_server_chain(&root, &[], &other, UnixTime::now()).is_err());
}

fn make_kit(key_file: &str, tweak: impl FnOnce(&mut serde_json::Value)) -> tempdir::Dir {
    let dir = tempdir::Dir::new();
    let startup = dir.path().join("startup");
    std::fs::create_dir_all(&startup).unwrap();
    let mut cfg = serde_json::json!({"format_version": 1, "admin": {
        "project_name": "p", "username": "", "server_identity": "server", "scheme": "http",
        "host": "localhost", "port": 8002, "connection_security": "mtls", "uid_source": "cert",
        "client_key": "client.key", "client_cert": "client.crt", "ca_cert": "rootCA.pem"}});
    tweak(&mut cfg);
    std::fs::write(startup.join("fed_admin.json"), cfg.to_string()).unwrap();
    std::fs::write(startup.join("client.key"), read(key_file)).unwrap();
    std::fs::write(startup.join("client.crt"), read("client.crt")).unwrap();
    std::fs::write(startup.join("rootCA.pem"), read("rootCA.pem")).unwrap();
    dir
}

/// A throwaway directory removed on drop.
mod tempdir {
    use std::path::{Path, PathBuf};

    pub(crate) struct Dir(PathBuf);

    impl Dir {
        pub(crate) fn new() -> Dir {
            let p =
                std::env::temp_dir().join(format!("flare-client-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn kits_load_with_pkcs1_and_pkcs8_keys() {
    for key in ["client.key", "client.pk8.key"] {
        let dir = make_kit(key, |_| {});
        let kit = AdminKit::load(dir.path()).unwrap();
        assert_eq!(kit.identity(), "admin@test.org");
        assert_eq!(kit.server_address(), "localhost:8002");
        assert_eq!(kit.project_name, "p");
    }
}

#[test]
fn kit_debug_never_shows_key_material() {
    let dir = make_kit("client.key", |_| {});
    let kit = AdminKit::load(dir.path()).unwrap();
    let dbg = format!("{kit:?}");
    assert!(dbg.contains("admin@test.org"));
    let key_pem = String::from_utf8(read("client.key")).unwrap();
    let key_line = key_pem.lines().nth(1).unwrap();
    for needle in ["PRIVATE", "signing_key", "tls_key", &key_line[..20]] {
        assert!(!dbg.contains(needle), "debug output leaks {needle}");
    }
}

#[test]
fn kit_errors_say_what_is_wrong_in_lowercase() {
    let missing = AdminKit::load("/nonexistent/kit").unwrap_err();
    assert!(matches!(missing, KitError::Io { .. }));
    assert!(
        missing
            .to_string()
            .starts_with("cannot read /nonexistent/kit/startup/fed_admin.json")
    );

    let dir = make_kit("client.key", |c| {
        c["admin"]["port"] = serde_json::json!("x")
    });
    let err = AdminKit::load(dir.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid fed_admin.json: admin.port must be a port number"
    );

    let dir = make_kit("client.key", |c| {
        c["admin"]["username"] = serde_json::json!("someone@else")
    });
    assert!(matches!(
        AdminKit::load(dir.path()).unwrap_err(),
        KitError::Config(_)
    ));

    let dir = make_kit("rootCA.pem", |_| {});
    let err = AdminKit::load(dir.path()).unwrap_err();
    assert!(matches!(err, KitError::Key { .. }), "{err}");
    let msg = err.to_string();
    assert_eq!(msg, msg.to_lowercase());
}

#[tokio::test]
async fn other_schemes_are_refused_clearly() {
    let dir = make_kit("client.key", |c| {
        c["admin"]["scheme"] = serde_json::json!("grpc")
    });
    let kit = AdminKit::load(dir.path()).unwrap();
    let err = crate::Session::login(&kit, "default").await.unwrap_err();
    assert_eq!(err.kind(), "unsupported");
    assert!(err.message().contains("\"grpc\""), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_is_no_connection_with_a_hint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let dir = make_kit("client.key", |c| {
        c["admin"]["port"] = serde_json::json!(port)
    });
    let kit = AdminKit::load(dir.path()).unwrap();
    let err = crate::Session::login(&kit, "default").await.unwrap_err();
    assert_eq!(err.kind(), "no_connection");
    assert!(
        err.message().contains(&format!("localhost:{port}")),
        "{err}"
    );
    assert!(err.message().contains("server is running"), "{err}");
}
