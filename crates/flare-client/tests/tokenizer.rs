//! `join_args` against NVFlare's own tokenizer: every line it builds, split by the venv's
//! `nvflare.fuel.hci.cmd_arg_utils.split_to_args` (what the server runs on each command), gives
//! back the arguments exactly. NVFlare's own `join_args` fails some of these rows (a lone `'`
//! next to a quoted argument); the last check shows that, so the difference stays deliberate.

use std::io::Write;
use std::process::{Command, Stdio};

use flare_client::join_args;
use flare_poc::Poc;

/// Argument lists, one per character class and their mixes.
fn rows() -> Vec<Vec<String>> {
    let classes = [
        "plain-1.0_a",
        "my job",
        "tab\there",
        "new\nline",
        "it's",
        "'",
        "a\"b",
        "\"",
        "a#b",
        "#",
        "# props",
        r"c\d",
        r"\",
        r#"\""#,
        "données-é😀",
        "a\u{a0}b",
        "",
        "--",
        "-x",
        r#"a'b"c\d#e f"#,
        "  lead and trail  ",
    ];
    let mut rows: Vec<Vec<String>> = classes
        .iter()
        .map(|c| vec!["cmd".to_owned(), (*c).to_owned()])
        .collect();
    // Each class next to each other one: a quote anywhere sends the whole line through shlex.
    for a in classes {
        for b in classes {
            rows.push(vec!["cmd".into(), a.into(), "plain".into(), b.into()]);
        }
    }
    rows
}

/// Runs `script` with the venv's python, `input` as JSON on its stdin; its JSON stdout.
fn run_python(script: &str, input: impl serde::Serialize) -> Vec<Vec<String>> {
    let python = Poc::venv_python();
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `split_to_args` of each line, by the venv's python.
fn split_by_nvflare(lines: &[String]) -> Vec<Vec<String>> {
    let script = "import json, sys\n\
                  from nvflare.fuel.hci.cmd_arg_utils import split_to_args\n\
                  lines = json.load(sys.stdin)\n\
                  json.dump([split_to_args(l) for l in lines], sys.stdout)\n";
    run_python(script, lines)
}

/// NVFlare's own `join_args` of each argument list, then its `split_to_args`.
fn nvflare_round_trip(parts: &[Vec<String>]) -> Vec<Vec<String>> {
    let script = "import json, sys\n\
                  from nvflare.fuel.hci.cmd_arg_utils import join_args, split_to_args\n\
                  parts = json.load(sys.stdin)\n\
                  json.dump([split_to_args(join_args(p)) for p in parts], sys.stdout)\n";
    run_python(script, parts)
}

#[test]
fn nvflare_split_to_args_gives_back_every_argument_exactly() {
    let rows = rows();
    let lines: Vec<String> = rows.iter().map(|p| join_args(p)).collect();
    let split = split_by_nvflare(&lines);
    assert_eq!(split.len(), rows.len());
    let wrong: Vec<_> = rows
        .iter()
        .zip(&lines)
        .zip(&split)
        .filter(|((parts, _), got)| parts != got)
        .map(|((parts, line), got)| format!("{parts:?} -> {line:?} -> {got:?}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} rows differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn nvflares_own_join_args_loses_a_lone_single_quote_next_to_a_quoted_argument() {
    let parts = vec![vec!["cmd".to_owned(), "it's".to_owned(), "a b".to_owned()]];
    let got = nvflare_round_trip(&parts);
    assert_eq!(got, [["cmd", "it's", "\"a", "b\""]]);
    assert_eq!(split_by_nvflare(&[join_args(&parts[0])]), parts);
}
