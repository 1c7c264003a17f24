//! The browser composer's model: a composition (a job spec and the files uploaded for it), the
//! starting points and preview the relay sends, and the checks the form runs before anything is
//! sent. The checks take the catalog as an argument, so the browser (which fetches it) never
//! links the embedded one.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::JobError;
use crate::catalog::{ArgType, Catalog};
use crate::export::{ExportedJob, MemoryResources, normalize};
use crate::job::{
    ALL_SITES, FedJob, JobSpec, SERVER, Step, ToOptions, check_job_name, generate_id,
};
use crate::object::{Arg, Component, JobObject, Kind, OrderedMap};

/// A file uploaded for a composition (a training script, a resource), its bytes in base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComposedFile {
    /// Path relative to the job's source folder (`train.py`, `data/labels.txt`).
    pub path: String,
    /// The bytes, base64 (standard alphabet, padded).
    pub data: String,
}

impl ComposedFile {
    /// A file at `path` holding `bytes`.
    pub fn new(path: &str, bytes: &[u8]) -> ComposedFile {
        ComposedFile {
            path: normalize(path),
            data: STANDARD.encode(bytes),
        }
    }

    /// The file's bytes.
    pub fn bytes(&self) -> Result<Vec<u8>, JobError> {
        STANDARD.decode(&self.data).map_err(|e| JobError::Io {
            path: self.path.clone(),
            message: format!("the file is not valid base64 ({e}); upload it again"),
        })
    }
}

/// What the composer edits and the relay exports: the job as data (only `to` / `as_id` steps)
/// and the files its scripts and resources name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Composition {
    /// The job.
    pub job: JobSpec,
    /// The uploaded files.
    #[serde(default)]
    pub files: Vec<ComposedFile>,
}

impl Composition {
    /// An empty job called `name` for `min_clients` clients.
    pub fn empty(name: &str, min_clients: i64) -> Composition {
        Composition {
            job: JobSpec {
                name: name.to_owned(),
                min_clients,
                mandatory_clients: None,
                resource_spec: OrderedMap::default(),
                meta_props: OrderedMap::default(),
                set_up_client: Vec::new(),
                steps: Vec::new(),
            },
            files: Vec::new(),
        }
    }

    /// A composition of `job` (its client set-up spelled out as steps, see [`flatten`]).
    pub fn of_job(job: &FedJob) -> Composition {
        Composition {
            job: flatten(job.spec().clone()),
            files: Vec::new(),
        }
    }

    /// The uploaded files as a resource loader.
    pub fn resources(&self) -> Result<MemoryResources, JobError> {
        let mut r = MemoryResources::new();
        for f in &self.files {
            let path = normalize(&f.path);
            if path.is_empty() || path == ".." || path.starts_with("../") || f.path.starts_with('/')
            {
                return Err(JobError::InvalidResourcePath(f.path.clone()));
            }
            r.add_file(&path, f.bytes()?);
        }
        Ok(r)
    }

    /// Replays the job (every `to` checked as nvflare checks it) and exports it with the files.
    pub fn export(&self) -> Result<ExportedJob, JobError> {
        let job = FedJob::try_from(self.job.clone())?;
        job.export(&self.resources()?)
    }

    /// Paths of the uploaded files.
    pub fn file_paths(&self) -> Vec<String> {
        self.files.iter().map(|f| normalize(&f.path)).collect()
    }
}

/// A place to start composing, as the relay offers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComposeStart {
    /// Stable key (`empty`, `pattern:fedavg`, `library:hello-numpy`).
    pub key: String,
    /// What the list shows.
    pub label: String,
    /// One line about it.
    pub description: String,
    /// The composition it starts with.
    pub composition: Composition,
}

/// One exported file as the preview shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewFile {
    /// Path in the job folder (`meta.json`, `app/config/config_fed_server.json`).
    pub path: String,
    /// Its text (UTF-8 files), or `None` for binary files.
    pub text: Option<String>,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The job folder nvflare will receive, file by file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComposePreview {
    /// The job (folder) name.
    pub name: String,
    /// The files: `meta.json` first, then the apps' files in path order.
    pub files: Vec<PreviewFile>,
}

impl From<&ExportedJob> for ComposePreview {
    fn from(job: &ExportedJob) -> ComposePreview {
        let mut files: Vec<PreviewFile> = job
            .files
            .iter()
            .map(|(path, bytes)| PreviewFile {
                path: path.clone(),
                text: String::from_utf8(bytes.clone()).ok(),
                bytes: bytes.len() as u64,
            })
            .collect();
        files.sort_by_key(|f| (f.path != "meta.json", f.path.clone()));
        ComposePreview {
            name: job.name.clone(),
            files,
        }
    }
}

