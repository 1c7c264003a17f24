//! Reusable view pieces, one component per file.

pub mod abort_dialog;
pub mod app_header;
pub mod card;
pub mod connection_indicator;
pub mod copy_buttons;
pub mod delete_dialog;
pub mod errors_panel;
pub mod freshness_stamp;
pub mod job_actions;
pub mod job_detail;
pub mod job_filters;
pub mod job_list;
pub mod jobs_table;
pub mod live_stats;
pub mod log_view;
pub mod login_form;
pub mod server_summary;
pub mod shell;
pub mod sites_list;
pub mod status_badge;
pub mod theme_toggle;
pub mod toasts;
