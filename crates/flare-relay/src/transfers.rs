//! Files the relay holds for console sessions: uploaded job folders (submitted by upload id), the
//! configured job library (`library:<name>`), and job results and components built into one zip for
//! `GET /api/download/<id>`. Each upload and download lives in its own fresh temporary folder,
//! belongs to the console login that made it, and is deleted when it expires (or at logout).
//!
//! Bounded per login: uploads take their place before their body is read
//! ([`Transfers::reserve_upload`]); downloads are capped in number and in bytes kept in the work
//! dir, and concurrent requests for the same job's download (same NVFlare identity and study) share
//! one build.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use flare_model::{FlareError, Reply};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, WeakShared};
use tempfile::TempDir;
use tokio::time::Instant;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use crate::config::Config;
use crate::hub::Hub;
use crate::sync::lock;
use crate::upload::{UploadLimits, has_meta};

/// The prefix of upload ids that name a job library folder.
pub const LIBRARY_PREFIX: &str = "library:";

/// How often expired uploads and downloads are deleted, besides on every access.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// A job folder received by `POST /api/upload`.
#[derive(Clone)]
pub struct Upload {
    /// The console login (see [`crate::auth::LoginSession::id`]) that made it.
    pub owner: String,
    pub folder_name: String,
    pub files: usize,
    pub bytes: u64,
    /// The job folder (`<temp>/job/<folder_name>`).
    pub job_dir: PathBuf,
    /// Held while in use so a sweep cannot delete the files under a running submit.
    pub dir: Arc<TempDir>,
    expires_at: Instant,
}

/// A job folder the relay received (an upload, a composed job), before it is kept as an upload.
pub struct ReceivedJob {
    /// The fresh temporary folder holding it.
    pub dir: TempDir,
    /// The job folder (`<dir>/job/<folder_name>`).
    pub job_dir: PathBuf,
    pub folder_name: String,
    pub files: usize,
    pub bytes: u64,
}

/// A zip built for `GET /api/download/<id>`.
#[derive(Clone)]
pub struct Download {
    pub owner: String,
    pub file_name: String,
    pub size: u64,
    pub path: PathBuf,
    /// Held while streaming so a sweep cannot delete the file mid-download.
    pub dir: Arc<TempDir>,
    expires_at: Instant,
}

/// Uploads, downloads and the job library.
pub struct Transfers {
    work_dir: Option<PathBuf>,
    library: Option<PathBuf>,
    upload_ttl: Duration,
    download_ttl: Duration,
    max_uploads_per_session: usize,
    /// Caps of one upload's content.
    pub upload_limits: UploadLimits,
    /// Largest upload request body.
    pub max_upload_bytes: u64,
    uploads: Mutex<HashMap<String, Upload>>,
    /// Places of uploads still being received, per login (see [`Transfers::reserve_upload`]).
    /// Locked after `uploads` when both are.
    reserved_uploads: Mutex<HashMap<String, usize>>,
    downloads: Mutex<HashMap<String, Download>>,
    max_downloads_per_session: usize,
    max_download_bytes_per_session: u64,
    /// Places of downloads being built, per login.
    reserved_downloads: Mutex<HashMap<String, usize>>,
    /// The download builds under way, by what they build; gone once nobody waits for them.
    builds: Mutex<HashMap<BuildKey, WeakShared<BuildFuture>>>,
    /// Download requests under way (waiting for a build of their own or a shared one).
    downloads_building: AtomicUsize,
}

/// What a download build makes: (identity, study, job id, components).
type BuildKey = (String, String, String, bool);

/// A download build every request for the same zip waits on.
type BuildFuture = BoxFuture<'static, Result<Built, FlareError>>;

/// A zip a download build made.
#[derive(Clone)]
struct Built {
    file_name: String,
    size: u64,
    path: PathBuf,
    dir: Arc<TempDir>,
}

/// Counts one download request under way until dropped.
struct Building<'a>(&'a AtomicUsize);

impl<'a> Building<'a> {
    fn start(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Building(count)
    }
}

