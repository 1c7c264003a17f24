//! The objects a job is made of: class instances (controller, executor, filter, component),
//! `ScriptRunner`, resources, extra parameters and the numpy model wrapper.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::catalog;

/// What role a class plays when it is assigned to a target (nvflare decides this by the class's
/// base: `Controller`, `Executor`, `Filter`, anything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A workflow on the server; on a client, a client-side controller component.
    Controller,
    /// Handles tasks on a client.
    Executor,
    /// A task data / task result filter.
    Filter,
    /// Any other component.
    Component,
}

/// One constructor argument value.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A JSON value (numbers, strings, lists, dicts, null).
    Value(Value),
    /// Another class instance (exported nested as `{"path", "args"}`). In the JSON form:
    /// `{"$object": {"path": ..., "args": {...}}}`.
    Object(Box<Component>),
}

impl From<Value> for Arg {
    fn from(v: Value) -> Arg {
        Arg::Value(v)
    }
}

impl From<Component> for Arg {
    fn from(c: Component) -> Arg {
        Arg::Object(Box::new(c))
    }
}

impl Serialize for Arg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Value(v) => v.serialize(s),
            Arg::Object(c) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("$object", c)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Arg, D::Error> {
        let v = Value::deserialize(d)?;
        if let Value::Object(map) = &v
            && map.len() == 1
            && let Some(inner) = map.get("$object")
        {
            let c = Component::deserialize(inner.clone()).map_err(serde::de::Error::custom)?;
            return Ok(Arg::Object(Box::new(c)));
        }
        Ok(Arg::Value(v))
    }
}

/// A map that keeps its insertion order (nvflare's configs are Python dicts).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> OrderedMap<V> {
        OrderedMap(Vec::new())
    }
}

/// Constructor arguments in the order they were given.
pub type Args = OrderedMap<Arg>;

impl<V> OrderedMap<V> {
    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Sets `name` (replacing an earlier value in place).
    pub fn set(&mut self, name: &str, value: impl Into<V>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>, V> FromIterator<(K, V)> for OrderedMap<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> OrderedMap<V> {
        OrderedMap(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OrderedMap<V>, D::Error> {
        struct Entries<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<OrderedMap<V>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(Entries(std::marker::PhantomData))
    }
}

/// A class instance: its full class path and the constructor arguments given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// Full class path, e.g. `nvflare.app_common.workflows.fedavg.FedAvg`.
    pub path: String,
    /// Constructor arguments as given (only those differing from the default are exported,
    /// as nvflare does).
    #[serde(default)]
    pub args: Args,
    /// The role of a class that is not in the catalog (catalog classes know their kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
}

impl Component {
    /// A class instance without arguments.
    pub fn new(path: impl Into<String>) -> Component {
        Component {
            path: path.into(),
            args: Args::default(),
            kind: None,
        }
    }

    /// A class that is not in the catalog, with its role.
    pub fn custom(path: impl Into<String>, kind: Kind) -> Component {
        Component {
            kind: Some(kind),
            ..Component::new(path)
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, name: &str, value: impl Into<Arg>) -> Component {
        self.args.set(name, value);
        self
    }

    /// The role: as given, else the catalog's, else a plain component.
    pub fn effective_kind(&self) -> Kind {
        self.kind
            .or_else(|| catalog::catalog().get(&self.path).map(|c| c.kind))
            .unwrap_or(Kind::Component)
    }

    /// The short class name (`FedAvg`).
    pub fn class_name(&self) -> &str {
        self.path.rsplit('.').next().unwrap_or(&self.path)
    }
}

/// The framework of a `ScriptRunner` script; it picks the `params_exchange_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Framework {
    /// PyTorch (`pytorch`), nvflare's default.
    #[default]
    Pytorch,
    /// TensorFlow (`keras_layer_weights`).
    Tensorflow,
    /// NumPy (`numpy`).
    Numpy,
    /// Raw (`raw`).
    Raw,
}

impl Framework {
    /// The `params_exchange_format` nvflare's `ScriptRunner` picks for this framework.
    pub fn exchange_format(self) -> &'static str {
        match self {
            Framework::Pytorch => "pytorch",
            Framework::Tensorflow => "keras_layer_weights",
            Framework::Numpy => "numpy",
            Framework::Raw => "raw",
        }
    }
}

/// A command given as one string (split like a POSIX shell) or as argv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CommandLine {
    /// `"python3 -u"`.
    Text(String),
    /// `["python3", "-u"]`.
    Argv(Vec<String>),
}

impl CommandLine {
    /// The command as argv.
    pub fn argv(&self) -> Result<Vec<String>, crate::JobError> {
        match self {
            CommandLine::Text(t) => crate::shlex::split(t).map_err(crate::JobError::ScriptRunner),
            CommandLine::Argv(v) => Ok(v.clone()),
        }
    }

    /// The JSON value nvflare keeps for an in-process `task_script_args`.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            CommandLine::Text(t) => Value::String(t.clone()),
            CommandLine::Argv(v) => Value::from(v.clone()),
        }
    }
}