/// The job with nvflare's `set_up_client` spelled out: each set-up object becomes a `to` step
/// placed before the first step that uses a new client target, which exports the same folder.
pub fn flatten(spec: JobSpec) -> JobSpec {
    let setup = spec.set_up_client.clone();
    if setup.is_empty() {
        return spec;
    }
    let mut out = JobSpec {
        set_up_client: Vec::new(),
        steps: Vec::new(),
        ..spec.clone()
    };
    let mut seen: Vec<String> = Vec::new();
    for step in spec.steps {
        if let Step::To { target, .. } = &step
            && target != SERVER
            && !seen.contains(target)
        {
            seen.push(target.clone());
            for s in &setup {
                out.steps.push(Step::To {
                    target: target.clone(),
                    object: s.object.clone(),
                    options: s.options.clone(),
                });
            }
        }
        out.steps.push(step);
    }
    out
}

/// A refusal of the form: which step (index in `steps`) it is about, if one, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The step it is about.
    pub step: Option<usize>,
    /// Lowercase, says what to do.
    pub message: String,
}

fn problem(step: Option<usize>, message: impl Into<String>) -> Problem {
    Problem {
        step,
        message: message.into(),
    }
}

/// The role an object plays, with `catalog` for classes that do not say.
pub fn kind_of(object: &JobObject, catalog: &Catalog) -> Option<Kind> {
    match object {
        JobObject::Class(c) => Some(class_kind(c, catalog)),
        JobObject::ScriptRunner(_) => Some(Kind::Executor),
        JobObject::NpModel { .. } => Some(Kind::Component),
        JobObject::Resource { .. } | JobObject::Params { .. } => None,
    }
}

fn class_kind(c: &Component, catalog: &Catalog) -> Kind {
    c.kind
        .or_else(|| catalog.get(&c.path).map(|i| i.kind))
        .unwrap_or(Kind::Component)
}

/// Where a target is shown: `server`, `all clients` or the site.
pub fn target_label(target: &str) -> String {
    match target {
        SERVER => "the server".to_owned(),
        ALL_SITES => "all clients".to_owned(),
        site => format!("site {site}"),
    }
}

