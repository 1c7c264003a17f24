//! The errors of building, validating and exporting a job.

/// What went wrong while building, validating or exporting a job.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// A job name outside nvflare's grammar (`[A-Za-z0-9][A-Za-z0-9._-]*`).
    #[error(
        "invalid job name {0:?}: it must start with a letter or digit and may contain only letters, digits, '.', '_' and '-'"
    )]
    InvalidJobName(String),
    /// `min_clients` must be positive.
    #[error("min_clients must be a positive number, got {0}")]
    InvalidMinClients(i64),
    /// An empty target, or one with a character nvflare refuses.
    #[error("invalid target name {0:?}")]
    InvalidTarget(String),
    /// An argument the class's constructor does not take.
    #[error("{class}: unknown argument {arg}")]
    UnknownArgument { class: String, arg: String },
    /// An argument of the wrong JSON type.
    #[error("{class}: argument {arg} must be {expected}, got {got}")]
    WrongType {
        class: String,
        arg: String,
        expected: String,
        got: String,
    },
    /// A required constructor argument that was not given.
    #[error("{class}: missing required argument {arg}")]
    MissingArgument { class: String, arg: String },
    /// An object assigned to a kind of target it cannot go to.
    #[error("{what} cannot be assigned to {target}")]
    WrongTarget { what: String, target: String },
    /// An option (`tasks`, `filter_type`) the object does not take, or a missing required one
    /// (nvflare's `check_kwargs`).
    #[error("{what}: {problem}")]
    Options { what: String, problem: String },
    /// Two executors of one app claim the same task.
    #[error("executor for tasks {0:?} already exists")]
    ExecutorTasks(Vec<String>),
    /// A filter task set overlapping, but not equal to, an existing one.
    #[error("cannot add filters for {tasks:?} since it overlaps task set {existing:?}")]
    FilterTasks {
        tasks: Vec<String>,
        existing: Vec<String>,
    },
    /// A component id used twice in one app.
    #[error("component with id {0} already exists")]
    DuplicateId(String),
    /// A job for all clients without a server app.
    #[error("missing server components: deploy them with to(obj, \"server\") or to_server(obj)")]
    MissingServer,
    /// A resource (script, file or folder) that the loader cannot find.
    #[error("cannot add resource {0}: it must be either a directory or file")]
    ResourceNotFound(String),
    /// A resource path that would leave `custom/`.
    #[error("invalid external script path: {0}")]
    InvalidResourcePath(String),
    /// A `ScriptRunner` setting nvflare refuses.
    #[error("script runner: {0}")]
    ScriptRunner(String),
    /// A job pattern setting nvflare refuses.
    #[error("{pattern}: {problem}")]
    Pattern { pattern: String, problem: String },
    /// A file that could not be read or written (native export).
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}
