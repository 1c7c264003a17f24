//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`), the reproducers of fixed crashes
//! (`fuzz/regressions/<target>/`) and the seeds through the entry points the fuzz targets call,
//! so a decoder that panics or hangs on a known input fails `cargo test` on stable, without
//! nightly or cargo-fuzz.
//!
//! `FLARE_FUZZ_SEED=1 cargo test -p flare-relay --test fuzz_corpus` (re)writes the seeds — the
//! golden captures' frames and payloads plus the handmade inputs below — into the corpora.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flare_client::fuzzing::{self as client, Seed};
use flare_relay::fuzzing as relay;
use zip::write::SimpleFileOptions;

/// The longest one input may take (debug build, a shared CI machine).
const PER_INPUT: Duration = Duration::from_secs(5);

type Entry = fn(&[u8]) -> bool;

/// The fuzz targets and their entry points (`fuzz/fuzz_targets/<target>.rs`).
const TARGETS: [(&str, Entry); 6] = [
    ("sfm_frame", |d| client::sfm_frame(d).is_ok()),
    ("fobs_decode", |d| client::fobs_decode(d).is_ok()),
    ("stream_reassembly", |d| {
        client::stream_reassembly(d).is_ok()
    }),
    ("client_frame", |d| relay::client_frame(d).is_ok()),
    ("upload_entry_names", |d| {
        relay::upload_entry_names(d).is_ok()
    }),
    ("zip_reader", |d| relay::zip_reader(d).is_ok()),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn entry(target: &str) -> Entry {
    TARGETS.iter().find(|(t, _)| *t == target).expect(target).1
}

/// Runs one input, timing it; returns whether the entry point accepted it.
fn run(target: &str, name: &str, bytes: &[u8]) -> bool {
    let started = Instant::now();
    let ok = entry(target)(bytes);
    let took = started.elapsed();
    assert!(took < PER_INPUT, "{target}/{name} took {took:?}");
    ok
}

/// The committed inputs of a target: its corpus and the reproducers of fixed crashes.
fn committed(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["corpus", "regressions"] {
        let dir = root().join("fuzz").join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            assert_ne!(kind, "corpus", "{} is missing", dir.display());
            continue;
        };
        files.extend(entries.map(|e| e.expect("corpus entry").path()));
    }
    files.sort();
    files
}

#[test]
fn every_committed_corpus_input_is_handled() {
    let started = Instant::now();
    let mut total = 0;
    for (target, _) in TARGETS {
        let files = committed(target);
        assert!(!files.is_empty(), "{target} has an empty corpus");
        for file in &files {
            let bytes = std::fs::read(file).expect("corpus file");
            run(target, &file.display().to_string(), &bytes);
        }
        total += files.len();
    }
    eprintln!("replayed {total} inputs in {:?}", started.elapsed());
}

#[test]
fn seeds_are_handled_and_the_golden_ones_decode() {
    let seeds = seeds();
    let write = std::env::var_os("FLARE_FUZZ_SEED").is_some();
    for seed in &seeds {
        let ok = run(seed.target, &seed.name, &seed.bytes);
        if seed.name.starts_with("golden-frame") {
            assert!(ok, "{}/{} is refused", seed.target, seed.name);
        }
        if seed.target == "stream_reassembly" {
            assert_eq!(
                client::stream_reassembly(&seed.bytes),
                Ok(1),
                "{}",
                seed.name
            );
        }
        if write {
            let dir = root().join("fuzz/corpus").join(seed.target);
            std::fs::create_dir_all(&dir).expect("corpus folder");
            std::fs::write(dir.join(&seed.name), &seed.bytes).expect("seed");
        }
    }
    for (target, _) in TARGETS {
        assert!(
            seeds.iter().any(|s| s.target == target),
            "no seed for {target}"
        );
    }
}

fn seeds() -> Vec<Seed> {
    let golden = root().join("crates/flare-client/tests/golden");
    let read = |name: &str| std::fs::read_to_string(golden.join(name)).expect(name);
    let mut seeds =
        client::golden_seeds(&read("transcript_basic.json"), &read("decoded_basic.txt"))
            .expect("golden seeds");
    seeds.extend(client_frame_seeds());
    seeds.extend(entry_name_seeds());
    seeds.extend(zip_seeds());
    seeds
}

