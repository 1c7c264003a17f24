//! The committed catalog matches the installed nvflare, and arguments are checked against it.

use std::path::PathBuf;
use std::process::Command;

use flare_job::{CATALOG_JSON, Component, FedJob, JobError, Kind, ToOptions, catalog, validate};
use serde_json::{Value, json};

const FEDAVG: &str = "nvflare.app_common.workflows.fedavg.FedAvg";
const EXECUTOR: &str = "nvflare.app_common.executors.client_api_executor.ClientAPIExecutor";

#[test]
fn committed_catalog_matches_the_installed_nvflare() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = crate_dir.join("../../.tools/venv/bin/python");
    assert!(
        python.exists(),
        "the project venv with nvflare 2.9 is missing ({}): run ./scripts/setup.sh",
        python.display()
    );
    let out = Command::new(python)
        .arg(crate_dir.join("py/make_catalog.py"))
        .output()
        .expect("run py/make_catalog.py");
    assert!(
        out.status.success(),
        "make_catalog.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh: Value = serde_json::from_slice(&out.stdout).expect("catalog json");
    let committed: Value = serde_json::from_str(CATALOG_JSON).expect("committed catalog json");
    assert!(
        fresh == committed,
        "data/catalog.json is stale for the installed nvflare {}: regenerate it with \
         `.tools/venv/bin/python crates/flare-job/py/make_catalog.py crates/flare-job/data/catalog.json`",
        fresh["nvflare_version"]
    );
}

#[test]
fn catalog_describes_nvflare_2_9_classes() {
    let c = catalog();
    assert_eq!(c.nvflare_version, "2.9.0");
    assert!(c.classes.len() >= 100, "{} classes", c.classes.len());
    let fedavg = c.get(FEDAVG).expect("FedAvg");
    assert_eq!(fedavg.kind, Kind::Controller);
    let rounds = fedavg.arg("num_rounds").expect("num_rounds");
    assert_eq!(
        (rounds.default.clone(), rounds.required),
        (Some(json!(5)), false)
    );
    let executor = c.get(EXECUTOR).expect("ClientAPIExecutor");
    assert_eq!(executor.kind, Kind::Executor);
    assert!(
        executor
            .arg("execution_mode")
            .expect("execution_mode")
            .required
    );
    let kinds = [
        Kind::Controller,
        Kind::Executor,
        Kind::Filter,
        Kind::Component,
    ];
    for kind in kinds {
        assert!(
            c.classes.iter().any(|k| k.kind == kind),
            "no {kind:?} in the catalog"
        );
    }
}

#[test]
fn arguments_are_checked_against_the_catalog() {
    let err = |c: Component| validate(&c).expect_err("must be refused");
    assert_eq!(
        err(Component::new(FEDAVG).arg("num_roundz", json!(2))),
        JobError::UnknownArgument {
            class: FEDAVG.to_owned(),
            arg: "num_roundz".to_owned()
        }
    );
    let wrong = err(Component::new(FEDAVG).arg("num_rounds", json!("two")));
    assert_eq!(
        wrong.to_string(),
        format!("{FEDAVG}: argument num_rounds must be an integer, got a string")
    );
    let wrong = err(Component::new(FEDAVG).arg("num_rounds", json!(2.5)));
    assert_eq!(
        wrong.to_string(),
        format!("{FEDAVG}: argument num_rounds must be an integer, got a number")
    );
    let null = err(Component::new(FEDAVG).arg("num_rounds", Value::Null));
    assert!(
        matches!(null, JobError::WrongType { ref got, .. } if got == "null"),
        "{null}"
    );
    let missing = err(Component::new(EXECUTOR));
    assert_eq!(
        missing.to_string(),
        format!("{EXECUTOR}: missing required argument execution_mode")
    );
    let choice = err(Component::new(EXECUTOR)
        .arg("execution_mode", json!("x"))
        .arg("params_exchange_format", json!("jax")));
    assert!(
        choice
            .to_string()
            .contains("params_exchange_format must be one of"),
        "{choice}"
    );
    // Nullable, float-for-int-free and nested checks pass; custom classes pass as given.
    validate(
        &Component::new(FEDAVG)
            .arg("stop_cond", Value::Null)
            .arg("task_check_period", json!(1)),
    )
    .expect("ok");
    validate(&Component::custom("my.Comp", Kind::Component).arg("anything", json!({"a": 1})))
        .expect("custom");
    let nested =
        Component::new(FEDAVG).arg("aggregator", Component::new(FEDAVG).arg("bad", json!(1)));
    assert!(matches!(
        validate(&nested),
        Err(JobError::UnknownArgument { .. })
    ));
}

#[test]
fn to_refuses_what_nvflare_refuses() {
    let mut job = FedJob::new("refusals").expect("job");
    let bad = job.to_server(
        Component::new(FEDAVG).arg("nope", json!(1)),
        ToOptions::default(),
    );
    assert!(matches!(bad, Err(JobError::UnknownArgument { .. })));
    let exec = Component::new(EXECUTOR).arg("execution_mode", json!("in_process"));
    assert!(matches!(
        job.to_server(exec.clone(), ToOptions::default()),
        Err(JobError::WrongTarget { .. })
    ));
    assert!(matches!(
        job.to_clients(Component::new(FEDAVG), ToOptions::default()),
        Err(JobError::WrongTarget { .. })
    ));
    assert!(matches!(
        job.to(Component::new(FEDAVG), "a/b", ToOptions::default()),
        Err(JobError::InvalidTarget(_))
    ));
    let filter = Component::new("nvflare.app_common.filters.percentile_privacy.PercentilePrivacy");
    let no_type = job.to_clients(filter, ToOptions::tasks(["train"]));
    assert_eq!(
        no_type.expect_err("no filter type").to_string(),
        "PercentilePrivacy: missing required arg 'filter_type' (task_data or task_result)"
    );
    let tasks_on_controller = job.to_server(Component::new(FEDAVG), ToOptions::tasks(["train"]));
    assert!(matches!(tasks_on_controller, Err(JobError::Options { .. })));
    job.to_clients(exec.clone(), ToOptions::tasks(["train", "validate"]))
        .expect("executor");
    let overlap = job.to_clients(exec, ToOptions::tasks(["validate"]));
    assert_eq!(
        overlap,
        Err(JobError::ExecutorTasks(vec!["validate".to_owned()]))
    );
    assert!(matches!(
        FedJob::new("-bad"),
        Err(JobError::InvalidJobName(_))
    ));
    // A job for all clients needs a server app.
    let mut job = FedJob::new("no_server").expect("job");
    let exec = Component::new(EXECUTOR).arg("execution_mode", json!("in_process"));
    job.to_clients(exec, ToOptions::default())
        .expect("executor");
    let exported = job.export(&flare_job::MemoryResources::new());
    assert_eq!(exported.err(), Some(JobError::MissingServer));
}
