//! Dev-only test support: starts a real NVFlare 2.9 POC (server + site-1 + site-2) from the
//! project venv, shares it among the tests of one test process, and stops it when that process
//! exits (a detached watchdog runs `nvflare poc stop` once the test process is gone).
//!
//! `FLARE_TEST_POC_DIR=<workspace>` attaches to an already running POC instead (e.g.
//! `/tmp/poc-dev`); `FLARE_TEST_POC_PORT` picks the port of a fresh one (default 18002).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Default port of a POC started for tests (the dev POC uses 8002).
pub const DEFAULT_PORT: u16 = 18002;
/// How long a fresh POC may take until both sites are connected.
const READY_DEADLINE: Duration = Duration::from_secs(240);
/// How long to wait for a previous test POC on the same port to go away.
const PORT_FREE_DEADLINE: Duration = Duration::from_secs(120);
const SITES: [&str; 2] = ["site-1", "site-2"];

/// A running POC.
#[derive(Debug)]
pub struct Poc {
    workspace: PathBuf,
    prod_dir: PathBuf,
    port: u16,
}

static SHARED: OnceLock<Poc> = OnceLock::new();

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

fn nvflare_bin() -> PathBuf {
    repo_root().join(".tools/venv/bin/nvflare")
}

fn port_in_use(port: u16) -> bool {
    TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

/// Polls `cond` every `every` until it holds or `deadline` passes.
fn wait_until(deadline: Duration, every: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(every);
    }
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("flare-poc: cannot run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        panic!(
            "flare-poc: {what} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    stdout
}

/// `nvflare poc start --no-wait` for the POC in `workspace`. Its own readiness wait gives up
/// after 30 s, too soon on a loaded 2-core machine; the caller waits with [`Poc::wait_ready`]
/// instead. Output goes to `start.log` beside the workspace (a pipe would be held open by the
/// started processes).
fn start_system(workspace: &Path) {
    let log_path = workspace.with_file_name("start.log");
    let log = std::fs::File::create(&log_path)
        .unwrap_or_else(|e| panic!("flare-poc: cannot create {}: {e}", log_path.display()));
    let err = log
        .try_clone()
        .unwrap_or_else(|e| panic!("flare-poc: cannot clone the log handle: {e}"));
    let status = Command::new(nvflare_bin())
        .args(["poc", "start", "--no-wait"])
        .env("NVFLARE_POC_WORKSPACE", workspace)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .status()
        .unwrap_or_else(|e| panic!("flare-poc: cannot run nvflare poc start: {e}"));
    if !status.success() {
        let output = std::fs::read_to_string(&log_path).unwrap_or_default();
        panic!("flare-poc: nvflare poc start --no-wait failed ({status}):\n{output}");
    }
}

/// How many processes run from the POC in `workspace` (their command line names its kits).
fn processes_of(workspace: &Path) -> usize {
    let needle = format!("{}/example_project/", workspace.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|cmdline| String::from_utf8_lossy(cmdline).contains(&needle))
        .count()
}

/// The `<project>/prod_00` folder of a POC workspace.
fn find_prod_dir(workspace: &Path) -> Option<PathBuf> {
    std::fs::read_dir(workspace)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("prod_00"))
        .find(|p| p.is_dir())
}

