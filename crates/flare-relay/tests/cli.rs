//! The binary's contract: `hash-password`, `--config` printing the listening line, and refusing
//! a non-loopback address without TLS.

use std::process::Stdio;
use std::time::Duration;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_flare-relay");

#[tokio::test]
async fn hash_password_prints_an_argon2id_phc_string_of_stdin() {
    let mut child = Command::new(BIN)
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"s3cret pass\n").await.expect("write");
    drop(stdin);
    let output = child.wait_with_output().await.expect("output");
    assert!(output.status.success());
    let hash = String::from_utf8(output.stdout).expect("utf8");
    let hash = hash.trim_end();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    let parsed = PasswordHash::new(hash).expect("phc");
    assert!(
        Argon2::default()
            .verify_password(b"s3cret pass", &parsed)
            .is_ok()
    );
    assert!(
        Argon2::default()
            .verify_password(b"s3cret pass\n", &parsed)
            .is_err()
    );
}

#[tokio::test]
async fn config_run_prints_the_listening_line_and_serves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\nconsole_dir = \"dist\"\n",
    )
    .expect("write");
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the listening line within 30 s")
        .expect("read")
        .expect("a line");
    let url = line
        .strip_prefix("flare-relay listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let session = reqwest::get(format!("{url}/api/session"))
        .await
        .expect("get");
    assert_eq!(session.status(), 401);
    child.kill().await.expect("kill");
}

#[tokio::test]
async fn a_public_address_without_tls_is_refused() {
    let output = Command::new(BIN)
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .await
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without TLS"), "{stderr}");
}
