//! Parity with nvflare (the oracle): every case is built with nvflare 2.9's own FedJob API
//! (`py/parity_cases.py`, one Python run for the whole binary) and with flare-job, both are
//! exported, and the folders must hold the same files, the same JSON and the same `custom/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use flare_job::{
    Args, CcwfCyclicClient, CcwfCyclicServer, CcwfPattern, CcwfWorkflow, Component, CrossSiteEval,
    CyclicPattern, FedAvgPattern, FedJob, FilterType, Framework, FsResources, JobObject, Kind,
    ScriptRunner, SwarmClient, SwarmServer, ToOptions,
};
use serde_json::{Value, json};

const FEDAVG: &str = "nvflare.app_common.workflows.fedavg.FedAvg";
const SAG: &str = "nvflare.app_common.workflows.scatter_and_gather.ScatterAndGather";
const CSME: &str = "nvflare.app_common.workflows.cross_site_model_eval.CrossSiteModelEval";
const CYCLIC_CTL: &str = "nvflare.app_common.workflows.cyclic_ctl.CyclicController";
const SELECTOR: &str = "nvflare.app_common.widgets.intime_model_selector.IntimeModelSelector";
const NP_PERSISTOR: &str = "nvflare.app_common.np.np_model_persistor.NPModelPersistor";
const NP_TRAINER: &str = "nvflare.app_common.np.np_trainer.NPTrainer";
const NP_VALIDATOR: &str = "nvflare.app_common.np.np_validator.NPValidator";
const GENERATOR: &str = "nvflare.app_common.shareablegenerators.full_model_shareable_generator.FullModelShareableGenerator";
const AGGREGATOR: &str = "nvflare.app_common.aggregators.intime_accumulate_model_aggregator.InTimeAccumulateWeightedAggregator";
const SWARM_CLIENT: &str = "nvflare.app_common.ccwf.swarm_client_ctl.SwarmClientController";
const EXCLUDE_VARS: &str = "nvflare.app_common.filters.exclude_vars.ExcludeVars";
const PERCENTILE: &str = "nvflare.app_common.filters.percentile_privacy.PercentilePrivacy";
const SVT: &str = "nvflare.app_common.filters.svt_privacy.SVTPrivacy";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    crate_dir().join("tests/fixtures/src")
}

fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("flare-job-parity")
}

/// The venv's Python; a missing venv fails the suite (it must never pass without the oracle).
fn venv_python() -> PathBuf {
    let python = crate_dir().join("../../.tools/venv/bin/python");
    assert!(
        python.exists(),
        "the project venv with nvflare 2.9 is missing ({}): run ./scripts/setup.sh",
        python.display()
    );
    python
}

/// Runs `py/parity_cases.py` once for the whole test binary; returns its output folder.
fn python_exports() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let out = work_dir().join("python");
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).expect("create the python output folder");
        let started = Instant::now();
        let output = Command::new(venv_python())
            .arg(crate_dir().join("py/parity_cases.py"))
            .arg(fixtures())
            .arg(&out)
            .output()
            .expect("run py/parity_cases.py");
        assert!(
            output.status.success(),
            "py/parity_cases.py failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!(
            "nvflare exported all parity cases in {:.1?}",
            started.elapsed()
        );
        out
    })
}

fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Uuids (from `as_id`) become `<uuid-N>` in order of appearance; filter task sets (Python
/// sets, no order) are sorted.
fn normalize(v: &mut Value, uuids: &mut Vec<String>) {
    match v {
        Value::String(s) if is_uuid(s) => {
            let n = match uuids.iter().position(|u| u == s) {
                Some(n) => n,
                None => {
                    uuids.push(s.clone());
                    uuids.len() - 1
                }
            };
            *s = format!("<uuid-{n}>");
        }
        Value::Array(items) => items.iter_mut().for_each(|i| normalize(i, uuids)),
        Value::Object(map) => {
            for key in ["task_data_filters", "task_result_filters"] {
                if let Some(Value::Array(sets)) = map.get_mut(key) {
                    for set in sets {
                        if let Some(Value::Array(tasks)) = set.get_mut("tasks") {
                            tasks.sort_by_key(Value::to_string);
                        }
                    }
                }
            }
            map.values_mut().for_each(|i| normalize(i, uuids));
        }
        _ => {}
    }
}

/// The text with every uuid replaced by `<uuid-N>` in order of appearance.
fn uuids_numbered(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut seen: Vec<String> = Vec::new();
    let mut out = String::new();
    let mut rest: &str = &text;
    while !rest.is_empty() {
        let candidate = rest.get(..36).filter(|c| is_uuid(c));
        match candidate {
            Some(u) => {
                let n = seen.iter().position(|s| s == u).unwrap_or_else(|| {
                    seen.push(u.to_owned());
                    seen.len() - 1
                });
                out.push_str(&format!("<uuid-{n}>"));
                rest = &rest[36..];
            }
            None => {
                let ch = rest.chars().next().unwrap_or(' ');
                out.push(ch);
                rest = &rest[ch.len_utf8()..];
            }
        }
    }
    out
}

fn assert_same(case: &str, python: &Path, rust: &Path) {
    let (py, rs) = (files(python), files(rust));
    assert_eq!(
        py.keys().collect::<Vec<_>>(),
        rs.keys().collect::<Vec<_>>(),
        "{case}: nvflare (left) and flare-job (right) export different files"
    );
    let (mut py_ids, mut rs_ids) = (Vec::new(), Vec::new());
    for (path, py_bytes) in &py {
        let rs_bytes = &rs[path];
        if path.ends_with(".json") {
            let mut a: Value = serde_json::from_slice(py_bytes).expect("nvflare json");
            let mut b: Value = serde_json::from_slice(rs_bytes).expect("flare-job json");
            normalize(&mut a, &mut py_ids);
            normalize(&mut b, &mut rs_ids);
            assert_eq!(
                a,
                b,
                "{case}: {path} differs\nnvflare:\n{}\nflare-job:\n{}",
                serde_json::to_string_pretty(&a).unwrap_or_default(),
                serde_json::to_string_pretty(&b).unwrap_or_default()
            );
            // Byte for byte too: nvflare's `json.dumps(indent=4)` layout and key order.
            let (a, b) = (uuids_numbered(py_bytes), uuids_numbered(rs_bytes));
            assert!(
                a == b,
                "{case}: {path} is the same JSON but not the same text\nnvflare:\n{a}\nflare-job:\n{b}"
            );
        } else {
            assert!(
                py_bytes == rs_bytes,
                "{case}: {path} has different contents"
            );
        }
    }
}

fn check(case: &str, job: FedJob) {
    let python = python_exports().join(case);
    let rust = work_dir().join("rust").join(case);
    let _ = std::fs::remove_dir_all(&rust);
    let exported = job
        .export(&FsResources::new(fixtures()))
        .unwrap_or_else(|e| panic!("{case}: export: {e}"));
    exported
        .write_to(&rust)
        .unwrap_or_else(|e| panic!("{case}: write: {e}"));
    assert_same(case, &python, &rust);
}

fn c(path: &str) -> Component {
    Component::new(path)
}

fn none() -> ToOptions {
    ToOptions::default()
}

/// FedAvg on the server with `num_rounds` (and `num_clients`, when given).
fn add_fedavg(job: &mut FedJob, num_clients: Option<i64>, num_rounds: i64) {
    let fedavg = match num_clients {
        Some(n) => c(FEDAVG).arg("num_clients", json!(n)),
        None => c(FEDAVG),
    };
    job.to_server(fedavg.arg("num_rounds", json!(num_rounds)), none())
        .unwrap();
}

fn numpy_runner(script: &str) -> ScriptRunner {
    ScriptRunner::new(script).framework(Framework::Numpy)
}

#[test]
fn basic_fedavg() {
    let mut job = FedJob::new("basic_fedavg").unwrap();
    job.set_min_clients(2).unwrap();
    add_fedavg(&mut job, Some(2), 3);
    job.to_server(c(SELECTOR).arg("key_metric", json!("acc")), none())
        .unwrap();
    let id = job
        .to_server(
            c(NP_PERSISTOR).arg("model", json!([[1.0, 2.0]])),
            ToOptions::id("persistor"),
        )
        .unwrap();
    assert_eq!(id.as_deref(), Some("persistor"));
    job.to_clients(numpy_runner("train.py"), none()).unwrap();
    check("basic_fedavg", job);
}

#[test]
fn script_runner_modes() {
    let mut job = FedJob::new("script_runner_modes").unwrap();
    add_fedavg(&mut job, Some(3), 1);
    job.to(
        ScriptRunner::new("train.py").script_args("--epochs 2"),
        "site-1",
        none(),
    )
    .unwrap();
    let ext = ScriptRunner::new("src/train_ext.py")
        .script_args("--name 'a b' --lr 0.1")
        .external("python3 -u -X dev")
        .framework(Framework::Tensorflow);
    job.to(ext, "site-2", ToOptions::tasks(["train", "validate"]))
        .unwrap();
    let mut raw = ScriptRunner::new("train.py").framework(Framework::Raw);
    raw.launch_external_process = true;
    job.to(raw, "site-3", none()).unwrap();
    check("script_runner_modes", job);
}

#[test]
fn executors_by_task() {
    let mut job = FedJob::new("executors_by_task").unwrap();
    let sag = c(SAG)
        .arg("min_clients", json!(2))
        .arg("num_rounds", json!(2))
        .arg("persistor_id", json!("persistor"));
    job.to_server(sag, none()).unwrap();
    job.to_server(c(CSME).arg("model_locator_id", json!("locator")), none())
        .unwrap();
    let trainer = c(NP_TRAINER)
        .arg("delta", json!(2))
        .arg("sleep_time", json!(1));
    job.to_clients(trainer, ToOptions::tasks(["train", "submit_model"]))
        .unwrap();
    job.to_clients(
        c(NP_VALIDATOR).arg("epsilon", json!(3)),
        ToOptions::tasks(["validate"]),
    )
    .unwrap();
    job.to_server(c(NP_PERSISTOR), ToOptions::id("persistor"))
        .unwrap();
    check("executors_by_task", job);
}

#[test]
fn filters_by_task() {
    let mut job = FedJob::new("filters_by_task").unwrap();
    add_fedavg(&mut job, None, 1);
    job.to_clients(c(NP_TRAINER), none()).unwrap();
    let result = |tasks: &[&str]| ToOptions::filter(FilterType::TaskResult, tasks.iter().copied());
    job.to_clients(
        c(EXCLUDE_VARS).arg("exclude_vars", json!(["bias"])),
        result(&["train"]),
    )
    .unwrap();
    job.to_clients(
        c(PERCENTILE).arg("percentile", json!(20)),
        result(&["train"]),
    )
    .unwrap();
    job.to_clients(c(SVT).arg("fraction", json!(0.2)), result(&["validate"]))
        .unwrap();
    let data = ToOptions {
        filter_type: Some(FilterType::TaskData),
        ..ToOptions::default()
    };
    job.to_clients(
        c(EXCLUDE_VARS).arg("exclude_vars", json!(["w1", "w2"])),
        data,
    )
    .unwrap();
    let server = ToOptions::filter(FilterType::TaskData, ["train"]);
    job.to_server(c(PERCENTILE).arg("gamma", json!(0.5)), server)
        .unwrap();
    check("filters_by_task", job);
}

#[test]
fn resources() {
    let mut job = FedJob::new("resources").unwrap();
    add_fedavg(&mut job, None, 1);
    job.to_server(JobObject::resource("data"), none()).unwrap();
    job.to_clients(JobObject::resource("train.py"), none())
        .unwrap();
    job.to_clients(JobObject::resource("data"), none()).unwrap();
    job.to_clients(c(NP_TRAINER), none()).unwrap();
    check("resources", job);
}

#[test]
fn as_id_references() {
    let mut job = FedJob::new("as_id_references").unwrap();
    let persistor = job.as_id(c(NP_PERSISTOR).arg("model", json!([[0.5]])));
    let generator = job.as_id(c(GENERATOR));
    let ctl = c(CYCLIC_CTL)
        .arg("num_rounds", json!(2))
        .arg("persistor_id", json!(persistor))
        .arg("shareable_generator_id", json!(generator));
    job.to_server(ctl, none()).unwrap();
    let aggregator = job.as_id(c(AGGREGATOR).arg("expected_data_kind", json!("WEIGHTS")));
    let client_persistor = job.as_id(c(NP_PERSISTOR));
    let swarm = c(SWARM_CLIENT)
        .arg("aggregator_id", json!(aggregator))
        .arg("persistor_id", json!(client_persistor));
    job.to(swarm, "site-1", ToOptions::tasks(["swarm_*"]))
        .unwrap();
    job.as_id(c(NP_PERSISTOR).arg("model_name", json!("never.npy")));
    check("as_id_references", job);
}

#[test]
fn id_collisions() {
    let mut job = FedJob::new("id_collisions").unwrap();
    add_fedavg(&mut job, None, 1);
    add_fedavg(&mut job, None, 2);
    job.to_server(
        c(FEDAVG).arg("num_rounds", json!(3)),
        ToOptions::id("controller"),
    )
    .unwrap();
    let calls: [(Component, Option<&str>); 9] = [
        (c(NP_PERSISTOR), Some("persistor")),
        (
            c(NP_PERSISTOR).arg("model_name", json!("b.npy")),
            Some("persistor"),
        ),
        (
            c(NP_PERSISTOR).arg("model_name", json!("c.npy")),
            Some("persistor"),
        ),
        (c(GENERATOR), None),
        (c(GENERATOR), None),
        (c(GENERATOR), Some("a1b1")),
        (c(GENERATOR), Some("a1b1")),
        (c(GENERATOR), Some("m9")),
        (c(GENERATOR), Some("m9")),
    ];
    let ids: Vec<Option<String>> = calls
        .into_iter()
        .map(|(comp, id)| {
            let options = id.map(ToOptions::id).unwrap_or_default();
            job.to_server(comp, options).unwrap()
        })
        .collect();
    let ids: Vec<String> = ids.into_iter().flatten().collect();
    assert_eq!(
        ids,
        [
            "persistor",
            "persistor1",
            "persistor2",
            "component",
            "component1",
            "a1b1",
            "a2b2",
            "m9",
            "m10"
        ]
    );
    job.to_clients(c(NP_TRAINER), none()).unwrap();
    check("id_collisions", job);
}

#[test]
fn per_site_apps() {
    let mut job = FedJob::new("per_site_apps").unwrap();
    job.set_min_clients(2).unwrap();
    add_fedavg(&mut job, Some(2), 1);
    job.to(c(NP_TRAINER).arg("delta", json!(5)), "site-1", none())
        .unwrap();
    job.to(JobObject::resource("data"), "site-1", none())
        .unwrap();
    job.to(numpy_runner("train.py"), "site-2", none()).unwrap();
    let filter = ToOptions::filter(FilterType::TaskData, ["train"]);
    job.to(
        c(EXCLUDE_VARS).arg("exclude_vars", json!(["x"])),
        "site-2",
        filter,
    )
    .unwrap();
    assert_eq!(job.clients(), ["site-1", "site-2"]);
    check("per_site_apps", job);
}

#[test]
fn mandatory_and_resource_spec() {
    let mut job = FedJob::new("mandatory_and_resource_spec").unwrap();
    job.set_min_clients(2).unwrap();
    job.set_mandatory_clients(["site-1", "site-2"]);
    job.set_meta_prop("description", json!("parity")).unwrap();
    job.set_meta_prop("custom_level", json!(3)).unwrap();
    assert!(job.set_meta_prop("name", json!("x")).is_err());
    let gpus = [("num_of_gpus", json!(1)), ("mem_per_gpu_in_GiB", json!(2))];
    job.add_resource_spec("site-1", gpus).unwrap();
    job.add_resource_spec("site-2", [("num_of_gpus", json!(0))])
        .unwrap();
    assert!(
        job.add_resource_spec("site-2", [("num_of_gpus", json!(1))])
            .is_err()
    );
    add_fedavg(&mut job, Some(2), 1);
    job.to_clients(c(NP_TRAINER), none()).unwrap();
    check("mandatory_and_resource_spec", job);
}

#[test]
fn client_side_controller_and_params() {
    let mut job = FedJob::new("client_side_controller_and_params").unwrap();
    add_fedavg(&mut job, None, 1);
    let params = flare_job::params(&[
        ("heartbeat_timeout", json!(600)),
        ("format_version", json!(2)),
    ]);
    job.to_server(JobObject::Params { params }, none()).unwrap();
    job.to(
        c(FEDAVG).arg("num_rounds", json!(4)),
        "site-1",
        ToOptions::id("client_ctl"),
    )
    .unwrap();
    let params = flare_job::params(&[("timeout", json!(30))]);
    job.to(JobObject::Params { params }, "site-1", none())
        .unwrap();
    job.to(c(NP_TRAINER), "site-1", none()).unwrap();
    check("client_side_controller_and_params", job);
}

#[test]
fn custom_class() {
    let mut job = FedJob::new("custom_class").unwrap();
    add_fedavg(&mut job, None, 1);
    let other = job.as_id(c(NP_PERSISTOR));
    let mine = Component::custom("custom_comps.MyComp", Kind::Component)
        .arg("threshold", json!(5))
        .arg("other_id", json!(other));
    job.to_server(mine, ToOptions::id("mine")).unwrap();
    // nvflare copies the module of a class that is not its own; here it is a resource.
    job.to_server(JobObject::resource("custom_comps.py"), none())
        .unwrap();
    job.to_clients(c(NP_TRAINER), none()).unwrap();
    check("custom_class", job);
}

#[test]
fn pattern_fedavg() {
    let mut p = FedAvgPattern::new("pattern_fedavg", 2, "train.py");
    p.model = Some(json!([[1.0, 2.0], [3.0, 4.0]]));
    p.num_rounds = 3;
    p.train_args = "--lr 0.1".to_owned();
    p.stop_cond = Some("accuracy >= 80".to_owned());
    p.patience = Some(2);
    check("pattern_fedavg", p.build().unwrap());
}

#[test]
fn pattern_cyclic() {
    let mut p = CyclicPattern::new("pattern_cyclic", json!([[0.0, 1.0]]), "train.py");
    p.num_rounds = 4;
    p.train_args = "--steps 3".to_owned();
    check("pattern_cyclic", p.build().unwrap());
}

#[test]
fn pattern_ccwf_swarm() {
    let mut server_args = Args::default();
    server_args.set("start_task_timeout", json!(20));
    let mut client_args = Args::default();
    client_args.set("learn_task_timeout", json!(60));
    let mut cse = CrossSiteEval::default();
    cse.server_args.set("eval_task_timeout", json!(45));
    let p = CcwfPattern {
        name: "pattern_ccwf_swarm".to_owned(),
        min_clients: 2,
        mandatory_clients: None,
        executor_tasks: None,
        external_resources: Some("data".to_owned()),
        workflows: vec![CcwfWorkflow::Swarm {
            server: SwarmServer {
                num_rounds: 3,
                args: server_args,
            },
            client: SwarmClient {
                executor: numpy_runner("train.py").into(),
                persistor: c(NP_PERSISTOR).arg("model", json!([[1.0]])),
                shareable_generator: c(GENERATOR),
                aggregator: c(AGGREGATOR).arg("expected_data_kind", json!("WEIGHTS")),
                metric_comparator: None,
                model_selector: None,
                args: client_args,
            },
            cse: Some(cse),
        }],
    };
    check("pattern_ccwf_swarm", p.build().unwrap());
}

#[test]
fn pattern_ccwf_cyclic() {
    let mut server_args = Args::default();
    server_args.set("cyclic_order", json!("random"));
    let p = CcwfPattern {
        name: "pattern_ccwf_cyclic".to_owned(),
        min_clients: 1,
        mandatory_clients: Some(vec!["site-1".to_owned()]),
        executor_tasks: Some(vec!["train".to_owned()]),
        external_resources: None,
        workflows: vec![CcwfWorkflow::Cyclic {
            server: CcwfCyclicServer {
                num_rounds: 2,
                args: server_args,
            },
            client: CcwfCyclicClient {
                executor: c(NP_TRAINER).into(),
                persistor: c(NP_PERSISTOR),
                shareable_generator: c(GENERATOR),
                args: Args::default(),
            },
            cse: None,
        }],
    };
    check("pattern_ccwf_cyclic", p.build().unwrap());
}

/// Every case of `py/parity_cases.py` has a test here (and the other way round).
#[test]
fn every_python_case_has_a_rust_case() {
    let source = include_str!("parity.rs");
    let mut python: Vec<String> = std::fs::read_dir(python_exports())
        .expect("python output")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    python.sort();
    assert!(python.len() >= 12, "only {} parity cases", python.len());
    for case in python {
        assert!(
            source.contains(&format!("check(\"{case}\"")),
            "python case {case} has no rust test"
        );
    }
}
