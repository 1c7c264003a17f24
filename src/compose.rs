//! The composer's pure logic: the composition being edited (steps added, changed and removed),
//! catalog-typed argument fields, the form's checks (flare-job's, with the fetched catalog and
//! the study's connected sites), and keeping the draft in localStorage across reloads.

use flare_job::compose::{ComposedFile, Composition, Problem, check};
use flare_job::{
    ALL_SITES, ArgInfo, ArgType, Catalog, Component, Framework, JobObject, Kind, SERVER,
    ScriptRunner, Step, ToOptions,
};
use serde_json::Value;

/// localStorage key of the draft composition.
pub const STORAGE_KEY: &str = "flare-console.compose";

/// What the add form can put into a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewKind {
    /// A catalog or custom class (controller, executor, filter, component).
    Class,
    /// A Client API training script through a `ScriptRunner`.
    ScriptRunner,
    /// A numpy model with its persistor.
    NpModel,
    /// An uploaded file or folder copied into `custom/`.
    Resource,
}

impl NewKind {
    /// Every kind, with the value of its `<option>` and its label.
    pub const ALL: [(NewKind, &'static str, &'static str); 4] = [
        (NewKind::Class, "class", "Component class"),
        (
            NewKind::ScriptRunner,
            "script_runner",
            "ScriptRunner (training script)",
        ),
        (NewKind::NpModel, "np_model", "Numpy model (persistor)"),
        (NewKind::Resource, "resource", "Resource file"),
    ];

    /// The kind of an `<option>` value.
    pub fn from_value(v: &str) -> NewKind {
        Self::ALL
            .iter()
            .find(|(_, value, _)| *value == v)
            .map_or(NewKind::Class, |(k, _, _)| *k)
    }
}

/// The targets offered: the server, all clients, then each connected site.
pub fn targets(sites: &[String]) -> Vec<(String, String)> {
    let mut out = vec![
        (SERVER.to_owned(), "Server".to_owned()),
        (ALL_SITES.to_owned(), "All clients".to_owned()),
    ];
    out.extend(sites.iter().map(|s| (s.clone(), format!("Site {s}"))));
    out
}

/// The object the add form describes; `path` is a class path, a script or a resource.
pub fn new_object(
    kind: NewKind,
    path: &str,
    custom_kind: Option<Kind>,
) -> Result<JobObject, String> {
    let path = path.trim();
    match kind {
        NewKind::Class => {
            if path.is_empty() || path.contains(char::is_whitespace) || !path.contains('.') {
                return Err(
                    "Enter a full class path, e.g. nvflare.app_common.workflows.fedavg.FedAvg."
                        .to_owned(),
                );
            }
            Ok(JobObject::Class(Component {
                kind: custom_kind,
                ..Component::new(path)
            }))
        }
        NewKind::ScriptRunner => {
            if path.is_empty() {
                return Err("Upload a training script first, then pick it.".to_owned());
            }
            Ok(JobObject::ScriptRunner(
                ScriptRunner::new(path).framework(Framework::Numpy),
            ))
        }
        NewKind::NpModel => Ok(JobObject::NpModel {
            model: Some(serde_json::json!([
                [1.0, 2.0, 3.0],
                [4.0, 5.0, 6.0],
                [7.0, 8.0, 9.0]
            ])),
            initial_ckpt: None,
        }),
        NewKind::Resource => {
            if path.is_empty() {
                return Err("Upload the file first, then pick it.".to_owned());
            }
            Ok(JobObject::resource(path))
        }
    }
}

/// Appends `object` for `target`.
pub fn add(c: &mut Composition, target: &str, object: JobObject, options: ToOptions) {
    c.job.steps.push(Step::To {
        target: target.to_owned(),
        object,
        options,
    });
}

/// Removes step `i`.
pub fn remove(c: &mut Composition, i: usize) {
    if i < c.job.steps.len() {
        c.job.steps.remove(i);
    }
}

/// The class of step `i`, to edit.
pub fn class_mut(c: &mut Composition, i: usize) -> Option<&mut Component> {
    match c.job.steps.get_mut(i) {
        Some(Step::To {
            object: JobObject::Class(comp),
            ..
        }) => Some(comp),
        _ => None,
    }
}

/// Sets (or with `None` removes, so the default applies) argument `name` of step `i`'s class.
pub fn set_arg(c: &mut Composition, i: usize, name: &str, value: Option<Value>) {
    if let Some(comp) = class_mut(c, i) {
        match value {
            Some(v) => comp.args.set(name, v),
            None => comp.args.0.retain(|(k, _)| k != name),
        }
    }
}

