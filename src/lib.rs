//! Flare Console: the Leptos CSR single-page app that operates an NVFlare federation through the
//! relay (login, overview, jobs, job detail), live over one WebSocket per tab.

pub mod api;
pub mod app;
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;
pub mod components;
pub mod connection;
pub mod errors;
pub mod job_query;
pub mod routes;
pub mod state;
pub mod status;
pub mod theme;
pub mod time;

pub use app::App;
