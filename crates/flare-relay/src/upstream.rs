//! The relay's view of NVFlare: a [`Connector`] that logs in with a startup kit and the
//! [`UpstreamSession`] it returns. The hub depends on these traits only, so it runs against the real
//! `flare-client` (see [`client`]) or a fake (see [`crate::fake`]).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use flare_model::{Command, FlareError, Reply};

pub mod client;

/// A boxed, sendable future: what the object-safe traits below return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One logged-in NVFlare admin session.
pub trait UpstreamSession: Send + Sync {
    /// Runs one command on the NVFlare server.
    fn execute<'a>(&'a self, command: &'a Command) -> BoxFuture<'a, Result<Reply, FlareError>>;
    /// `submit_job(job_dir, submit_token)`: uploads the job folder `job_dir` (its name is the job
    /// folder name NVFlare sees) and returns the job id. With a token the server dedupes: the same
    /// token and content give the same job id.
    fn submit_job<'a>(
        &'a self,
        job_dir: &'a Path,
        submit_token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String, FlareError>>;
    /// `download_job_result(job_id)` (or `download_job_components` when `components`): pulls the
    /// files into a new folder under `dest_dir` and returns that folder.
    fn download_job<'a>(
        &'a self,
        job_id: &'a str,
        dest_dir: &'a Path,
        components: bool,
    ) -> BoxFuture<'a, Result<PathBuf, FlareError>>;
    /// True once the session can no longer be used (server gone, logged out, expired).
    fn is_closed(&self) -> bool;
    /// The NVFlare version the server announced at login.
    fn server_version(&self) -> String;
    /// Logs out; best effort.
    fn close(&self) -> BoxFuture<'_, ()>;
}

/// Opens upstream sessions from admin startup kits.
pub trait Connector: Send + Sync {
    /// The NVFlare identity (admin certificate CN) of the kit at `kit_dir`. Called once per
    /// configured user at startup, so a wrong kit path fails before the relay listens.
    fn identity(&self, kit_dir: &Path) -> Result<String, FlareError>;
    /// Logs in to NVFlare with the kit, in the given study.
    fn login<'a>(
        &'a self,
        kit_dir: &'a Path,
        study: &'a str,
    ) -> BoxFuture<'a, Result<Arc<dyn UpstreamSession>, FlareError>>;
}
