//! Job upload (`submit_job`: sign, zip, and stream the zip with the aux `ObjectStreamer` protocol)
//! and job download (`download_job` / `download_job_components`, then `download_service__` pulls
//! with receiver confirmation), as `file_transfer.push_folder` / `pull_folder` do.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flare_model::FlareError;
use rmpv::Value;
use serde_json::Map;

use crate::fobs;
use crate::hci::{self, HciReply, check_reply};
use crate::jobzip::{self, Entry};
use crate::session::{Session, return_code_error};
use crate::sfm::{get, get_str, map};

/// A progress callback: `(bytes done, bytes total)`; `total` is 0 while unknown (downloads do
/// not announce file sizes).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

const AUX_CHANNEL: &str = "aux_communication";
const STREAM_REQUEST: &str = "ObjectStreamer.Request";
const STREAM_ABORT: &str = "ObjectStreamer.Abort";
const UPLOAD_CHANNEL: &str = "hci.upload";
const UPLOAD_TOPIC: &str = "folder";
/// `FileStreamer` chunk size.
pub(crate) const UPLOAD_CHUNK: usize = 1024 * 1024;
const DOWNLOAD_CHANNEL: &str = "download_service__";
const DOWNLOAD_TOPIC: &str = "download_service__download";
/// Python retries a timed-out download request this many times, backing off 2, 4, 8 s.
const DOWNLOAD_RETRIES: u32 = 3;
/// The server may take a while to validate and store a job once the last chunk is in.
const SUBMIT_RESULT_TIMEOUT: Duration = Duration::from_secs(60);

fn internal(message: impl Into<String>) -> FlareError {
    FlareError::InternalError {
        message: message.into(),
    }
}

fn invalid_job(message: impl Into<String>) -> FlareError {
    FlareError::InvalidJobDefinition {
        message: message.into(),
    }
}

/// How [`Session::download_job_with`] fetches and stores a job.
#[derive(Clone, Copy, Default)]
pub struct DownloadOptions<'a> {
    /// `download_job_components` (extra components such as `ERRORLOG_site-1`) instead of the
    /// job result.
    pub components: bool,
    /// Keep the server's files as they come (`job.zip`, `workspace.zip`, ...) instead of
    /// unzipping every `*.zip` into a folder of the same name, as Python does. For relaying.
    pub keep_zips: bool,
    /// Called after every received chunk with the bytes received so far.
    pub progress: Option<Progress<'a>>,
}

impl std::fmt::Debug for DownloadOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("components", &self.components)
            .field("keep_zips", &self.keep_zips)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

fn validate_submit_token(token: Option<&str>) -> Result<(), FlareError> {
    if let Some(t) = token {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
        if !ok {
            return Err(FlareError::InvalidArgument {
                message: "submit_token must be non-empty, at most 128 characters, and match \
                          ^[A-Za-z0-9._:-]{1,128}$"
                    .to_owned(),
            });
        }
    }
    Ok(())
}

fn check_folder_name(name: &str) -> Result<(), FlareError> {
    if !jobzip::valid_job_folder_name(name) {
        return Err(invalid_job(format!(
            "job folder name '{name}' contains unsupported characters. Use only letters, numbers, \
             dots, underscores, and hyphens, with no spaces."
        )));
    }
    Ok(())
}

/// `__peer_props__`, which every `ObjectStreamer` Shareable must carry (non-empty).
fn peer_props(identity: &str) -> Value {
    map([
        ("__run_num__", Value::from("")),
        ("__identity_name__", Value::from(identity)),
    ])
}

impl Session {
    /// Submits the job folder `job_folder` (or, when it is not a folder, the folder of that name in
    /// the kit's upload dir, as Python does) and returns the new job id.
    ///
    /// The folder is signed (in the zip, never on disk), zipped and streamed to the server.
    /// Errors: `InvalidJobDefinition` (bad folder, name or job), `InvalidArgument` (bad token),
    /// `SubmitTokenConflict`, `SubmitTokenJobDeleted`, `AuthorizationError`, and the usual
    /// connection errors.
    ///
    /// [`flare_model::MutateCommand::SubmitJob`] names an upload by id, which only the relay can
    /// resolve: through [`Session::execute`] it stays `Unsupported`; the relay calls this or
    /// [`Session::submit_job_zip`].
    pub async fn submit_job(
        &self,
        job_folder: &Path,
        submit_token: Option<&str>,
    ) -> Result<String, FlareError> {
        self.submit_job_with(job_folder, submit_token, None).await
    }

