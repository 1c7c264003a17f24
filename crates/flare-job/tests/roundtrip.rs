//! A job survives its JSON form (the CLI's and the browser composer's), and exports the same
//! from memory as from the file system.

use std::path::PathBuf;

use flare_job::{
    Component, FedAvgPattern, FedJob, FilterType, FsResources, JobFile, JobObject, MemoryResources,
    Pattern, ScriptRunner, ToOptions,
};
use serde_json::json;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/src")
}

fn memory_fixtures() -> MemoryResources {
    let mut mem = MemoryResources::new();
    for rel in [
        "train.py",
        "src/train_ext.py",
        "src/helpers.py",
        "data/config.yaml",
        "data/nested/labels.txt",
    ] {
        mem.add_file(rel, std::fs::read(fixtures().join(rel)).expect("fixture"));
    }
    mem
}

fn sample_job() -> FedJob {
    let mut job = FedJob::new("roundtrip").expect("job");
    job.set_min_clients(2).expect("min clients");
    job.set_up_client(
        Component::new("nvflare.app_common.widgets.convert_to_fed_event.ConvertToFedEvent")
            .arg("events_to_convert", json!(["analytix_log_stats"])),
        ToOptions::id("event_to_fed"),
    );
    let persistor = job.as_id(Component::new(
        "nvflare.app_common.np.np_model_persistor.NPModelPersistor",
    ));
    let controller = Component::new("nvflare.app_common.workflows.fedavg.FedAvg")
        .arg("num_rounds", json!(2))
        .arg("persistor_id", json!(persistor));
    job.to_server(controller, ToOptions::default())
        .expect("controller");
    job.to_server(JobObject::resource("data"), ToOptions::default())
        .expect("folder");
    let runner = ScriptRunner::new("src/train_ext.py").external("python3 -u");
    job.to(runner, "site-1", ToOptions::tasks(["train"]))
        .expect("runner");
    let filter = Component::new("nvflare.app_common.filters.percentile_privacy.PercentilePrivacy");
    job.to(
        filter,
        "site-1",
        ToOptions::filter(FilterType::TaskResult, ["train"]),
    )
    .expect("filter");
    job
}

#[test]
fn a_job_read_back_from_json_exports_the_same() {
    let job = sample_job();
    let text = serde_json::to_string_pretty(&job).expect("serialize");
    let back: FedJob = serde_json::from_str(&text).expect("deserialize");
    assert_eq!(back, job);
    let file = JobFile::from_json(&text)
        .expect("job file")
        .into_job()
        .expect("job");
    let loader = FsResources::new(fixtures());
    assert_eq!(
        file.export(&loader).expect("export"),
        job.export(&loader).expect("export")
    );
    // The referenced persistor was added to the server app under its as_id id.
    let exported = job.export(&loader).expect("export");
    let server =
        String::from_utf8(exported.files["app_server/config/config_fed_server.json"].clone())
            .expect("utf8");
    assert!(
        server.contains("\"id\": \"00000000-0000-4000-8000-000000000001\""),
        "{server}"
    );
    assert!(
        exported
            .files
            .contains_key("app_server/custom/nested/labels.txt")
    );
    assert!(exported.files.contains_key("app_site-1/custom/helpers.py"));
}

#[test]
fn memory_resources_export_like_the_file_system() {
    let job = sample_job();
    let from_fs = job
        .export(&FsResources::new(fixtures()))
        .expect("fs export");
    let from_memory = job.export(&memory_fixtures()).expect("memory export");
    assert_eq!(from_fs, from_memory);
    let missing = job
        .export(&MemoryResources::new())
        .expect_err("no resources");
    assert_eq!(
        missing.to_string(),
        "cannot add resource data: it must be either a directory or file"
    );
}

#[test]
fn a_pattern_file_builds_its_job() {
    let text = json!({"pattern": "fedavg", "name": "p", "min_clients": 2, "model": [[1.0]], "train_script": "train.py"});
    let file = JobFile::from_json(&text.to_string()).expect("pattern file");
    let mut expected = FedAvgPattern::new("p", 2, "train.py");
    expected.model = Some(json!([[1.0]]));
    assert_eq!(file, JobFile::Pattern(Pattern::Fedavg(expected.clone())));
    assert_eq!(
        file.into_job().expect("job"),
        expected.build().expect("job")
    );
}

#[test]
fn an_export_zips_under_the_job_name() {
    let exported = sample_job().export(&memory_fixtures()).expect("export");
    let zip = exported.to_zip().expect("zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("read zip");
    let mut names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).expect("entry").name().to_owned())
        .collect();
    names.sort();
    let expected: Vec<String> = exported
        .files
        .keys()
        .map(|k| format!("roundtrip/{k}"))
        .collect();
    assert_eq!(names, expected);
}
