//! Clone-and-edit: a job folder nvflare reads (`meta.json`, each app's `config_fed_server.json` /
//! `config_fed_client.json` and `custom/` files) read back into a composition of `to` steps.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::JobError;
use crate::compose::{ComposedFile, Composition};
use crate::job::{ALL_SITES, FilterType, SERVER, Step, ToOptions};
use crate::object::{Arg, Args, Component, JobObject, Kind, OrderedMap};

/// Server config keys that are not extra parameters.
const SERVER_KEYS: &[&str] = &[
    "format_version",
    "workflows",
    "components",
    "task_data_filters",
    "task_result_filters",
];
/// Client config keys that are not extra parameters.
const CLIENT_KEYS: &[&str] = &[
    "format_version",
    "executors",
    "components",
    "task_data_filters",
    "task_result_filters",
];

fn bad(path: &str, message: impl Into<String>) -> JobError {
    JobError::Io {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn parse(path: &str, bytes: &[u8]) -> Result<Map<String, Value>, JobError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad(path, "is not a JSON object")),
        Err(e) => Err(bad(path, format!("is not JSON ({e})"))),
    }
}

/// A config's `{"path", "args"}` entry as a class (nested entries become objects).
fn class_of(entry: &Value, kind: Option<Kind>, file: &str) -> Result<Component, JobError> {
    let Some(obj) = entry.as_object() else {
        return Err(bad(file, "a component entry is not an object"));
    };
    let Some(path) = obj.get("path").and_then(Value::as_str) else {
        let what = if obj.contains_key("name") {
            "names its class with \"name\"; only \"path\" entries can be imported"
        } else {
            "has a component entry without a \"path\""
        };
        return Err(bad(file, what));
    };
    let mut args = Args::default();
    if let Some(Value::Object(a)) = obj.get("args") {
        for (k, v) in a {
            let arg = match v {
                Value::Object(inner) if inner.get("path").is_some_and(Value::is_string) => {
                    Arg::Object(Box::new(class_of(v, None, file)?))
                }
                other => Arg::Value(other.clone()),
            };
            args.0.push((k.clone(), arg));
        }
    }
    Ok(Component {
        path: path.to_owned(),
        args,
        kind,
    })
}

fn list<'a>(doc: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    doc.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn tasks_of(entry: &Value) -> Option<Vec<String>> {
    entry.get("tasks").and_then(Value::as_array).map(|t| {
        t.iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect()
    })
}

fn push(steps: &mut Vec<Step>, targets: &[String], object: JobObject, options: ToOptions) {
    for t in targets {
        steps.push(Step::To {
            target: t.clone(),
            object: object.clone(),
            options: options.clone(),
        });
    }
}

fn filters(
    doc: &Map<String, Value>,
    key: &str,
    flow: FilterType,
    targets: &[String],
    steps: &mut Vec<Step>,
    file: &str,
) -> Result<(), JobError> {
    for entry in list(doc, key) {
        let tasks = tasks_of(entry);
        for f in entry
            .get("filters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let c = class_of(f, Some(Kind::Filter), file)?;
            let options = ToOptions {
                tasks: tasks.clone(),
                filter_type: Some(flow),
                ..ToOptions::default()
            };
            push(steps, targets, JobObject::Class(c), options);
        }
    }
    Ok(())
}

fn params(doc: &Map<String, Value>, known: &[&str], targets: &[String], steps: &mut Vec<Step>) {
    let extra: Map<String, Value> = doc
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !extra.is_empty() {
        push(
            steps,
            targets,
            JobObject::Params { params: extra },
            ToOptions::default(),
        );
    }
}

