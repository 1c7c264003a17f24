//! `GET /api/site-history[?study=<name>]`: the site connectivity history of the hub of (the
//! login's identity, the study), as [`flare_model::SiteHistory`]. Any live session, kiosks
//! included; study rules as on `/ws`. Never logs in: without a hub the history is empty.

use axum::Json;
use axum::extract::State;
use flare_model::SiteHistory;

use crate::routes::StudyScope;
use crate::state::AppState;

pub async fn handler(
    State(state): State<AppState>,
    StudyScope { login, study }: StudyScope,
) -> Json<SiteHistory> {
    let history = match state.hubs.existing(&login.user.identity, &study) {
        Some(hub) => hub.site_history(),
        None => SiteHistory {
            sample_every_ms: state.hubs.settings().history.sample_every().as_millis() as u64,
            ..SiteHistory::default()
        },
    };
    Json(history)
}