impl Drop for Building<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A place for one download of a login while it is built; given back on drop.
struct DownloadSlot<'a> {
    transfers: &'a Transfers,
    owner: &'a str,
}

impl Drop for DownloadSlot<'_> {
    fn drop(&mut self) {
        release(&mut lock(&self.transfers.reserved_downloads), self.owner);
    }
}

/// A place for one upload of a login, taken before its body is read so that concurrent uploads
/// cannot all pass the cap; given back on drop unless the upload was kept.
pub struct UploadSlot {
    transfers: Arc<Transfers>,
    /// `None` once the upload was kept.
    owner: Option<String>,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        if let Some(owner) = self.owner.take() {
            release(&mut lock(&self.transfers.reserved_uploads), &owner);
        }
    }
}

/// Gives back one reserved place of `owner`.
fn release(reserved: &mut HashMap<String, usize>, owner: &str) {
    if let Some(n) = reserved.get_mut(owner) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            reserved.remove(owner);
        }
    }
}

fn bad_request(message: impl Into<String>) -> FlareError {
    FlareError::BadRequest {
        message: message.into(),
    }
}

fn internal(message: impl Into<String>) -> FlareError {
    FlareError::InternalError {
        message: message.into(),
    }
}

/// A fresh random id (128 bits, hex).
pub fn random_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// True for a `submit_token` NVFlare accepts: `^[A-Za-z0-9._:-]{1,128}$`.
pub fn is_valid_submit_token(token: &str) -> bool {
    (1..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// True for a job id or job folder name NVFlare accepts: `^[A-Za-z0-9][A-Za-z0-9._-]*$`, at most
/// 128 characters here.
pub fn is_valid_job_name(name: &str) -> bool {
    name.len() <= 128
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl Transfers {
    /// The transfers of a starting relay. Upload and download folders a previous run left in the
    /// configured `work_dir` (killed before it could delete them) are deleted first.
    pub fn new(config: &Config) -> Arc<Transfers> {
        if let Some(dir) = &config.work_dir {
            let removed = remove_stale_folders(dir);
            if removed > 0 {
                tracing::info!(
                    "deleted {removed} upload and download folders a previous run left in {}",
                    dir.display()
                );
            }
        }
        let limits = &config.limits;
        Arc::new(Transfers {
            work_dir: config.work_dir.clone(),
            library: config.job_library.clone(),
            upload_ttl: Duration::from_secs(limits.upload_ttl_secs),
            download_ttl: Duration::from_secs(limits.download_ttl_secs),
            max_uploads_per_session: limits.max_uploads_per_session,
            upload_limits: UploadLimits {
                max_entries: limits.max_upload_entries,
                max_extracted_bytes: limits.max_upload_extracted_bytes,
            },
            max_upload_bytes: limits.max_upload_bytes,
            uploads: Mutex::new(HashMap::new()),
            reserved_uploads: Mutex::new(HashMap::new()),
            downloads: Mutex::new(HashMap::new()),
            max_downloads_per_session: limits.max_downloads_per_session,
            max_download_bytes_per_session: limits.max_download_bytes_per_session,
            reserved_downloads: Mutex::new(HashMap::new()),
            builds: Mutex::new(HashMap::new()),
            downloads_building: AtomicUsize::new(0),
        })
    }

    /// Deletes expired uploads and downloads every few seconds while the relay runs. Needs a tokio
    /// runtime; a no-op without one (the sweeps on access still run).
    pub fn start_sweeper(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<Transfers> = Arc::downgrade(self);
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            loop {
                tick.tick().await;
                let Some(transfers) = weak.upgrade() else {
                    return;
                };
                transfers.sweep();
            }
        });
    }

    /// A fresh temporary folder for one upload or download.
    pub fn temp_dir(&self, prefix: &str) -> std::io::Result<TempDir> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(prefix);
        match &self.work_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                builder.tempdir_in(dir)
            }
            None => builder.tempdir(),
        }
    }

    /// Drops expired entries; their folders are deleted once nobody uses them.
    pub fn sweep(&self) {
        let now = Instant::now();
        lock(&self.uploads).retain(|_, u| u.expires_at > now);
        lock(&self.downloads).retain(|_, d| d.expires_at > now);
    }

    /// Forgets everything a console login made (at logout).
    pub fn forget(&self, owner: &str) {
        lock(&self.uploads).retain(|_, u| u.owner != owner);
        lock(&self.downloads).retain(|_, d| d.owner != owner);
    }

    /// Takes a place for one more upload of `owner`, in one step under the lock, or `None` when
    /// its uploads kept and being received already fill `max_uploads_per_session`.
    pub fn reserve_upload(self: &Arc<Self>, owner: &str) -> Option<UploadSlot> {
        self.sweep();
        let uploads = lock(&self.uploads);
        let mut reserved = lock(&self.reserved_uploads);
        if uploads_held(&uploads, &reserved, owner) >= self.max_uploads_per_session {
            return None;
        }
        *reserved.entry(owner.to_owned()).or_default() += 1;
        Some(UploadSlot {
            transfers: self.clone(),
            owner: Some(owner.to_owned()),
        })
    }

    /// `job` kept for `owner` until the upload TTL has passed.
    fn new_upload(&self, owner: String, job: ReceivedJob) -> Upload {
        Upload {
            owner,
            folder_name: job.folder_name,
            files: job.files,
            bytes: job.bytes,
            job_dir: job.job_dir,
            dir: Arc::new(job.dir),
            expires_at: Instant::now() + self.upload_ttl,
        }
    }

    /// Keeps a received job folder in the place `slot` reserved; returns its upload id.
    pub fn add_reserved_upload(
        &self,
        mut slot: UploadSlot,
        job: ReceivedJob,
    ) -> Result<String, getrandom::Error> {
        let owner = slot.owner.clone().unwrap_or_default();
        let id = random_id()?;
        let upload = self.new_upload(owner.clone(), job);
        // The upload takes the reserved place in one step: nobody sees both or neither.
        let mut uploads = lock(&self.uploads);
        uploads.insert(id.clone(), upload);
        release(&mut lock(&self.reserved_uploads), &owner);
        slot.owner = None;
        Ok(id)
    }

    /// Uploads one console login may keep at once.
    pub fn max_uploads_per_session(&self) -> usize {
        self.max_uploads_per_session
    }

    /// The live upload `id` of `owner`.
    pub fn upload(&self, owner: &str, id: &str) -> Option<Upload> {
        self.sweep();
        lock(&self.uploads)
            .get(id)
            .filter(|u| u.owner == owner)
            .cloned()
    }

    /// The live download `id` of `owner`.
    pub fn download(&self, owner: &str, id: &str) -> Option<Download> {
        self.sweep();
        lock(&self.downloads)
            .get(id)
            .filter(|d| d.owner == owner)
            .cloned()
    }

    /// The job library's entries: its subfolders with a meta file, sorted. Empty without a library.
    pub fn library_names(&self) -> Result<Vec<String>, FlareError> {
        let Some(library) = &self.library else {
            return Ok(Vec::new());
        };
        let entries = std::fs::read_dir(library).map_err(|e| {
            internal(format!(
                "cannot read the job library {}: {e}",
                library.display()
            ))
        })?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir() && has_meta(&e.path()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| is_valid_job_name(name))
            .collect();
        names.sort();
        Ok(names)
    }

    /// The job folder an upload id names: `library:<name>` or an upload of `owner`. The `Arc`
    /// keeps an upload's files alive while the caller uses them.
    pub fn resolve(
        &self,
        owner: &str,
        upload_id: &str,
    ) -> Result<(PathBuf, Option<Arc<TempDir>>), FlareError> {
        if let Some(name) = upload_id.strip_prefix(LIBRARY_PREFIX) {
            let Some(library) = &self.library else {
                return Err(bad_request(
                    "this relay has no job library: upload the job instead",
                ));
            };
            let dir = library.join(name);
            if !is_valid_job_name(name) || !dir.is_dir() || !has_meta(&dir) {
                return Err(bad_request(format!(
                    "the job library has no job {name:?}: pick one of get_available_apps_to_upload"
                )));
            }
            return Ok((dir, None));
        }
        match self.upload(owner, upload_id) {
            Some(upload) => Ok((upload.job_dir, Some(upload.dir))),
            None => Err(bad_request(format!(
                "unknown upload id {:?}: it expired, belongs to another login, or was never \
                 made; upload the job again",
                upload_id.chars().take(80).collect::<String>()
            ))),
        }
    }

    /// `submit_job` by upload id: resolves the folder and submits it with the token.
    pub async fn submit(
        &self,
        hub: &Arc<Hub>,
        owner: &str,
        upload_id: &str,
        submit_token: Option<&str>,
    ) -> Result<Reply, FlareError> {
        if let Some(token) = submit_token
            && !is_valid_submit_token(token)
        {
            return Err(bad_request(format!(
                "invalid submit_token {:?}: use 1 to 128 characters from A-Z a-z 0-9 . _ : -",
                token.chars().take(140).collect::<String>()
            )));
        }
        let (job_dir, _keep) = self.resolve(owner, upload_id)?;
        let job_id = hub.submit_job(&job_dir, submit_token).await?;
        Ok(Reply::JobId(job_id))
    }

    /// Download requests under way now: each waits for a build, its own or one it shares.
    pub fn downloads_building(&self) -> usize {
        self.downloads_building.load(Ordering::SeqCst)
    }

    /// Takes a place for one more download of `owner`, or refuses past
    /// `max_downloads_per_session` (downloads kept and being built together).
    fn reserve_download<'a>(&'a self, owner: &'a str) -> Result<DownloadSlot<'a>, FlareError> {
        self.sweep();
        let downloads = lock(&self.downloads);
        let mut reserved = lock(&self.reserved_downloads);
        let kept = downloads.values().filter(|d| d.owner == owner).count();
        let max = self.max_downloads_per_session;
        if kept + reserved.get(owner).copied().unwrap_or(0) >= max {
            return Err(FlareError::RateLimited {
                message: format!(
                    "this login already keeps {max} downloads: wait until the oldest expires \
                     ({} s after it was built) or log out to delete them (or raise [limits] \
                     max_downloads_per_session)",
                    self.download_ttl.as_secs()
                ),
            });
        }
        *reserved.entry(owner.to_owned()).or_default() += 1;
        Ok(DownloadSlot {
            transfers: self,
            owner,
        })
    }

    /// The build of `job_id`'s zip by `hub`: the one under way if another request started it,
    /// else a new one in a fresh folder. The build stops (and its folder goes) once nobody waits
    /// for it.
    fn shared_build(
        &self,
        hub: &Arc<Hub>,
        job_id: &str,
        components: bool,
    ) -> Result<Shared<BuildFuture>, FlareError> {
        let key = (
            hub.identity().to_owned(),
            hub.study().to_owned(),
            job_id.to_owned(),
            components,
        );
        let mut builds = lock(&self.builds);
        builds.retain(|_, build| build.upgrade().is_some());
        if let Some(build) = builds.get(&key).and_then(WeakShared::upgrade) {
            return Ok(build);
        }
        let dir = self
            .temp_dir("flare-download-")
            .map_err(|e| internal(format!("cannot create a download folder: {e}")))?;
        let build = build_zip(hub.clone(), dir, job_id.to_owned(), components)
            .boxed()
            .shared();
        if let Some(weak) = build.downgrade() {
            builds.insert(key, weak);
        }
        Ok(build)
    }

    /// `download_job_result` / `download_job_components`: pulls the files into a fresh folder,
    /// builds one zip of them (shared with concurrent requests for the same zip), and keeps it for
    /// `GET /api/download/<id>` within the login's caps.
    pub async fn download_job(
        &self,
        hub: &Arc<Hub>,
        owner: &str,
        job_id: &str,
        components: bool,
    ) -> Result<Reply, FlareError> {
        if !is_valid_job_name(job_id) {
            return Err(bad_request(format!(
                "invalid job id {:?}",
                job_id.chars().take(140).collect::<String>()
            )));
        }
        let _building = Building::start(&self.downloads_building);
        let slot = self.reserve_download(owner)?;
        let built = self.shared_build(hub, job_id, components)?.await?;
        let download_id =
            random_id().map_err(|e| internal(format!("cannot draw a download id: {e}")))?;
        let Built {
            file_name,
            size,
            path,
            dir,
        } = built;
        let mut downloads = lock(&self.downloads);
        let held: u64 = downloads
            .values()
            .filter(|d| d.owner == owner)
            .map(|d| d.size)
            .sum();
        let max = self.max_download_bytes_per_session;
        if held.saturating_add(size) > max {
            return Err(FlareError::RateLimited {
                message: format!(
                    "{file_name} ({size} bytes) would take the downloads of this login past \
                     {max} bytes: wait until older ones expire or log out to delete them \
                     (or raise [limits] max_download_bytes_per_session)"
                ),
            });
        }
        let download = Download {
            owner: owner.to_owned(),
            file_name: file_name.clone(),
            size,
            path,
            dir,
            expires_at: Instant::now() + self.download_ttl,
        };
        downloads.insert(download_id.clone(), download);
        // The download takes the reserved place while `downloads` is locked.
        drop(slot);
        Ok(Reply::Download {
            download_id,
            file_name,
            size,
        })
    }
}

