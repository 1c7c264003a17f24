//! `export_job`: the job folder nvflare 2.9 writes (`meta.json`, one app per deployment with
//! `config/config_fed_server.json` / `config_fed_client.json` and `custom/`), in memory.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::JobError;
use crate::catalog;
use crate::job::{ALL_SITES, App, ExecutorDef, FedJob, SERVER, TaskFilters};
use crate::json::Json;
use crate::object::{Arg, Component};

/// A resource as the loader found it.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    /// A file's bytes.
    File(Vec<u8>),
    /// A folder's files: (path relative to the folder, bytes).
    Dir(Vec<(String, Vec<u8>)>),
}

/// Where resources (scripts, files, folders) come from: the file system natively, uploaded
/// files in the browser.
pub trait ResourceLoader {
    /// The resource at `path` (relative to the job's source folder, `/`-separated), or `None`.
    fn load(&self, path: &str) -> Result<Option<Loaded>, JobError>;
}

/// Resources held in memory (the browser composer's uploads, tests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryResources {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemoryResources {
    /// No resources.
    pub fn new() -> MemoryResources {
        MemoryResources::default()
    }

    /// Adds a file at `path`; its parent folders become folder resources.
    pub fn add_file(&mut self, path: &str, bytes: impl Into<Vec<u8>>) {
        self.files.insert(normalize(path), bytes.into());
    }
}

impl ResourceLoader for MemoryResources {
    fn load(&self, path: &str) -> Result<Option<Loaded>, JobError> {
        let path = normalize(path);
        if let Some(bytes) = self.files.get(&path) {
            return Ok(Some(Loaded::File(bytes.clone())));
        }
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let files: Vec<(String, Vec<u8>)> = self
            .files
            .iter()
            .filter_map(|(p, b)| {
                p.strip_prefix(&prefix)
                    .map(|rel| (rel.to_owned(), b.clone()))
            })
            .collect();
        Ok(if files.is_empty() {
            None
        } else {
            Some(Loaded::Dir(files))
        })
    }
}

/// `os.path.normpath` for relative `/` paths (keeps leading `..`).
pub(crate) fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// One app of the export: (app name, server app, client app, sites).
type Deployment<'a> = (String, Option<&'a App>, Option<&'a App>, Vec<String>);

/// An exported job: its name and files (paths relative to the job folder).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedJob {
    /// The job (folder) name.
    pub name: String,
    /// The files, by path relative to the job folder (`meta.json`, `app/config/...`).
    pub files: BTreeMap<String, Vec<u8>>,
}

impl FedJob {
    /// The deployments nvflare makes: (app name, server app, client app, sites).
    fn deployments(&self) -> Result<Vec<Deployment<'_>>, JobError> {
        let find = |t: &str| {
            self.deploy
                .iter()
                .find(|(target, _)| target == t)
                .map(|(_, a)| a)
        };
        if let Some(all) = find(ALL_SITES) {
            let server = find(SERVER).ok_or(JobError::MissingServer)?;
            return Ok(vec![(
                "app".to_owned(),
                Some(server),
                Some(all),
                vec![ALL_SITES.to_owned()],
            )]);
        }
        Ok(self
            .deploy
            .iter()
            .map(|(target, app)| {
                if app.server {
                    (
                        "app_server".to_owned(),
                        Some(app),
                        None,
                        vec![target.clone()],
                    )
                } else {
                    (
                        format!("app_{target}"),
                        None,
                        Some(app),
                        vec![target.clone()],
                    )
                }
            })
            .collect())
    }

    /// nvflare's `export_job`, in memory: `meta.json` and every app's config and `custom/` files.
    pub fn export(&self, loader: &dyn ResourceLoader) -> Result<ExportedJob, JobError> {
        let deployments = self.deployments()?;
        let spec = self.spec();
        let mut files = BTreeMap::new();
        let mut meta = Json::object();
        meta.insert("name", Value::from(spec.name.clone()));
        let specs = spec
            .resource_spec
            .0
            .iter()
            .map(|(site, s)| {
                let entries = s.0.iter().map(|(k, v)| (k.clone(), Json::Plain(v.clone())));
                (site.clone(), Json::Object(entries.collect()))
            })
            .collect();
        meta.insert("resource_spec", Json::Object(specs));
        meta.insert("min_clients", Value::from(spec.min_clients));
        let mut deploy_map = Json::object();
        for (app_name, _, _, sites) in &deployments {
            deploy_map.insert(app_name, Value::from(sites.clone()));
        }
        meta.insert("deploy_map", deploy_map);
        if let Some(m) = spec.mandatory_clients.as_ref().filter(|m| !m.is_empty()) {
            meta.insert("mandatory_clients", Value::from(m.clone()));
        }
        for (k, v) in &spec.meta_props.0 {
            meta.insert(k, v.clone());
        }
        files.insert("meta.json".to_owned(), meta.to_pretty().into_bytes());
        for (app_name, server, client, _) in &deployments {
            let mut custom: BTreeMap<String, Vec<u8>> = BTreeMap::new();
            if let Some(app) = server {
                let config = app_config(app, "workflows", id_entries(&app.workflows));
                files.insert(format!("{app_name}/config/config_fed_server.json"), config);
                copy_resources(app, loader, &mut custom)?;
            }
            if let Some(app) = client {
                let executors = Json::Array(app.executors.iter().map(executor_entry).collect());
                let config = app_config(app, "executors", executors);
                files.insert(format!("{app_name}/config/config_fed_client.json"), config);
                copy_resources(app, loader, &mut custom)?;
            }
            for (path, bytes) in custom {
                files.insert(format!("{app_name}/custom/{path}"), bytes);
            }
        }
        Ok(ExportedJob {
            name: spec.name.clone(),
            files,
        })
    }
}

