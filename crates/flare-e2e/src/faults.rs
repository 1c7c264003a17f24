//! Fault injection between the relay and NVFlare: a TCP proxy with switchable faults (delay,
//! refused connections, truncation mid-frame, reset, blackhole, stall after N bytes), an admin kit
//! pointed at it, and process faults (SIGKILL of NVFlare's server or a site, relay memory).

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Which way bytes flow through the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Relay → NVFlare (requests, uploads).
    Up,
    /// NVFlare → relay (replies, downloads).
    Down,
}

/// What the proxy does with the bytes and connections it sees from now on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forwards everything.
    Pass,
    /// Forwards every chunk after this latency, both ways.
    Delay(Duration),
    /// Resets every new connection at once (RST); live ones go on.
    Refuse,
    /// Forwards this many more bytes in `Dir` (over all connections), then cuts the connection
    /// that carried the last of them with a reset — mid-frame for any frame longer than that.
    Truncate(Dir, u64),
    /// Forwards this many more bytes in `Dir`, then nothing more that way (the other way flows
    /// on); connections stay open. To kill NVFlare with a request half-delivered or holding its
    /// answer.
    Stall(Dir, u64),
    /// Accepts and reads, never forwards nor answers; connections stay open.
    Blackhole,
}

struct Shared {
    upstream: SocketAddr,
    fault: Mutex<Fault>,
    /// Bytes left of a `Truncate` / `Stall`, set with the fault.
    budget: AtomicI64,
    /// Bumped by [`FaultProxy::reset_all`]: every live connection is cut with a reset.
    resets: watch::Sender<u64>,
    accepted: AtomicU64,
    up_bytes: AtomicU64,
    down_bytes: AtomicU64,
}

impl Shared {
    fn fault(&self) -> Fault {
        *self.fault.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A TCP proxy on `127.0.0.1:0` in front of one upstream address; stops on drop.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy forwarding to `upstream` (in [`Fault::Pass`]).
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fault proxy");
        let addr = listener.local_addr().expect("the fault proxy's address");
        let shared = Arc::new(Shared {
            upstream,
            fault: Mutex::new(Fault::Pass),
            budget: AtomicI64::new(0),
            resets: watch::Sender::new(0),
            accepted: AtomicU64::new(0),
            up_bytes: AtomicU64::new(0),
            down_bytes: AtomicU64::new(0),
        });
        let accepting = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                accepting.accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(pipe(client, accepting.clone()));
            }
        });
        FaultProxy { addr, shared, task }
    }

    /// Where to connect instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Switches to `fault` (a `Truncate` / `Stall` budget counts from now).
    pub fn set(&self, fault: Fault) {
        let budget = match fault {
            Fault::Truncate(_, n) | Fault::Stall(_, n) => i64::try_from(n).unwrap_or(i64::MAX),
            _ => 0,
        };
        let mut current = self
            .shared
            .fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.shared.budget.store(budget, Ordering::SeqCst);
        *current = fault;
    }

    /// Cuts every live connection with a reset (RST to both ends).
    pub fn reset_all(&self) {
        self.shared.resets.send_modify(|n| *n += 1);
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Bytes forwarded so far in `dir`.
    pub fn forwarded(&self, dir: Dir) -> u64 {
        match dir {
            Dir::Up => self.shared.up_bytes.load(Ordering::SeqCst),
            Dir::Down => self.shared.down_bytes.load(Ordering::SeqCst),
        }
    }

    /// True once a `Truncate` / `Stall` used up its bytes.
    pub fn budget_spent(&self) -> bool {
        self.shared.budget.load(Ordering::SeqCst) <= 0
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.shared.resets.send_modify(|n| *n += 1);
    }
}

/// What to do with one chunk.
enum Verdict {
    Forward(usize),
    /// Forward this many bytes, then cut the connection.
    ForwardAndCut(usize),
    Discard,
}

/// Takes up to `len` bytes of the budget; returns how many were granted.
fn take_budget(shared: &Shared, len: usize) -> usize {
    let want = i64::try_from(len).unwrap_or(i64::MAX);
    let mut granted = 0;
    let _ = shared
        .budget
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            granted = left.clamp(0, want);
            Some(left - granted)
        });
    usize::try_from(granted).unwrap_or(0)
}

fn verdict(shared: &Shared, dir: Dir, len: usize) -> Verdict {
    match shared.fault() {
        Fault::Pass | Fault::Refuse | Fault::Delay(_) => Verdict::Forward(len),
        Fault::Blackhole => Verdict::Discard,
        Fault::Truncate(d, _) | Fault::Stall(d, _) if d != dir => Verdict::Forward(len),
        Fault::Truncate(..) => {
            let n = take_budget(shared, len);
            if n < len {
                Verdict::ForwardAndCut(n)
            } else {
                Verdict::Forward(n)
            }
        }
        Fault::Stall(..) => match take_budget(shared, len) {
            0 => Verdict::Discard,
            n => Verdict::Forward(n),
        },
    }
}