/// The checks the composer runs before sending: the job name and `min_clients`; a controller on
/// the server; no executor on the server; sites in `sites` (when known); catalog arguments
/// (unknown, wrong type, missing); `*_id` arguments naming a component of the same target; and
/// scripts and resources among `files`. Empty when the composition may be sent.
pub fn check(
    spec: &JobSpec,
    catalog: &Catalog,
    sites: Option<&[String]>,
    files: &[String],
) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Err(e) = check_job_name(&spec.name) {
        out.push(problem(None, e.to_string()));
    }
    if spec.min_clients <= 0 {
        out.push(problem(
            None,
            format!("min_clients must be at least 1, got {}", spec.min_clients),
        ));
    }
    // Ids per target, as nvflare numbers them.
    let mut ids: Vec<(String, Vec<String>)> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let mut controller_on_server = false;
    for (i, step) in spec.steps.iter().enumerate() {
        let (target, object, options) = match step {
            Step::To {
                target,
                object,
                options,
            } => (target, object, options),
            Step::AsId { id, .. } => {
                pending.push(id.clone());
                continue;
            }
        };
        let at = Some(i);
        let what = describe(object);
        if target.is_empty() {
            out.push(problem(
                at,
                format!("{what} has no target: pick the server, all clients or a site"),
            ));
            continue;
        }
        if target != SERVER
            && target != ALL_SITES
            && let Some(sites) = sites
            && !sites.iter().any(|s| s == target)
        {
            let known = if sites.is_empty() {
                "no site is connected".to_owned()
            } else {
                format!("pick one of {}", sites.join(", "))
            };
            out.push(problem(
                at,
                format!("site {target} is not in this study: {known}, or all clients"),
            ));
        }
        let kind = kind_of(object, catalog);
        if target == SERVER && kind == Some(Kind::Executor) {
            out.push(problem(
                at,
                format!(
                    "{what} is an executor and cannot run on the server: assign it to all clients or a site"
                ),
            ));
        }
        if target == SERVER && kind == Some(Kind::Controller) {
            controller_on_server = true;
        }
        let used = match ids.iter_mut().find(|(t, _)| t == target) {
            Some((_, u)) => u,
            None => {
                ids.push((target.clone(), Vec::new()));
                &mut ids.last_mut().expect("just pushed").1
            }
        };
        let default_id = match (object, kind) {
            (JobObject::NpModel { .. }, _) => Some("persistor"),
            (_, Some(Kind::Controller)) if target == SERVER => Some("controller"),
            (_, Some(Kind::Controller | Kind::Component)) => Some("component"),
            _ => None,
        };
        if let Some(default) = default_id {
            let wanted = options
                .id
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or(default);
            let id = generate_id(wanted, used);
            used.push(id);
        }
        match object {
            JobObject::Class(c) => {
                if c.path.trim().is_empty() {
                    out.push(problem(at, "a class needs its full path, e.g. nvflare.app_common.workflows.fedavg.FedAvg"));
                }
                check_args(c, catalog, at, &mut out);
            }
            JobObject::ScriptRunner(r) => {
                let script = normalize(&r.script);
                if script.is_empty() {
                    out.push(problem(
                        at,
                        "the ScriptRunner needs a script: upload one and pick it",
                    ));
                } else if !r.script.starts_with('/') && !files.contains(&script) {
                    out.push(problem(
                        at,
                        format!("script {} is not uploaded: upload it under files or pick an uploaded one", r.script),
                    ));
                }
            }
            JobObject::Resource { path } => {
                let p = normalize(path);
                let prefix = format!("{p}/");
                if p.is_empty() || !files.iter().any(|f| *f == p || f.starts_with(&prefix)) {
                    out.push(problem(
                        at,
                        format!("resource {path} is not uploaded: upload it under files"),
                    ));
                }
            }
            JobObject::Params { .. } | JobObject::NpModel { .. } => {}
        }
    }
    if !controller_on_server {
        out.push(problem(
            None,
            "no controller on the server: add a workflow such as FedAvg to the server",
        ));
    }
    // References by id, now that every target's ids are known.
    for (i, step) in spec.steps.iter().enumerate() {
        let Step::To {
            target,
            object: JobObject::Class(c),
            ..
        } = step
        else {
            continue;
        };
        let Some(info) = catalog.get(&c.path) else {
            continue;
        };
        let known = ids
            .iter()
            .find(|(t, _)| t == target)
            .map(|(_, u)| u.as_slice())
            .unwrap_or(&[]);
        for a in info
            .args
            .iter()
            .filter(|a| a.name.ends_with("_id") && matches!(a.ty, ArgType::Str | ArgType::Any))
        {
            let value = match c.args.get(&a.name) {
                Some(Arg::Value(Value::String(s))) => s.clone(),
                Some(_) => continue,
                None => match &a.default {
                    Some(Value::String(s)) if !a.required => s.clone(),
                    _ => continue,
                },
            };
            if value.is_empty() || known.contains(&value) || pending.contains(&value) {
                continue;
            }
            out.push(problem(
                Some(i),
                format!(
                    "{} refers to {} {value:?}, but {} has no component with that id: add one with id {value:?} there or change {}",
                    c.class_name(),
                    a.name,
                    target_label(target),
                    a.name
                ),
            ));
        }
    }
    out
}

fn describe(object: &JobObject) -> String {
    match object {
        JobObject::Class(c) => c.class_name().to_owned(),
        JobObject::ScriptRunner(_) => "ScriptRunner".to_owned(),
        JobObject::Resource { path } => format!("resource {path}"),
        JobObject::Params { .. } => "params".to_owned(),
        JobObject::NpModel { .. } => "numpy model".to_owned(),
    }
}

fn type_name(ty: ArgType) -> &'static str {
    match ty {
        ArgType::Str => "a string",
        ArgType::Int => "an integer",
        ArgType::Float => "a number",
        ArgType::Bool => "true or false",
        ArgType::List => "a JSON list",
        ArgType::Dict => "a JSON object",
        ArgType::Any => "any JSON value",
    }
}

/// Whether `value` fits an argument of type `ty`.
pub fn accepts(ty: ArgType, nullable: bool, value: &Value) -> bool {
    match value {
        Value::Null => nullable || ty == ArgType::Any,
        v => ty.accepts(v),
    }
}

