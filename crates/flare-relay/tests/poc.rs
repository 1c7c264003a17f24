//! The relay against a real NVFlare 2.9 POC through `flare-client`: the dev POC named by
//! `FLARE_TEST_POC_DIR`, or one `flare-poc` starts for this test process.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use flare_model::{
    ClientBody, ClientFrame, Command, Event, FlareError, JobDetail, LinkState, ListJobsFilter,
    MutateCommand, ReadCommand, Reply, Role, ServerFrame, Topic, TopicData, TopicDelta,
};
use flare_poc::Poc;
use flare_relay::AppState;
use flare_relay::config::{Config, UserConfig};
use flare_relay::upstream::client::FlareClient;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const ADMIN: &str = "admin@nvidia.com";
const PASSWORD: &str = "poc password";

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn hash(password: &str) -> String {
    // OWASP's minimum: the relay refuses weaker hashes.
    let params = Params::new(19_456, 2, 1, None).expect("params");
    let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}

async fn start_relay(poc: &Poc) -> (SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config {
        console_dir: dir.path().to_owned(),
        work_dir: Some(dir.path().join("work")),
        ..Config::default()
    };
    config.poll.job_secs = 0.5;
    for (name, role) in [("operator", Role::Operator), ("viewer", Role::Viewer)] {
        config.users.push(UserConfig {
            name: name.into(),
            password_hash: hash(PASSWORD),
            role,
            kit: poc.admin_kit(ADMIN),
            study: "default".into(),
        });
    }
    config.validate().expect("config");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = AppState::new(&config, Arc::new(FlareClient::new()), addr).expect("state");
    tokio::spawn(flare_relay::serve(listener, state));
    (addr, dir)
}

async fn open(addr: SocketAddr, user: &str) -> Socket {
    let cookie = login(addr, user).await;
    connect(addr, &cookie).await
}

/// Logs in; returns the `flare_session=...` cookie pair.
async fn login(addr: SocketAddr, user: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/login"))
        .json(&serde_json::json!({"user": user, "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().expect("ascii");
    let cookie = cookie.split(';').next().expect("pair").to_owned();
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body["identity"], ADMIN,
        "the identity is the kit's certificate CN"
    );
    cookie
}

/// Opens `/ws` for a login.
async fn connect(addr: SocketAddr, cookie: &str) -> Socket {
    connect_to(addr, "/ws", cookie).await
}

/// Opens a WebSocket at `path` (e.g. `/ws?study=s`) for a login.
async fn connect_to(addr: SocketAddr, path: &str, cookie: &str) -> Socket {
    let mut request = format!("ws://{addr}{path}")
        .into_client_request()
        .expect("request");
    let headers = request.headers_mut();
    headers.insert("cookie", HeaderValue::from_str(cookie).expect("cookie"));
    let origin = format!("http://127.0.0.1:{}", addr.port());
    headers.insert("origin", HeaderValue::from_str(&origin).expect("origin"));
    tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket")
        .0
}

async fn next(socket: &mut Socket, deadline: tokio::time::Instant) -> ServerFrame {
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("the expected frame before the deadline")
            .expect("socket open")
            .expect("socket ok");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("server frame");
        }
    }
}

async fn send(socket: &mut Socket, id: u64, body: ClientBody) {
    let text = serde_json::to_string(&ClientFrame { id, body }).expect("json");
    socket.send(Message::Text(text.into())).await.expect("send");
}