fn seed(target: &'static str, name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Seed {
    Seed {
        target,
        name: name.into(),
        bytes: bytes.into(),
    }
}

/// The model's golden client frames, every golden command as a frame, and broken frames.
fn client_frame_seeds() -> Vec<Seed> {
    let golden = root().join("crates/flare-model/tests/golden");
    let json = |name: &str| -> Vec<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(golden.join(name)).expect(name)).expect(name)
    };
    let mut out = Vec::new();
    for (i, frame) in json("client_frames.json").into_iter().enumerate() {
        out.push(seed(
            "client_frame",
            format!("golden-frame-{i:02}"),
            frame.to_string(),
        ));
    }
    for file in ["read_commands.json", "mutate_commands.json"] {
        for (i, command) in json(file).into_iter().enumerate() {
            let frame = serde_json::json!({"id": i + 10, "command": command});
            let stem = file.trim_end_matches("_commands.json");
            out.push(seed(
                "client_frame",
                format!("golden-{stem}-{i:02}"),
                frame.to_string(),
            ));
        }
    }
    let bad = [
        "",
        "null",
        "[]",
        "{}",
        r#"{"id":-1,"command":"get_system_info"}"#,
        r#"{"id":1.5,"command":"get_system_info"}"#,
        r#"{"id":18446744073709551615,"command":"get_system_info"}"#,
        r#"{"id":18446744073709551616,"command":"get_system_info"}"#,
        r#"{"id":1}"#,
        r#"{"id":1,"command":"get_system_info","subscribe":"jobs"}"#,
        r#"{"id":1,"command":"no_such_command"}"#,
        r#"{"id":1,"command":{"abort_job":{}}}"#,
        r#"{"id":1,"command":{"abort_job":{"job_id":7}}}"#,
        r#"{"id":1,"command":{"abort_job":{"job_id":"a"},"clone_job":{"job_id":"b"}}}"#,
        r#"{"id":1,"subscribe":{"job":{"job_id":null}}}"#,
        r#"{"id":1,"subscribe":"nope"}"#,
        r#"{"id":1,"hello":"there"}"#,
        r#"{"id":1,"id":2,"command":"get_system_info"}"#,
        "{\"id\":1,\"command\":\"get_system_info\u{0}\"}",
    ];
    for (i, text) in bad.into_iter().enumerate() {
        out.push(seed("client_frame", format!("bad-{i:02}"), text));
    }
    let deep = format!(
        "{{\"id\":1,\"command\":{}1{}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    out.push(seed("client_frame", "bad-deep", deep));
    out
}

fn entry_name_seeds() -> Vec<Seed> {
    let names = [
        "meta.json",
        "job/meta.json",
        "job/app/config/config_fed_server.json",
        "job/",
        "./job/./meta.json",
        "job//meta.json",
        "../evil",
        "job/../../evil",
        "..",
        "/etc/passwd",
        "\\windows\\evil",
        "job\\..\\evil",
        "C:/evil",
        "c:evil",
        "__MACOSX/job/._meta.json",
        "job/.DS_Store",
        "job/\u{0}/meta.json",
        "job/\u{7f}x",
        "job/\u{202e}nosj.atem",
        "...",
        ".",
        "",
    ];
    names
        .into_iter()
        .enumerate()
        .map(|(i, n)| seed("upload_entry_names", format!("name-{i:02}"), n))
        .collect()
}

/// A zip of `(name, contents)` files; a name ending in `@` is a symlink to `/etc/passwd`.
fn zip_of(files: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(method);
    for (name, data) in files {
        if let Some(link) = name.strip_suffix('@') {
            zw.add_symlink(link, "/etc/passwd", options)
                .expect("symlink");
        } else if name.ends_with('/') {
            zw.add_directory(*name, options).expect("dir");
        } else {
            zw.start_file(*name, options).expect("file");
            zw.write_all(data).expect("write");
        }
    }
    zw.finish().expect("zip").into_inner()
}