fn executor_entry(e: &ExecutorDef) -> Json {
    let mut exec = Json::object();
    exec.insert("path", Value::from(e.executor.path.clone()));
    exec.insert("args", export_args(&e.executor));
    let mut entry = Json::object();
    entry.insert("tasks", Value::from(e.tasks.clone()));
    entry.insert("executor", exec);
    entry
}

/// An app's `config_fed_server.json` or `config_fed_client.json`: `format_version`, its own list
/// (`workflows` or `executors`), then what both have.
fn app_config(app: &App, list_key: &str, list: Json) -> Vec<u8> {
    let mut doc = Json::object();
    doc.insert("format_version", Value::from(2));
    doc.insert(list_key, list);
    base_app(app, &mut doc);
    doc.to_pretty().into_bytes()
}

/// Workflows or components: `{"id", "path", "args"}` each.
fn id_entries(list: &[(String, Component)]) -> Json {
    Json::Array(
        list.iter()
            .map(|(id, c)| {
                let mut w = Json::object();
                w.insert("id", Value::from(id.clone()));
                w.insert("path", Value::from(c.path.clone()));
                w.insert("args", export_args(c));
                w
            })
            .collect(),
    )
}

fn base_app(app: &App, doc: &mut Json) {
    doc.insert("components", id_entries(&app.components));
    doc.insert("task_data_filters", filters(&app.task_data_filters));
    doc.insert("task_result_filters", filters(&app.task_result_filters));
    for (k, v) in &app.params {
        doc.insert(k, v.clone());
    }
}

fn filters(list: &[TaskFilters]) -> Json {
    Json::Array(
        list.iter()
            .map(|(tasks, filters)| {
                let mut entry = Json::object();
                entry.insert("tasks", Value::from(tasks.clone()));
                entry.insert(
                    "filters",
                    Json::Array(filters.iter().map(class_entry).collect()),
                );
                entry
            })
            .collect(),
    )
}

fn class_entry(c: &Component) -> Json {
    let mut entry = Json::object();
    entry.insert("path", Value::from(c.path.clone()));
    entry.insert("args", export_args(c));
    entry
}

/// Python's `!=` on values as far as JSON goes (`1 == 1.0`).
fn differs(default: &Value, given: &Value) -> bool {
    match (default, given) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() != b.as_f64(),
        (Value::Bool(a), Value::Number(b)) | (Value::Number(b), Value::Bool(a)) => {
            b.as_f64() != Some(if *a { 1.0 } else { 0.0 })
        }
        (a, b) => a != b,
    }
}

fn arg_json(arg: &Arg) -> Json {
    match arg {
        Arg::Value(v) => Json::Plain(v.clone()),
        Arg::Object(c) => class_entry(c),
    }
}