    /// [`Session::submit_job`] with a progress callback `(bytes sent, zip size)`.
    pub async fn submit_job_with(
        &self,
        job_folder: &Path,
        submit_token: Option<&str>,
        progress: Option<Progress<'_>>,
    ) -> Result<String, FlareError> {
        self.ensure_open()?;
        if job_folder.as_os_str().is_empty() {
            return Err(invalid_job(
                "job_definition_path is required but not specified.",
            ));
        }
        let folder = if job_folder.is_dir() {
            job_folder.to_owned()
        } else if self.upload_dir.join(job_folder).is_dir() {
            self.upload_dir.join(job_folder)
        } else {
            return Err(invalid_job(format!(
                "job_definition_path '{}' is not a valid folder",
                job_folder.display()
            )));
        };
        let name = folder
            .components()
            .next_back()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default()
            .to_owned();
        check_folder_name(&name)?;
        validate_submit_token(submit_token)?;
        let signer = self.signer.clone();
        let zip = tokio::task::spawn_blocking(move || {
            let entries = jobzip::read_folder(&folder)?;
            jobzip::build_signed_zip(&name, &entries, &signer).map(|z| (name, z))
        })
        .await
        .map_err(|e| internal(format!("job zip task failed: {e}")))??;
        self.upload(&zip.0, zip.1, submit_token, progress).await
    }

    /// Submits a job received as a zip (entries at the job root or inside one wrapper folder).
    /// The entries are checked (no absolute paths, `..` or symlinks), signed and re-zipped under
    /// `folder_name/`, which must match `[A-Za-z0-9][A-Za-z0-9._-]*`.
    pub async fn submit_job_zip(
        &self,
        folder_name: &str,
        zip_bytes: Vec<u8>,
        submit_token: Option<&str>,
        progress: Option<Progress<'_>>,
    ) -> Result<String, FlareError> {
        self.ensure_open()?;
        check_folder_name(folder_name)?;
        validate_submit_token(submit_token)?;
        let signer = self.signer.clone();
        let name = folder_name.to_owned();
        let zip = tokio::task::spawn_blocking(move || {
            let entries: Vec<Entry> = jobzip::read_zip(&zip_bytes)?;
            if entries.is_empty() {
                return Err(invalid_job("the job archive is empty"));
            }
            jobzip::build_signed_zip(&name, &entries, &signer)
        })
        .await
        .map_err(|e| internal(format!("job zip task failed: {e}")))??;
        self.upload(folder_name, zip, submit_token, progress).await
    }