/// Pulls a job's result or components into `dir` and zips them there.
async fn build_zip(
    hub: Arc<Hub>,
    dir: TempDir,
    job_id: String,
    components: bool,
) -> Result<Built, FlareError> {
    let pulled = hub
        .download_job(&job_id, &dir.path().join("files"), components)
        .await?;
    let stem = if components {
        format!("{job_id}_components")
    } else {
        job_id
    };
    let file_name = format!("{stem}.zip");
    let path = dir.path().join(&file_name);
    let size = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            let size = zip_folder(&pulled, &stem, &path);
            let _ = std::fs::remove_dir_all(&pulled);
            size
        })
        .await
        .map_err(|e| internal(format!("the zip task failed: {e}")))?
        .map_err(|e| internal(format!("cannot build {file_name}: {e}")))?
    };
    Ok(Built {
        file_name,
        size,
        path,
        dir: Arc::new(dir),
    })
}

/// Uploads `owner` keeps plus places it reserved.
fn uploads_held(
    uploads: &HashMap<String, Upload>,
    reserved: &HashMap<String, usize>,
    owner: &str,
) -> usize {
    let kept = uploads.values().filter(|u| u.owner == owner).count();
    kept + reserved.get(owner).copied().unwrap_or(0)
}

/// The prefixes of the folders [`Transfers::temp_dir`] makes for uploads and downloads.
const FOLDER_PREFIXES: [&str; 2] = ["flare-upload-", "flare-download-"];