/// Sets the target of step `i`.
pub fn set_target(c: &mut Composition, i: usize, new: &str) {
    if let Some(Step::To { target, .. }) = c.job.steps.get_mut(i) {
        *target = new.to_owned();
    }
}

/// Sets the id of step `i` (empty: nvflare's default).
pub fn set_id(c: &mut Composition, i: usize, id: &str) {
    if let Some(Step::To { options, .. }) = c.job.steps.get_mut(i) {
        let id = id.trim();
        options.id = (!id.is_empty()).then(|| id.to_owned());
    }
}

/// Sets the tasks of step `i` from a comma-separated list (empty: all tasks).
pub fn set_tasks(c: &mut Composition, i: usize, text: &str) {
    if let Some(Step::To { options, .. }) = c.job.steps.get_mut(i) {
        let tasks: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        options.tasks = (!tasks.is_empty()).then_some(tasks);
    }
}

/// Adds or replaces an uploaded file.
pub fn put_file(c: &mut Composition, path: &str, bytes: &[u8]) {
    let file = ComposedFile::new(path, bytes);
    c.files.retain(|f| f.path != file.path);
    c.files.push(file);
    c.files.sort_by(|a, b| a.path.cmp(&b.path));
}

/// Removes an uploaded file.
pub fn remove_file(c: &mut Composition, path: &str) {
    c.files.retain(|f| f.path != path);
}

/// The text an argument's field shows for `value` (strings bare, the rest as JSON).
pub fn arg_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The value typed into an argument's field, or why it does not fit: empty means "the default"
/// (`None`); strings are taken as typed, numbers, booleans, lists and dicts are read as JSON.
pub fn parse_arg(arg: &ArgInfo, text: &str) -> Result<Option<Value>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t == "null" && arg.nullable {
        return Ok(Some(Value::Null));
    }
    let bad = |what: &str| Err(format!("{} must be {what}.", arg.name));
    match arg.ty {
        ArgType::Str => Ok(Some(Value::String(text.to_owned()))),
        ArgType::Int => match t.parse::<i64>() {
            Ok(n) => Ok(Some(Value::from(n))),
            Err(_) => bad("a whole number"),
        },
        ArgType::Float => match t.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Some(Value::from(n))),
            _ => bad("a number"),
        },
        ArgType::Bool => match t {
            "true" => Ok(Some(Value::Bool(true))),
            "false" => Ok(Some(Value::Bool(false))),
            _ => bad("true or false"),
        },
        ArgType::List => match serde_json::from_str::<Value>(t) {
            Ok(v @ Value::Array(_)) => Ok(Some(v)),
            _ => bad("a JSON list such as [\"a\", \"b\"]"),
        },
        ArgType::Dict => match serde_json::from_str::<Value>(t) {
            Ok(v @ Value::Object(_)) => Ok(Some(v)),
            _ => bad("a JSON object such as {\"site-1\": 1.0}"),
        },
        ArgType::Any => Ok(Some(
            serde_json::from_str::<Value>(t).unwrap_or_else(|_| Value::String(text.to_owned())),
        )),
    }
}

/// A short hint of an argument's type and default for its field.
pub fn arg_hint(arg: &ArgInfo) -> String {
    let ty = match arg.ty {
        ArgType::Str => "text",
        ArgType::Int => "integer",
        ArgType::Float => "number",
        ArgType::Bool => "true / false",
        ArgType::List => "JSON list",
        ArgType::Dict => "JSON object",
        ArgType::Any => "JSON",
    };
    match (&arg.default, arg.required) {
        (_, true) => format!("{ty}, required"),
        (Some(Value::Null) | None, false) => format!("{ty}, default none"),
        (Some(d), false) => format!("{ty}, default {}", arg_text(d)),
    }
}

/// The catalog as the relay sends it, sorted by path (flare-job looks classes up by binary
/// search).
pub fn read_catalog(text: &str) -> Result<Catalog, String> {
    let mut c: Catalog = serde_json::from_str(text)
        .map_err(|e| format!("the relay's component catalog is unreadable ({e})"))?;
    c.classes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(c)
}

/// The form's checks, as sentences: flare-job's with the catalog and the study's sites.
pub fn problems(c: &Composition, catalog: &Catalog, sites: Option<&[String]>) -> Vec<Problem> {
    check(&c.job, catalog, sites, &c.file_paths())
        .into_iter()
        .map(|p| Problem {
            message: crate::api::sentence(&p.message),
            ..p
        })
        .collect()
}

