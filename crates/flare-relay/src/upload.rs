//! Unpacking an uploaded job safely: every entry name is checked (no absolute paths, no `..`, no
//! backslashes or drive letters, no symlinks), entries and unpacked bytes are capped (declared sizes
//! first, then counted while writing, so a zip bomb stops at the cap), files are only ever created
//! fresh inside the upload's own temporary folder, and the result must be one job folder with a
//! `meta.json` (or `meta.conf`/`meta.yml`) at its root.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use futures_util::Stream;
use tokio::io::AsyncWriteExt;
use zip::ZipArchive;

/// The meta file names NVFlare accepts at a job's root (`ConfigFormat.config_ext_formats`).
pub const META_FILES: [&str; 8] = [
    "meta.json",
    "meta.conf",
    "meta.yml",
    "meta.yaml",
    "meta.json.default",
    "meta.conf.default",
    "meta.yml.default",
    "meta.yaml.default",
];

/// Why an upload is refused. `Invalid` and `TooLarge` messages say what is wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The upload is malformed or unsafe (HTTP 400).
    #[error("{0}")]
    Invalid(String),
    /// The upload is bigger than the relay accepts (HTTP 413).
    #[error("{0}")]
    TooLarge(String),
    /// The relay failed to store it (HTTP 500).
    #[error("{0}")]
    Internal(String),
}

fn invalid(message: impl Into<String>) -> UploadError {
    UploadError::Invalid(message.into())
}

fn internal(what: &str, e: impl std::fmt::Display) -> UploadError {
    UploadError::Internal(format!("cannot store the upload: {what}: {e}"))
}

/// Caps on one upload's content.
#[derive(Clone, Copy, Debug)]
pub struct UploadLimits {
    /// Files and folders.
    pub max_entries: usize,
    /// Total bytes once unpacked.
    pub max_extracted_bytes: u64,
}

/// What an upload unpacked to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpacked {
    pub files: usize,
    pub bytes: u64,
}

/// Counts entries and bytes against the limits.
struct Budget {
    limits: UploadLimits,
    entries: usize,
    files: usize,
    bytes: u64,
}

impl Budget {
    fn new(limits: UploadLimits) -> Self {
        Budget {
            limits,
            entries: 0,
            files: 0,
            bytes: 0,
        }
    }

    fn entry(&mut self, name: &str) -> Result<(), UploadError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(too_many_entries(name, self.limits.max_entries));
        }
        Ok(())
    }

    fn add(&mut self, n: u64, name: &str) -> Result<(), UploadError> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.limits.max_extracted_bytes {
            return Err(too_big_unpacked(name, self.limits.max_extracted_bytes));
        }
        Ok(())
    }

    fn unpacked(&self) -> Unpacked {
        Unpacked {
            files: self.files,
            bytes: self.bytes,
        }
    }
}

fn too_many_entries(name: &str, max: usize) -> UploadError {
    invalid(format!(
        "too many entries: {name:?} is past the limit of {max} files and folders per upload; \
         remove files the job does not need (or raise [limits] max_upload_entries)"
    ))
}

fn too_big_unpacked(name: &str, max: u64) -> UploadError {
    invalid(format!(
        "the unpacked job is too big: entry {name:?} takes it past the limit of {max} bytes; \
         remove large files from the job (or raise [limits] max_upload_extracted_bytes)"
    ))
}

/// Checks an entry name (a zip member or a multipart file name) and returns its path components,
/// or `None` for entries to skip (`./`, macOS `__MACOSX/` and `.DS_Store` litter).
pub fn entry_components(name: &str) -> Result<Option<Vec<String>>, UploadError> {
    if name.is_empty() {
        return Err(invalid("an entry has an empty name: name every file"));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "entry {name:?} has control characters in its name: rename it"
        )));
    }
    if name.contains('\\') {
        return Err(invalid(format!(
            "entry {name:?} contains a backslash: entry names must use / between folders \
             (re-create the archive with a zip tool that does)"
        )));
    }
    if name.starts_with('/') {
        return Err(invalid(format!(
            "entry {name:?} is an absolute path: entries must be relative to the job folder"
        )));
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(invalid(format!(
            "entry {name:?} starts with a drive letter: entries must be relative to the job folder"
        )));
    }
    let mut components = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(invalid(format!(
                    "entry {name:?} has a '..' component: entries must stay inside the job folder"
                )));
            }
            part => components.push(part.to_owned()),
        }
    }
    let junk = components.first().is_some_and(|c| c == "__MACOSX")
        || components.last().is_some_and(|c| c == ".DS_Store");
    if components.is_empty() || junk {
        return Ok(None);
    }
    Ok(Some(components))
}

