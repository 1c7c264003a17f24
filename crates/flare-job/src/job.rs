//! `FedJob`: objects assigned to the server, to a site or to all clients, with nvflare's id
//! generation, `as_id` references, executors and filters by task, and `set_up_client`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::JobError;
use crate::catalog;
use crate::object::{Arg, Component, JobObject, Kind, OrderedMap, ScriptRunner};

/// The server target.
pub const SERVER: &str = "server";
/// The all-clients target (`@ALL`).
pub const ALL_SITES: &str = "@ALL";
/// Characters nvflare refuses in a target name.
const SPECIAL_CHARACTERS: &str = "\"!@#$%^&*()+?=,<>/";

/// Which flow a filter sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FilterType {
    /// Controller → executor (`task_data_filters`).
    TaskData,
    /// Executor → controller (`task_result_filters`).
    TaskResult,
}

/// The keyword arguments of nvflare's `to`: the id and the options an object's
/// `add_to_fed_job` takes (`tasks` for executors and filters, `filter_type` for filters).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToOptions {
    /// The component id (nvflare numbers it on collision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The tasks an executor or filter handles (`["*"]` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<String>>,
    /// The flow of a filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_type: Option<FilterType>,
}

impl ToOptions {
    /// Options with an id.
    pub fn id(id: impl Into<String>) -> ToOptions {
        ToOptions {
            id: Some(id.into()),
            ..ToOptions::default()
        }
    }

    /// Options with tasks.
    pub fn tasks<S: Into<String>>(tasks: impl IntoIterator<Item = S>) -> ToOptions {
        ToOptions {
            tasks: Some(tasks.into_iter().map(Into::into).collect()),
            ..ToOptions::default()
        }
    }

    /// Options of a filter.
    pub fn filter<S: Into<String>>(
        filter_type: FilterType,
        tasks: impl IntoIterator<Item = S>,
    ) -> ToOptions {
        ToOptions {
            filter_type: Some(filter_type),
            ..ToOptions::tasks(tasks)
        }
    }
}

/// One recorded call; a job is replayed from these when read from JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Step {
    /// `to(object, target, **options)`.
    To {
        /// `server`, `@ALL` or a site name.
        target: String,
        /// The object.
        object: JobObject,
        /// Id, tasks, filter type.
        #[serde(flatten)]
        options: ToOptions,
    },
    /// `as_id(object)`: `id` names the object until something references it.
    AsId {
        /// The generated id.
        id: String,
        /// The referenced object.
        object: Component,
    },
}

/// An object sent to every client target the first time it is used (nvflare's
/// `set_up_client`, which job patterns override).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientSetup {
    /// The object.
    pub object: JobObject,
    /// Id and options.
    #[serde(flatten)]
    pub options: ToOptions,
}

/// An executor entry of a client app.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExecutorDef {
    pub(crate) tasks: Vec<String>,
    pub(crate) executor: Component,
}

/// One filter task set with its filters.
pub(crate) type TaskFilters = (Vec<String>, Vec<Component>);

/// The app of one target (nvflare's `ServerApp` / `ClientApp` with its config).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct App {
    pub(crate) server: bool,
    used_ids: Vec<String>,
    pub(crate) workflows: Vec<(String, Component)>,
    pub(crate) executors: Vec<ExecutorDef>,
    pub(crate) components: Vec<(String, Component)>,
    pub(crate) task_data_filters: Vec<TaskFilters>,
    pub(crate) task_result_filters: Vec<TaskFilters>,
    pub(crate) resources: Vec<String>,
    pub(crate) params: Vec<(String, Value)>,
}

/// nvflare's `FedApp._generate_id`: the id itself when unused, else the first run of digits
/// incremented (every occurrence of that run replaced, as Python's `str.replace` does) or `1`
/// appended, until unused.
pub fn generate_id(id: &str, used: &[String]) -> String {
    let mut id = id.to_owned();
    while used.contains(&id) {
        match first_digits(&id) {
            Some(run) => {
                let next = increment_decimal(&run);
                id = id.replace(&run, &next);
            }
            None => id.push('1'),
        }
    }
    id
}