    /// Streams a finished job zip with `ObjectStreamer` and reads the `submit_job` result.
    async fn upload(
        &self,
        folder_name: &str,
        zip: Vec<u8>,
        submit_token: Option<&str>,
        progress: Option<Progress<'_>>,
    ) -> Result<String, FlareError> {
        let mut parts = vec!["submit_job".to_owned(), folder_name.to_owned()];
        if let Some(t) = submit_token {
            parts.extend(["--submit-token".to_owned(), t.to_owned()]);
        }
        let command = hci::join_args(&parts);
        let mut meta = Map::new();
        if let Some(t) = self.explicit_timeout() {
            meta.insert("cmd_timeout".to_owned(), serde_json::json!(t.as_secs_f64()));
        }
        let conn_data = hci::request_document(&command, Some(self.token()), meta);
        let tx_id = uuid::Uuid::new_v4().to_string();
        let total = zip.len() as u64;
        let timeout = self.timeout();
        let mut offset = 0usize;
        let mut seq: u64 = 0;
        let result = loop {
            let end = (offset + UPLOAD_CHUNK).min(zip.len());
            let chunk = &zip[offset..end];
            let eof = chunk.len() < UPLOAD_CHUNK;
            let mut headers = vec![
                (
                    "ObjectStreamer.CHANNEL".to_owned(),
                    Value::from(UPLOAD_CHANNEL),
                ),
                ("ObjectStreamer.TOPIC".to_owned(), Value::from(UPLOAD_TOPIC)),
                (
                    "ObjectStreamer.TX_ID".to_owned(),
                    Value::from(tx_id.as_str()),
                ),
                ("ObjectStreamer.SEQ".to_owned(), Value::from(seq)),
            ];
            if seq == 0 {
                headers.push((
                    "ObjectStreamer.CTX".to_owned(),
                    map([
                        ("conn_data", Value::from(conn_data.as_str())),
                        ("FileStreamer.file_size", Value::from(total)),
                        (
                            "Streamer.file_name",
                            Value::from(uuid::Uuid::new_v4().to_string()),
                        ),
                        ("__topic__", Value::from(UPLOAD_TOPIC)),
                        ("__channel__", Value::from(UPLOAD_CHANNEL)),
                    ]),
                ));
            }
            headers.push(("__topic__".to_owned(), Value::from(STREAM_REQUEST)));
            headers.push(("__peer_props__".to_owned(), peer_props(self.identity())));
            let body = fobs::shareable(
                map(headers),
                vec![
                    ("Streamer.data", Value::Binary(chunk.to_vec())),
                    ("Streamer.size", Value::from(chunk.len() as u64)),
                    ("Streamer.eof", Value::Boolean(eof)),
                ],
            );
            let wait = if eof {
                timeout.max(SUBMIT_RESULT_TIMEOUT)
            } else {
                timeout
            };
            let incoming = self
                .conn()
                .request_stream(
                    AUX_CHANNEL,
                    STREAM_REQUEST,
                    Vec::new(),
                    fobs::encode(&body),
                    wait,
                    "submit_job upload",
                )
                .await?;
            if let Some(e) = return_code_error("submit_job upload", &incoming) {
                return Err(e);
            }
            let reply = fobs::decode(&incoming.payload)
                .map_err(|e| internal(format!("bad upload reply: {e}")))?;
            let shareable = fobs::unwrap_shareable(&reply)
                .ok_or_else(|| internal("the upload reply is not a shareable"))?;
            let reply_headers = get(shareable, "__headers__")
                .and_then(Value::as_map)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let rc = get_str(reply_headers, "__rc__").unwrap_or("OK");
            offset = end;
            if let Some(p) = progress {
                p(offset as u64, total);
            }
            if let Some(end_result) = get_str(reply_headers, "ObjectStreamer.END_RESULT") {
                break end_result.to_owned();
            }
            if rc != "OK" {
                return Err(internal(format!(
                    "failed to stream the job to the server: {rc}"
                )));
            }
            if eof {
                return Err(internal("server did not return a submit_job result"));
            }
            seq += 1;
        };
        // Python tells the receiver the stream is over; the server ignores it once ended.
        let abort = fobs::shareable(
            map([
                ("__rc__", Value::from("TASK_ABORTED")),
                ("ObjectStreamer.TX_ID", Value::from(tx_id.as_str())),
                ("__topic__", Value::from(STREAM_ABORT)),
                ("__peer_props__", peer_props(self.identity())),
            ]),
            Vec::new(),
        );
        if let Err(e) = self
            .conn()
            .send_oneway(AUX_CHANNEL, STREAM_ABORT, &fobs::encode(&abort))
        {
            tracing::debug!("cannot end the upload stream: {e}");
        }
        let doc: serde_json::Value = serde_json::from_str(&result)
            .map_err(|e| internal(format!("the submit_job result is not json: {e}")))?;
        let reply = HciReply(doc);
        check_reply(&reply, &command, true)?;
        match reply
            .meta_field("job_id")
            .and_then(serde_json::Value::as_str)
        {
            Some(id) if !id.is_empty() => Ok(id.to_owned()),
            _ => Err(internal("server failed to return job id")),
        }
    }

    /// Downloads a finished job's result into `dest_dir/<job_id>` (`components`: its extra
    /// components instead), unzipping `*.zip` files into folders as Python does. Returns the
    /// folder (`<job_id>__1`, `__2`, ... when the name is taken). `JobNotDone` while the job runs.
    pub async fn download_job(
        &self,
        job_id: &str,
        dest_dir: &Path,
        components: bool,
    ) -> Result<PathBuf, FlareError> {
        self.download_job_with(
            job_id,
            dest_dir,
            DownloadOptions {
                components,
                ..DownloadOptions::default()
            },
        )
        .await
    }