fn kit_port(prod_dir: &Path) -> Option<u16> {
    let cfg = std::fs::read(prod_dir.join("admin@nvidia.com/startup/fed_admin.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&cfg).ok()?;
    v.pointer("/admin/port")?
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
}

impl Poc {
    /// The POC shared by every test of this process (started on first use).
    pub fn shared() -> &'static Poc {
        SHARED.get_or_init(|| match std::env::var_os("FLARE_TEST_POC_DIR") {
            Some(dir) if !dir.is_empty() => Poc::attach(PathBuf::from(dir)),
            _ => {
                let port = std::env::var("FLARE_TEST_POC_PORT")
                    .ok()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(DEFAULT_PORT);
                Poc::start(port)
            }
        })
    }

    fn attach(workspace: PathBuf) -> Poc {
        let prod_dir = find_prod_dir(&workspace)
            .unwrap_or_else(|| panic!("flare-poc: no */prod_00 in {}", workspace.display()));
        let port = kit_port(&prod_dir).unwrap_or_else(|| {
            panic!(
                "flare-poc: cannot read the admin port of {}",
                prod_dir.display()
            )
        });
        let poc = Poc {
            workspace,
            prod_dir,
            port,
        };
        poc.wait_ready();
        poc
    }

    fn start(port: u16) -> Poc {
        let root = std::env::temp_dir().join(format!("flare-poc-{port}-{}", std::process::id()));
        let workspace = root.join("poc");
        std::fs::create_dir_all(&root)
            .unwrap_or_else(|e| panic!("flare-poc: cannot create {}: {e}", root.display()));
        assert!(
            wait_until(PORT_FREE_DEADLINE, Duration::from_millis(500), || {
                !port_in_use(port)
            }),
            "flare-poc: port {port} is still in use (another POC?); set FLARE_TEST_POC_PORT"
        );
        Self::spawn_watchdog(&root, &workspace, port);

        let nvflare = nvflare_bin();
        run(
            Command::new(&nvflare)
                .args(["poc", "prepare", "-n", "2", "--force"])
                .env("NVFLARE_POC_WORKSPACE", &workspace),
            "nvflare poc prepare",
        );
        let project = std::fs::read_to_string(workspace.join("project.yml"))
            .unwrap_or_else(|e| panic!("flare-poc: no project.yml after prepare: {e}"));
        let patched: String = project
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("fed_learn_port:") {
                    let indent = &l[..l.len() - l.trim_start().len()];
                    format!("{indent}fed_learn_port: {port}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        assert!(
            patched.contains(&format!("fed_learn_port: {port}")),
            "flare-poc: project.yml has no fed_learn_port"
        );
        let project_copy = root.join("project.yml");
        std::fs::write(&project_copy, patched)
            .unwrap_or_else(|e| panic!("flare-poc: cannot write project.yml: {e}"));
        run(
            Command::new(&nvflare)
                .args(["poc", "prepare", "-n", "2", "--force", "-i"])
                .arg(&project_copy)
                .env("NVFLARE_POC_WORKSPACE", &workspace),
            "nvflare poc prepare -i",
        );
        start_system(&workspace);
        let prod_dir = find_prod_dir(&workspace)
            .unwrap_or_else(|| panic!("flare-poc: no */prod_00 in {}", workspace.display()));
        let poc = Poc {
            workspace,
            prod_dir,
            port,
        };
        assert_eq!(
            kit_port(&poc.prod_dir),
            Some(port),
            "flare-poc: the admin kit does not point at port {port}"
        );
        poc.wait_ready();
        poc
    }

    /// A detached shell that waits for this process to exit, then stops the POC, ends what `poc
    /// stop` leaves (a running job's processes, sites whose server never came up) and removes
    /// it. The `[e]` keeps pkill's pattern from matching this shell's own command line.
    fn spawn_watchdog(root: &Path, workspace: &Path, port: u16) {
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             NVFLARE_POC_WORKSPACE='{ws}' '{nv}' poc stop > '{root}/stop.log' 2>&1; \
             n=0; while [ $n -lt 60 ] && (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null; do sleep 1; n=$((n+1)); done; \
             pkill -f -- '{ws}/[e]xample_project/'; sleep 5; pkill -KILL -f -- '{ws}/[e]xample_project/'; \
             rm -rf '{root}'",
            pid = std::process::id(),
            ws = workspace.display(),
            nv = nvflare_bin().display(),
            root = root.display(),
        );
        // `setsid -f` forks the watchdog into its own session (so a Ctrl-C of the test run does
        // not kill it) and returns at once; without setsid, bash backgrounds it.
        let status = if Path::new("/usr/bin/setsid").exists() {
            Command::new("/usr/bin/setsid")
                .args(["-f", "bash", "-c", &script])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        } else {
            Command::new("bash")
                .args(["-c", &format!("( {script} ) >/dev/null 2>&1 </dev/null &")])
                .status()
        };
        match status {
            Ok(s) if s.success() => {}
            other => panic!("flare-poc: cannot start the watchdog: {other:?}"),
        }
    }

    fn wait_ready(&self) {
        let kit = self.admin_kit("admin@nvidia.com");
        let mut cmd = Command::new(Self::venv_python());
        cmd.arg(repo_root().join("crates/flare-poc/py/wait_ready.py"))
            .arg(&kit)
            .arg("admin@nvidia.com")
            .arg(READY_DEADLINE.as_secs().to_string())
            .args(SITES);
        run(&mut cmd, "wait_ready.py");
    }

    /// The POC workspace (`NVFLARE_POC_WORKSPACE`).
    pub fn workspace(&self) -> &Path {
        &self.workspace
    }

    /// The admin kit folder of `user`, e.g. `"admin@nvidia.com"` (the folder containing `startup/`).
    pub fn admin_kit(&self, user: &str) -> PathBuf {
        self.prod_dir.join(user)
    }

    /// The server's admin port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `<repo>/.tools/venv/bin/python`.
    pub fn venv_python() -> PathBuf {
        repo_root().join(".tools/venv/bin/python")
    }

    /// `<repo>/jobs/hello-numpy`.
    pub fn hello_numpy_dir() -> PathBuf {
        repo_root().join("jobs/hello-numpy")
    }

    /// Submits `jobs/hello-numpy` as `user` with NVFlare's own Python FLARE API; returns the job id.
    pub fn submit_hello_numpy(&self, user: &str, num_rounds: u32) -> String {
        self.submit_hello_numpy_with(user, "default", num_rounds, 0.0)
    }

    /// Like [`Poc::submit_hello_numpy`], into `study`, with `sleep_time` seconds per round per
    /// site (to keep a job running longer).
    pub fn submit_hello_numpy_with(
        &self,
        user: &str,
        study: &str,
        num_rounds: u32,
        sleep_time: f64,
    ) -> String {
        let mut cmd = Command::new(Self::venv_python());
        cmd.arg(repo_root().join("crates/flare-poc/py/submit_job.py"))
            .arg(self.admin_kit(user))
            .arg(user)
            .arg(Self::hello_numpy_dir())
            .args(["--study", study])
            .args(["--num-rounds", &num_rounds.to_string()])
            .args(["--sleep-time", &sleep_time.to_string()]);
        let out = run(&mut cmd, "submit_job.py");
        out.lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("flare-poc: submit_job.py printed no job id:\n{out}"))
    }
}

/// A POC of one test's own (to break it: stop and start it), on its own port; stopped on drop.
/// The shared POC is never stopped this way.
#[derive(Debug)]
pub struct PrivatePoc {
    poc: &'static Poc,
}

impl Poc {
    /// Starts a fresh POC on `port` for one test alone (the process-exit watchdog stops it too,
    /// should the handle never be dropped).
    pub fn start_private(port: u16) -> PrivatePoc {
        // Leaked on purpose: tests hand `&'static Poc` around; one small struct per private POC.
        PrivatePoc {
            poc: Box::leak(Box::new(Poc::start(port))),
        }
    }
}

impl PrivatePoc {
    /// The running POC.
    pub fn poc(&self) -> &'static Poc {
        self.poc
    }

    /// Stops the whole POC system (`nvflare poc stop`: server and sites) and waits until its
    /// port is closed.
    pub fn stop(&self) {
        run(
            Command::new(nvflare_bin())
                .args(["poc", "stop"])
                .env("NVFLARE_POC_WORKSPACE", &self.poc.workspace),
            "nvflare poc stop",
        );
        assert!(
            wait_until(PORT_FREE_DEADLINE, Duration::from_millis(500), || {
                !port_in_use(self.poc.port)
            }),
            "flare-poc: port {} still open after nvflare poc stop",
            self.poc.port
        );
        // Sites go on shutting down after the server's port closed; a start before they are
        // gone finds them "already running" and starts nothing in their place.
        let left = wait_until(PORT_FREE_DEADLINE, Duration::from_millis(500), || {
            processes_of(&self.poc.workspace) == 0
        });
        assert!(
            left,
            "flare-poc: processes of {} still running after nvflare poc stop",
            self.poc.workspace.display()
        );
    }

    /// Starts the POC system again and waits until both sites are connected.
    pub fn start(&self) {
        start_system(&self.poc.workspace);
        self.poc.wait_ready();
    }
}