fn first_digits(s: &str) -> Option<String> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let run: String = s[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some(run)
}

/// `str(int(run) + 1)` for a run of ASCII digits of any length.
fn increment_decimal(run: &str) -> String {
    let trimmed = run.trim_start_matches('0');
    let mut digits: Vec<u8> = if trimmed.is_empty() {
        vec![b'0']
    } else {
        trimmed.bytes().collect()
    };
    let mut i = digits.len();
    loop {
        if i == 0 {
            digits.insert(0, b'1');
            break;
        }
        i -= 1;
        if digits[i] == b'9' {
            digits[i] = b'0';
        } else {
            digits[i] += 1;
            break;
        }
    }
    String::from_utf8(digits).unwrap_or_default()
}

impl App {
    fn new(server: bool) -> App {
        App {
            server,
            ..App::default()
        }
    }

    fn tracked_id(&mut self, id: &str) -> String {
        let id = generate_id(id, &self.used_ids);
        self.used_ids.push(id.clone());
        id
    }

    fn add_component(
        &mut self,
        component: Component,
        id: Option<&str>,
    ) -> Result<String, JobError> {
        let id = self.tracked_id(id.unwrap_or("component"));
        if self.components.iter().any(|(c, _)| *c == id) {
            return Err(JobError::DuplicateId(id));
        }
        self.components.push((id.clone(), component));
        Ok(id)
    }

    fn add_controller(
        &mut self,
        controller: Component,
        id: Option<&str>,
    ) -> Result<String, JobError> {
        let id = self.tracked_id(id.filter(|s| !s.is_empty()).unwrap_or("controller"));
        if self.components.iter().any(|(c, _)| *c == id)
            || self.workflows.iter().any(|(c, _)| *c == id)
        {
            return Err(JobError::DuplicateId(id));
        }
        self.workflows.push((id.clone(), controller));
        Ok(id)
    }

    fn add_executor(
        &mut self,
        executor: Component,
        tasks: Option<Vec<String>>,
    ) -> Result<(), JobError> {
        let tasks = match tasks {
            Some(t) if !t.is_empty() => t,
            _ => vec!["*".to_owned()],
        };
        for item in &self.executors {
            let dup: Vec<String> = tasks
                .iter()
                .filter(|t| item.tasks.contains(t))
                .cloned()
                .collect();
            if !dup.is_empty() {
                return Err(JobError::ExecutorTasks(dup));
            }
        }
        self.executors.push(ExecutorDef { tasks, executor });
        Ok(())
    }

    fn add_filter(
        &mut self,
        filter: Component,
        filter_type: FilterType,
        tasks: Vec<String>,
    ) -> Result<(), JobError> {
        let mut set: Vec<String> = Vec::new();
        for t in tasks {
            if !set.contains(&t) {
                set.push(t);
            }
        }
        let list = match filter_type {
            FilterType::TaskData => &mut self.task_data_filters,
            FilterType::TaskResult => &mut self.task_result_filters,
        };
        for (task_set, filters) in list.iter_mut() {
            let same = task_set.len() == set.len() && set.iter().all(|t| task_set.contains(t));
            if same {
                filters.push(filter);
                return Ok(());
            }
            if set.iter().any(|t| task_set.contains(t)) {
                return Err(JobError::FilterTasks {
                    tasks: set,
                    existing: task_set.clone(),
                });
            }
        }
        list.push((set, vec![filter]));
        Ok(())
    }

    fn add_params(&mut self, params: &Map<String, Value>) {
        for (k, v) in params {
            match self.params.iter_mut().find(|(key, _)| key == k) {
                Some(slot) => slot.1 = v.clone(),
                None => self.params.push((k.clone(), v.clone())),
            }
        }
    }
}

/// What `FedJob::to` returns: the id of an added component, or nothing.
pub type ToResult = Result<Option<String>, JobError>;