/// Deletes every upload and download folder in `work_dir`; returns how many. Only for a relay's
/// own `work_dir` at start, when none of them can be in use: a relay without a `work_dir` keeps
/// them in the system temp folder, which other relays share, and sweeps nothing there.
pub fn remove_stale_folders(work_dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(work_dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            FOLDER_PREFIXES.iter().any(|p| name.starts_with(p))
        })
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| match std::fs::remove_dir_all(e.path()) {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!("cannot delete {}: {err}", e.path().display());
                false
            }
        })
        .count()
}

/// Zips the folder `src` as `<root>/...` into `dest`; returns the zip's size. Symlinks are
/// skipped. Blocking.
pub fn zip_folder(src: &Path, root: &str, dest: &Path) -> std::io::Result<u64> {
    let file = File::create(dest)?;
    let mut zip = ZipWriter::new(BufWriter::new(file));
    let dir_options = SimpleFileOptions::default();
    zip.add_directory(format!("{root}/"), dir_options)
        .map_err(std::io::Error::other)?;
    add_folder(&mut zip, src, root)?;
    let mut writer = zip.finish().map_err(std::io::Error::other)?;
    writer.flush()?;
    drop(writer);
    Ok(std::fs::metadata(dest)?.len())
}

fn add_folder<W: Write + std::io::Seek>(
    zip: &mut ZipWriter<W>,
    dir: &Path,
    prefix: &str,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let kind = entry.file_type()?;
        let name = format!("{prefix}/{}", entry.file_name().to_string_lossy());
        if kind.is_dir() {
            zip.add_directory(format!("{name}/"), SimpleFileOptions::default())
                .map_err(std::io::Error::other)?;
            add_folder(zip, &entry.path(), &name)?;
        } else if kind.is_file() {
            let size = entry.metadata()?.len();
            let options = SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .large_file(size >= u64::from(u32::MAX));
            zip.start_file(name, options)
                .map_err(std::io::Error::other)?;
            std::io::copy(&mut File::open(entry.path())?, zip)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_tokens_follow_the_nvflare_format() {
        for good in ["a", "job-1:retry.2_x", &"t".repeat(128)] {
            assert!(is_valid_submit_token(good), "{good}");
        }
        for bad in ["", "has space", "ü", "a/b", &"t".repeat(129)] {
            assert!(!is_valid_submit_token(bad), "{bad}");
        }
    }

    #[test]
    fn job_names_follow_the_nvflare_format() {
        assert!(is_valid_job_name("hello-numpy"));
        assert!(is_valid_job_name("2b1c6c2e-8f0e-4f7a-9d4e-0c1e2f3a4b5c"));
        for bad in ["", ".hidden", "-x", "a/b", "..", "a b"] {
            assert!(!is_valid_job_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_starting_relay_deletes_the_transfer_folders_a_killed_run_left_in_its_work_dir() {
        let work = tempfile::tempdir().expect("tempdir");
        for stale in ["flare-upload-abc123", "flare-download-x9"] {
            std::fs::create_dir_all(work.path().join(stale).join("files/job")).expect("mkdir");
            std::fs::write(work.path().join(stale).join("files/job/meta.json"), "{}")
                .expect("write");
        }
        // Not the relay's: another folder, and a file that merely shares the prefix.
        std::fs::create_dir_all(work.path().join("keep-me")).expect("mkdir");
        std::fs::write(work.path().join("flare-download-notes.txt"), "x").expect("write");
        let config = Config {
            work_dir: Some(work.path().to_owned()),
            ..Config::default()
        };

        let transfers = Transfers::new(&config);

        let mut left: Vec<String> = std::fs::read_dir(work.path())
            .expect("read the work dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["flare-download-notes.txt", "keep-me"]);
        // The folders of this run are made and kept as before.
        let fresh = transfers.temp_dir("flare-upload-").expect("a fresh folder");
        assert!(fresh.path().starts_with(work.path()));
        assert_eq!(
            remove_stale_folders(Path::new("/nonexistent/flare-work")),
            0
        );
    }

    #[test]
    fn zip_folder_roots_entries_under_one_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("workspace/site-1")).expect("mkdir");
        std::fs::write(src.join("meta.json"), "{}").expect("write");
        std::fs::write(src.join("workspace/site-1/log.txt"), "hello").expect("write");
        let dest = dir.path().join("out.zip");
        let size = zip_folder(&src, "job-1", &dest).expect("zip");
        assert_eq!(size, std::fs::metadata(&dest).expect("meta").len());
        let mut archive =
            zip::ZipArchive::new(File::open(&dest).expect("open")).expect("readable zip");
        let mut names: Vec<String> = archive.file_names().map(str::to_owned).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "job-1/",
                "job-1/meta.json",
                "job-1/workspace/",
                "job-1/workspace/site-1/",
                "job-1/workspace/site-1/log.txt"
            ]
        );
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut archive
                .by_name("job-1/workspace/site-1/log.txt")
                .expect("entry"),
            &mut text,
        )
        .expect("read");
        assert_eq!(text, "hello");
    }
}