async fn reply(socket: &mut Socket, id: u64) -> ServerFrame {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match next(socket, deadline).await {
            frame @ (ServerFrame::Ok { id: got, .. } | ServerFrame::Error { id: got, .. })
                if got == id =>
            {
                return frame;
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_drives_a_real_poc_through_flare_client() {
    let poc = tokio::task::spawn_blocking(Poc::shared).await.expect("poc");
    let (addr, _dir) = start_relay(poc).await;
    let mut operator = open(addr, "operator").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);

    let ServerFrame::Hello { hello } = next(&mut operator, deadline).await else {
        panic!("hello first");
    };
    assert_eq!(hello.identity, ADMIN);
    assert_eq!(hello.role, Role::Operator);
    loop {
        if let ServerFrame::Event {
            event: Event::Upstream(state),
        } = next(&mut operator, deadline).await
        {
            assert_ne!(state.state, LinkState::Down, "{state:?}");
            if state.state == LinkState::Connected {
                let version = state.server_version.expect("server version");
                assert!(version.starts_with("2.9"), "{version}");
                break;
            }
        }
    }

    // A live view: the system topic lists both POC sites.
    send(&mut operator, 1, ClientBody::Subscribe(Topic::System)).await;
    loop {
        if let ServerFrame::Event {
            event:
                Event::Snapshot {
                    data: TopicData::System(info),
                    ..
                },
        } = next(&mut operator, deadline).await
        {
            let mut sites: Vec<&str> = info.client_info.iter().map(|c| c.name.as_str()).collect();
            sites.sort();
            assert_eq!(sites, ["site-1", "site-2"]);
            break;
        }
    }

    // A command round trip.
    let list = Command::Read(ReadCommand::ListJobs(Default::default()));
    send(&mut operator, 2, ClientBody::Command(list)).await;
    assert!(matches!(
        reply(&mut operator, 2).await,
        ServerFrame::Ok {
            id: 2,
            ok: Reply::Jobs(_)
        }
    ));

    // A job submitted elsewhere shows up in the watched job's timeline until it finishes.
    let job_id = tokio::task::spawn_blocking(move || poc.submit_hello_numpy(ADMIN, 2))
        .await
        .expect("submit");
    send(
        &mut operator,
        3,
        ClientBody::Subscribe(Topic::Job {
            job_id: job_id.clone(),
        }),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    let timeline = loop {
        let detail = match next(&mut operator, deadline).await {
            ServerFrame::Event {
                event:
                    Event::Snapshot {
                        data: TopicData::Job(detail),
                        ..
                    }
                    | Event::Delta {
                        delta: TopicDelta::Job(detail),
                        ..
                    },
            } => detail,
            _ => continue,
        };
        assert_eq!(detail.meta.job_id, job_id);
        if detail.meta.status.starts_with("FINISHED") {
            break detail.timeline;
        }
    };
    let statuses: Vec<&str> = timeline.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(statuses.first(), Some(&"SUBMITTED"), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&"FINISHED:COMPLETED"), "{statuses:?}");

    // A viewer of the same identity cannot abort it; an operator's refusal comes from NVFlare.
    let mut viewer = open(addr, "viewer").await;
    let abort = Command::Mutate(MutateCommand::AbortJob {
        job_id: job_id.clone(),
    });
    send(&mut viewer, 1, ClientBody::Command(abort)).await;
    let ServerFrame::Error {
        error: FlareError::ReadOnlySession { message },
        ..
    } = reply(&mut viewer, 1).await
    else {
        panic!("viewer abort must be refused by the relay");
    };
    assert_eq!(
        message,
        "viewer sessions are read-only: abort_job was refused"
    );
}

async fn command(socket: &mut Socket, id: u64, command: impl Into<Command>) -> ServerFrame {
    send(socket, id, ClientBody::Command(command.into())).await;
    reply(socket, id).await
}

/// Uploads a zip over HTTP as a login; the status and JSON body.
async fn upload(addr: SocketAddr, cookie: &str, zip: Vec<u8>) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/upload?name=hello-numpy.zip"))
        .header("cookie", cookie)
        .header("origin", format!("http://127.0.0.1:{}", addr.port()))
        .header("content-type", "application/zip")
        .body(zip)
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_job_is_submitted_once_per_token_runs_and_downloads_as_one_zip() {
    let poc = tokio::task::spawn_blocking(Poc::shared).await.expect("poc");
    let (addr, dir) = start_relay(poc).await;
    let cookie = login(addr, "operator").await;

    // The repo's hello-numpy job, zipped as a browser would send it.
    let zip_path = dir.path().join("hello-numpy.zip");
    flare_relay::transfers::zip_folder(&Poc::hello_numpy_dir(), "hello-numpy", &zip_path)
        .expect("zip the job");
    let (status, body) = upload(addr, &cookie, std::fs::read(&zip_path).expect("zip")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["folder_name"], "hello-numpy");
    assert_eq!(body["files"], 3);
    let upload_id = body["upload_id"].as_str().expect("upload id").to_owned();

    // Submitting twice with one token makes one job.
    let token = format!(
        "relay-poc:{}",
        flare_relay::transfers::random_id().expect("id")
    );
    let mut socket = connect(addr, &cookie).await;
    let submit = MutateCommand::SubmitJob {
        upload_id: upload_id.clone(),
        submit_token: Some(token.clone()),
    };
    let ServerFrame::Ok {
        ok: Reply::JobId(job_id),
        ..
    } = command(&mut socket, 1, submit.clone()).await
    else {
        panic!("submit_job must answer a job id");
    };
    let ServerFrame::Ok {
        ok: Reply::JobId(again),
        ..
    } = command(&mut socket, 2, submit).await
    else {
        panic!("the retried submit_job must answer a job id");
    };
    assert_eq!(again, job_id, "the same token gives the same job");
    let by_token = ReadCommand::ListJobs(ListJobsFilter {
        submit_token: Some(token.clone()),
        ..ListJobsFilter::default()
    });
    let ServerFrame::Ok {
        ok: Reply::Jobs(jobs),
        ..
    } = command(&mut socket, 3, by_token).await
    else {
        panic!("list_jobs must answer jobs");
    };
    let ids: Vec<&str> = jobs.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(ids, [job_id.as_str()], "exactly one job for the token");

    // It runs to completion.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    let mut id = 10;
    loop {
        id += 1;
        let meta = ReadCommand::GetJobMeta {
            job_id: job_id.clone(),
        };
        let ServerFrame::Ok {
            ok: Reply::JobMeta(meta),
            ..
        } = command(&mut socket, id, meta).await
        else {
            panic!("get_job_meta must answer the meta");
        };
        if meta.status.starts_with("FINISHED") {
            assert_eq!(meta.status, "FINISHED:COMPLETED");
            assert_eq!(meta.name, "hello-numpy");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job did not finish: {}",
            meta.status
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Its result comes back through /api/download as one zip.
    let download = ReadCommand::DownloadJobResult {
        job_id: job_id.clone(),
    };
    let ServerFrame::Ok {
        ok:
            Reply::Download {
                download_id,
                file_name,
                size,
            },
        ..
    } = command(&mut socket, 100, download).await
    else {
        panic!("download_job_result must answer a download");
    };
    assert_eq!(file_name, format!("{job_id}.zip"));
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/api/download/{download_id}"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-length"],
        size.to_string().as_str()
    );
    let bytes = response.bytes().await.expect("body");
    assert_eq!(bytes.len() as u64, size);
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a readable zip");
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    let has = |suffix: &str| names.iter().any(|n| n == &format!("{job_id}/{suffix}"));
    assert!(has("meta.json"), "{names:?}");
    assert!(has("job/hello-numpy/meta.json"), "{names:?}");
    // NVFlare 2.9 keeps the server's run workspace with the job; site workspaces stay on the
    // sites (their logs come back only as components when the sites stream them).
    for entry in [
        "workspace/app_server/config/config_fed_server.json",
        "workspace/models/server.npy",
        "workspace/log.txt",
    ] {
        assert!(has(entry), "{entry} in {names:?}");
    }

    // An archive that tries to escape is refused and writes nothing outside its folder.
    let evil = dir.path().join("evil.zip");
    {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&evil).expect("create"));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("hello-numpy/meta.json", options)
            .expect("entry");
        zip.write_all(b"{}").expect("write");
        zip.start_file("../evil", options).expect("entry");
        zip.write_all(b"pwned").expect("write");
        zip.finish().expect("finish");
    }
    let (status, body) = upload(addr, &cookie, std::fs::read(&evil).expect("zip")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .contains("\"../evil\" has a '..' component"),
        "{body}"
    );
    let work = dir.path().join("work");
    assert!(!work.join("evil").exists() && !dir.path().join("evil").exists());
    let left: Vec<_> = std::fs::read_dir(&work)
        .expect("work folder")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        left.len(),
        2,
        "only the hello-numpy upload and the download remain: {left:?}"
    );
}