/// Reads a job folder (`files` by path relative to the job folder) into a composition named
/// `name` (the folder name). Workflows go to the server with their ids, executors with their
/// tasks, components and filters to their targets, other config keys as parameters, and every
/// `custom/` file as an uploaded file with a resource step.
pub fn import_job(name: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<Composition, JobError> {
    let meta_bytes = files.get("meta.json").ok_or_else(|| {
        bad(
            name,
            "has no meta.json: pick a job folder (meta.json and app folders)",
        )
    })?;
    let meta = parse("meta.json", meta_bytes)?;
    let job_name = meta
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| crate::job::check_job_name(n).is_ok())
        .unwrap_or(name);
    let min_clients = meta.get("min_clients").and_then(Value::as_i64).unwrap_or(1);
    let mut c = Composition::empty(job_name, min_clients.max(1));
    if let Some(Value::Array(m)) = meta.get("mandatory_clients") {
        c.job.mandatory_clients = Some(
            m.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
        );
    }
    if let Some(Value::Object(specs)) = meta.get("resource_spec") {
        c.job.resource_spec = specs
            .iter()
            .map(|(site, s)| {
                let entries: OrderedMap<Value> = s
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                (site.clone(), entries)
            })
            .collect();
    }
    let Some(Value::Object(deploy)) = meta.get("deploy_map") else {
        return Err(bad(
            "meta.json",
            "has no deploy_map: nvflare needs one to place the apps",
        ));
    };
    let mut steps = Vec::new();
    let mut custom: BTreeMap<String, (String, Vec<u8>)> = BTreeMap::new();
    for (app, sites) in deploy {
        let sites: Vec<String> = sites
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .or_else(|| v.get("sites").map(|_| String::new()))
                    })
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let all = sites.iter().any(|s| s == ALL_SITES);
        let server_targets: Vec<String> = if all || sites.iter().any(|s| s == SERVER) {
            vec![SERVER.to_owned()]
        } else {
            Vec::new()
        };
        let client_targets: Vec<String> = if all {
            vec![ALL_SITES.to_owned()]
        } else {
            sites.iter().filter(|s| *s != SERVER).cloned().collect()
        };
        let server_file = format!("{app}/config/config_fed_server.json");
        if let Some(bytes) = files
            .get(&server_file)
            .filter(|_| !server_targets.is_empty())
        {
            let doc = parse(&server_file, bytes)?;
            for w in list(&doc, "workflows") {
                let comp = class_of(w, Some(Kind::Controller), &server_file)?;
                let id = w.get("id").and_then(Value::as_str).map(str::to_owned);
                let options = ToOptions {
                    id,
                    ..ToOptions::default()
                };
                push(&mut steps, &server_targets, JobObject::Class(comp), options);
            }
            components(&doc, &server_targets, &mut steps, &server_file)?;
            filters(
                &doc,
                "task_data_filters",
                FilterType::TaskData,
                &server_targets,
                &mut steps,
                &server_file,
            )?;
            filters(
                &doc,
                "task_result_filters",
                FilterType::TaskResult,
                &server_targets,
                &mut steps,
                &server_file,
            )?;
            params(&doc, SERVER_KEYS, &server_targets, &mut steps);
        }
        let client_file = format!("{app}/config/config_fed_client.json");
        if let Some(bytes) = files
            .get(&client_file)
            .filter(|_| !client_targets.is_empty())
        {
            let doc = parse(&client_file, bytes)?;
            for e in list(&doc, "executors") {
                let Some(exec) = e.get("executor") else {
                    return Err(bad(
                        &client_file,
                        "has an executor entry without \"executor\"",
                    ));
                };
                let comp = class_of(exec, Some(Kind::Executor), &client_file)?;
                let options = ToOptions {
                    tasks: tasks_of(e),
                    ..ToOptions::default()
                };
                push(&mut steps, &client_targets, JobObject::Class(comp), options);
            }
            components(&doc, &client_targets, &mut steps, &client_file)?;
            filters(
                &doc,
                "task_data_filters",
                FilterType::TaskData,
                &client_targets,
                &mut steps,
                &client_file,
            )?;
            filters(
                &doc,
                "task_result_filters",
                FilterType::TaskResult,
                &client_targets,
                &mut steps,
                &client_file,
            )?;
            params(&doc, CLIENT_KEYS, &client_targets, &mut steps);
        }
        let prefix = format!("{app}/custom/");
        for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with(&prefix)) {
            let rel = path[prefix.len()..].to_owned();
            if let Some((other, existing)) = custom.get(&rel)
                && existing != bytes
            {
                return Err(bad(
                    &rel,
                    format!(
                        "apps {other} and {app} hold different files custom/{rel}: one composition keeps one"
                    ),
                ));
            }
            custom.insert(rel.clone(), (app.clone(), bytes.clone()));
            let targets: Vec<String> = server_targets
                .iter()
                .chain(&client_targets)
                .cloned()
                .collect();
            push(
                &mut steps,
                &targets,
                JobObject::resource(rel),
                ToOptions::default(),
            );
        }
    }
    c.job.steps = steps;
    c.files = custom
        .into_iter()
        .map(|(path, (_, bytes))| ComposedFile::new(&path, &bytes))
        .collect();
    Ok(c)
}

fn components(
    doc: &Map<String, Value>,
    targets: &[String],
    steps: &mut Vec<Step>,
    file: &str,
) -> Result<(), JobError> {
    for entry in list(doc, "components") {
        let comp = class_of(entry, None, file)?;
        let id = entry.get("id").and_then(Value::as_str).map(str::to_owned);
        let options = ToOptions {
            id,
            ..ToOptions::default()
        };
        // A component's role is its config section, whatever its class.
        let comp = Component {
            kind: Some(Kind::Component),
            ..comp
        };
        push(steps, targets, JobObject::Class(comp), options);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryResources;
    use crate::patterns::FedAvgPattern;

    #[test]
    fn an_export_imports_back_to_the_same_folder() {
        let mut p = FedAvgPattern::new("hello", 2, "train.py");
        p.model = Some(serde_json::json!([[1.0, 2.0]]));
        p.num_rounds = 3;
        let job = p.build().expect("pattern");
        let mut r = MemoryResources::new();
        r.add_file("train.py", b"import nvflare.client as flare\n".to_vec());
        let exported = job.export(&r).expect("export");
        let c = import_job("hello", &exported.files).expect("import");
        assert_eq!(c.job.name, "hello");
        assert_eq!(c.files.len(), 1);
        let again = c.export().expect("export again");
        assert_eq!(again.files, exported.files);
    }

    #[test]
    fn a_folder_without_meta_is_refused() {
        let e = import_job("x", &BTreeMap::new()).expect_err("no meta");
        assert!(e.to_string().contains("has no meta.json"), "{e}");
    }
}
