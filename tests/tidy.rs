//! Tidy checks over the repository's own sources: every Rust module starts with a `//!` line saying
//! what it is, nothing reads the team's shared folder outside the repository, and the dependency
//! invariants of ARCHITECTURE.md hold (checked on `cargo metadata`'s resolved graph).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target"
            || name == "dist"
            || name == "node_modules"
            || name.to_string_lossy().starts_with('.')
        {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn repo_sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "crates", "tests"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(
        files.len() > 10,
        "found only {} rust files: is the walk broken?",
        files.len()
    );
    files
}

/// The code that ships: the console's `src/` and every crate's `src/` (no tests, benches or
/// examples).
fn code_sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for krate in std::fs::read_dir(root.join("crates"))
        .expect("crates/")
        .flatten()
    {
        rust_files(&krate.path().join("src"), &mut files);
    }
    files
}

#[test]
fn every_rust_module_starts_with_a_doc_line() {
    let missing: Vec<_> = repo_sources()
        .into_iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a leading //! line: {missing:#?}"
    );
}

#[test]
fn nothing_reads_the_shared_folder() {
    let needle = ["..", "/shared"].concat();
    let offenders: Vec<_> = repo_sources()
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .contains(&needle)
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "sources that reach outside the repository: {offenders:#?}"
    );
}

/// Crates that hold, parse or use private keys and certificates, or open network connections
/// that could carry them: none may reach the browser.
const KEY_CAPABLE: &[&str] = &[
    "flare-client",
    "flare-relay",
    "rustls",
    "tokio-rustls",
    "ring",
    "aws-lc-rs",
    "openssl",
    "rsa",
    "x509-parser",
    "argon2",
    "tokio",
];

/// Names that only the startup-kit code of `flare-client` may use: the kit's key file and the
/// types a loaded private key lives in.
const KEY_MATERIAL: &[&str] = &[
    "client_key",
    "client.key",
    "RsaPrivateKey",
    "PrivateKeyDer",
    "signing_key",
    "parse_key",
];

/// `cargo metadata` of the workspace for one target platform, or for every platform.
fn metadata(platform: Option<&str>) -> Value {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if let Some(platform) = platform {
        cmd.args(["--filter-platform", platform]);
    }
    let out = cmd.output().expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints json")
}

/// The resolved graph: package id → (name, ids of its normal, non-dev, non-build dependencies).
fn normal_graph(meta: &Value) -> HashMap<String, (String, Vec<String>)> {
    let names: HashMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    meta["resolve"]["nodes"]
        .as_array()
        .expect("resolve.nodes")
        .iter()
        .map(|node| {
            let id = node["id"].as_str().unwrap().to_owned();
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| d["pkg"].as_str().unwrap().to_owned())
                .collect();
            (id.clone(), (names[id.as_str()].to_owned(), deps))
        })
        .collect()
}

fn package_id(graph: &HashMap<String, (String, Vec<String>)>, name: &str) -> String {
    graph
        .iter()
        .find(|(_, (n, _))| n == name)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no package {name} in the graph"))
}

/// Names of the direct normal dependencies of `name`.
fn direct_deps(graph: &HashMap<String, (String, Vec<String>)>, name: &str) -> BTreeSet<String> {
    graph[&package_id(graph, name)]
        .1
        .iter()
        .map(|id| graph[id].0.clone())
        .collect()
}

#[test]
fn the_model_depends_on_serde_and_serde_json_only() {
    for platform in [None, Some("wasm32-unknown-unknown")] {
        let graph = normal_graph(&metadata(platform));
        let deps = direct_deps(&graph, "flare-model");
        assert_eq!(
            deps,
            BTreeSet::from(["serde".to_owned(), "serde_json".to_owned()]),
            "flare-model's dependencies ({platform:?})"
        );
    }
}

/// Names of every crate a build of `package` for `target` links (normal dependencies), with the
/// features that build resolves. `cargo metadata` unifies features across the whole workspace, so
/// a member's dev-dependency feature (flare-job's own tests build it with `cli`, which links
/// flare-client) would look linked to every user of that crate; `cargo tree -p` resolves as
/// `cargo build -p` does.
fn linked_by_build(package: &str, target: &str) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            package,
            "--target",
            target,
        ])
        .args(["-e", "normal", "--prefix", "none", "-f", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != package)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_console_links_no_crate_that_can_hold_a_key() {
    let linked = linked_by_build("flare-console", "wasm32-unknown-unknown");
    assert!(
        linked.contains("flare-model") && linked.contains("leptos"),
        "the walk is broken: {linked:?}"
    );
    let offenders: Vec<_> = KEY_CAPABLE
        .iter()
        .filter(|c| linked.contains(**c))
        .collect();
    assert!(
        offenders.is_empty(),
        "the console (wasm32) links {offenders:?}"
    );
}

#[test]
fn only_the_client_names_key_material() {
    let kit_code = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/flare-client/src");
    let offenders: Vec<_> = code_sources()
        .iter()
        .filter(|p| !p.starts_with(&kit_code))
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let hits: Vec<_> = KEY_MATERIAL
                .iter()
                .filter(|name| text.contains(**name))
                .collect();
            (!hits.is_empty()).then(|| format!("{}: {hits:?}", p.display()))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "key material named outside flare-client's kit code: {offenders:#?}"
    );
    let graph = normal_graph(&metadata(None));
    for krate in ["flare-model", "flare-relay", "flare-console"] {
        let deps = direct_deps(&graph, krate);
        assert!(
            !deps.contains("rsa"),
            "{krate} depends on rsa directly: only flare-client signs with the kit's key"
        );
    }
}

#[test]
fn one_version_of_each_websocket_crate() {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"))
        .expect("read Cargo.lock");
    for name in ["tokio-tungstenite", "tungstenite"] {
        let versions = lock.matches(&format!("name = \"{name}\"\n")).count();
        assert_eq!(versions, 1, "{name} versions in Cargo.lock");
    }
}

#[test]
fn architecture_names_every_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("read ARCHITECTURE.md");
    let unnamed: BTreeSet<String> = code_sources()
        .iter()
        // Test modules are named by their folder; pages and components by their folder's rule
        // (one route / component / endpoint per file).
        .filter(|p| {
            !p.components()
                .any(|c| c.as_os_str() == "tests" || c.as_os_str() == "browser_tests")
        })
        .filter(|p| {
            p.parent()
                .and_then(Path::file_name)
                .is_none_or(|dir| dir != "routes" && dir != "components")
        })
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
        .filter(|stem| !["lib", "main", "tests", "browser_tests"].contains(&stem.as_str()))
        .filter(|stem| !map.contains(&format!("`{stem}`")))
        .collect();
    assert!(
        unnamed.is_empty(),
        "modules ARCHITECTURE.md does not name (as `name`): {unnamed:?}"
    );
}