/// One proxied connection. Every socket is set to linger 0, so that any close is a reset.
async fn pipe(mut client: TcpStream, shared: Arc<Shared>) {
    let _ = client.set_zero_linger();
    let mut resets = shared.resets.subscribe();
    resets.mark_unchanged();
    let mut server = match shared.fault() {
        Fault::Refuse => return,
        Fault::Blackhole => None,
        _ => match TcpStream::connect(shared.upstream).await {
            Ok(server) => {
                let _ = server.set_zero_linger();
                Some(server)
            }
            Err(_) => return,
        },
    };
    let mut up = vec![0u8; 16 * 1024];
    let mut down = vec![0u8; 16 * 1024];
    loop {
        let (dir, n) = tokio::select! {
            read = client.read(&mut up) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => (Dir::Up, n),
            },
            read = async {
                match server.as_mut() {
                    Some(s) => s.read(&mut down).await,
                    None => std::future::pending().await,
                }
            } => match read {
                // NVFlare went away: the relay sees a reset, as from a killed server.
                Ok(0) | Err(_) => return,
                Ok(n) => (Dir::Down, n),
            },
            _ = resets.changed() => return,
        };
        if let Fault::Delay(latency) = shared.fault() {
            tokio::time::sleep(latency).await;
        }
        let (bytes, cut) = match verdict(&shared, dir, n) {
            Verdict::Discard => continue,
            Verdict::Forward(k) => (k, false),
            Verdict::ForwardAndCut(k) => (k, true),
        };
        let (data, to, counter) = match dir {
            Dir::Up => (&up[..bytes], server.as_mut(), &shared.up_bytes),
            Dir::Down => (&down[..bytes], Some(&mut client), &shared.down_bytes),
        };
        if let Some(to) = to
            && to.write_all(data).await.is_err()
        {
            return;
        }
        counter.fetch_add(bytes as u64, Ordering::SeqCst);
        if cut {
            return;
        }
    }
}

/// Copies the admin kit folder `kit` (the one holding `startup/`) into `dest`, with the server
/// address in `startup/fed_admin.json` changed to `addr`. The copy keeps the kit's certificates,
/// and the client checks the server's chain against the project root only (not its host name,
/// like nvflare's own client), so the POC server's certificate still passes through the proxy.
pub fn kit_via(kit: &Path, dest: &Path, addr: SocketAddr) -> PathBuf {
    copy_dir(kit, dest);
    let cfg_path = dest.join("startup/fed_admin.json");
    let mut cfg: Value = serde_json::from_slice(&fs::read(&cfg_path).expect("read fed_admin.json"))
        .expect("fed_admin.json is json");
    cfg["admin"]["host"] = Value::from(addr.ip().to_string());
    cfg["admin"]["port"] = Value::from(addr.port());
    fs::write(&cfg_path, serde_json::to_vec_pretty(&cfg).expect("json"))
        .expect("write fed_admin.json");
    dest.to_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create the kit copy");
    for entry in fs::read_dir(from).expect("read the kit").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy a kit file");
        }
    }
}

/// Resident memory of process `pid` in KiB (`VmRSS` in /proc/<pid>/status).
pub fn rss_kib(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc status")
}

/// The folders named `<prefix>*` in `dir` (none when it does not exist).
pub fn folders_named(dir: &Path, prefix: &str) -> Vec<String> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream that answers every chunk with the same bytes, and the proxy in front of it.
    async fn echo_behind_proxy() -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    while let Ok(n @ 1..) = socket.read(&mut buf).await {
                        if socket.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        FaultProxy::start(addr).await
    }

    /// Sends `data` and reads what comes back within `limit`: the bytes, and whether the
    /// connection ended (EOF or reset).
    async fn round_trip(stream: &mut TcpStream, data: &[u8], limit: Duration) -> (Vec<u8>, bool) {
        stream.write_all(data).await.expect("write");
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let end = tokio::time::Instant::now() + limit;
        while got.len() < data.len() {
            match tokio::time::timeout_at(end, stream.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => return (got, true),
                Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                Err(_) => return (got, false),
            }
        }
        (got, false)
    }

    const QUIET: Duration = Duration::from_millis(300);

    #[tokio::test]
    async fn each_fault_does_what_it_says() {
        let proxy = echo_behind_proxy().await;
        let mut live = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert_eq!(
            round_trip(&mut live, b"hello", QUIET).await,
            (b"hello".to_vec(), false)
        );

        proxy.set(Fault::Delay(Duration::from_millis(150)));
        let start = tokio::time::Instant::now();
        assert_eq!(
            round_trip(&mut live, b"slow", Duration::from_secs(5)).await,
            (b"slow".to_vec(), false)
        );
        assert!(
            start.elapsed() >= Duration::from_millis(300),
            "one delay each way"
        );

        proxy.set(Fault::Blackhole);
        assert_eq!(
            round_trip(&mut live, b"void", QUIET).await,
            (Vec::new(), false)
        );

        proxy.set(Fault::Refuse);
        let mut refused = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert!(
            round_trip(&mut refused, b"x", Duration::from_secs(5))
                .await
                .1
        );

        proxy.set(Fault::Pass);
        let mut cut = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert_eq!(
            round_trip(&mut cut, b"ok", QUIET).await,
            (b"ok".to_vec(), false)
        );
        proxy.set(Fault::Truncate(Dir::Down, 3));
        let (got, ended) = round_trip(&mut cut, b"truncated", Duration::from_secs(5)).await;
        assert_eq!((got.as_slice(), ended), (&b"tru"[..], true));

        proxy.set(Fault::Pass);
        let mut held = TcpStream::connect(proxy.addr()).await.expect("connect");
        proxy.set(Fault::Stall(Dir::Up, 4));
        assert_eq!(
            round_trip(&mut held, b"stalled", QUIET).await,
            (b"stal".to_vec(), false)
        );
        assert!(proxy.budget_spent());

        proxy.set(Fault::Pass);
        let before = proxy.accepted();
        let mut reset = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert_eq!(
            round_trip(&mut reset, b"a", QUIET).await,
            (b"a".to_vec(), false)
        );
        assert_eq!(proxy.accepted(), before + 1);
        proxy.reset_all();
        let mut buf = [0u8; 8];
        let read = tokio::time::timeout(Duration::from_secs(5), reset.read(&mut buf))
            .await
            .expect("the reset arrives");
        assert!(
            matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
            "a reset, not a clean close: {read:?}"
        );
    }
}
