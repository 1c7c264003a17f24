//! The pages, one route per file: `/login`, `/`, `/jobs`, `/jobs/:id`.

pub mod job_detail;
pub mod jobs;
pub mod login;
pub mod not_found;
pub mod overview;
