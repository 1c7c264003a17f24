//! Job patterns as builders, with the components nvflare 2.9's own patterns add: numpy FedAvg
//! (`NumpyFedAvgRecipe`), Cyclic (`CyclicRecipe` with a numpy model) and client-controlled
//! workflows (`CCWFJob`: swarm, cyclic, cross-site evaluation).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::JobError;
use crate::job::{FedJob, ToOptions};
use crate::object::{Args, CommandLine, Component, Framework, JobObject, ScriptRunner};

/// nvflare's Client API executor (what `ScriptRunner` configures).
pub const CLIENT_API_EXECUTOR: &str =
    "nvflare.app_common.executors.client_api_executor.ClientAPIExecutor";
const FEDAVG: &str = "nvflare.app_common.workflows.fedavg.FedAvg";
const CYCLIC_CONTROLLER: &str = "nvflare.app_common.workflows.cyclic_ctl.CyclicController";
const FULL_MODEL_SHAREABLE_GENERATOR: &str = "nvflare.app_common.shareablegenerators.full_model_shareable_generator.FullModelShareableGenerator";
const VALIDATION_JSON_GENERATOR: &str =
    "nvflare.app_common.widgets.validation_json_generator.ValidationJsonGenerator";
const INTIME_MODEL_SELECTOR: &str =
    "nvflare.app_common.widgets.intime_model_selector.IntimeModelSelector";
const METRICS_ARTIFACT_WRITER: &str =
    "nvflare.app_common.widgets.metrics_artifact_writer.MetricsArtifactWriter";
const CONVERT_TO_FED_EVENT: &str =
    "nvflare.app_common.widgets.convert_to_fed_event.ConvertToFedEvent";
const SWARM_SERVER: &str = "nvflare.app_common.ccwf.swarm_server_ctl.SwarmServerController";
const SWARM_CLIENT: &str = "nvflare.app_common.ccwf.swarm_client_ctl.SwarmClientController";
const CYCLIC_SERVER: &str = "nvflare.app_common.ccwf.cyclic_server_ctl.CyclicServerController";
const CYCLIC_CLIENT: &str = "nvflare.app_common.ccwf.cyclic_client_ctl.CyclicClientController";
const CSE_SERVER: &str = "nvflare.app_common.ccwf.cse_server_ctl.CrossSiteEvalServerController";
const CSE_CLIENT: &str = "nvflare.app_common.ccwf.cse_client_ctl.CrossSiteEvalClientController";

fn two() -> i64 {
    2
}

fn python3() -> String {
    "python3 -u".to_owned()
}

fn accuracy() -> String {
    "accuracy".to_owned()
}

fn max() -> String {
    "max".to_owned()
}

fn one() -> i64 {
    1
}

fn ten() -> i64 {
    10
}

fn set(c: Component, name: &str, v: Option<Value>) -> Component {
    match v {
        Some(v) => c.arg(name, v),
        None => c,
    }
}

/// The patterns' last step: the training `runner` with its arguments and process mode, on all
/// clients.
fn add_runner(
    mut job: FedJob,
    mut runner: ScriptRunner,
    args: &str,
    launch_external_process: bool,
    command: &str,
) -> Result<FedJob, JobError> {
    runner.script_args = CommandLine::Text(args.to_owned());
    runner.launch_external_process = launch_external_process;
    runner.command = CommandLine::Text(command.to_owned());
    job.to_clients(runner, ToOptions::default())?;
    Ok(job)
}

/// A job pattern read from JSON: `{"pattern": "fedavg", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "pattern", rename_all = "snake_case")]
pub enum Pattern {
    /// Numpy FedAvg.
    Fedavg(FedAvgPattern),
    /// Server-controlled cyclic.
    Cyclic(CyclicPattern),
    /// Client-controlled workflows.
    Ccwf(CcwfPattern),
}

impl Pattern {
    /// The job.
    pub fn build(&self) -> Result<FedJob, JobError> {
        match self {
            Pattern::Fedavg(p) => p.build(),
            Pattern::Cyclic(p) => p.build(),
            Pattern::Ccwf(p) => p.build(),
        }
    }
}

