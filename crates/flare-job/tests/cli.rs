//! The `flare-job` binary: exports a pattern job from a JSON file, and runs a small numpy FedAvg
//! job in nvflare's simulator with the project venv's nvflare.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flare-job"))
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: PathBuf) -> Value {
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn export_writes_the_pattern_job_folder_and_zip() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("train.py"), "print('train')\n").expect("script");
    let job = json!({
        "pattern": "fedavg",
        "name": "cli-fedavg",
        "min_clients": 2,
        "num_rounds": 3,
        "model": [[1.0, 2.0]],
        "train_script": "train.py",
    });
    let job_file = dir.path().join("job.json");
    std::fs::write(&job_file, job.to_string()).expect("job file");
    let out = dir.path().join("out");
    let zip = dir.path().join("job.zip");
    let status = bin()
        .arg("export")
        .arg(&job_file)
        .arg("--out")
        .arg(&out)
        .arg("--zip")
        .arg(&zip)
        .status();
    assert!(status.expect("run flare-job").success());

    let root = out.join("cli-fedavg");
    let meta = read_json(root.join("meta.json"));
    assert_eq!(
        meta,
        json!({"name": "cli-fedavg", "resource_spec": {}, "min_clients": 2, "deploy_map": {"app": ["@ALL"]}})
    );
    let server = read_json(root.join("app/config/config_fed_server.json"));
    assert_eq!(server["format_version"], 2);
    assert_eq!(
        server["workflows"][0]["path"],
        "nvflare.app_common.workflows.fedavg.FedAvg"
    );
    assert_eq!(
        server["workflows"][0]["args"],
        json!({"aggregation_weights": {}, "num_clients": 2, "num_rounds": 3})
    );
    let ids: Vec<&str> = server["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| c["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        ids,
        [
            "json_generator",
            "model_selector",
            "metrics_artifact_writer",
            "persistor"
        ]
    );
    let client = read_json(root.join("app/config/config_fed_client.json"));
    assert_eq!(
        client["executors"][0]["executor"]["args"]["params_exchange_format"],
        "numpy"
    );
    assert_eq!(client["components"][0]["id"], "event_to_fed");
    assert_eq!(
        std::fs::read_to_string(root.join("app/custom/train.py")).expect("custom script"),
        "print('train')\n"
    );

    let bytes = std::fs::read(&zip).expect("zip");
    assert_eq!(&bytes[..2], b"PK", "a zip file");
    let names = String::from_utf8_lossy(&bytes);
    for entry in [
        "cli-fedavg/meta.json",
        "cli-fedavg/app/config/config_fed_server.json",
        "cli-fedavg/app/custom/train.py",
    ] {
        assert!(names.contains(entry), "zip has no {entry}");
    }
}

#[test]
fn export_reports_catalog_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = json!({
        "name": "bad",
        "steps": [{"call": "to", "target": "server", "object": {"type": "class",
            "path": "nvflare.app_common.workflows.fedavg.FedAvg", "args": {"num_rounds": "three"}}}],
    });
    let job_file = dir.path().join("job.json");
    std::fs::write(&job_file, job.to_string()).expect("job file");
    let out = bin()
        .arg("export")
        .arg(&job_file)
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("run flare-job");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nvflare.app_common.workflows.fedavg.FedAvg: argument num_rounds must be an integer, got a string"),
        "{stderr}"
    );
}

#[test]
fn simulator_run_runs_a_two_round_numpy_fedavg() {
    let venv_bin = crate_dir().join("../../.tools/venv/bin");
    let nvflare = venv_bin.join("nvflare");
    assert!(
        nvflare.exists(),
        "the project venv with nvflare is missing ({}): run ./scripts/setup.sh",
        nvflare.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        crate_dir().join("tests/fixtures/src/train.py"),
        dir.path().join("train.py"),
    )
    .expect("script");
    let job = json!({
        "pattern": "fedavg",
        "name": "sim-fedavg",
        "min_clients": 2,
        "num_rounds": 2,
        "model": [[1.0, 2.0], [3.0, 4.0]],
        "train_script": "train.py",
    });
    let job_file = dir.path().join("job.json");
    std::fs::write(&job_file, job.to_string()).expect("job file");
    let workspace = dir.path().join("ws");
    // The venv's bin first on PATH, so the simulator's own `python3` children are the venv's.
    let path = format!(
        "{}:{}",
        venv_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = bin()
        .arg("simulator-run")
        .arg(&job_file)
        .args(["-n", "2", "-t", "2", "-w"])
        .arg(&workspace)
        .arg("--nvflare")
        .arg(&nvflare)
        .env("PATH", path)
        .output()
        .expect("run flare-job simulator-run");
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "simulator-run failed ({}):\n{log}",
        out.status
    );
    // The server ran both rounds (0 and 1), finished, and saved the global model.
    let server_log = std::fs::read_to_string(workspace.join("server/log.txt")).expect("server log");
    for line in ["Round 0 started.", "Round 1 started.", "Finished FedAvg."] {
        assert!(
            server_log.contains(line),
            "no {line:?} in the server log:\n{server_log}\n{log}"
        );
    }
    assert!(
        !server_log.contains("Round 2 started."),
        "more than two rounds:\n{server_log}"
    );
    assert!(
        workspace
            .join("server/simulate_job/models/server.npy")
            .is_file(),
        "no saved global model"
    );
    for site in ["site-1", "site-2"] {
        assert!(
            workspace
                .join(site)
                .join("simulate_job")
                .join(format!("app_{site}"))
                .is_dir(),
            "{site} did not run"
        );
    }
}

#[test]
fn simulator_run_without_nvflare_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job_file = dir.path().join("job.json");
    std::fs::write(&job_file, json!({"name": "x", "steps": []}).to_string()).expect("job file");
    let out = bin()
        .arg("simulator-run")
        .arg(&job_file)
        .args(["-n", "1", "-w"])
        .arg(dir.path().join("ws"))
        .env("PATH", dir.path())
        .output()
        .expect("run flare-job");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nvflare not found on PATH: install nvflare (Python) or pass --nvflare"),
        "{stderr}"
    );
}

#[test]
fn catalog_shows_a_class_and_its_arguments() {
    let out = bin()
        .args(["catalog", "FedAvg"])
        .output()
        .expect("run flare-job catalog");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("nvflare.app_common.workflows.fedavg.FedAvg (Controller)"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("num_rounds") && l.ends_with("Int, default 5")),
        "{text}"
    );
    let unknown = bin()
        .args(["catalog", "NoSuchClass"])
        .output()
        .expect("run flare-job catalog");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("NoSuchClass is not in the catalog"));
}

#[test]
fn submit_with_a_missing_kit_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("train.py"), "print('train')\n").expect("script");
    let job =
        json!({"pattern": "cyclic", "name": "cyc", "model": [[1.0]], "train_script": "train.py"});
    let job_file = dir.path().join("job.json");
    std::fs::write(&job_file, job.to_string()).expect("job file");
    let out = bin()
        .arg("export")
        .arg(&job_file)
        .arg("--kit")
        .arg(dir.path().join("no-kit"))
        .output()
        .expect("run flare-job");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("load the admin kit"), "{stderr}");
    assert!(out.stdout.is_empty(), "no job id without a submit");
}