/// The job detail a snapshot or delta carries, and whether it came as a delta.
fn job_detail(frame: ServerFrame) -> Option<(JobDetail, bool)> {
    match frame {
        ServerFrame::Event {
            event:
                Event::Snapshot {
                    data: TopicData::Job(detail),
                    ..
                },
        } => Some((detail, false)),
        ServerFrame::Event {
            event:
                Event::Delta {
                    delta: TopicDelta::Job(detail),
                    ..
                },
        } => Some((detail, true)),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_running_job_shows_its_rounds_advance_until_an_operator_aborts_it() {
    let poc = tokio::task::spawn_blocking(Poc::shared).await.expect("poc");
    let (addr, _dir) = start_relay(poc).await;
    let job_id =
        tokio::task::spawn_blocking(move || poc.submit_hello_numpy_with(ADMIN, "default", 50, 0.5))
            .await
            .expect("submit");
    let mut operator = open(addr, "operator").await;
    let topic = Topic::Job {
        job_id: job_id.clone(),
    };
    send(&mut operator, 1, ClientBody::Subscribe(topic)).await;

    // Two deltas whose live server stats show ScatterAndGather at two different rounds.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    let mut rounds: Vec<u64> = Vec::new();
    while rounds.len() < 2 {
        let Some((detail, is_delta)) = job_detail(next(&mut operator, deadline).await) else {
            continue;
        };
        assert_eq!(detail.meta.job_id, job_id);
        assert!(
            !detail.meta.status.starts_with("FINISHED"),
            "the job ended before its rounds were seen advancing: {:?}",
            detail.meta.status
        );
        if detail.meta.status != "RUNNING" {
            assert_eq!(detail.live, None, "{}", detail.meta.status);
        }
        let Some(live) = detail.live.as_ref().filter(|_| is_delta) else {
            continue;
        };
        let current = &live.stats["server"]["ScatterAndGather"]["current_round"];
        if let Some(round) = current.as_u64()
            && rounds.last() != Some(&round)
        {
            assert_eq!(
                live.stats["server"]["ScatterAndGather"]["num_rounds"], 50,
                "{live:?}"
            );
            assert!(
                live.errors.values().all(serde_json::Value::is_object),
                "errors are component maps (\"No Error\" is an empty one): {live:?}"
            );
            rounds.push(round);
        }
    }
    assert!(rounds[1] > rounds[0], "rounds go forward: {rounds:?}");

    // An operator aborts it through the relay; the watched job ends with no live data.
    let abort = MutateCommand::AbortJob {
        job_id: job_id.clone(),
    };
    let reply = command(&mut operator, 2, abort).await;
    assert!(matches!(reply, ServerFrame::Ok { id: 2, .. }), "{reply:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let ended = loop {
        if let Some((detail, _)) = job_detail(next(&mut operator, deadline).await)
            && detail.meta.status.starts_with("FINISHED")
        {
            break detail;
        }
    };
    assert_eq!(ended.meta.status, "FINISHED:ABORTED");
    assert_eq!(ended.live, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_study_nvflare_refuses_leaves_the_socket_down_with_the_auth_code() {
    let poc = tokio::task::spawn_blocking(Poc::shared).await.expect("poc");
    let (addr, _dir) = start_relay(poc).await;
    let cookie = login(addr, "operator").await;
    let mut socket = connect_to(addr, "/ws?study=no-such-study-here", &cookie).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let ServerFrame::Hello { hello } = next(&mut socket, deadline).await else {
        panic!("hello first");
    };
    assert_eq!(hello.study, "no-such-study-here");
    let message = loop {
        if let ServerFrame::Event {
            event: Event::Upstream(state),
        } = next(&mut socket, deadline).await
        {
            assert_ne!(state.state, LinkState::Connected, "{state:?}");
            if state.state == LinkState::Down {
                break state.message.expect("a reason");
            }
        }
    };
    assert!(message.contains("AUTH_"), "{message}");
    send(
        &mut socket,
        1,
        ClientBody::Command(Command::Read(ReadCommand::GetSystemInfo)),
    )
    .await;
    let ServerFrame::Error {
        error: FlareError::AuthenticationError { auth_code, .. },
        ..
    } = reply(&mut socket, 1).await
    else {
        panic!("commands get the login refusal");
    };
    assert!(
        auth_code.as_deref().is_some_and(|c| c.starts_with("AUTH_")),
        "{auth_code:?}"
    );
}