impl Default for CommandLine {
    fn default() -> CommandLine {
        CommandLine::Text(String::new())
    }
}

fn default_command() -> CommandLine {
    CommandLine::Text("python3 -u".to_owned())
}

fn default_true() -> bool {
    true
}

fn default_launch_timeout() -> Option<f64> {
    Some(300.0)
}

fn default_numpy() -> String {
    "numpy".to_owned()
}

fn default_full() -> String {
    "FULL".to_owned()
}

/// nvflare's `ScriptRunner`: a Client API script run in the client process or launched as an
/// external process, through a `ClientAPIExecutor`; the script is copied into `custom/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptRunner {
    /// The script, relative to the job's source folder (kept relative under `custom/`).
    pub script: String,
    /// Arguments appended to the script.
    #[serde(default)]
    pub script_args: CommandLine,
    /// External-process mode instead of in-process.
    #[serde(default)]
    pub launch_external_process: bool,
    /// The command prepended to the script in external-process mode.
    #[serde(default = "default_command")]
    pub command: CommandLine,
    /// Picks the `params_exchange_format`.
    #[serde(default)]
    pub framework: Framework,
    /// `numpy` by default.
    #[serde(default = "default_numpy")]
    pub server_expected_format: String,
    /// `FULL` or `DIFF`.
    #[serde(default = "default_full")]
    pub params_transfer_type: String,
    /// Launch once per job (external process).
    #[serde(default = "default_true")]
    pub launch_once: bool,
    /// Seconds to wait for the external trainer.
    #[serde(default = "default_launch_timeout")]
    pub launch_timeout: Option<f64>,
    /// Seconds to wait for an orderly exit.
    #[serde(default)]
    pub shutdown_timeout: f64,
    /// Memory cleanup every N rounds (0: off).
    #[serde(default)]
    pub memory_gc_rounds: i64,
    /// Empty the CUDA cache on cleanup.
    #[serde(default)]
    pub cuda_empty_cache: bool,
}

impl ScriptRunner {
    /// An in-process runner for `script` with nvflare's defaults.
    pub fn new(script: impl Into<String>) -> ScriptRunner {
        ScriptRunner {
            script: script.into(),
            script_args: CommandLine::default(),
            launch_external_process: false,
            command: default_command(),
            framework: Framework::default(),
            server_expected_format: default_numpy(),
            params_transfer_type: default_full(),
            launch_once: true,
            launch_timeout: default_launch_timeout(),
            shutdown_timeout: 0.0,
            memory_gc_rounds: 0,
            cuda_empty_cache: false,
        }
    }

    /// Sets the script arguments.
    pub fn script_args(mut self, args: impl Into<String>) -> ScriptRunner {
        self.script_args = CommandLine::Text(args.into());
        self
    }

    /// Sets the framework.
    pub fn framework(mut self, framework: Framework) -> ScriptRunner {
        self.framework = framework;
        self
    }

    /// External-process mode with `command`.
    pub fn external(mut self, command: impl Into<String>) -> ScriptRunner {
        self.launch_external_process = true;
        self.command = CommandLine::Text(command.into());
        self
    }
}

/// Anything that can be assigned to a target with `FedJob::to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobObject {
    /// A class instance; its kind says whether it is a controller, executor, filter or component.
    Class(Component),
    /// A `ScriptRunner`.
    ScriptRunner(ScriptRunner),
    /// A file or folder copied into `custom/` (a folder is copied flat).
    Resource {
        /// Path relative to the job's source folder.
        path: String,
    },
    /// Extra top-level entries of the app's config (nvflare's dict object).
    Params {
        /// The entries.
        params: serde_json::Map<String, Value>,
    },
    /// A numpy model with its `NPModelPersistor` (what nvflare's numpy recipes add), id
    /// `persistor` unless given.
    NpModel {
        /// The initial model as nested lists.
        #[serde(default)]
        model: Option<Value>,
        /// A checkpoint path on the server instead of (or besides) the model.
        #[serde(default)]
        initial_ckpt: Option<String>,
    },
}

impl From<Component> for JobObject {
    fn from(c: Component) -> JobObject {
        JobObject::Class(c)
    }
}

impl From<ScriptRunner> for JobObject {
    fn from(r: ScriptRunner) -> JobObject {
        JobObject::ScriptRunner(r)
    }
}

impl JobObject {
    /// A resource (file or folder).
    pub fn resource(path: impl Into<String>) -> JobObject {
        JobObject::Resource { path: path.into() }
    }

    /// What the object is, for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            JobObject::Class(c) => c.class_name().to_owned(),
            JobObject::ScriptRunner(_) => "ScriptRunner".to_owned(),
            JobObject::Resource { path } => format!("resource {path}"),
            JobObject::Params { .. } => "params".to_owned(),
            JobObject::NpModel { .. } => "numpy model".to_owned(),
        }
    }
}
