//! Job archives: reading a job folder or an uploaded zip, signing it the way
//! `nvflare.lighter.utils.sign_folders` does (`.__nvfl_sig.json` + `.__nvfl_submitter.crt` in every
//! directory), zipping it with `<folder_name>/<rel path>` arcnames, and unzipping downloads safely.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read, Write};
use std::path::{Component, Path, PathBuf};

use base64::Engine;
use flare_model::FlareError;
use rsa::RsaPrivateKey;
use zip::write::SimpleFileOptions;

use crate::crypto::pss_sign;

/// The per-directory signature file.
pub(crate) const SIG_FILE: &str = ".__nvfl_sig.json";
/// The per-directory copy of the submitter's certificate.
pub(crate) const SUBMITTER_CRT: &str = ".__nvfl_submitter.crt";

fn invalid_job(message: impl Into<String>) -> FlareError {
    FlareError::InvalidJobDefinition {
        message: message.into(),
    }
}

fn internal(message: impl Into<String>) -> FlareError {
    FlareError::InternalError {
        message: message.into(),
    }
}

/// The admin's signing key and certificate file, kept by the session for job signing.
#[derive(Clone)]
pub(crate) struct Signer {
    key: RsaPrivateKey,
    cert_pem: Vec<u8>,
}

impl Signer {
    pub(crate) fn new(key: RsaPrivateKey, cert_pem: Vec<u8>) -> Self {
        Signer { key, cert_pem }
    }

    fn sign(&self, content: &[u8]) -> Result<String, FlareError> {
        let sig = pss_sign(&self.key, content)
            .map_err(|e| internal(format!("cannot sign the job folder: {e}")))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sig))
    }
}

/// One entry of a job folder: a relative `/`-separated path and the file bytes (`None`: a
/// directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) path: String,
    pub(crate) data: Option<Vec<u8>>,
}

/// True for a job folder name the server accepts (`JOB_NAME_PATTERN`: `^[A-Za-z0-9][A-Za-z0-9._-]*$`).
pub(crate) fn valid_job_folder_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn is_signature_artifact(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == SIG_FILE || name == SUBMITTER_CRT
}

/// Reads a job folder recursively. Symbolic links are refused (as `sign_folders` does); old
/// signature files are skipped (they are regenerated).
pub(crate) fn read_folder(dir: &Path) -> Result<Vec<Entry>, FlareError> {
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| invalid_job(format!("cannot read job folder {}: {e}", dir.display())))?;
    if meta.file_type().is_symlink() {
        return Err(invalid_job(format!(
            "signed folder must not be a symbolic link: {}",
            dir.display()
        )));
    }
    if !meta.is_dir() {
        return Err(invalid_job(format!(
            "job_definition_path '{}' is not a valid folder",
            dir.display()
        )));
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    Ok(out)
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<Entry>) -> Result<(), FlareError> {
    let read_err = |e: std::io::Error| invalid_job(format!("cannot read {}: {e}", dir.display()));
    let mut children: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .collect::<Result<_, _>>()
        .map_err(read_err)?;
    children.sort_by_key(std::fs::DirEntry::file_name);
    for child in children {
        let path = child.path();
        let name = child.file_name().into_string().map_err(|n| {
            invalid_job(format!("file name {n:?} in {} is not utf-8", dir.display()))
        })?;
        let rel_path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let ty = child.file_type().map_err(read_err)?;
        if ty.is_symlink() {
            return Err(invalid_job(format!(
                "symbolic links are not allowed in signed folders: {}",
                path.display()
            )));
        }
        if ty.is_dir() {
            out.push(Entry {
                path: rel_path.clone(),
                data: None,
            });
            walk(&path, &rel_path, out)?;
        } else if !is_signature_artifact(&rel_path) {
            let data = std::fs::read(&path)
                .map_err(|e| invalid_job(format!("cannot read {}: {e}", path.display())))?;
            out.push(Entry {
                path: rel_path,
                data: Some(data),
            });
        }
    }
    Ok(())
}

/// Checks that a zip entry name stays inside its folder: relative, no `..`, no backslashes, no
/// drive or root.
pub(crate) fn safe_relative(name: &str) -> Result<&str, String> {
    if name.starts_with('/') || name.starts_with('\\') || name.contains('\\') {
        return Err(format!("unsafe absolute path in zip entry: {name:?}"));
    }
    if name.split('/').any(|p| p == "..") {
        return Err(format!("unsafe '..' component in zip entry: {name:?}"));
    }
    if Path::new(name)
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!("unsafe zip entry: {name:?}"));
    }
    Ok(name)
}

/// Reads an uploaded job zip. Entries may sit at the root of the job or inside one wrapper
/// directory (`zip -r job.zip job/`), which is stripped. Unsafe names and symlinks are refused.
pub(crate) fn read_zip(bytes: &[u8]) -> Result<Vec<Entry>, FlareError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| invalid_job(format!("the job archive is not a valid zip: {e}")))?;
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive
            .by_index(i)
            .map_err(|e| invalid_job(format!("bad zip entry: {e}")))?;
        let name = f.name().to_owned();
        safe_relative(&name).map_err(invalid_job)?;
        if f.is_symlink() {
            return Err(invalid_job(format!(
                "unsafe symlink entry in zip: {name:?}"
            )));
        }
        let path = name
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect::<Vec<_>>()
            .join("/");
        if path.is_empty() {
            continue;
        }
        if f.is_dir() {
            entries.push(Entry { path, data: None });
        } else {
            // The declared size is the archive's word only: never reserve more than it holds.
            let declared = usize::try_from(f.size()).unwrap_or(0);
            let mut data = Vec::with_capacity(declared.min(bytes.len()));
            f.read_to_end(&mut data)
                .map_err(|e| invalid_job(format!("cannot read zip entry {name:?}: {e}")))?;
            if !is_signature_artifact(&path) {
                entries.push(Entry {
                    path,
                    data: Some(data),
                });
            }
        }
    }
    Ok(strip_wrapper(entries))
}

