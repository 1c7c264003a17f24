//! `POST /api/upload`: zips and multipart folders are unpacked into one job folder; every unsafe or
//! oversized upload is refused with a message naming what is wrong, and nothing is written outside
//! the upload's own temporary folder (which is gone after a refusal).

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use super::support::{OPERATOR, TestRelay, VIEWER, job_zip, zip_of};

/// Asserts a 400 whose message contains `want`, and that the refused upload left nothing behind.
async fn refused(relay: &TestRelay, cookie: &str, zip: Vec<u8>, want: &str) {
    let (status, body) = relay
        .upload(Some(cookie), "/api/upload", "application/zip", zip)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"].as_str().expect("error message");
    assert!(message.contains(want), "want {want:?} in {message:?}");
    assert_eq!(
        relay.work_entries(),
        Vec::<String>::new(),
        "a refused upload leaves nothing in the work folder"
    );
}

/// `form` with one `file` part per `(file name, content)`, as a browser sends a dropped folder.
fn with_files(form: Form, files: Vec<(&'static str, Vec<u8>)>) -> Form {
    files.into_iter().fold(form, |form, (name, content)| {
        form.part("file", Part::bytes(content).file_name(name))
    })
}

/// `POST /api/upload` of a job zip as `cookie`'s login from `origin` (none when `None`); the status.
async fn post_zip_from(relay: &TestRelay, origin: Option<&str>, cookie: &str) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(relay.url("/api/upload"))
        .header("cookie", cookie)
        .header("content-type", "application/zip")
        .body(job_zip());
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.expect("upload").status()
}

#[tokio::test]
async fn a_zip_with_one_job_folder_is_accepted() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let (status, body) = relay
        .upload(Some(&cookie), "/api/upload", "application/zip", job_zip())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["upload_id"].as_str().expect("upload_id");
    assert_eq!(id.len(), 32, "128 random bits in hex: {id}");
    assert_eq!(body["folder_name"], "hello-numpy");
    assert_eq!(body["files"], 2);
    assert_eq!(body["bytes"], 23 + 21);
    // The job sits in its own temporary folder under the work folder.
    let entries = relay.work_entries();
    assert!(
        entries
            .iter()
            .any(|e| e.ends_with("job/hello-numpy/app/config/config_fed_server.json")),
        "{entries:?}"
    );
    assert!(
        !entries.iter().any(|e| e.ends_with("body")),
        "the raw body is deleted: {entries:?}"
    );
    let audit = relay.audit_lines();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["command"], "upload_job");
    assert_eq!(audit[0]["user"], OPERATOR);
    assert_eq!(audit[0]["outcome"], "ok");
}

#[tokio::test]
async fn files_at_the_zip_root_take_the_sanitized_upload_name() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let zip = zip_of(&[("meta.json", b"{}"), ("app/config/x.json", b"{}")]);
    let (status, body) = relay
        .upload(
            Some(&cookie),
            "/api/upload?name=My%20Job%20(2).zip",
            "application/zip",
            zip,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["folder_name"], "My_Job__2_");
    assert_eq!(body["files"], 2);
}

#[tokio::test]
async fn a_multipart_folder_drop_is_accepted() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let form = with_files(
        Form::new(),
        vec![
            (
                "hello-numpy/meta.json",
                br#"{"name": "hello-numpy"}"#.to_vec(),
            ),
            (
                "hello-numpy/app/config/config_fed_server.json",
                br#"{"format_version": 2}"#.to_vec(),
            ),
            ("hello-numpy/.DS_Store", b"junk".to_vec()),
        ],
    );
    let (status, body) = relay.upload_form(&cookie, form).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["folder_name"], "hello-numpy");
    assert_eq!(body["files"], 2, "the .DS_Store is skipped: {body}");
    assert_eq!(body["bytes"], 23 + 21);
}

#[tokio::test]
async fn multipart_files_at_the_root_take_the_name_field() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let form = with_files(
        Form::new().text("name", "dropped job"),
        vec![("meta.json", b"{}".to_vec())],
    );
    let (status, body) = relay.upload_form(&cookie, form).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["folder_name"], "dropped_job");
}

