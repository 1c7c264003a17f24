//! Job archives offline: every directory of a signed zip carries signatures that verify with the
//! submitter certificate (as `verify_folder_signature` checks them), wrappers are stripped, and
//! unsafe names, symlinks and traversal are refused on the way in and on the way out.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use base64::Engine;
use flare_model::FlareError;

use crate::crypto::{cert_public_key, pss_verify};
use crate::jobzip::{
    Entry, SIG_FILE, SUBMITTER_CRT, Signer, build_signed_zip, read_folder, read_zip, safe_unzip,
    valid_job_folder_name,
};
use crate::kit::{parse_certs, parse_key};

fn pki(name: &str) -> Vec<u8> {
    std::fs::read(super::golden(&format!("pki/{name}"))).unwrap()
}

fn signer() -> Signer {
    let (_, key) = parse_key(&pki("client.key")).unwrap();
    Signer::new(key, pki("client.crt"))
}

fn file(path: &str, data: &[u8]) -> Entry {
    Entry {
        path: path.to_owned(),
        data: Some(data.to_vec()),
    }
}

fn unzip_map(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..a.len() {
        let mut f = a.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.insert(f.name().to_owned(), data);
    }
    out
}

#[test]
fn every_directory_is_signed_with_the_submitter_certificate() {
    let entries = vec![
        file("meta.json", b"{\"name\": \"j\"}"),
        Entry {
            path: "app".to_owned(),
            data: None,
        },
        file("app/config/config_fed_server.json", b"{}"),
        file("app/custom/x.py", b"print(1)"),
    ];
    let zip = build_signed_zip("my-job", &entries, &signer()).unwrap();
    let files = unzip_map(&zip);
    let cert = parse_certs(&pki("client.crt")).unwrap();
    let key = cert_public_key(&cert[0]).unwrap();
    for dir in [
        "my-job",
        "my-job/app",
        "my-job/app/config",
        "my-job/app/custom",
    ] {
        assert!(
            files.contains_key(&format!("{dir}/")) || dir == "my-job",
            "{dir}/ listed"
        );
        assert_eq!(files[&format!("{dir}/{SUBMITTER_CRT}")], pki("client.crt"));
        let sigs: BTreeMap<String, String> =
            serde_json::from_slice(&files[&format!("{dir}/{SIG_FILE}")]).unwrap();
        assert!(!sigs.is_empty(), "{dir}");
        for (name, sig) in sigs {
            let sig = base64::engine::general_purpose::STANDARD
                .decode(sig)
                .unwrap();
            // A file's signature covers its bytes; a sub-folder's covers its name.
            let content = files
                .get(&format!("{dir}/{name}"))
                .cloned()
                .unwrap_or_else(|| name.clone().into_bytes());
            assert!(pss_verify(&key, &content, &sig), "{dir}/{name}");
        }
    }
    let root: BTreeMap<String, String> =
        serde_json::from_slice(&files[&format!("my-job/{SIG_FILE}")]).unwrap();
    assert_eq!(
        root.keys().collect::<Vec<_>>(),
        ["app", "meta.json"],
        "the root signs its file and its sub-folder"
    );
    assert_eq!(files["my-job/app/custom/x.py"], b"print(1)");
}

#[test]
fn zips_are_read_with_or_without_a_wrapper_and_old_signatures_are_dropped() {
    let build = |names: &[&str]| {
        let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for n in names {
            if n.ends_with('/') {
                zw.add_directory(*n, zip::write::SimpleFileOptions::default())
                    .unwrap();
            } else {
                zw.start_file(*n, zip::write::SimpleFileOptions::default())
                    .unwrap();
                zw.write_all(n.as_bytes()).unwrap();
            }
        }
        zw.finish().unwrap().into_inner()
    };
    let wrapped = read_zip(&build(&[
        "job/",
        "job/meta.json",
        "job/app/a.txt",
        "job/.__nvfl_sig.json",
    ]))
    .unwrap();
    let paths: Vec<_> = wrapped.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["meta.json", "app/a.txt"]);
    let flat = read_zip(&build(&["meta.json", "app/", "app/a.txt"])).unwrap();
    let paths: Vec<_> = flat.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["meta.json", "app", "app/a.txt"]);

    for bad in ["../x.txt", "/abs.txt", "a/../../x", "a\\b.txt"] {
        let err = read_zip(&build(&[bad])).unwrap_err();
        assert!(
            matches!(err, FlareError::InvalidJobDefinition { .. }),
            "{bad}: {err:?}"
        );
    }
    assert!(matches!(
        read_zip(b"not a zip"),
        Err(FlareError::InvalidJobDefinition { .. })
    ));
}

#[test]
fn folders_with_symlinks_are_refused_and_names_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let job = tmp.path().join("job");
    std::fs::create_dir_all(job.join("app")).unwrap();
    std::fs::write(job.join("meta.json"), "{}").unwrap();
    std::fs::write(job.join("app").join(SIG_FILE), "{}").unwrap();
    let entries = read_folder(&job).unwrap();
    let paths: Vec<_> = entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["app", "meta.json"],
        "old signature files are regenerated"
    );
    std::os::unix::fs::symlink("/etc/hostname", job.join("app/link")).unwrap();
    let err = read_folder(&job).unwrap_err();
    assert!(
        matches!(&err, FlareError::InvalidJobDefinition { message } if message.contains("symbolic")),
        "{err:?}"
    );
    for ok in ["hello-numpy", "a.b_c-1", "X"] {
        assert!(valid_job_folder_name(ok), "{ok}");
    }
    for bad in ["", "-x", ".hidden", "has space", "a/b", "ü"] {
        assert!(!valid_job_folder_name(bad), "{bad}");
    }
}

#[test]
fn safe_unzip_refuses_traversal_before_writing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let zip_path = tmp.path().join("evil.zip");
    let mut zw = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    zw.start_file("ok.txt", opts).unwrap();
    zw.write_all(b"fine").unwrap();
    zw.start_file("../escaped.txt", opts).unwrap();
    zw.write_all(b"bad").unwrap();
    zw.finish().unwrap();
    let out = tmp.path().join("out");
    let err = safe_unzip(&zip_path, &out).unwrap_err();
    assert!(err.contains(".."), "{err}");
    assert!(!out.exists(), "nothing was extracted");
    assert!(!tmp.path().join("escaped.txt").exists());

    let good = tmp.path().join("good.zip");
    let mut zw = zip::ZipWriter::new(std::fs::File::create(&good).unwrap());
    zw.add_directory("d/", opts).unwrap();
    zw.start_file("d/f.txt", opts).unwrap();
    zw.write_all(b"data").unwrap();
    zw.finish().unwrap();
    safe_unzip(&good, &out).unwrap();
    assert_eq!(std::fs::read(out.join("d/f.txt")).unwrap(), b"data");
}