/// nvflare's `NumpyFedAvgRecipe`: `BaseFedJob` widgets, `NPModelPersistor`, `FedAvg`, and a
/// numpy `ScriptRunner` on all clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FedAvgPattern {
    /// Job name.
    pub name: String,
    /// Clients per round (also `min_clients`).
    pub min_clients: i64,
    /// Rounds.
    #[serde(default = "two")]
    pub num_rounds: i64,
    /// Initial model as nested lists.
    #[serde(default)]
    pub model: Option<Value>,
    /// Initial checkpoint path.
    #[serde(default)]
    pub initial_ckpt: Option<String>,
    /// Training script.
    pub train_script: String,
    /// Its arguments.
    #[serde(default)]
    pub train_args: String,
    /// External-process mode.
    #[serde(default)]
    pub launch_external_process: bool,
    /// Command of the external process.
    #[serde(default = "python3")]
    pub command: String,
    /// Metric of the model selector (none: no selector).
    #[serde(default = "accuracy")]
    pub key_metric: String,
    /// `max` or `min`.
    #[serde(default = "max")]
    pub key_metric_mode: String,
    /// Early stop, e.g. `accuracy >= 80`.
    #[serde(default)]
    pub stop_cond: Option<String>,
    /// Rounds without improvement before stopping.
    #[serde(default)]
    pub patience: Option<i64>,
    /// Regex of variables left out of aggregation.
    #[serde(default)]
    pub exclude_vars: Option<String>,
    /// Per-client weights.
    #[serde(default)]
    pub aggregation_weights: Option<Value>,
}

impl FedAvgPattern {
    /// A pattern with nvflare's defaults.
    pub fn new(name: &str, min_clients: i64, train_script: &str) -> FedAvgPattern {
        FedAvgPattern {
            name: name.to_owned(),
            min_clients,
            num_rounds: 2,
            model: None,
            initial_ckpt: None,
            train_script: train_script.to_owned(),
            train_args: String::new(),
            launch_external_process: false,
            command: python3(),
            key_metric: accuracy(),
            key_metric_mode: max(),
            stop_cond: None,
            patience: None,
            exclude_vars: None,
            aggregation_weights: None,
        }
    }

    /// The job.
    pub fn build(&self) -> Result<FedJob, JobError> {
        let problem = |p: &str| JobError::Pattern {
            pattern: "fedavg".to_owned(),
            problem: p.to_owned(),
        };
        if self.model.is_none() && self.initial_ckpt.is_none() {
            return Err(problem("must provide either model or initial_ckpt"));
        }
        if self.key_metric_mode != "min" && self.key_metric_mode != "max" {
            return Err(problem("key_metric_mode must be 'min' or 'max'"));
        }
        let mut job = FedJob::new(&self.name)?;
        job.set_min_clients(self.min_clients)?;
        // BaseFedJob
        job.set_up_client(
            Component::new(CONVERT_TO_FED_EVENT)
                .arg("events_to_convert", Value::from(vec!["analytix_log_stats"])),
            ToOptions::id("event_to_fed"),
        );
        job.to_server(
            Component::new(VALIDATION_JSON_GENERATOR),
            ToOptions::id("json_generator"),
        )?;
        if !self.key_metric.is_empty() {
            let selector = Component::new(INTIME_MODEL_SELECTOR)
                .arg("key_metric", Value::from(self.key_metric.clone()))
                .arg(
                    "negate_key_metric",
                    Value::from(self.key_metric_mode == "min"),
                );
            job.to_server(selector, ToOptions::id("model_selector"))?;
        }
        job.to_server(
            Component::new(METRICS_ARTIFACT_WRITER),
            ToOptions::id("metrics_artifact_writer"),
        )?;
        let persistor_id = job
            .to_server(
                JobObject::NpModel {
                    model: self.model.clone(),
                    initial_ckpt: self.initial_ckpt.clone(),
                },
                ToOptions::id("persistor"),
            )?
            .unwrap_or_default();
        let controller = Component::new(FEDAVG)
            .arg("num_clients", Value::from(self.min_clients))
            .arg("num_rounds", Value::from(self.num_rounds))
            .arg("persistor_id", Value::from(persistor_id))
            .arg("task_name", Value::from("train"));
        let controller = set(
            controller,
            "stop_cond",
            self.stop_cond.clone().map(Value::from),
        );
        let controller = set(controller, "patience", self.patience.map(Value::from));
        let controller = set(
            controller,
            "exclude_vars",
            self.exclude_vars.clone().map(Value::from),
        );
        let controller = set(
            controller,
            "aggregation_weights",
            self.aggregation_weights.clone(),
        );
        job.to_server(controller, ToOptions::default())?;
        let runner = ScriptRunner::new(&self.train_script).framework(Framework::Numpy);
        add_runner(
            job,
            runner,
            &self.train_args,
            self.launch_external_process,
            &self.command,
        )
    }
}