/// A label for step `i`'s object.
pub fn step_title(step: &Step) -> String {
    match step {
        Step::To { object, .. } => match object {
            JobObject::Class(c) => c.class_name().to_owned(),
            JobObject::ScriptRunner(r) => format!("ScriptRunner · {}", r.script),
            JobObject::Resource { path } => format!("Resource · {path}"),
            JobObject::Params { .. } => "Extra config entries".to_owned(),
            JobObject::NpModel { .. } => "Numpy model".to_owned(),
        },
        Step::AsId { id, object } => format!("{} (referenced as {id})", object.class_name()),
    }
}

/// The draft as stored.
pub fn to_storage(c: &Composition) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

/// A stored draft, if it is one.
pub fn from_storage(text: &str) -> Option<Composition> {
    serde_json::from_str(text).ok()
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The draft kept in this browser.
pub fn load_draft() -> Option<Composition> {
    from_storage(&local_storage()?.get_item(STORAGE_KEY).ok().flatten()?)
}

/// Keeps the draft in this browser; false when the browser refused (e.g. storage full).
pub fn save_draft(c: &Composition) -> bool {
    local_storage().is_some_and(|s| s.set_item(STORAGE_KEY, &to_storage(c)).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(ty: ArgType) -> ArgInfo {
        serde_json::from_value(serde_json::json!({"name": "x", "type": "str"}))
            .map(|a: ArgInfo| ArgInfo { ty, ..a })
            .expect("arg")
    }

    #[test]
    fn fields_parse_by_type_and_say_what_fits() {
        assert_eq!(
            parse_arg(&arg(ArgType::Int), " 3 "),
            Ok(Some(Value::from(3)))
        );
        assert_eq!(parse_arg(&arg(ArgType::Int), ""), Ok(None));
        assert_eq!(
            parse_arg(&arg(ArgType::Int), "three"),
            Err("x must be a whole number.".to_owned())
        );
        assert_eq!(
            parse_arg(&arg(ArgType::Bool), "true"),
            Ok(Some(Value::Bool(true)))
        );
        assert_eq!(
            parse_arg(&arg(ArgType::List), "[1, 2]"),
            Ok(Some(serde_json::json!([1, 2])))
        );
        assert!(parse_arg(&arg(ArgType::Dict), "[1]").is_err());
        assert_eq!(
            parse_arg(&arg(ArgType::Str), "a b"),
            Ok(Some(Value::from("a b")))
        );
        assert_eq!(arg_text(&Value::from("s")), "s");
        assert_eq!(arg_text(&serde_json::json!([1])), "[1]");
    }

    #[test]
    fn editing_steps_and_files() {
        let mut c = Composition::empty("j", 2);
        add(
            &mut c,
            SERVER,
            new_object(
                NewKind::Class,
                "nvflare.app_common.workflows.fedavg.FedAvg",
                None,
            )
            .expect("class"),
            ToOptions::default(),
        );
        set_arg(&mut c, 0, "num_rounds", Some(Value::from(3)));
        set_id(&mut c, 0, " ctl ");
        set_target(&mut c, 0, "site-1");
        let Step::To {
            target, options, ..
        } = &c.job.steps[0]
        else {
            panic!("a to step");
        };
        assert_eq!(
            (target.as_str(), options.id.as_deref()),
            ("site-1", Some("ctl"))
        );
        set_arg(&mut c, 0, "num_rounds", None);
        assert!(class_mut(&mut c, 0).expect("class").args.is_empty());
        put_file(&mut c, "train.py", b"a");
        put_file(&mut c, "train.py", b"b");
        assert_eq!(c.files.len(), 1);
        assert_eq!(c.files[0].bytes().expect("bytes"), b"b");
        remove(&mut c, 0);
        remove_file(&mut c, "train.py");
        assert!(c.job.steps.is_empty() && c.files.is_empty());
        assert!(new_object(NewKind::Class, "FedAvg", None).is_err());
        assert!(new_object(NewKind::ScriptRunner, "", None).is_err());
        let stored = to_storage(&c);
        assert_eq!(from_storage(&stored), Some(c));
        assert_eq!(from_storage("{"), None);
    }

    #[test]
    fn targets_list_the_study_sites() {
        let t = targets(&["site-1".to_owned()]);
        let values: Vec<&str> = t.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(values, ["server", "@ALL", "site-1"]);
    }
}