fn check_args(c: &Component, catalog: &Catalog, at: Option<usize>, out: &mut Vec<Problem>) {
    let Some(info) = catalog.get(&c.path) else {
        return;
    };
    let class = c.class_name();
    for (name, value) in &c.args.0 {
        let Some(a) = info.arg(name) else {
            out.push(problem(
                at,
                format!("{class} takes no argument {name}: remove it"),
            ));
            continue;
        };
        match value {
            Arg::Object(_) => {}
            Arg::Value(v) => {
                if !accepts(a.ty, a.nullable, v) {
                    out.push(problem(
                        at,
                        format!("{class}: {name} must be {}, got {v}", type_name(a.ty)),
                    ));
                } else if let Some(choices) = &a.choices
                    && !v.is_null()
                    && !choices.contains(v)
                {
                    let list: Vec<String> = choices.iter().map(Value::to_string).collect();
                    out.push(problem(
                        at,
                        format!(
                            "{class}: {name} must be one of {}, got {v}",
                            list.join(", ")
                        ),
                    ));
                }
            }
        }
    }
    for a in info.args.iter().filter(|a| a.required) {
        if c.args.get(&a.name).is_none() {
            out.push(problem(at, format!("{class} needs {}: fill it in", a.name)));
        }
    }
}

/// The `to` options of a step, for callers building steps.
pub fn to_step(target: &str, object: JobObject, options: ToOptions) -> Step {
    Step::To {
        target: target.to_owned(),
        object,
        options,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::catalog;
    use crate::object::ScriptRunner;
    use crate::patterns::{CyclicPattern, FedAvgPattern};

    fn fedavg() -> Composition {
        let mut p = FedAvgPattern::new("hello", 2, "train.py");
        p.model = Some(serde_json::json!([[1.0, 2.0]]));
        let mut c = Composition::of_job(&p.build().expect("pattern"));
        c.files.push(ComposedFile::new("train.py", b"print(1)\n"));
        c
    }

    fn messages(c: &Composition, sites: Option<&[String]>) -> Vec<String> {
        check(&c.job, catalog(), sites, &c.file_paths())
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn patterns_pass_and_flattening_keeps_the_export() {
        let mut p = FedAvgPattern::new("hello", 2, "train.py");
        p.model = Some(serde_json::json!([[1.0, 2.0]]));
        let c = fedavg();
        assert!(c.job.set_up_client.is_empty());
        let flat = c.export().expect("export");
        let nested = p
            .build()
            .expect("pattern")
            .export(&c.resources().expect("files"));
        assert!(
            flat == nested.expect("export"),
            "flattening changed the export"
        );
        assert_eq!(
            messages(&c, Some(&["site-1".into(), "site-2".into()])),
            Vec::<String>::new()
        );
        let cyclic = CyclicPattern::new("cyc", serde_json::json!([[1.0]]), "train.py");
        let mut c = Composition::of_job(&cyclic.build().expect("cyclic"));
        c.files.push(ComposedFile::new("train.py", b""));
        assert_eq!(messages(&c, None), Vec::<String>::new());
    }

    #[test]
    fn bad_compositions_are_refused_with_what_to_do() {
        let mut c = Composition::empty("bad", 2);
        c.job.steps.push(to_step(
            SERVER,
            ScriptRunner::new("train.py").into(),
            ToOptions::default(),
        ));
        c.job.steps.push(to_step(
            "site-9",
            JobObject::Class(
                Component::new("nvflare.app_common.workflows.fedavg.FedAvg")
                    .arg("persistor_id", Value::from("nope")),
            ),
            ToOptions::default(),
        ));
        let got = messages(&c, Some(&["site-1".into()]));
        assert_eq!(
            got,
            vec![
                "ScriptRunner is an executor and cannot run on the server: assign it to all clients or a site",
                "script train.py is not uploaded: upload it under files or pick an uploaded one",
                "site site-9 is not in this study: pick one of site-1, or all clients",
                "no controller on the server: add a workflow such as FedAvg to the server",
                "FedAvg refers to persistor_id \"nope\", but site site-9 has no component with that id: add one with id \"nope\" there or change persistor_id",
            ]
        );
        let mut c = fedavg();
        if let Some(Step::To { object: JobObject::Class(comp), .. }) = c
            .job
            .steps
            .iter_mut()
            .find(|s| matches!(s, Step::To { object: JobObject::Class(c), .. } if c.class_name() == "FedAvg"))
        {
            comp.args.set("num_rounds", Value::from("three"));
            comp.args.set("bogus", Value::from(1));
        }
        assert_eq!(
            messages(&c, None),
            vec![
                "FedAvg: num_rounds must be an integer, got \"three\"",
                "FedAvg takes no argument bogus: remove it",
            ]
        );
    }

    #[test]
    fn files_round_trip_through_base64() {
        let f = ComposedFile::new("./a/../train.py", &[0, 1, 255]);
        assert_eq!(f.path, "train.py");
        assert_eq!(f.bytes().expect("decode"), vec![0, 1, 255]);
        let mut c = Composition::empty("x", 1);
        c.files.push(ComposedFile {
            path: "../x".into(),
            data: String::new(),
        });
        assert!(c.resources().is_err());
    }
}
