//! "Copy as Python" proved: the program `python::to_python` writes for a composition is run with
//! the venv's Python (nvflare 2.9's own FedJob) and its export must equal flare-job's export of
//! the same composition (same files, same JSON, same `custom/`). Also: an exported job imported
//! back (`import::import_job`) exports the same folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use flare_job::compose::{ComposedFile, Composition, flatten};
use flare_job::import::import_job;
use flare_job::python::to_python;
use flare_job::{
    Component, FedAvgPattern, FedJob, FilterType, Framework, JobObject, ScriptRunner, ToOptions,
};
use serde_json::{Value, json};

const SCRIPT: &str = include_str!("../../../jobs/scripts/train_numpy.py");

fn venv_python() -> PathBuf {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/python");
    assert!(
        python.exists(),
        "the project venv with nvflare 2.9 is missing ({}): run ./scripts/setup.sh",
        python.display()
    );
    python
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("flare-job-python")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch folder");
    dir
}

/// Every file under `root`, by `/` path relative to it.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                let rel = rel.to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&path).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Uuid-shaped strings (nvflare's `as_id`) replaced by their order of appearance.
fn numbered(v: &mut Value, seen: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() == 36 && s.matches('-').count() == 4 => {
            let n = match seen.iter().position(|x| x == s) {
                Some(n) => n,
                None => {
                    seen.push(s.clone());
                    seen.len() - 1
                }
            };
            *s = format!("<uuid {n}>");
        }
        Value::Array(a) => a.iter_mut().for_each(|x| numbered(x, seen)),
        Value::Object(m) => m.values_mut().for_each(|x| numbered(x, seen)),
        _ => {}
    }
}

/// Runs the composition's Python program in a folder holding its files; asserts that nvflare's
/// export equals flare-job's.
fn assert_python_exports_the_same(case: &str, c: &Composition) {
    let dir = scratch(case);
    let src = dir.join("src");
    for f in &c.files {
        let path = src.join(&f.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, f.bytes().expect("bytes")).expect("write file");
    }
    let program = to_python(&c.job);
    std::fs::write(src.join("job.py"), &program).expect("write the program");
    let out = dir.join("out");
    let started = Instant::now();
    let run = Command::new(venv_python())
        .arg("job.py")
        .arg(&out)
        .current_dir(&src)
        .output()
        .expect("run the python program");
    assert!(
        run.status.success(),
        "{case}: the generated program failed ({}):\n{}\n--- program ---\n{program}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    eprintln!(
        "{case}: nvflare ran the program in {:.1?}",
        started.elapsed()
    );
    let python = files(&out.join(&c.job.name));
    let rust = c.export().expect("flare-job export").files;
    assert_eq!(
        python.keys().collect::<Vec<_>>(),
        rust.keys().collect::<Vec<_>>(),
        "{case}: file lists differ\n--- program ---\n{program}"
    );
    let (mut seen_py, mut seen_rs) = (Vec::new(), Vec::new());
    for (path, py) in &python {
        let rs = &rust[path];
        if path.ends_with(".json") {
            let mut a: Value = serde_json::from_slice(py).expect("python json");
            let mut b: Value = serde_json::from_slice(rs).expect("rust json");
            numbered(&mut a, &mut seen_py);
            numbered(&mut b, &mut seen_rs);
            assert_eq!(a, b, "{case}: {path} differs\n--- program ---\n{program}");
        } else {
            assert!(py == rs, "{case}: {path} differs");
        }
    }
}

fn numpy_fedavg() -> Composition {
    let mut p = FedAvgPattern::new("compose-fedavg", 2, "train_numpy.py");
    p.model = Some(json!([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]));
    p.num_rounds = 3;
    let mut c = Composition::of_job(&p.build().expect("pattern"));
    c.files
        .push(ComposedFile::new("train_numpy.py", SCRIPT.as_bytes()));
    c
}

#[test]
fn a_flattened_fedavg_pattern() {
    assert_python_exports_the_same("fedavg", &numpy_fedavg());
}