#[tokio::test]
async fn path_escapes_are_refused_and_write_nothing_outside() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    for (name, want) in [
        ("../evil", "entry \"../evil\" has a '..' component"),
        (
            "job/../../evil",
            "entry \"job/../../evil\" has a '..' component",
        ),
        ("/tmp/evil", "entry \"/tmp/evil\" is an absolute path"),
        ("job\\..\\evil", "contains a backslash"),
        ("C:/evil", "entry \"C:/evil\" starts with a drive letter"),
    ] {
        // The bad entry comes after a good one, so a careless extractor would already be writing.
        let zip = zip_of(&[("job/meta.json", b"{}"), (name, b"pwned")]);
        refused(&relay, &cookie, zip, want).await;
    }
    let parent = relay.dir.path();
    assert!(!parent.join("evil").exists());
    assert!(!relay.work_dir().join("evil").exists());
    assert!(!std::path::Path::new("/tmp/evil").exists());
}

#[tokio::test]
async fn a_symlink_entry_is_refused() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("job/meta.json", options).expect("entry");
    zip.add_symlink("job/passwd", "/etc/passwd", options)
        .expect("symlink");
    let zip = zip.finish().expect("finish").into_inner();
    refused(
        &relay,
        &cookie,
        zip,
        "entry \"job/passwd\" is a symbolic link",
    )
    .await;
}

#[tokio::test]
async fn too_many_entries_are_refused() {
    let relay = TestRelay::start_with(|c| c.limits.max_upload_entries = 3).await;
    let cookie = relay.login(OPERATOR).await;
    let zip = zip_of(&[
        ("job/meta.json", b"{}"),
        ("job/a", b"a"),
        ("job/b", b"b"),
        ("job/c", b"c"),
    ]);
    refused(
        &relay,
        &cookie,
        zip,
        "too many entries: \"job/c\" is past the limit of 3",
    )
    .await;
}

#[tokio::test]
async fn a_declared_unpacked_size_over_the_cap_is_refused_before_writing() {
    let relay = TestRelay::start_with(|c| c.limits.max_upload_extracted_bytes = 1024 * 1024).await;
    let cookie = relay.login(OPERATOR).await;
    let zeros = vec![0u8; 2 * 1024 * 1024];
    let zip = zip_of(&[("job/meta.json", b"{}"), ("job/big.bin", &zeros)]);
    assert!(zip.len() < 64 * 1024, "zeros deflate well");
    refused(
        &relay,
        &cookie,
        zip,
        "the unpacked job is too big: entry \"job/big.bin\" takes it past the limit of 1048576 bytes",
    )
    .await;
}

/// Rewrites the uncompressed size of entry `name` in its local header and central directory record.
fn lie_about_size(zip: &mut [u8], name: &[u8], size: u32) {
    let found: Vec<usize> = zip
        .windows(name.len())
        .enumerate()
        .filter(|(_, w)| *w == name)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        found.len(),
        2,
        "the name is in the local and central headers"
    );
    let local = found[0] - 30;
    let central = found[1] - 46;
    assert_eq!(zip[local..local + 4], [0x50, 0x4b, 0x03, 0x04]);
    assert_eq!(zip[central..central + 4], [0x50, 0x4b, 0x01, 0x02]);
    zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
    zip[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
}

#[tokio::test]
async fn a_zip_bomb_that_lies_about_its_size_stops_at_the_cap() {
    let relay = TestRelay::start_with(|c| c.limits.max_upload_extracted_bytes = 1024 * 1024).await;
    let cookie = relay.login(OPERATOR).await;
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let mut zip = zip_of(&[("job/meta.json", b"{}"), ("job/bomb.bin", &zeros)]);
    lie_about_size(&mut zip, b"job/bomb.bin", 10);
    refused(
        &relay,
        &cookie,
        zip,
        "entry \"job/bomb.bin\" takes it past the limit of 1048576 bytes",
    )
    .await;
}

