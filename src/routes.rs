//! The pages, one route per file: `/login`, `/`, `/jobs`, `/jobs/:id`, `/jobs/:id/logs`,
//! `/submit`, `/compose`, `/studies`, `/studies/new`, `/studies/:study`, `/studies/:study/jobs[/:id[/logs]]`,
//! `/kiosk-tokens`, `/wall`, `/kiosk`.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

pub mod compose;
pub mod job_detail;
pub mod job_logs;
pub mod jobs;
pub mod kiosk;
pub mod kiosk_tokens;
pub mod login;
pub mod new_study;
pub mod not_found;
pub mod overview;
pub mod studies;
pub mod study_detail;
pub mod submit;
pub mod wall;

/// The route parameter `name` (empty when the path has none), e.g. `id` of `/jobs/:id`.
pub fn param(name: &'static str) -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get(name).unwrap_or_default())
}
