//! NVFlare's argument rules (`args::check` over typed commands, one row per rule and argument
//! kind) and `join_args` quoting, one row per character class. `tests/tokenizer.rs` feeds the
//! same lines to NVFlare's own `split_to_args`.

use flare_model::{Command, FlareError, ListJobsFilter};
use serde_json::json;

use crate::args::{self, join_args};
use crate::commands::list_jobs_command;

const ID: &str = "0e8a47b4-1c1f-4b4e-9a6f-3f6f1f1d2c3b";

fn command(v: serde_json::Value) -> Command {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"))
}

/// Every character class an argument can hold, and the exact line the server must receive.
const QUOTING: &[(&str, &[&str], &str)] = &[
    ("plain", &["list_jobs", "-d", "0e8a"], "list_jobs -d 0e8a"),
    (
        "space",
        &["list_jobs", "-n", "my job"],
        r#"list_jobs -n "my job""#,
    ),
    ("tab and newline", &["x", "a\tb\nc"], "x \"a\tb\nc\""),
    (
        "single quote",
        &["grep", "server", "it's", "log.txt"],
        r#"grep server "it's" log.txt"#,
    ),
    (
        "single quote then space",
        &["x", "it's", "a b"],
        r#"x "it's" "a b""#,
    ),
    ("lone single quote", &["x", "'"], r#"x "'""#),
    ("double quote", &["x", r#"a"b"#], r#"x "a\"b""#),
    ("lone double quote", &["x", "\""], r#"x "\"""#),
    (
        "hash",
        &["app_command", "t", "a#b"],
        r##"app_command t "a#b""##,
    ),
    ("lone hash", &["x", "#"], r##"x "#""##),
    ("backslash", &["x", r"c\d"], r#"x "c\\d""#),
    ("backslash before quote", &["x", r#"\""#], r#"x "\\\"""#),
    ("trailing backslash", &["x", r"a\"], r#"x "a\\""#),
    ("unicode", &["x", "données-é😀"], "x données-é😀"),
    ("unicode space", &["x", "a\u{a0}b"], "x \"a\u{a0}b\""),
    ("empty", &["x", "", "y"], r#"x "" y"#),
    (
        "all at once",
        &["x", r#"a'b"c\d#e f"#],
        r#"x "a'b\"c\\d#e f""#,
    ),
    ("dashes", &["x", "--", "-a"], "x -- -a"),
];

#[test]
fn join_args_quotes_every_character_class_exactly() {
    for (class, parts, line) in QUOTING {
        assert_eq!(join_args(parts), *line, "{class}");
    }
    assert_eq!(join_args::<&str>(&[]), "");
}

#[test]
fn argparse_sees_values_starting_with_a_dash_as_values() {
    let mut parts = vec!["get_job_log".to_owned(), ID.to_owned()];
    args::push_positional(&mut parts, "-site");
    args::push_positional(&mut parts, "log.json");
    assert_eq!(parts, ["get_job_log", ID, "--", "-site", "log.json"]);
    let mut parts = vec![];
    args::push_option(&mut parts, "--sites", "site-1,-x");
    args::push_option(&mut parts, "--sites", "-x");
    assert_eq!(parts, ["--sites", "site-1,-x", "--sites=-x"]);
    let f = ListJobsFilter {
        submit_token: Some("-tok".to_owned()),
        ..Default::default()
    };
    assert_eq!(list_jobs_command(&f), "list_jobs --submit-token=-tok");
}

enum Want {
    Ok,
    /// `InvalidArgument` whose message contains this.
    Invalid(&'static str),
    /// `JobNotFound` whose message contains this.
    NoJob(&'static str),
}

fn rows() -> Vec<(serde_json::Value, Want)> {
    use Want::*;
    let job = |name: &str, id: &str| json!({ name: { "job_id": id } });
    let study = |name: &str, study: &str| json!({ name: { "study": study } });
    let sites = |s: serde_json::Value| json!({"register_study": {"study": "s1", "sites": s}});
    let user = |u: &str| json!({"add_study_user": {"study": "s1", "user": u}});
    let list = |f: serde_json::Value| json!({ "list_jobs": f });
    let logs = |target: &str, file: Option<&str>| json!({"get_job_logs": {"job_id": ID, "target": target, "log_file_name": file}});
    let ls = |target: &str, path: &str| json!({"ls_target": {"target": target, "path": path}});
    let cat = |file: &str| json!({"cat_target": {"target": "server", "file": file}});
    vec![
        // job ids: nvflare's is_valid_job_id
        (job("get_job_meta", ID), Ok),
        (job("get_job_meta", &ID.to_uppercase()), Ok),
        (job("abort_job", "0e8a47b41c1f4b4e9a6f3f6f1f1d2c3b"), Ok),
        (job("abort_job", ""), NoJob("job_id is required")),
        (job("abort_job", "nope"), NoJob("job id must be a uuid4")),
        (
            job("delete_job", "0e8a47b4-1c1f-3b4e-9a6f-3f6f1f1d2c3b"),
            NoJob("uuid4"),
        ),
        (
            job("clone_job", "0e8a47b4-1c1f-4b4e-7a6f-3f6f1f1d2c3b"),
            NoJob("uuid4"),
        ),
        (job("clone_job", &format!("{ID} all")), NoJob("uuid4")),
        (
            job("list_job_components", &format!("{{{ID}}}")),
            NoJob("uuid4"),
        ),
        (job("reset_errors", "../etc"), NoJob("uuid4")),
        (
            json!({"do_app_command": {"job_id": "x#y", "topic": "t"}}),
            NoJob("uuid4"),
        ),
        (
            json!({"show_stats": {"job_id": "1", "target_type": "server"}}),
            NoJob("uuid4"),
        ),
        // list_jobs prefixes and token
        (list(json!({"id_prefix": "0E8A-47"})), Ok),
        (
            list(json!({"id_prefix": "xyz"})),
            Invalid("job id prefix \"xyz\""),
        ),
        (list(json!({"id_prefix": "-d"})), Invalid("job id prefix")),
        (
            list(json!({"id_prefix": format!("{ID}0")})),
            Invalid("at most 36"),
        ),
        (list(json!({"name_prefix": "hello-numpy_v1.2"})), Ok),
        (
            list(json!({"name_prefix": "my job"})),
            Invalid("job name prefix \"my job\""),
        ),
        (
            list(json!({"name_prefix": "-r"})),
            Invalid("must start with a letter"),
        ),
        (
            list(json!({"name_prefix": "a'b"})),
            Invalid("JOB_NAME_PATTERN"),
        ),
        (list(json!({"submit_token": "tok:1.a_b-c"})), Ok),
        (
            list(json!({"submit_token": "bad token!"})),
            Invalid("submit token"),
        ),
        (
            list(json!({"submit_token": "x".repeat(129)})),
            Invalid("1 to 128"),
        ),
        // targets: site names
        (
            json!({"check_status": {"target_type": "client", "targets": ["site-1", "site_2"]}}),
            Ok,
        ),
        (
            json!({"check_status": {"target_type": "client", "targets": ["site 1"]}}),
            Invalid("target site name \"site 1\" may only contain letters, digits, '-' and '_'"),
        ),
        (
            json!({"report_version": {"target_type": "client", "targets": ["a.b"]}}),
            Invalid("target site name"),
        ),
        (
            json!({"report_resources": {"target_type": "client", "targets": [""]}}),
            Invalid("target site name \"\""),
        ),
        (
            json!({"show_errors": {"job_id": ID, "target_type": "client", "targets": ["s#1"]}}),
            Invalid("target site name"),
        ),
        (
            json!({"get_client_job_status": {"client_names": ["site-1", "x'y"]}}),
            Invalid("client name \"x'y\""),
        ),
        (
            json!({"get_client_env": {"client_names": ["é"]}}),
            Invalid("client name"),
        ),
        (
            json!({"remove_client": {"client_name": "a b"}}),
            Invalid("client name"),
        ),
        // log targets and files
        (logs("server", None), Ok),
        (logs("@ALL", Some("log.json")), Ok),
        (logs("site-1", Some("log.txt")), Ok),
        (logs("site 1", None), Invalid("log target site name")),
        (
            logs("server", Some("../x")),
            Invalid("log file name \"../x\""),
        ),
        (
            json!({"configure_job_log": {"job_id": ID, "config": "DEBUG", "target": "site-1"}}),
            Ok,
        ),
        (
            json!({"configure_job_log": {"job_id": ID, "config": "DEBUG", "target": "client"}}),
            Ok,
        ),
        (
            json!({"configure_job_log": {"job_id": ID, "config": "DEBUG", "target": "a;b"}}),
            Invalid("log target site name"),
        ),
        (
            json!({"configure_site_log": {"config": "DEBUG", "target": "site.1"}}),
            Invalid("log target site name"),
        ),
        // studies, sites, orgs, users
        (study("show_study", "cancer-2026_a"), Ok),
        (study("show_study", ""), Invalid("study is required")),
        (
            study("remove_study", "Cancer"),
            Invalid("study name \"Cancer\""),
        ),
        (study("remove_study", "a-"), Invalid("study name")),
        (study("remove_study", &"a".repeat(64)), Invalid("1 to 63")),
        (
            study("show_study", "default"),
            Invalid("\"default\" is reserved"),
        ),
        (sites(json!({"sites": ["site-1", "site-2"]})), Ok),
        (
            sites(json!({"sites": ["site-1,site-2"]})),
            Invalid("site name \"site-1,site-2\""),
        ),
        (sites(json!({"site_orgs": ["nvidia:site-1,site-2"]})), Ok),
        (
            sites(json!({"site_orgs": ["nvidia"]})),
            Invalid("site org \"nvidia\""),
        ),
        (
            sites(json!({"site_orgs": ["nv-idia:site-1"]})),
            Invalid("org \"nv-idia\""),
        ),
        (
            sites(json!({"site_orgs": ["nvidia:site 1"]})),
            Invalid("site name \"site 1\""),
        ),
        (user("admin@nvidia.com"), Ok),
        (user("first.last+x@sub.example.org"), Ok),
        (
            user("admin"),
            Invalid("user \"admin\" must be an admin name"),
        ),
        (user("a b@nvidia.com"), Invalid("admin name")),
        (user("admin@nvidia.c"), Invalid("admin name")),
        (user(""), Invalid("user is required")),
        // shell commands: flare_api's validate_* rules
        (ls("server", "local/a_b-c.txt"), Ok),
        (ls("site-1.x", ""), Ok),
        (ls("server; rm", ""), Invalid("target \"server; rm\"")),
        (ls("", ""), Invalid("target is required")),
        (ls("server", "/etc"), Invalid("must be relative")),
        (ls("server", "a/../b"), Invalid("must not contain '..'")),
        (ls("server", "a b"), Invalid("path \"a b\"")),
        (cat("log.txt"), Ok),
        (cat("log.txt.1"), Ok),
        (cat("startup/fed_server.json"), Ok),
        (
            cat("startup/server.key"),
            Invalid("file \"startup/server.key\" must end in"),
        ),
        (cat(".txt"), Invalid("must end in")),
        (cat(""), Invalid("file is required")),
        (
            json!({"tail_target_log": {"target": "server", "options": "-n 5"}}),
            Ok,
        ),
        (
            json!({"tail_target_log": {"target": "server", "options": "-n 5; x"}}),
            Invalid("options \"-n 5; x\""),
        ),
        // nothing to check
        (json!("get_system_info"), Ok),
        (json!({"do_command": {"command": "anything 'at all"}}), Ok),
    ]
}

#[test]
fn every_id_target_and_prefix_follows_nvflares_rules() {
    for (json, want) in rows() {
        let got = args::check(&command(json.clone()));
        match (&want, &got) {
            (Want::Ok, Ok(())) => {}
            (Want::Invalid(s), Err(FlareError::InvalidArgument { message }))
            | (Want::NoJob(s), Err(FlareError::JobNotFound { message }))
                if message.contains(s) =>
            {
                assert!(
                    !message.ends_with('.') && !message.starts_with(char::is_uppercase),
                    "{json}: message style: {message}"
                );
            }
            _ => panic!("{json}: got {got:?}"),
        }
    }
}