#[tokio::test]
async fn a_job_without_meta_is_refused() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    let zip = zip_of(&[("hello/app/config/config_fed_server.json", b"{}")]);
    refused(
        &relay,
        &cookie,
        zip,
        "no meta.json (or meta.conf / meta.yml) in hello/",
    )
    .await;
    refused(
        &relay,
        &cookie,
        b"not a zip at all".to_vec(),
        "the upload is not a readable zip archive",
    )
    .await;
    refused(&relay, &cookie, zip_of(&[]), "the upload holds no files").await;
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_with_413() {
    let relay = TestRelay::start_with(|c| c.limits.max_upload_bytes = 64 * 1024).await;
    let cookie = relay.login(OPERATOR).await;
    let want = "the upload is too big: the relay accepts at most 65536 bytes";

    // Once declared up front by Content-Length, once streamed without a length: counted while
    // saving.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![0u8; 16 * 1024])).collect();
    let stream = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    for upload in [reqwest::Body::from(vec![0u8; 200 * 1024]), stream] {
        let (status, body) = relay
            .upload(Some(&cookie), "/api/upload", "application/zip", upload)
            .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert!(
            body["error"].as_str().expect("error").contains(want),
            "{body}"
        );
    }
    assert_eq!(relay.work_entries(), Vec::<String>::new());
}

#[tokio::test]
async fn viewers_strangers_and_foreign_origins_cannot_upload() {
    let relay = TestRelay::start().await;
    let viewer = relay.login(VIEWER).await;
    let (status, body) = relay
        .upload(Some(&viewer), "/api/upload", "application/zip", job_zip())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error"],
        "viewers cannot upload jobs: log in as an operator to upload and submit"
    );
    let audit = relay.audit_lines();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(
        (
            &audit[0]["user"],
            &audit[0]["command"],
            &audit[0]["outcome"]
        ),
        (&VIEWER.into(), &"upload_job".into(), &"refused".into())
    );

    let (status, body) = relay
        .upload(None, "/api/upload", "application/zip", job_zip())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "not logged in");

    let operator = relay.login(OPERATOR).await;
    assert_eq!(
        post_zip_from(&relay, Some("http://evil.example"), &operator).await,
        StatusCode::FORBIDDEN
    );

    // Without any Origin the upload is refused too: it is required, as on /ws.
    assert_eq!(
        post_zip_from(&relay, None, &operator).await,
        StatusCode::FORBIDDEN
    );

    let (status, body) = relay
        .upload(Some(&operator), "/api/upload", "text/plain", "hello")
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .contains("send the job as application/zip"),
        "{body}"
    );
    assert_eq!(relay.work_entries(), Vec::<String>::new());
}

#[tokio::test]
async fn uploads_per_login_are_capped() {
    let relay = TestRelay::start_with(|c| c.limits.max_uploads_per_session = 1).await;
    let cookie = relay.login(OPERATOR).await;
    relay.upload_zip(&cookie, job_zip()).await;
    let (status, body) = relay
        .upload(Some(&cookie), "/api/upload", "application/zip", job_zip())
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Another login has its own allowance.
    let other = relay.login(OPERATOR).await;
    relay.upload_zip(&other, job_zip()).await;
}

#[tokio::test]
async fn uploads_are_not_held_to_the_small_api_body_limit() {
    let relay = TestRelay::start().await;
    let cookie = relay.login(OPERATOR).await;
    // 2 MiB that do not compress: far above the 16 KiB other API bodies may have.
    let mut noise = vec![0u8; 2 * 1024 * 1024];
    let mut x = 0x2545_f491_u32;
    for byte in &mut noise {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *byte = x as u8;
    }
    let zip = zip_of(&[("job/meta.json", b"{}"), ("job/weights.bin", &noise)]);
    assert!(zip.len() > 2 * 1024 * 1024);
    let (status, body) = relay
        .upload(Some(&cookie), "/api/upload", "application/zip", zip)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["bytes"], 2 + 2 * 1024 * 1024);

    let form = with_files(
        Form::new(),
        vec![
            ("job/meta.json", b"{}".to_vec()),
            ("job/weights.bin", noise),
        ],
    );
    let (status, body) = relay.upload_form(&cookie, form).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["bytes"], 2 + 2 * 1024 * 1024);
}