/// nvflare's `CyclicRecipe` with a numpy model: `NPModelPersistor`, `CyclicController`,
/// `FullModelShareableGenerator` and a `ScriptRunner` on all clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CyclicPattern {
    /// Job name.
    pub name: String,
    /// At least 2.
    #[serde(default = "two")]
    pub min_clients: i64,
    /// Rounds.
    #[serde(default = "two")]
    pub num_rounds: i64,
    /// Initial model as nested lists.
    pub model: Value,
    /// Training script.
    pub train_script: String,
    /// Its arguments.
    #[serde(default)]
    pub train_args: String,
    /// External-process mode.
    #[serde(default)]
    pub launch_external_process: bool,
    /// Command of the external process.
    #[serde(default = "python3")]
    pub command: String,
    /// Framework of the script (numpy by default).
    #[serde(default = "numpy")]
    pub framework: Framework,
    /// Server memory cleanup every N rounds.
    #[serde(default = "one")]
    pub server_memory_gc_rounds: i64,
    /// Seconds to wait for the assigned client.
    #[serde(default = "ten")]
    pub task_assignment_timeout: i64,
}

fn numpy() -> Framework {
    Framework::Numpy
}

impl CyclicPattern {
    /// A pattern with nvflare's defaults.
    pub fn new(name: &str, model: Value, train_script: &str) -> CyclicPattern {
        CyclicPattern {
            name: name.to_owned(),
            min_clients: 2,
            num_rounds: 2,
            model,
            train_script: train_script.to_owned(),
            train_args: String::new(),
            launch_external_process: false,
            command: python3(),
            framework: Framework::Numpy,
            server_memory_gc_rounds: 1,
            task_assignment_timeout: 10,
        }
    }

    /// The job.
    pub fn build(&self) -> Result<FedJob, JobError> {
        if self.min_clients < 2 {
            return Err(JobError::Pattern {
                pattern: "cyclic".to_owned(),
                problem: "min_clients must be at least 2".to_owned(),
            });
        }
        let mut job = FedJob::new(&self.name)?;
        job.set_min_clients(self.min_clients)?;
        let persistor_id = job
            .to_server(
                JobObject::NpModel {
                    model: Some(self.model.clone()),
                    initial_ckpt: None,
                },
                ToOptions::id("persistor"),
            )?
            .unwrap_or_default();
        let controller = Component::new(CYCLIC_CONTROLLER)
            .arg("num_rounds", Value::from(self.num_rounds))
            .arg(
                "task_assignment_timeout",
                Value::from(self.task_assignment_timeout),
            )
            .arg("persistor_id", Value::from(persistor_id))
            .arg("shareable_generator_id", Value::from("shareable_generator"))
            .arg("task_name", Value::from("train"))
            .arg("task_check_period", Value::from(0.5))
            .arg(
                "memory_gc_rounds",
                Value::from(self.server_memory_gc_rounds),
            );
        job.to(controller, crate::SERVER, ToOptions::default())?;
        job.to_server(
            Component::new(FULL_MODEL_SHAREABLE_GENERATOR),
            ToOptions::id("shareable_generator"),
        )?;
        let runner = ScriptRunner::new(&self.train_script).framework(self.framework);
        add_runner(
            job,
            runner,
            &self.train_args,
            self.launch_external_process,
            &self.command,
        )
    }
}

/// The server side of a swarm (`SwarmServerConfig`): `num_rounds` and any other
/// `SwarmServerController` arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwarmServer {
    /// Rounds.
    pub num_rounds: i64,
    /// Other controller arguments.
    #[serde(default)]
    pub args: Args,
}