/// The `args` nvflare's `_get_args` writes: for a catalog class, in signature order, every kept
/// argument whose value differs from the default (or is always serialized), and what a
/// default-constructed object exports for the rest; for other classes, the arguments as given.
pub fn export_args(c: &Component) -> Json {
    let mut out = Json::object();
    let Some(info) = catalog::catalog().get(&c.path) else {
        for (k, v) in &c.args.0 {
            out.insert(k, arg_json(v));
        }
        return out;
    };
    for a in &info.args {
        if !a.stored {
            continue;
        }
        let always = info.always_serialize.contains(&a.name);
        let default_export = info.defaults_export.get(&a.name);
        match c.args.get(&a.name) {
            Some(arg @ Arg::Object(_)) => out.insert(&a.name, arg_json(arg)),
            Some(Arg::Value(v)) => {
                let differ = a.required
                    || a.default_is_object
                    || differs(a.default.as_ref().unwrap_or(&Value::Null), v);
                if always || differ {
                    out.insert(&a.name, Json::Plain(v.clone()));
                } else if let Some(d) = default_export {
                    out.insert(&a.name, Json::Plain(d.clone()));
                }
            }
            None => {
                if let Some(d) = default_export {
                    out.insert(&a.name, Json::Plain(d.clone()));
                } else if always && !a.required {
                    out.insert(
                        &a.name,
                        Json::Plain(a.default.clone().unwrap_or(Value::Null)),
                    );
                }
            }
        }
    }
    out
}

/// Copies the app's resources into `custom` as nvflare does: scripts first (at their relative
/// path, with the local modules they import), then folders (flat, their contents at the top).
fn copy_resources(
    app: &App,
    loader: &dyn ResourceLoader,
    custom: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), JobError> {
    let mut dirs = Vec::new();
    for r in &app.resources {
        match loader.load(r)? {
            Some(Loaded::Dir(files)) => dirs.push(files),
            Some(Loaded::File(bytes)) => {
                let rel = if r.starts_with('/') {
                    r.rsplit('/').next().unwrap_or(r).to_owned()
                } else {
                    normalize(r)
                };
                if rel.is_empty() || rel == ".." || rel.starts_with("../") {
                    return Err(JobError::InvalidResourcePath(r.clone()));
                }
                if rel.ends_with(".py") && !r.starts_with('/') {
                    copy_imports(&rel, &bytes, loader, custom)?;
                }
                custom.insert(rel, bytes);
            }
            // nvflare skips an absolute path that does not exist here (it may exist at the site).
            None if r.starts_with('/') => {}
            None => return Err(JobError::ResourceNotFound(r.clone())),
        }
    }
    for files in dirs {
        for (rel, bytes) in files {
            custom.insert(rel, bytes);
        }
    }
    Ok(())
}

/// The modules a Python file imports without a leading dot (`import a.b`, `from a import b`).
fn imports(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in source.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("import ") {
            for part in rest.split(',') {
                if let Some(m) = part.split_whitespace().next() {
                    out.push(m.to_owned());
                }
            }
        } else if let Some(rest) = line.strip_prefix("from ")
            && let Some(m) = rest.split_whitespace().next()
            && !m.starts_with('.')
        {
            out.push(m.to_owned());
        }
    }
    out
}

/// nvflare copies the local modules an external script imports: a flat module `m` found in the
/// script's folder or the job's source folder goes to `custom/m.py` (by module name).
fn copy_imports(
    script: &str,
    bytes: &[u8],
    loader: &dyn ResourceLoader,
    custom: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), JobError> {
    let script_dir = script
        .rsplit_once('/')
        .map(|(d, _)| d.to_owned())
        .unwrap_or_default();
    let roots: Vec<String> = if script_dir.is_empty() {
        vec![String::new()]
    } else {
        vec![script_dir, String::new()]
    };
    let mut seen: Vec<String> = Vec::new();
    let mut queue: Vec<(String, Vec<u8>)> = vec![(script.to_owned(), bytes.to_vec())];
    while let Some((_, src)) = queue.pop() {
        for module in imports(&String::from_utf8_lossy(&src)) {
            let valid = module
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
            if !valid || module.split('.').next() == Some("nvflare") || seen.contains(&module) {
                continue;
            }
            let rel = format!("{}.py", module.replace('.', "/"));
            for root in &roots {
                let path = if root.is_empty() {
                    rel.clone()
                } else {
                    format!("{root}/{rel}")
                };
                if let Some(Loaded::File(found)) = loader.load(&path)? {
                    seen.push(module.clone());
                    custom.insert(rel.clone(), found.clone());
                    queue.push((rel.clone(), found));
                    break;
                }
            }
        }
    }
    Ok(())
}

/// Turns an object map into `Map` (helper for callers building params).
pub fn params(entries: &[(&str, Value)]) -> Map<String, Value> {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}
