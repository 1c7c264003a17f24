//! Native Rust NVFlare 2.9 admin client: loads an admin startup kit, connects over WebSocket +
//! mutual TLS (`http` scheme), authenticates like `flare_api.new_secure_session`, and runs typed
//! [`flare_model::Command`]s, returning typed [`flare_model::Reply`] values.
//!
//! Job files move outside `execute`: [`Session::submit_job`] / [`Session::submit_job_zip`] sign,
//! zip and upload a job; [`Session::download_job`] / [`Session::download_job_with`] fetch a
//! result or its components (unzipped as Python does, or raw).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use flare_client::{AdminKit, Session};
//! use flare_model::{Command, ReadCommand};
//! let kit = AdminKit::load("/path/to/admin@nvidia.com")?;
//! let session = Session::login(&kit, "default").await?;
//! let reply = session.execute(&Command::Read(ReadCommand::GetSystemInfo)).await?;
//! session.close().await;
//! # let _ = reply; Ok(()) }
//! ```

mod args;
mod commands;
mod conn;
mod crypto;
mod fobs;
#[doc(hidden)]
pub mod fuzzing;
mod hci;
mod jobzip;
mod kit;
mod session;
mod sfm;
mod stream;
mod tls;
mod transfer;
mod transport;

pub use hci::join_args;
pub use kit::{AdminKit, KitError};
pub use session::{DEFAULT_TIMEOUT, SUPPORTED_VERSION, Session, is_supported_version};
pub use transfer::{DownloadOptions, Progress};

#[cfg(test)]
mod tests;
