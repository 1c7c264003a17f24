//! The relay against a real NVFlare 2.9 POC through `flare-client`: the dev POC named by
//! `FLARE_TEST_POC_DIR`, or one `flare-poc` starts for this test process.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use flare_model::{
    ClientBody, ClientFrame, Command, Event, FlareError, LinkState, MutateCommand, ReadCommand,
    Reply, Role, ServerFrame, Topic, TopicData, TopicDelta,
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
    let params = Params::new(256, 1, 1, None).expect("params");
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
    let mut request = format!("ws://{addr}/ws")
        .into_client_request()
        .expect("request");
    let headers = request.headers_mut();
    headers.insert("cookie", HeaderValue::from_str(&cookie).expect("cookie"));
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
