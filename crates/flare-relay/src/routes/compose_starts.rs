//! `GET /api/compose/starts`: where the composer can start — an empty job, nvflare's numpy FedAvg
//! (the `FedAvg` controller, or the `ScatterAndGather` workflow) and Cyclic patterns (built by flare-job, client set-up spelled out), and every job of the
//! relay's job library read back into a composition (clone-and-edit). Operators and viewers, not
//! kiosks.

use axum::Json;
use axum::extract::State;
use flare_job::compose::{ComposeStart, Composition};
use flare_job::{
    Component, CyclicPattern, FedAvgPattern, FedJob, Framework, JobObject, ScriptRunner, ToOptions,
};
use serde_json::json;

use crate::routes::ApiError;
use crate::routes::compose::ComposerReader;
use crate::routes::compose_import::import_folder;
use crate::state::AppState;

/// The script the patterns name; the composer asks for it to be uploaded.
const SCRIPT: &str = "train.py";

/// FedAvg as nvflare's classic `ScatterAndGather` workflow (weighted averaging of the sites'
/// weights) with a numpy model and a Client API script on all clients. Unlike the `FedAvg`
/// controller it reports its rounds, so the job page shows them live.
fn scatter_and_gather(model: serde_json::Value) -> Result<FedJob, flare_job::JobError> {
    let mut job = FedJob::new("numpy-sag")?;
    job.set_min_clients(2)?;
    job.to_server(
        Component::new("nvflare.app_common.workflows.scatter_and_gather.ScatterAndGather")
            .arg("min_clients", json!(2))
            .arg("num_rounds", json!(3))
            .arg("wait_time_after_min_received", json!(0))
            .arg("persistor_id", json!("persistor")),
        ToOptions::id("scatter_and_gather"),
    )?;
    job.to_server(
        JobObject::NpModel {
            model: Some(model),
            initial_ckpt: None,
        },
        ToOptions::id("persistor"),
    )?;
    job.to_server(
        Component::new("nvflare.app_common.shareablegenerators.full_model_shareable_generator.FullModelShareableGenerator"),
        ToOptions::id("shareable_generator"),
    )?;
    job.to_server(
        Component::new("nvflare.app_common.aggregators.intime_accumulate_model_aggregator.InTimeAccumulateWeightedAggregator")
            .arg("expected_data_kind", json!("WEIGHTS")),
        ToOptions::id("aggregator"),
    )?;
    job.to_clients(
        ScriptRunner::new(SCRIPT).framework(Framework::Numpy),
        ToOptions::default(),
    )?;
    Ok(job)
}

fn patterns() -> Result<Vec<ComposeStart>, flare_job::JobError> {
    let model = json!([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]);
    let mut fedavg = FedAvgPattern::new("numpy-fedavg", 2, SCRIPT);
    fedavg.model = Some(model.clone());
    fedavg.num_rounds = 3;
    let cyclic = CyclicPattern::new("numpy-cyclic", model.clone(), SCRIPT);
    Ok(vec![
        ComposeStart {
            key: "empty".to_owned(),
            label: "Empty job".to_owned(),
            description: "nothing yet: add a controller to the server and executors to the clients"
                .to_owned(),
            composition: Composition::empty("my-job", 1),
        },
        ComposeStart {
            key: "pattern:fedavg".to_owned(),
            label: "FedAvg (numpy)".to_owned(),
            description:
                "FedAvg with a numpy model and a Client API training script on all clients"
                    .to_owned(),
            composition: Composition::of_job(&fedavg.build()?),
        },
        ComposeStart {
            key: "pattern:scatter_and_gather".to_owned(),
            label: "FedAvg, scatter and gather (numpy)".to_owned(),
            description:
                "FedAvg by nvflare's ScatterAndGather workflow, rounds shown live on the job page"
                    .to_owned(),
            composition: Composition::of_job(&scatter_and_gather(model.clone())?),
        },
        ComposeStart {
            key: "pattern:cyclic".to_owned(),
            label: "Cyclic (numpy)".to_owned(),
            description: "the model travels from site to site, a Client API script on each"
                .to_owned(),
            composition: Composition::of_job(&cyclic.build()?),
        },
    ])
}

pub async fn handler(
    State(state): State<AppState>,
    ComposerReader(login): ComposerReader,
) -> Result<Json<Vec<ComposeStart>>, ApiError> {
    let mut starts = patterns().map_err(|e| {
        tracing::error!("a built-in pattern does not build: {e}");
        ApiError::internal(format!("a built-in pattern does not build: {e}"))
    })?;
    let names = state.transfers.library_names().unwrap_or_else(|e| {
        tracing::warn!("cannot list the job library: {e:?}");
        Vec::new()
    });
    for name in names {
        let key = format!("library:{name}");
        let Ok((dir, _)) = state.transfers.resolve(&login.id, &key) else {
            continue;
        };
        match import_folder(dir, name.clone()).await {
            Ok(composition) => starts.push(ComposeStart {
                key,
                label: format!("{name} (job library)"),
                description: format!("a copy of the relay's library job {name} to edit"),
                composition,
            }),
            Err(e) => tracing::warn!("library job {name} cannot be composed: {}", e.message()),
        }
    }
    Ok(Json(starts))
}