impl PrivatePoc {
    /// The process id of `participant`'s NVFlare process (`server`, `site-1`, …), from the
    /// `pid.fl` its startup daemon writes, while that process runs.
    pub fn pid_of(&self, participant: &str) -> Option<u32> {
        let file = self.poc.prod_dir.join(participant).join("pid.fl");
        let pid: u32 = std::fs::read_to_string(file).ok()?.trim().parse().ok()?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
    }

    /// Kills `participant`'s NVFlare process with SIGKILL (no shutdown of any kind) and returns
    /// its pid. Its startup daemon (`sub_start.sh`) starts a new one within seconds, as it would
    /// in a deployment; [`PrivatePoc::wait_restarted`] waits for that.
    pub fn kill(&self, participant: &str) -> u32 {
        let pid = self
            .pid_of(participant)
            .unwrap_or_else(|| panic!("flare-poc: no running {participant} process"));
        run(
            Command::new("kill").args(["-KILL", &pid.to_string()]),
            "kill -KILL",
        );
        pid
    }

    /// Waits until `participant` runs again in a process other than `old`; returns its pid.
    pub fn wait_restarted(&self, participant: &str, old: u32) -> u32 {
        let mut new = None;
        let restarted = wait_until(PORT_FREE_DEADLINE, Duration::from_millis(250), || {
            new = self.pid_of(participant).filter(|&pid| pid != old);
            new.is_some()
        });
        assert!(restarted, "flare-poc: {participant} was not restarted");
        new.unwrap_or_default()
    }
}

impl Drop for PrivatePoc {
    fn drop(&mut self) {
        let _ = Command::new(nvflare_bin())
            .args(["poc", "stop"])
            .env("NVFLARE_POC_WORKSPACE", &self.poc.workspace)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