fn join(root: &Path, components: &[String]) -> PathBuf {
    let mut path = root.to_owned();
    path.extend(components);
    path
}

fn create_file(path: &Path, name: &str) -> Result<File, UploadError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| clash(name, e))?;
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| clash(name, e))
}

fn clash(name: &str, e: std::io::Error) -> UploadError {
    match e.kind() {
        ErrorKind::AlreadyExists => invalid(format!(
            "entry {name:?} appears twice in the upload: keep one copy"
        )),
        ErrorKind::NotADirectory | ErrorKind::IsADirectory => invalid(format!(
            "entry {name:?} is both a file and a folder in the upload: rename one of them"
        )),
        _ => internal(&format!("entry {name:?}"), e),
    }
}

/// Unpacks a zip archive into `raw` (an empty folder). Blocking.
pub fn extract_zip(zip: &Path, raw: &Path, limits: UploadLimits) -> Result<Unpacked, UploadError> {
    let file = File::open(zip).map_err(|e| internal("cannot reopen the archive", e))?;
    let mut archive = ZipArchive::new(BufReader::new(file)).map_err(|e| {
        invalid(format!(
            "the upload is not a readable zip archive ({e}): send a .zip file"
        ))
    })?;
    let mut budget = Budget::new(limits);
    // First pass over the central directory: names, kinds and declared sizes, before any write.
    let mut declared = 0u64;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| invalid(format!("entry #{i} of the archive is unreadable: {e}")))?;
        let name = entry.name().to_owned();
        budget.entry(&name)?;
        entry_components(&name)?;
        if entry.is_symlink() {
            return Err(invalid(format!(
                "entry {name:?} is a symbolic link: links are not allowed in a job; \
                 replace it with the file it points to"
            )));
        }
        if entry.encrypted() {
            return Err(invalid(format!(
                "entry {name:?} is encrypted: send an archive without a password"
            )));
        }
        declared = declared.saturating_add(entry.size());
        if declared > limits.max_extracted_bytes {
            return Err(too_big_unpacked(&name, limits.max_extracted_bytes));
        }
    }
    // Second pass: write, counting the bytes that really come out.
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| invalid(format!("entry #{i} of the archive is unreadable: {e}")))?;
        let name = entry.name().to_owned();
        let Some(components) = entry_components(&name)? else {
            continue;
        };
        let path = join(raw, &components);
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(|e| clash(&name, e))?;
            continue;
        }
        let mut out = create_file(&path, &name)?;
        budget.files += 1;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = entry.read(&mut buf).map_err(|e| {
                invalid(format!(
                    "entry {name:?} cannot be unpacked ({e}): re-create the archive with deflate \
                     or no compression"
                ))
            })?;
            if n == 0 {
                break;
            }
            budget.add(n as u64, &name)?;
            out.write_all(&buf[..n])
                .map_err(|e| internal(&format!("entry {name:?}"), e))?;
        }
    }
    Ok(budget.unpacked())
}

/// A multipart upload: each part with a file name is one file (its name the relative path, as a
/// browser folder drop sends it); a text part named `name` names the job when the files sit at the
/// root. Written into `raw` (an empty folder) as the parts stream in.
pub async fn extract_multipart<S>(
    stream: S,
    boundary: &str,
    raw: &Path,
    limits: UploadLimits,
) -> Result<(Unpacked, Option<String>), UploadError>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut budget = Budget::new(limits);
    let mut job_name = None;
    let malformed =
        |e: multer::Error| invalid(format!("the multipart body is malformed ({e}): resend it"));
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        let Some(name) = field.file_name().map(str::to_owned) else {
            if field.name() == Some("name") {
                let text = field.text().await.map_err(malformed)?;
                job_name = Some(text.chars().take(256).collect());
            }
            continue;
        };
        budget.entry(&name)?;
        let Some(components) = entry_components(&name)? else {
            continue;
        };
        let path = join(raw, &components);
        if name.ends_with('/') {
            tokio::fs::create_dir_all(&path)
                .await
                .map_err(|e| clash(&name, e))?;
            continue;
        }
        let file = {
            let (path, name) = (path.clone(), name.clone());
            tokio::task::spawn_blocking(move || create_file(&path, &name))
                .await
                .map_err(|e| internal("the file task failed", e))??
        };
        let mut out = tokio::fs::File::from_std(file);
        budget.files += 1;
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            budget.add(chunk.len() as u64, &name)?;
            out.write_all(&chunk)
                .await
                .map_err(|e| internal(&format!("entry {name:?}"), e))?;
        }
        out.flush()
            .await
            .map_err(|e| internal(&format!("entry {name:?}"), e))?;
    }
    Ok((budget.unpacked(), job_name))
}