/// The job as data: what is serialized and read back (the built apps are replayed from it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// Job name (the folder name of the export).
    pub name: String,
    /// `min_clients` of `meta.json`.
    #[serde(default = "one")]
    pub min_clients: i64,
    /// `mandatory_clients` of `meta.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory_clients: Option<Vec<String>>,
    /// `resource_spec` of `meta.json`, by site.
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub resource_spec: OrderedMap<OrderedMap<Value>>,
    /// Extra `meta.json` properties.
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub meta_props: OrderedMap<Value>,
    /// Objects sent to each client target when first used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_up_client: Vec<ClientSetup>,
    /// The calls, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
}

fn one() -> i64 {
    1
}

/// nvflare's `FedJob`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "JobSpec", into = "JobSpec")]
pub struct FedJob {
    spec: JobSpec,
    pub(crate) deploy: Vec<(String, App)>,
    clients: Vec<String>,
    pending: Vec<(String, Component)>,
    next_uuid: u64,
}

impl From<FedJob> for JobSpec {
    fn from(job: FedJob) -> JobSpec {
        job.spec
    }
}

impl TryFrom<JobSpec> for FedJob {
    type Error = JobError;

    fn try_from(spec: JobSpec) -> Result<FedJob, JobError> {
        let mut job = FedJob::new(&spec.name)?;
        job.set_min_clients(spec.min_clients)?;
        job.spec.mandatory_clients = spec.mandatory_clients;
        job.spec.resource_spec = spec.resource_spec;
        job.spec.meta_props = spec.meta_props;
        job.spec.set_up_client = spec.set_up_client;
        for step in spec.steps {
            match step {
                Step::To {
                    target,
                    object,
                    options,
                } => {
                    job.to(object, &target, options)?;
                }
                Step::AsId { id, object } => {
                    job.as_id_named(id, object);
                }
            }
        }
        Ok(job)
    }
}

/// nvflare's `check_job_name`.
pub fn check_job_name(name: &str) -> Result<(), JobError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(JobError::InvalidJobName(name.to_owned()))
    }
}

fn validate_target(target: &str) -> Result<(), JobError> {
    if target.is_empty()
        || (target != ALL_SITES && target.chars().any(|c| SPECIAL_CHARACTERS.contains(c)))
    {
        return Err(JobError::InvalidTarget(target.to_owned()));
    }
    Ok(())
}

/// nvflare's `check_kwargs` for the options an object takes.
fn check_options(
    what: &str,
    options: &ToOptions,
    tasks: bool,
    filter_type: bool,
) -> Result<(), JobError> {
    let problem = |p: &str| JobError::Options {
        what: what.to_owned(),
        problem: p.to_owned(),
    };
    if options.tasks.is_some() && !tasks {
        return Err(problem("received unexpected arg 'tasks'"));
    }
    if options.filter_type.is_some() && !filter_type {
        return Err(problem("received unexpected arg 'filter_type'"));
    }
    if filter_type && options.filter_type.is_none() {
        return Err(problem(
            "missing required arg 'filter_type' (task_data or task_result)",
        ));
    }
    Ok(())
}

impl FedJob {
    /// A job called `name` with `min_clients` 1.
    pub fn new(name: &str) -> Result<FedJob, JobError> {
        check_job_name(name)?;
        Ok(FedJob {
            spec: JobSpec {
                name: name.to_owned(),
                min_clients: 1,
                mandatory_clients: None,
                resource_spec: OrderedMap::default(),
                meta_props: OrderedMap::default(),
                set_up_client: Vec::new(),
                steps: Vec::new(),
            },
            deploy: Vec::new(),
            clients: Vec::new(),
            pending: Vec::new(),
            next_uuid: 1,
        })
    }

    /// The job name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The job as data.
    pub fn spec(&self) -> &JobSpec {
        &self.spec
    }