    /// [`Session::download_job`] with options: keep the zips as they are, report progress.
    pub async fn download_job_with(
        &self,
        job_id: &str,
        dest_dir: &Path,
        options: DownloadOptions<'_>,
    ) -> Result<PathBuf, FlareError> {
        self.ensure_open()?;
        if job_id.is_empty() {
            return Err(FlareError::JobNotFound {
                message: "job_id is required but not specified".to_owned(),
            });
        }
        let cmd = if options.components {
            "download_job_components"
        } else {
            "download_job"
        };
        let line = hci::join_args(&[cmd, job_id]);
        let reply = self.command(&line, Map::new()).await?;
        check_reply(&reply, &line, true)?;
        let str_meta = |k: &str| {
            reply
                .meta_field(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let folder_name = Some(str_meta("folder_name"))
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| job_id.to_owned());
        jobzip::safe_relative(&folder_name)
            .ok()
            .filter(|f| !f.contains('/'))
            .ok_or_else(|| internal(format!("unsafe download folder name {folder_name:?}")))?;
        let tx_id = str_meta("tx_id");
        let source = Some(str_meta("source_fqcn"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "server".to_owned());
        let files: Vec<(String, String)> = reply
            .meta_field("files")
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|f| {
                        let f = f.as_array()?;
                        Some((
                            f.first()?.as_str()?.to_owned(),
                            f.get(1)?.as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        std::fs::create_dir_all(dest_dir)
            .map_err(|e| internal(format!("cannot create {}: {e}", dest_dir.display())))?;
        let tx_path = dest_dir.join(format!("{folder_name}__{tx_id}"));
        let result = self
            .pull_files(&source, &files, &tx_path, options)
            .await
            .and_then(|()| {
                if options.keep_zips {
                    return Ok(());
                }
                unzip_all(&tx_path, &files)
            });
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&tx_path);
            return Err(e);
        }
        rename_free(&tx_path, &dest_dir.join(&folder_name))
    }

    async fn pull_files(
        &self,
        source: &str,
        files: &[(String, String)],
        tx_path: &Path,
        options: DownloadOptions<'_>,
    ) -> Result<(), FlareError> {
        std::fs::create_dir_all(tx_path)
            .map_err(|e| internal(format!("cannot create {}: {e}", tx_path.display())))?;
        let mut done = 0u64;
        for (rel, ref_id) in files {
            jobzip::safe_relative(rel).map_err(|e| internal(format!("download: {e}")))?;
            let path = tx_path.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| internal(format!("cannot create {}: {e}", parent.display())))?;
            }
            let file = std::fs::File::create(&path)
                .map_err(|e| internal(format!("cannot create {}: {e}", path.display())))?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            self.pull_one(source, ref_id, rel, &mut out, &mut done, options.progress)
                .await?;
        }
        Ok(())
    }

    /// Pulls one referenced file. The next request goes out (with the state the producer just
    /// returned) before the received chunk is written, as Python's pipelining consumers do.
    async fn pull_one(
        &self,
        source: &str,
        ref_id: &str,
        name: &str,
        out: &mut std::io::BufWriter<std::fs::File>,
        done: &mut u64,
        progress: Option<Progress<'_>>,
    ) -> Result<(), FlareError> {
        let timeout = self.timeout();
        let request = |state: Option<&Value>| {
            let mut m = vec![
                ("ref_id", Value::from(ref_id)),
                ("confirm_capable", Value::Boolean(true)),
            ];
            if let Some(s) = state {
                m.push(("state", s.clone()));
            }
            fobs::encode(&map(m))
        };
        let what = format!("download of {name}");
        if source != crate::conn::SERVER {
            return Err(FlareError::Unsupported {
                message: format!("downloads from {source:?} (not the server) are not supported"),
            });
        }
        let mut pending =
            self.conn()
                .start_stream_request(DOWNLOAD_CHANNEL, DOWNLOAD_TOPIC, &request(None))?;
        let mut state: Option<Value> = None;
        let mut retries = 0;
        loop {
            let incoming = match self
                .conn()
                .finish_stream_request(pending, timeout, &what)
                .await
            {
                Ok(i) => i,
                Err(FlareError::NoReply { message }) if retries < DOWNLOAD_RETRIES => {
                    retries += 1;
                    tracing::warn!("{message}; retry {retries}/{DOWNLOAD_RETRIES}");
                    tokio::time::sleep(Duration::from_secs(1 << retries)).await;
                    pending = self.conn().start_stream_request(
                        DOWNLOAD_CHANNEL,
                        DOWNLOAD_TOPIC,
                        &request(state.as_ref()),
                    )?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            retries = 0;
            if let Some(e) = return_code_error(&what, &incoming) {
                self.cancel_download(ref_id);
                return Err(e);
            }
            let reply = fobs::decode(&incoming.payload)
                .map_err(|e| internal(format!("bad reply to the {what}: {e}")))?;
            let m = reply
                .as_map()
                .map(Vec::as_slice)
                .ok_or_else(|| internal(format!("the reply to the {what} is not a map")))?;
            let confirm_nonce = (get(m, "confirm_expected").and_then(Value::as_bool) == Some(true))
                .then(|| get_str(m, "confirm_nonce").unwrap_or_default().to_owned());
            match get_str(m, "status").unwrap_or_default() {
                "ok" => {
                    let next_state = get(m, "state").cloned();
                    pending = self.conn().start_stream_request(
                        DOWNLOAD_CHANNEL,
                        DOWNLOAD_TOPIC,
                        &request(next_state.as_ref()),
                    )?;
                    state = next_state;
                    let data = match get(m, "data") {
                        Some(Value::Binary(b)) => b.as_slice(),
                        Some(Value::Nil) | None => &[],
                        Some(_) => {
                            self.cancel_download(ref_id);
                            return Err(internal(format!("the {what} sent non-binary data")));
                        }
                    };
                    if let Err(e) = out.write_all(data) {
                        self.cancel_download(ref_id);
                        return Err(internal(format!("cannot write {name}: {e}")));
                    }
                    *done += data.len() as u64;
                    if let Some(p) = progress {
                        p(*done, 0);
                    }
                }
                "eof" => {
                    let flushed = out.flush();
                    let truth = if flushed.is_ok() { "success" } else { "failed" };
                    if let Some(nonce) = confirm_nonce {
                        self.confirm_download(ref_id, truth, &nonce);
                    }
                    return flushed.map_err(|e| internal(format!("cannot write {name}: {e}")));
                }
                other => {
                    if let Some(nonce) = confirm_nonce {
                        self.confirm_download(ref_id, "failed", &nonce);
                    }
                    return Err(internal(format!(
                        "failed to receive file {name}: producer status {other:?}"
                    )));
                }
            }
        }
    }

    fn confirm_download(&self, ref_id: &str, truth: &str, nonce: &str) {
        let body = map([
            ("ref_id", Value::from(ref_id)),
            ("confirm", Value::from(truth)),
            ("confirm_nonce", Value::from(nonce)),
        ]);
        self.send_download_control(ref_id, &body, "confirm");
    }

    fn cancel_download(&self, ref_id: &str) {
        let body = map([
            ("ref_id", Value::from(ref_id)),
            ("cancel", Value::Boolean(true)),
        ]);
        self.send_download_control(ref_id, &body, "cancel");
    }

    /// Sends a one-way control message about download `ref_id`; a failure to `what` it is only
    /// logged.
    fn send_download_control(&self, ref_id: &str, body: &Value, what: &str) {
        if let Err(e) =
            self.conn()
                .send_oneway(DOWNLOAD_CHANNEL, DOWNLOAD_TOPIC, &fobs::encode(body))
        {
            tracing::debug!("cannot {what} the download of {ref_id}: {e}");
        }
    }

    /// `get_available_apps_to_upload()`: the folders in the kit's upload dir, sorted.
    pub fn available_apps_to_upload(&self) -> Result<Vec<String>, FlareError> {
        let dir = &self.upload_dir;
        let rd = std::fs::read_dir(dir)
            .map_err(|e| internal(format!("cannot list {}: {e}", dir.display())))?;
        let mut names: Vec<String> = rd
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
    }
}

/// Unzips every downloaded `*.zip` into a folder of the same name and deletes the zip.
fn unzip_all(tx_path: &Path, files: &[(String, String)]) -> Result<(), FlareError> {
    for (rel, _) in files {
        let Some(stem) = rel.strip_suffix(".zip") else {
            continue;
        };
        let zip_path = tx_path.join(rel);
        jobzip::safe_unzip(&zip_path, &tx_path.join(stem))
            .map_err(|e| internal(format!("failed to unzip file '{rel}': {e}")))?;
        std::fs::remove_file(&zip_path)
            .map_err(|e| internal(format!("cannot remove {}: {e}", zip_path.display())))?;
    }
    Ok(())
}

/// Renames `src` to `dest`, or `dest__1`, `dest__2`, ... when taken (`_rename_folder`).
fn rename_free(src: &Path, dest: &Path) -> Result<PathBuf, FlareError> {
    for i in 0..1000 {
        let d = if i == 0 {
            dest.to_owned()
        } else {
            PathBuf::from(format!("{}__{i}", dest.display()))
        };
        if d.exists() {
            continue;
        }
        if std::fs::rename(src, &d).is_ok() {
            return Ok(d);
        }
    }
    Err(internal(format!(
        "cannot move the download to {}",
        dest.display()
    )))
}