/// The client side of a swarm (`SwarmClientConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwarmClient {
    /// The training executor (a class or a `ScriptRunner`).
    pub executor: JobObject,
    /// The model persistor.
    pub persistor: Component,
    /// The shareable generator.
    pub shareable_generator: Component,
    /// The aggregator.
    pub aggregator: Component,
    /// An optional metric comparator.
    #[serde(default)]
    pub metric_comparator: Option<Component>,
    /// An optional model selector.
    #[serde(default)]
    pub model_selector: Option<Component>,
    /// Other `SwarmClientController` arguments.
    #[serde(default)]
    pub args: Args,
}

/// The server side of a client-controlled cyclic workflow (`CyclicServerConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CcwfCyclicServer {
    /// Rounds.
    pub num_rounds: i64,
    /// Other `CyclicServerController` arguments.
    #[serde(default)]
    pub args: Args,
}

/// The client side of a client-controlled cyclic workflow (`CyclicClientConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CcwfCyclicClient {
    /// The training executor.
    pub executor: JobObject,
    /// The model persistor.
    pub persistor: Component,
    /// The shareable generator.
    pub shareable_generator: Component,
    /// Other `CyclicClientController` arguments.
    #[serde(default)]
    pub args: Args,
}

/// Cross-site evaluation after a workflow (`CrossSiteEvalConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CrossSiteEval {
    /// `CrossSiteEvalServerController` arguments.
    #[serde(default)]
    pub server_args: Args,
    /// `get_model_timeout` of the client controller.
    #[serde(default)]
    pub get_model_timeout: Option<Value>,
}

/// One client-controlled workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "workflow", rename_all = "snake_case")]
pub enum CcwfWorkflow {
    /// Swarm learning.
    Swarm {
        /// Server config.
        server: SwarmServer,
        /// Client config.
        client: SwarmClient,
        /// Optional cross-site evaluation.
        #[serde(default)]
        cse: Option<CrossSiteEval>,
    },
    /// Client-controlled cyclic.
    Cyclic {
        /// Server config.
        server: CcwfCyclicServer,
        /// Client config.
        client: CcwfCyclicClient,
        /// Optional cross-site evaluation.
        #[serde(default)]
        cse: Option<CrossSiteEval>,
    },
}

/// nvflare's `CCWFJob` with its workflows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CcwfPattern {
    /// Job name.
    pub name: String,
    /// `min_clients`.
    #[serde(default = "one")]
    pub min_clients: i64,
    /// `mandatory_clients`.
    #[serde(default)]
    pub mandatory_clients: Option<Vec<String>>,
    /// Tasks of the training executor (`train`, `validate`, `submit_model`).
    #[serde(default)]
    pub executor_tasks: Option<Vec<String>>,
    /// A file or folder sent to the server and all clients.
    #[serde(default)]
    pub external_resources: Option<String>,
    /// The workflows, in order.
    pub workflows: Vec<CcwfWorkflow>,
}