    /// Sets `min_clients` (positive).
    pub fn set_min_clients(&mut self, n: i64) -> Result<(), JobError> {
        if n <= 0 {
            return Err(JobError::InvalidMinClients(n));
        }
        self.spec.min_clients = n;
        Ok(())
    }

    /// `min_clients`.
    pub fn min_clients(&self) -> i64 {
        self.spec.min_clients
    }

    /// Sets `mandatory_clients` (an empty list is left out of `meta.json`, as nvflare does).
    pub fn set_mandatory_clients<S: Into<String>>(&mut self, sites: impl IntoIterator<Item = S>) {
        self.spec.mandatory_clients = Some(sites.into_iter().map(Into::into).collect());
    }

    /// nvflare's `FedJobConfig.add_resource_spec`: resource requirements of one site (in order).
    pub fn add_resource_spec<K: Into<String>>(
        &mut self,
        site: &str,
        spec: impl IntoIterator<Item = (K, Value)>,
    ) -> Result<(), JobError> {
        if self.spec.resource_spec.get(site).is_some() {
            return Err(JobError::DuplicateId(format!("resource spec of {site}")));
        }
        self.spec
            .resource_spec
            .set(site, spec.into_iter().collect::<OrderedMap<Value>>());
        Ok(())
    }

    /// Sets an extra `meta.json` property (`name` is reserved).
    pub fn set_meta_prop(&mut self, key: &str, value: Value) -> Result<(), JobError> {
        if key == "name" {
            return Err(JobError::Options {
                what: "meta_props".to_owned(),
                problem: "must not override the reserved 'name' property".to_owned(),
            });
        }
        self.spec.meta_props.set(key, value);
        Ok(())
    }

    /// Registers an object to send to every client target when it is first used
    /// (nvflare's `set_up_client` override in a job pattern). Call it before any `to`.
    pub fn set_up_client(&mut self, object: impl Into<JobObject>, options: ToOptions) {
        self.spec.set_up_client.push(ClientSetup {
            object: object.into(),
            options,
        });
    }

    /// The client targets used so far, in order.
    pub fn clients(&self) -> &[String] {
        &self.clients
    }

    /// The recorded calls.
    pub fn steps(&self) -> &[Step] {
        &self.spec.steps
    }

    /// nvflare's `as_id`: an id for `object`; the object is added as a component (with that id)
    /// to the first target where an added object references the id in one of its arguments.
    /// Ids are uuid-shaped and deterministic (`00000000-0000-4000-8000-00000000000N`).
    pub fn as_id(&mut self, object: Component) -> String {
        let id = format!("00000000-0000-4000-8000-{:012x}", self.next_uuid);
        self.next_uuid += 1;
        self.as_id_named(id.clone(), object);
        id
    }

    fn as_id_named(&mut self, id: String, object: Component) {
        // A replayed id of ours moves the counter past it, so later ids stay unique.
        if let Some(n) = id
            .strip_prefix("00000000-0000-4000-8000-")
            .and_then(|n| u64::from_str_radix(n, 16).ok())
        {
            self.next_uuid = self.next_uuid.max(n + 1);
        }
        self.spec.steps.push(Step::AsId {
            id: id.clone(),
            object: object.clone(),
        });
        self.pending.push((id, object));
    }

    /// `to_server(object)`.
    pub fn to_server(&mut self, object: impl Into<JobObject>, options: ToOptions) -> ToResult {
        let object = object.into();
        if matches!(&object, JobObject::Class(c) if c.effective_kind() == Kind::Executor)
            || matches!(object, JobObject::ScriptRunner(_))
        {
            return Err(JobError::WrongTarget {
                what: object.describe(),
                target: SERVER.to_owned(),
            });
        }
        self.to(object, SERVER, options)
    }

    /// `to_clients(object)`: to `@ALL`.
    pub fn to_clients(&mut self, object: impl Into<JobObject>, options: ToOptions) -> ToResult {
        let object = object.into();
        if matches!(&object, JobObject::Class(c) if c.effective_kind() == Kind::Controller) {
            return Err(JobError::WrongTarget {
                what: object.describe(),
                target: "all clients".to_owned(),
            });
        }
        self.to(object, ALL_SITES, options)
    }

