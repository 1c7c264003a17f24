//! `POST /api/compose/preview`: the files nvflare will receive for a composition (`meta.json`
//! and every app's configs, as flare-job exports them), for the composer's live preview, or 400
//! with flare-job's message. Operators only; nothing is stored or audited.

use axum::Json;
use flare_job::compose::{ComposePreview, Composition};

use crate::routes::compose::{Composer, export};
use crate::routes::{ApiError, Checked};

pub async fn handler(
    Checked {
        check: Composer(_),
        body: composition,
    }: Checked<Composer, Composition>,
) -> Result<Json<ComposePreview>, ApiError> {
    let job = export(composition).await?;
    Ok(Json(ComposePreview::from(&job)))
}
