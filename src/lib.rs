//! Flare Console: the Leptos CSR single-page app that operates an NVFlare federation through the
//! relay (login, overview, jobs, job detail and actions, logs, submit), live over one WebSocket
//! per tab.

pub mod api;
pub mod app;
pub mod browser;
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;
pub mod components;
pub mod compose;
pub mod connection;
pub mod copy_as;
pub mod errors;
pub mod highlight;
pub mod identity;
pub mod job_ops;
pub mod job_query;
pub mod logs;
pub mod policy;
pub mod routes;
pub mod shortcuts;
pub mod state;
pub mod status;
pub mod studies;
pub mod submission;
pub mod theme;
pub mod time;
pub mod wall;

pub use app::App;