impl CcwfPattern {
    /// The job.
    pub fn build(&self) -> Result<FedJob, JobError> {
        let mut job = FedJob::new(&self.name)?;
        job.set_min_clients(self.min_clients)?;
        if let Some(m) = &self.mandatory_clients {
            job.set_mandatory_clients(m.clone());
        }
        let executor_tasks = match &self.executor_tasks {
            Some(t) if !t.is_empty() => t.clone(),
            _ => vec![
                "train".to_owned(),
                "validate".to_owned(),
                "submit_model".to_owned(),
            ],
        };
        if let Some(r) = &self.external_resources {
            job.to_server(JobObject::resource(r), ToOptions::default())?;
            job.to_clients(JobObject::resource(r), ToOptions::default())?;
        }
        let mut executor_added = false;
        for wf in &self.workflows {
            // The workflow's own controllers; then, as nvflare adds them, the training executor
            // (once, with the first workflow), a swarm's model selector and cross-site evaluation.
            let (executor, model_selector, persistor_id, cse) = match wf {
                CcwfWorkflow::Swarm {
                    server,
                    client,
                    cse,
                } => {
                    add_server_controller(&mut job, SWARM_SERVER, server.num_rounds, &server.args)?;
                    let metric_comparator_id = match &client.metric_comparator {
                        Some(m) => job.to_clients(m.clone(), ToOptions::id("metric_comparator"))?,
                        None => None,
                    };
                    let (persistor_id, generator_id) = add_persistor_and_generator(
                        &mut job,
                        &client.persistor,
                        &client.shareable_generator,
                    )?;
                    let aggregator_id =
                        job.to_clients(client.aggregator.clone(), ToOptions::id("aggregator"))?;
                    let ctl = Component::new(SWARM_CLIENT)
                        .arg("aggregator_id", Value::from(aggregator_id))
                        .arg("persistor_id", Value::from(persistor_id.clone()))
                        .arg("shareable_generator_id", Value::from(generator_id))
                        .arg("metric_comparator_id", Value::from(metric_comparator_id));
                    add_client_controller(&mut job, ctl, &client.args, "swarm_*")?;
                    let selector = client.model_selector.as_ref();
                    (&client.executor, selector, persistor_id, cse)
                }
                CcwfWorkflow::Cyclic {
                    server,
                    client,
                    cse,
                } => {
                    add_server_controller(
                        &mut job,
                        CYCLIC_SERVER,
                        server.num_rounds,
                        &server.args,
                    )?;
                    let (persistor_id, generator_id) = add_persistor_and_generator(
                        &mut job,
                        &client.persistor,
                        &client.shareable_generator,
                    )?;
                    let ctl = Component::new(CYCLIC_CLIENT)
                        .arg("persistor_id", Value::from(persistor_id.clone()))
                        .arg("shareable_generator_id", Value::from(generator_id));
                    add_client_controller(&mut job, ctl, &client.args, "cyclic_*")?;
                    (&client.executor, None, persistor_id, cse)
                }
            };
            if !executor_added {
                job.to_clients(executor.clone(), ToOptions::tasks(executor_tasks.clone()))?;
                executor_added = true;
            }
            if let Some(selector) = model_selector {
                job.to_clients(selector.clone(), ToOptions::id("model_selector"))?;
            }
            if let Some(cse) = cse {
                add_cross_site_eval(&mut job, cse, persistor_id)?;
            }
        }
        Ok(job)
    }
}

/// A workflow's server controller: `num_rounds` and its other arguments.
fn add_server_controller(
    job: &mut FedJob,
    class: &str,
    num_rounds: i64,
    args: &Args,
) -> Result<(), JobError> {
    let mut ctl = Component::new(class).arg("num_rounds", Value::from(num_rounds));
    ctl.args.0.extend(args.0.iter().cloned());
    job.to_server(ctl, ToOptions::default())?;
    Ok(())
}

/// A workflow's client persistor and shareable generator; their ids.
fn add_persistor_and_generator(
    job: &mut FedJob,
    persistor: &Component,
    shareable_generator: &Component,
) -> Result<(Option<String>, Option<String>), JobError> {
    let persistor_id = job.to_clients(persistor.clone(), ToOptions::id("persistor"))?;
    let generator_id = job.to_clients(
        shareable_generator.clone(),
        ToOptions::id("shareable_generator"),
    )?;
    Ok((persistor_id, generator_id))
}

/// A workflow's client controller `ctl` with its other arguments, for its `tasks` pattern.
fn add_client_controller(
    job: &mut FedJob,
    mut ctl: Component,
    args: &Args,
    tasks: &str,
) -> Result<(), JobError> {
    ctl.args.0.extend(args.0.iter().cloned());
    job.to_clients(ctl, ToOptions::tasks([tasks]))?;
    Ok(())
}

fn add_cross_site_eval(
    job: &mut FedJob,
    cse: &CrossSiteEval,
    persistor_id: Option<String>,
) -> Result<(), JobError> {
    let mut ctl = Component::new(CSE_SERVER);
    ctl.args = cse.server_args.clone();
    job.to_server(ctl, ToOptions::default())?;
    let ctl = Component::new(CSE_CLIENT).arg("persistor_id", Value::from(persistor_id));
    let ctl = set(ctl, "get_model_timeout", cse.get_model_timeout.clone());
    job.to_clients(ctl, ToOptions::tasks(["cse_*"]))?;
    Ok(())
}