/// Sets every entry's declared uncompressed size (local and central headers) to `size`.
fn declare_size(mut zip: Vec<u8>, size: u32) -> Vec<u8> {
    for i in 0..zip.len().saturating_sub(30) {
        let at = match &zip[i..i + 4] {
            [0x50, 0x4b, 0x03, 0x04] => i + 22,
            [0x50, 0x4b, 0x01, 0x02] => i + 24,
            _ => continue,
        };
        zip[at..at + 4].copy_from_slice(&size.to_le_bytes());
    }
    zip
}

/// Replaces every occurrence of `from` by `to` (same length): names the zip writer refuses.
fn replace(mut zip: Vec<u8>, from: &[u8], to: &[u8]) -> Vec<u8> {
    for i in 0..zip.len().saturating_sub(from.len() - 1) {
        if &zip[i..i + from.len()] == from {
            zip[i..i + to.len()].copy_from_slice(to);
        }
    }
    zip
}

/// Sets the "encrypted" flag of every entry.
fn flag_encrypted(mut zip: Vec<u8>) -> Vec<u8> {
    for i in 0..zip.len().saturating_sub(30) {
        let at = match &zip[i..i + 4] {
            [0x50, 0x4b, 0x03, 0x04] => i + 6,
            [0x50, 0x4b, 0x01, 0x02] => i + 8,
            _ => continue,
        };
        zip[at] |= 1;
    }
    zip
}

fn zip_seeds() -> Vec<Seed> {
    use zip::CompressionMethod::{Deflated, Stored};
    let meta: &[u8] = br#"{"name": "hello", "min_clients": 2}"#;
    let job = [
        ("hello/", &b""[..]),
        ("hello/meta.json", meta),
        ("hello/app/config/config_fed_client.json", b"{}"),
    ];
    let zeros = vec![0u8; 2 * 1024 * 1024];
    vec![
        seed("zip_reader", "job-wrapped", zip_of(&job, Deflated)),
        seed(
            "zip_reader",
            "job-flat",
            zip_of(&[("meta.json", meta)], Stored),
        ),
        seed("zip_reader", "dotdot", zip_of(&[("../evil", b"x")], Stored)),
        seed(
            "zip_reader",
            "dotdot-inner",
            zip_of(&[("a/../../evil", b"x")], Stored),
        ),
        seed(
            "zip_reader",
            "absolute",
            zip_of(&[("/tmp/evil", b"x")], Stored),
        ),
        seed(
            "zip_reader",
            "backslash",
            zip_of(&[("..\\evil", b"x")], Stored),
        ),
        seed("zip_reader", "drive", zip_of(&[("C:/evil", b"x")], Stored)),
        seed(
            "zip_reader",
            "symlink",
            zip_of(&[("meta.json", meta), ("link@", b"")], Stored),
        ),
        seed(
            "zip_reader",
            "twice",
            replace(
                zip_of(&[("dup1", b"1"), ("dup2", b"2")], Stored),
                b"dup2",
                b"dup1",
            ),
        ),
        seed(
            "zip_reader",
            "file-and-folder",
            zip_of(&[("a", b"1"), ("a/b", b"2")], Stored),
        ),
        seed("zip_reader", "bomb", zip_of(&[("zeros", &zeros)], Deflated)),
        seed(
            "zip_reader",
            "huge-declared",
            declare_size(zip_of(&[("meta.json", meta)], Stored), u32::MAX),
        ),
        seed(
            "zip_reader",
            "huge-declared-deflate",
            declare_size(zip_of(&[("meta.json", meta)], Deflated), u32::MAX - 1),
        ),
        seed(
            "zip_reader",
            "small-declared",
            declare_size(zip_of(&[("meta.json", meta)], Deflated), 3),
        ),
        seed(
            "zip_reader",
            "encrypted",
            flag_encrypted(zip_of(&[("meta.json", meta)], Stored)),
        ),
        seed("zip_reader", "empty", zip_of(&[], Stored)),
        seed("zip_reader", "not-a-zip", &b"PK\x05\x06 not really"[..]),
    ]
}