/// Drops a single wrapper directory when no file sits at the top level.
fn strip_wrapper(entries: Vec<Entry>) -> Vec<Entry> {
    let tops: BTreeSet<&str> = entries
        .iter()
        .map(|e| e.path.split('/').next().unwrap_or_default())
        .collect();
    let root_file = entries
        .iter()
        .any(|e| e.data.is_some() && !e.path.contains('/'));
    if tops.len() != 1 || root_file {
        return entries;
    }
    let prefix = format!("{}/", tops.iter().next().copied().unwrap_or_default());
    entries
        .into_iter()
        .filter_map(|e| {
            e.path.strip_prefix(&prefix).map(|p| Entry {
                path: p.to_owned(),
                data: e.data,
            })
        })
        .collect()
}

/// Signs the entries and zips them under `<folder_name>/`, directories included, stored
/// (uncompressed) as Python's `ZipFile(..., "w")` does.
pub(crate) fn build_signed_zip(
    folder_name: &str,
    entries: &[Entry],
    signer: &Signer,
) -> Result<Vec<u8>, FlareError> {
    // Every directory, the job root ("") included, with its direct children.
    let mut dirs: BTreeMap<String, (Vec<&Entry>, BTreeSet<String>)> = BTreeMap::new();
    dirs.entry(String::new()).or_default();
    let parent_of = |p: &str| {
        p.rsplit_once('/')
            .map(|(d, _)| d.to_owned())
            .unwrap_or_default()
    };
    for e in entries {
        if e.data.is_none() {
            dirs.entry(e.path.clone()).or_default();
        }
        // Register every ancestor directory and each one's sub-directory link.
        let mut child = e.path.clone();
        let mut is_dir = e.data.is_none();
        loop {
            let parent = parent_of(&child);
            let slot = dirs.entry(parent.clone()).or_default();
            if is_dir {
                let name = child.rsplit('/').next().unwrap_or(&child).to_owned();
                slot.1.insert(name);
            } else {
                slot.0.push(e);
            }
            if parent.is_empty() {
                break;
            }
            child = parent;
            is_dir = true;
        }
    }
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let zip_err = |e: zip::result::ZipError| internal(format!("cannot build the job zip: {e}"));
    let io_err = |e: std::io::Error| internal(format!("cannot build the job zip: {e}"));
    for (dir, (files, subdirs)) in &dirs {
        let arc_dir = if dir.is_empty() {
            folder_name.to_owned()
        } else {
            let d = format!("{folder_name}/{dir}");
            zw.add_directory(format!("{d}/"), stored).map_err(zip_err)?;
            d
        };
        let mut signatures = serde_json::Map::new();
        for f in files {
            let data = f.data.as_deref().unwrap_or_default();
            let name = f.path.rsplit('/').next().unwrap_or(&f.path);
            signatures.insert(name.to_owned(), signer.sign(data)?.into());
            zw.start_file(format!("{folder_name}/{}", f.path), stored)
                .map_err(zip_err)?;
            zw.write_all(data).map_err(io_err)?;
        }
        for sub in subdirs {
            signatures.insert(sub.clone(), signer.sign(sub.as_bytes())?.into());
        }
        zw.start_file(format!("{arc_dir}/{SIG_FILE}"), stored)
            .map_err(zip_err)?;
        zw.write_all(serde_json::Value::Object(signatures).to_string().as_bytes())
            .map_err(io_err)?;
        zw.start_file(format!("{arc_dir}/{SUBMITTER_CRT}"), stored)
            .map_err(zip_err)?;
        zw.write_all(&signer.cert_pem).map_err(io_err)?;
    }
    Ok(zw.finish().map_err(zip_err)?.into_inner())
}

/// Extracts `zip_path` into `out_dir`, refusing absolute names, `..` components and symlinks
/// before writing anything.
pub(crate) fn safe_unzip(zip_path: &Path, out_dir: &Path) -> Result<(), String> {
    let file = std::fs::File::open(zip_path).map_err(|e| e.to_string())?;
    let mut archive =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| e.to_string())?;
    for i in 0..archive.len() {
        let f = archive.by_index(i).map_err(|e| e.to_string())?;
        safe_relative(f.name())?;
        if f.is_symlink() {
            return Err(format!("unsafe symlink entry in zip: {:?}", f.name()));
        }
    }
    std::fs::create_dir_all(out_dir).map_err(|e| e.to_string())?;
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).map_err(|e| e.to_string())?;
        let rel: PathBuf = f
            .enclosed_name()
            .ok_or_else(|| format!("unsafe zip entry: {:?}", f.name()))?;
        let target = out_dir.join(rel);
        if f.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        let mut out = std::fs::File::create(&target).map_err(|e| e.to_string())?;
        std::io::copy(&mut f, &mut out).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod fuzz_regressions {
    //! Inputs the fuzz targets found (`fuzz/regressions/zip_reader/`), kept as named cases.

    use super::read_zip;

    /// A 150-byte zip whose one entry declares 4 GiB made `read_zip` reserve 4 GiB up front.
    #[test]
    fn read_zip_does_not_reserve_the_declared_size() {
        let zip = include_bytes!("../../../fuzz/regressions/zip_reader/oom-declared-4gib-stored");
        let entries = read_zip(zip).unwrap_or_default();
        for e in &entries {
            let capacity = e.data.as_ref().map_or(0, Vec::capacity);
            assert!(
                capacity <= zip.len(),
                "{} reserved {capacity} bytes",
                e.path
            );
        }
    }
}
