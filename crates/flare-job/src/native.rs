//! Native file system support: resources read from a source folder, jobs written to a folder.

use std::path::{Path, PathBuf};

use crate::JobError;
use crate::export::{ExportedJob, Loaded, ResourceLoader};

fn io(path: &Path, e: std::io::Error) -> JobError {
    JobError::Io {
        path: path.display().to_string(),
        message: e.to_string().to_lowercase(),
    }
}

/// Resources read from the file system; relative paths are resolved against `base` (nvflare
/// resolves them against the current directory).
#[derive(Debug, Clone)]
pub struct FsResources {
    base: PathBuf,
}

impl FsResources {
    /// Resources relative to `base`.
    pub fn new(base: impl Into<PathBuf>) -> FsResources {
        FsResources { base: base.into() }
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> Result<(), JobError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((
                rel.join("/"),
                std::fs::read(&path).map_err(|e| io(&path, e))?,
            ));
        }
    }
    Ok(())
}

impl ResourceLoader for FsResources {
    fn load(&self, path: &str) -> Result<Option<Loaded>, JobError> {
        let full = self.base.join(path);
        if full.is_dir() {
            let mut files = Vec::new();
            walk(&full, &full, &mut files)?;
            Ok(Some(Loaded::Dir(files)))
        } else if full.is_file() {
            Ok(Some(Loaded::File(
                std::fs::read(&full).map_err(|e| io(&full, e))?,
            )))
        } else {
            Ok(None)
        }
    }
}

impl ExportedJob {
    /// Writes the job to `job_root/<name>` (an existing export of the same job is replaced, as
    /// nvflare does; any other folder there is an error) and returns that folder.
    pub fn write_to(&self, job_root: &Path) -> Result<PathBuf, JobError> {
        let dir = job_root.join(&self.name);
        if dir.exists() {
            let meta = std::fs::read(dir.join("meta.json")).ok();
            let owned = meta
                .and_then(|m| serde_json::from_slice::<serde_json::Value>(&m).ok())
                .is_some_and(|m| {
                    m.get("name").and_then(|n| n.as_str()) == Some(self.name.as_str())
                });
            if !owned {
                return Err(JobError::Io {
                    path: dir.display().to_string(),
                    message: format!(
                        "job folder already exists and does not belong to job {}",
                        self.name
                    ),
                });
            }
            std::fs::remove_dir_all(&dir).map_err(|e| io(&dir, e))?;
        }
        for (rel, bytes) in &self.files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
        }
        // nvflare creates every app's config folder even when it stays empty.
        Ok(dir)
    }
}