    /// `to(object, target, **options)`: assigns `object` to `server`, `@ALL` or a site.
    /// Returns the id of an added component (components, numpy model), else `None`.
    pub fn to(
        &mut self,
        object: impl Into<JobObject>,
        target: &str,
        options: ToOptions,
    ) -> ToResult {
        let object = object.into();
        validate_target(target)?;
        if let JobObject::Class(c) = &object {
            catalog::validate(c)?;
        }
        let step = Step::To {
            target: target.to_owned(),
            object: object.clone(),
            options: options.clone(),
        };
        let result = self.place(object, target, options)?;
        // Only calls that succeeded are recorded, so the spec always replays.
        self.spec.steps.push(step);
        Ok(result)
    }

    fn app(&mut self, target: &str) -> &mut App {
        let i = self
            .deploy
            .iter()
            .position(|(t, _)| t == target)
            .unwrap_or(0);
        &mut self.deploy[i].1
    }

    fn place(&mut self, object: JobObject, target: &str, options: ToOptions) -> ToResult {
        if !self.deploy.iter().any(|(t, _)| t == target) {
            let server = target == SERVER;
            self.deploy.push((target.to_owned(), App::new(server)));
            if !server {
                if !self.clients.iter().any(|c| c == target) {
                    self.clients.push(target.to_owned());
                }
                for setup in self.spec.set_up_client.clone() {
                    self.place(setup.object, target, setup.options)?;
                }
            }
        }
        let server = target == SERVER;
        let what = object.describe();
        let id = options.id.as_deref();
        let result = match &object {
            JobObject::Resource { path } => {
                self.app(target).resources.push(path.clone());
                return Ok(None);
            }
            JobObject::Params { params } => {
                self.app(target).add_params(params);
                return Ok(None);
            }
            JobObject::Class(c) => match c.effective_kind() {
                Kind::Controller => {
                    check_options(&what, &options, false, false)?;
                    if server {
                        self.app(target).add_controller(c.clone(), id)?;
                    } else {
                        self.app(target).add_component(c.clone(), id)?;
                    }
                    None
                }
                Kind::Executor => {
                    check_options(&what, &options, true, false)?;
                    if server {
                        return Err(JobError::WrongTarget {
                            what,
                            target: target.to_owned(),
                        });
                    }
                    self.app(target)
                        .add_executor(c.clone(), options.tasks.clone())?;
                    None
                }
                Kind::Filter => {
                    check_options(&what, &options, true, true)?;
                    let tasks = options
                        .tasks
                        .clone()
                        .unwrap_or_else(|| vec!["*".to_owned()]);
                    let filter_type = options.filter_type.unwrap_or(FilterType::TaskData);
                    self.app(target).add_filter(c.clone(), filter_type, tasks)?;
                    None
                }
                Kind::Component => Some(self.app(target).add_component(c.clone(), id)?),
            },
            JobObject::ScriptRunner(runner) => {
                check_options(&what, &options, true, false)?;
                if server {
                    return Err(JobError::WrongTarget {
                        what,
                        target: target.to_owned(),
                    });
                }
                let executor = runner.executor()?;
                let app = self.app(target);
                app.add_executor(executor, options.tasks.clone())?;
                app.resources.push(runner.script.clone());
                None
            }
            JobObject::NpModel {
                model,
                initial_ckpt,
            } => {
                check_options(&what, &options, false, false)?;
                let mut persistor =
                    Component::new("nvflare.app_common.np.np_model_persistor.NPModelPersistor");
                if let Some(m) = model {
                    persistor = persistor.arg("model", m.clone());
                }
                if let Some(c) = initial_ckpt {
                    persistor =
                        persistor.arg("source_ckpt_file_full_name", Value::String(c.clone()));
                }
                let pid = self
                    .app(target)
                    .add_component(persistor.clone(), Some(id.unwrap_or("persistor")))?;
                self.add_referenced(&persistor, target)?;
                Some(pid)
            }
        };
        if let JobObject::Class(c) = &object {
            self.add_referenced(c, target)?;
        }
        Ok(result)
    }

