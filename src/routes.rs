//! The pages, one route per file: `/login`, `/`, `/jobs`, `/jobs/:id`, `/jobs/:id/logs`,
//! `/submit`.

pub mod job_detail;
pub mod job_logs;
pub mod jobs;
pub mod login;
pub mod not_found;
pub mod overview;
pub mod submit;