/// A job folder name NVFlare accepts (`^[A-Za-z0-9][A-Za-z0-9._-]*$`), made from any name: a
/// trailing `.zip` dropped, other characters replaced by `_`, at most 64 characters, `job` when
/// nothing is left.
pub fn sanitize_folder_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let stem = if base.to_ascii_lowercase().ends_with(".zip") {
        &base[..base.len() - 4]
    } else {
        base
    };
    let replaced: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed: String = replaced
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .chars()
        .take(64)
        .collect();
    if trimmed.is_empty() {
        "job".to_owned()
    } else {
        trimmed
    }
}

/// True when `dir` has a meta file at its root.
pub fn has_meta(dir: &Path) -> bool {
    META_FILES.iter().any(|m| dir.join(m).is_file())
}

/// Finds the job in `raw` (a single top-level folder, or files at the root named after
/// `fallback_name`), checks its meta file, and moves it to `parent/<folder name>`. Returns the
/// folder name and the job folder. Blocking.
pub fn place_job(
    raw: &Path,
    parent: &Path,
    fallback_name: &str,
) -> Result<(String, PathBuf), UploadError> {
    let mut top = Vec::new();
    for entry in std::fs::read_dir(raw).map_err(|e| internal("cannot list the upload", e))? {
        let entry = entry.map_err(|e| internal("cannot list the upload", e))?;
        top.push(entry);
        if top.len() > 1 {
            break;
        }
    }
    let (root, name) = match top.as_slice() {
        [] => return Err(invalid("the upload holds no files: send a job folder")),
        [only] if only.path().is_dir() => (
            only.path(),
            sanitize_folder_name(&only.file_name().to_string_lossy()),
        ),
        _ => (raw.to_owned(), sanitize_folder_name(fallback_name)),
    };
    if !has_meta(&root) {
        let shown = if root == raw {
            "the upload's root".to_owned()
        } else {
            format!("{name}/")
        };
        return Err(invalid(format!(
            "no meta.json (or meta.conf / meta.yml) in {shown}: a job is one folder with \
             meta.json at its root next to its app folders"
        )));
    }
    let job_dir = parent.join(&name);
    std::fs::create_dir_all(parent).map_err(|e| internal("cannot create the job folder", e))?;
    std::fs::rename(&root, &job_dir).map_err(|e| internal("cannot move the job folder", e))?;
    Ok((name, job_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_are_checked() {
        assert_eq!(
            entry_components("job/app/config/a.json").expect("ok"),
            Some(vec![
                "job".into(),
                "app".into(),
                "config".into(),
                "a.json".into()
            ])
        );
        assert_eq!(
            entry_components("./job//meta.json").expect("ok"),
            Some(vec!["job".into(), "meta.json".into()])
        );
        assert_eq!(
            entry_components("__MACOSX/job/._meta.json").expect("ok"),
            None
        );
        assert_eq!(entry_components("job/.DS_Store").expect("ok"), None);
        for (bad, want) in [
            ("/etc/passwd", "absolute path"),
            ("../evil", "'..' component"),
            ("job/../../evil", "'..' component"),
            ("job\\meta.json", "backslash"),
            ("C:/evil", "drive letter"),
            ("", "empty name"),
            ("job/a\nb", "control characters"),
        ] {
            let err = entry_components(bad).expect_err(bad).to_string();
            assert!(err.contains(want), "{bad}: {err}");
        }
    }

    #[test]
    fn folder_names_are_sanitized() {
        assert_eq!(sanitize_folder_name("hello-numpy.zip"), "hello-numpy");
        assert_eq!(sanitize_folder_name("My Job (2).ZIP"), "My_Job__2_");
        assert_eq!(sanitize_folder_name("../..zip"), "job");
        assert_eq!(sanitize_folder_name("C:\\jobs\\a.b"), "a.b");
        assert_eq!(sanitize_folder_name("_x"), "x");
        assert_eq!(sanitize_folder_name(&"a".repeat(100)).len(), 64);
    }
}
