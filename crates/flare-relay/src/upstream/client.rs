//! The real upstream: [`flare_client::Session`] behind the relay's [`Connector`] and
//! [`UpstreamSession`] traits. Kits are loaded once and kept; their key material stays inside
//! `flare-client`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use flare_client::{AdminKit, Session};
use flare_model::{Command, FlareError, Reply};

use crate::sync::lock;
use crate::upstream::{BoxFuture, Connector, UpstreamSession};

/// Logs in with `flare-client`.
#[derive(Default)]
pub struct FlareClient {
    kits: Mutex<HashMap<PathBuf, Arc<AdminKit>>>,
}

impl FlareClient {
    pub fn new() -> Self {
        FlareClient::default()
    }

    fn kit(&self, kit_dir: &Path) -> Result<Arc<AdminKit>, FlareError> {
        let mut kits = lock(&self.kits);
        if let Some(kit) = kits.get(kit_dir) {
            return Ok(kit.clone());
        }
        let kit = AdminKit::load(kit_dir).map_err(|e| FlareError::InvalidArgument {
            message: format!("cannot load the admin kit: {e}"),
        })?;
        let kit = Arc::new(kit);
        kits.insert(kit_dir.to_owned(), kit.clone());
        Ok(kit)
    }
}

impl Connector for FlareClient {
    fn identity(&self, kit_dir: &Path) -> Result<String, FlareError> {
        Ok(self.kit(kit_dir)?.identity().to_owned())
    }

    fn login<'a>(
        &'a self,
        kit_dir: &'a Path,
        study: &'a str,
    ) -> BoxFuture<'a, Result<Arc<dyn UpstreamSession>, FlareError>> {
        Box::pin(async move {
            let kit = self.kit(kit_dir)?;
            let session = Session::login(&kit, study).await?;
            let session: Arc<dyn UpstreamSession> = Arc::new(ClientSession(session));
            Ok(session)
        })
    }
}

struct ClientSession(Session);

impl UpstreamSession for ClientSession {
    fn execute<'a>(&'a self, command: &'a Command) -> BoxFuture<'a, Result<Reply, FlareError>> {
        Box::pin(self.0.execute(command))
    }

    fn submit_job<'a>(
        &'a self,
        job_dir: &'a Path,
        submit_token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String, FlareError>> {
        Box::pin(self.0.submit_job(job_dir, submit_token))
    }

    fn download_job<'a>(
        &'a self,
        job_id: &'a str,
        dest_dir: &'a Path,
        components: bool,
    ) -> BoxFuture<'a, Result<PathBuf, FlareError>> {
        Box::pin(self.0.download_job(job_id, dest_dir, components))
    }

    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    fn server_version(&self) -> String {
        self.0.server_version().to_owned()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.0.close())
    }
}