#[test]
fn the_pattern_with_its_client_set_up_as_a_subclass() {
    let mut p = FedAvgPattern::new("compose-setup", 2, "train_numpy.py");
    p.model = Some(json!([[1.0]]));
    let job = p.build().expect("pattern");
    let c = Composition {
        job: job.spec().clone(),
        files: vec![ComposedFile::new("train_numpy.py", SCRIPT.as_bytes())],
    };
    assert!(!c.job.set_up_client.is_empty());
    assert!(to_python(&c.job).contains("class ComposedJob(FedJob):"));
    assert_python_exports_the_same("setup", &c);
    assert_eq!(flatten(c.job.clone()).set_up_client, Vec::new());
}

#[test]
fn per_site_apps_filters_params_resources_and_references() {
    let mut job = FedJob::new("compose-sites").expect("job");
    job.set_min_clients(2).expect("min");
    job.set_mandatory_clients(["site-1"]);
    let persistor = job.as_id(
        Component::new("nvflare.app_common.np.np_model_persistor.NPModelPersistor")
            .arg("model", json!([[0.5]])),
    );
    job.to_server(
        Component::new("nvflare.app_common.workflows.scatter_and_gather.ScatterAndGather")
            .arg("min_clients", json!(2))
            .arg("num_rounds", json!(1))
            .arg("persistor_id", Value::from(persistor)),
        ToOptions::id("sag"),
    )
    .expect("sag");
    job.to_server(
        Component::new("nvflare.app_common.aggregators.intime_accumulate_model_aggregator.InTimeAccumulateWeightedAggregator")
            .arg("expected_data_kind", json!("WEIGHTS")),
        ToOptions::id("aggregator"),
    )
    .expect("aggregator");
    job.to(
        ScriptRunner::new("train_numpy.py").framework(Framework::Numpy),
        "site-1",
        ToOptions::tasks(["train"]),
    )
    .expect("runner");
    job.to(
        Component::new("nvflare.app_common.np.np_trainer.NPTrainer").arg("sleep_time", json!(1)),
        "site-2",
        ToOptions::tasks(["train"]),
    )
    .expect("trainer");
    job.to(
        Component::new("nvflare.app_common.filters.exclude_vars.ExcludeVars")
            .arg("exclude_vars", json!(["a", "b"])),
        "site-2",
        ToOptions::filter(FilterType::TaskResult, ["train"]),
    )
    .expect("filter");
    job.to(
        JobObject::Params {
            params: flare_job::params(&[("timeout", json!(30))]),
        },
        "site-2",
        ToOptions::default(),
    )
    .expect("params");
    job.to(JobObject::resource("data"), "site-2", ToOptions::default())
        .expect("resource");
    let c = Composition {
        job: job.spec().clone(),
        files: vec![
            ComposedFile::new("train_numpy.py", SCRIPT.as_bytes()),
            ComposedFile::new("data/labels.txt", b"a,b\n"),
        ],
    };
    assert_python_exports_the_same("sites", &c);
}

#[test]
fn an_export_imports_back_to_the_same_folder() {
    let c = numpy_fedavg();
    let exported = c.export().expect("export");
    let imported = import_job("compose-fedavg", &exported.files).expect("import");
    assert_eq!(
        imported.export().expect("export again").files,
        exported.files
    );
    let library = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../jobs/hello-numpy");
    let hello = import_job("hello-numpy", &files(&library)).expect("import hello-numpy");
    assert_eq!(hello.job.min_clients, 2);
    let again = hello.export().expect("export hello-numpy");
    // The same files; arguments equal to their defaults are left out, as nvflare's export does.
    let names: Vec<String> = files(&library).into_keys().collect();
    assert_eq!(again.files.keys().cloned().collect::<Vec<_>>(), names);
    let server: Value =
        serde_json::from_slice(&again.files["app/config/config_fed_server.json"]).expect("json");
    assert_eq!(server["workflows"][0]["id"], "scatter_and_gather");
    assert_eq!(server["workflows"][0]["args"]["num_rounds"], 3);
    assert_eq!(
        server["model_class_path"], "",
        "extra config keys are kept as parameters"
    );
}