    /// nvflare's `_add_referenced_components`: string arguments naming an `as_id` object add
    /// that object to the same target, once.
    fn add_referenced(&mut self, base: &Component, target: &str) -> Result<(), JobError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        for name in reference_order(base) {
            let Some(Arg::Value(Value::String(s))) = base.args.get(&name) else {
                continue;
            };
            let Some(pos) = self.pending.iter().position(|(id, _)| id == s) else {
                continue;
            };
            let (id, comp) = self.pending[pos].clone();
            self.app(target).add_component(comp.clone(), Some(&id))?;
            self.add_referenced(&comp, target)?;
            if let Some(pos) = self.pending.iter().position(|(p, _)| *p == id) {
                self.pending.remove(pos);
            }
        }
        Ok(())
    }
}

/// The argument names nvflare looks at for references: the constructor's, in signature order,
/// of those the object keeps.
fn reference_order(c: &Component) -> Vec<String> {
    match catalog::catalog().get(&c.path) {
        Some(info) => info
            .args
            .iter()
            .filter(|a| a.stored)
            .map(|a| a.name.clone())
            .collect(),
        None => c.args.0.iter().map(|(k, _)| k.clone()).collect(),
    }
}

impl ScriptRunner {
    /// The `ClientAPIExecutor` nvflare's `ScriptRunner.add_to_fed_job` configures.
    pub fn executor(&self) -> Result<Component, JobError> {
        let mut e = Component::new(crate::patterns::CLIENT_API_EXECUTOR);
        if self.launch_external_process {
            let mut argv = self.command.argv()?;
            let script = if self.script.starts_with('/') {
                self.script.rsplit('/').next().unwrap_or(&self.script)
            } else {
                self.script.as_str()
            };
            argv.push(format!("custom/{script}"));
            argv.extend(self.script_args.argv()?);
            e = e
                .arg("execution_mode", Value::from("external_process"))
                .arg("command", Value::from(argv))
                .arg("launch_once", Value::from(self.launch_once))
                .arg(
                    "launch_timeout",
                    self.launch_timeout.map(Value::from).unwrap_or(Value::Null),
                )
                .arg("shutdown_timeout", Value::from(self.shutdown_timeout));
        } else {
            e = e
                .arg("execution_mode", Value::from("in_process"))
                .arg("task_script_path", Value::from(self.script.clone()))
                .arg("task_script_args", self.script_args.to_value());
        }
        Ok(e.arg(
            "params_exchange_format",
            Value::from(self.framework.exchange_format()),
        )
        .arg(
            "server_expected_format",
            Value::from(self.server_expected_format.clone()),
        )
        .arg(
            "params_transfer_type",
            Value::from(self.params_transfer_type.clone()),
        )
        .arg("memory_gc_rounds", Value::from(self.memory_gc_rounds))
        .arg("cuda_empty_cache", Value::from(self.cuda_empty_cache)))
    }
}

#[cfg(test)]
mod tests {
    use super::generate_id;

    fn used(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Python's `_generate_id`: first digit run incremented (`int` drops leading zeros,
    /// `str.replace` replaces every occurrence), else `1` appended.
    #[test]
    fn ids_are_numbered_like_nvflare() {
        let cases: [(&str, &[&str], &str); 7] = [
            ("component", &[], "component"),
            ("component", &["component"], "component1"),
            ("component", &["component", "component1"], "component2"),
            ("m9", &["m9"], "m10"),
            ("a1b1", &["a1b1"], "a2b2"),
            ("x007", &["x007"], "x8"),
            ("v99", &["v99", "v100"], "v101"),
        ];
        for (id, taken, want) in cases {
            assert_eq!(generate_id(id, &used(taken)), want, "{id} with {taken:?}");
        }
    }
}
