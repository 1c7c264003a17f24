//! `GET /api/compose/import?upload=<upload_id>`: a job folder the operator uploaded (a folder or
//! zip through `/api/upload`, e.g. an existing job's meta and configs) read back by flare-job into
//! a composition to edit (clone-and-edit), or 400 with what is wrong with it. Operators only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use flare_job::compose::Composition;
use serde::Deserialize;

use crate::routes::ApiError;
use crate::routes::compose::Composer;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ImportParams {
    upload: String,
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.insert(rel.join("/"), std::fs::read(&path)?);
        }
    }
    Ok(())
}

/// Reads the job folder `dir` (named `name`) into a composition; 400 with flare-job's message.
pub async fn import_folder(dir: PathBuf, name: String) -> Result<Composition, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut files = BTreeMap::new();
        walk(&dir, &dir, &mut files).map_err(|e| {
            tracing::error!("cannot read job folder {}: {e}", dir.display());
            ApiError::internal("cannot read the job folder on the relay")
        })?;
        flare_job::import::import_job(&name, &files)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))
    })
    .await
    .map_err(|e| ApiError::internal(format!("the import task failed: {e}")))?
}

pub async fn handler(
    State(state): State<AppState>,
    Composer(login): Composer,
    Query(params): Query<ImportParams>,
) -> Result<Json<Composition>, ApiError> {
    let (dir, _keep) = state
        .transfers
        .resolve(&login.id, &params.upload)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "job".to_owned());
    let composition = import_folder(dir, name).await?;
    Ok(Json(composition))
}
