//! "Copy as Python": the nvflare FedJob program equivalent to a job spec (imports, `FedJob(...)`,
//! one `job.to(...)` per step, `as_id` references as variables, `set_up_client` as a subclass,
//! and `export_job`). Pure text; it never reads the catalog, so the browser can run it.

use serde_json::Value;

use crate::job::{ClientSetup, FilterType, JobSpec, Step, ToOptions};
use crate::object::{Arg, CommandLine, Component, Framework, JobObject, ScriptRunner};

const NP_PERSISTOR: &str = "nvflare.app_common.np.np_model_persistor.NPModelPersistor";

/// A Python string literal (double-quoted, escaped).
pub fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Imports and variable names collected while writing the program.
#[derive(Default)]
struct Writer {
    /// (module, class, name used in the program).
    imports: Vec<(String, String, String)>,
    /// (`as_id` id, variable).
    refs: Vec<(String, String)>,
}

impl Writer {
    /// The name a class is called by, importing it on first use.
    fn class(&mut self, path: &str) -> String {
        if let Some((_, _, name)) = self
            .imports
            .iter()
            .find(|(m, c, _)| format!("{m}.{c}") == path)
        {
            return name.clone();
        }
        let (module, class) = path.rsplit_once('.').unwrap_or(("", path));
        let mut name = class.to_owned();
        let mut n = 2;
        while self.imports.iter().any(|(_, _, used)| *used == name)
            || matches!(
                name.as_str(),
                "FedJob" | "ScriptRunner" | "FrameworkType" | "FilterType"
            )
        {
            name = format!("{class}_{n}");
            n += 1;
        }
        self.imports
            .push((module.to_owned(), class.to_owned(), name.clone()));
        name
    }

    fn value(&self, v: &Value) -> String {
        match v {
            Value::Null => "None".to_owned(),
            Value::Bool(true) => "True".to_owned(),
            Value::Bool(false) => "False".to_owned(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => match self.refs.iter().find(|(id, _)| id == s) {
                Some((_, var)) => var.clone(),
                None => py_str(s),
            },
            Value::Array(items) => {
                let parts: Vec<String> = items.iter().map(|i| self.value(i)).collect();
                format!("[{}]", parts.join(", "))
            }
            Value::Object(map) => {
                let parts: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{}: {}", py_str(k), self.value(v)))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }

    fn component(&mut self, c: &Component) -> String {
        let name = self.class(&c.path);
        let mut args = Vec::new();
        for (k, v) in &c.args.0 {
            let text = match v {
                Arg::Value(v) => self.value(v),
                Arg::Object(inner) => self.component(inner),
            };
            args.push(format!("{k}={text}"));
        }
        format!("{name}({})", args.join(", "))
    }

    fn command(&self, c: &CommandLine) -> String {
        match c {
            CommandLine::Text(t) => py_str(t),
            CommandLine::Argv(v) => {
                self.value(&Value::Array(v.iter().cloned().map(Value::from).collect()))
            }
        }
    }

    fn runner(&mut self, r: &ScriptRunner) -> String {
        let defaults = ScriptRunner::new(r.script.clone());
        let mut args = vec![format!("script={}", py_str(&r.script))];
        if r.script_args != CommandLine::default() {
            args.push(format!("script_args={}", self.command(&r.script_args)));
        }
        if r.launch_external_process {
            args.push("launch_external_process=True".to_owned());
        }
        if r.command != defaults.command {
            args.push(format!("command={}", self.command(&r.command)));
        }
        let framework = match r.framework {
            Framework::Pytorch => "PYTORCH",
            Framework::Tensorflow => "TENSORFLOW",
            Framework::Numpy => "NUMPY",
            Framework::Raw => "RAW",
        };
        args.push(format!("framework=FrameworkType.{framework}"));
        if r.server_expected_format != defaults.server_expected_format {
            args.push(format!(
                "server_expected_format={}",
                py_str(&r.server_expected_format)
            ));
        }
        if r.params_transfer_type != defaults.params_transfer_type {
            args.push(format!(
                "params_transfer_type={}",
                py_str(&r.params_transfer_type)
            ));
        }
        if r.launch_once != defaults.launch_once {
            args.push("launch_once=False".to_owned());
        }
        if r.launch_timeout != defaults.launch_timeout {
            args.push(format!(
                "launch_timeout={}",
                r.launch_timeout
                    .map(|t| format!("{t:?}"))
                    .unwrap_or_else(|| "None".to_owned())
            ));
        }
        if r.shutdown_timeout != defaults.shutdown_timeout {
            args.push(format!("shutdown_timeout={:?}", r.shutdown_timeout));
        }
        if r.memory_gc_rounds != defaults.memory_gc_rounds {
            args.push(format!("memory_gc_rounds={}", r.memory_gc_rounds));
        }
        if r.cuda_empty_cache {
            args.push("cuda_empty_cache=True".to_owned());
        }
        format!("ScriptRunner({})", args.join(", "))
    }

    fn object(&mut self, o: &JobObject) -> String {
        match o {
            JobObject::Class(c) => self.component(c),
            JobObject::ScriptRunner(r) => self.runner(r),
            JobObject::Resource { path } => py_str(path),
            JobObject::Params { params } => self.value(&Value::Object(params.clone())),
            JobObject::NpModel {
                model,
                initial_ckpt,
            } => {
                let name = self.class(NP_PERSISTOR);
                let mut args = Vec::new();
                if let Some(m) = model {
                    args.push(format!("model={}", self.value(m)));
                }
                if let Some(c) = initial_ckpt {
                    args.push(format!("source_ckpt_file_full_name={}", py_str(c)));
                }
                format!("{name}({})", args.join(", "))
            }
        }
    }

    fn call_line(&mut self, job: &str, o: &JobObject, target: &str, options: &ToOptions) -> String {
        let mut args = vec![self.object(o), target.to_owned()];
        let id = match o {
            JobObject::NpModel { .. } => {
                Some(options.id.clone().unwrap_or_else(|| "persistor".to_owned()))
            }
            _ => options.id.clone(),
        };
        if let Some(id) = id {
            args.push(format!("id={}", py_str(&id)));
        }
        if let Some(tasks) = &options.tasks {
            let list: Vec<String> = tasks.iter().map(|t| py_str(t)).collect();
            args.push(format!("tasks=[{}]", list.join(", ")));
        }
        if let Some(f) = options.filter_type {
            let name = match f {
                FilterType::TaskData => "TASK_DATA",
                FilterType::TaskResult => "TASK_RESULT",
            };
            args.push(format!("filter_type=FilterType.{name}"));
        }
        format!("{job}.to({})", args.join(", "))
    }
}

/// The nvflare program that builds `spec` with nvflare's own FedJob API and exports it to the
/// folder given as its first argument (default `/tmp/nvflare/jobs`). Scripts and resources are
/// read relative to the current directory, as nvflare does.
pub fn to_python(spec: &JobSpec) -> String {
    let mut w = Writer::default();
    let mut body = Vec::new();
    let setup = setup_lines(&mut w, &spec.set_up_client);
    let mut ctor = vec![
        format!("name={}", py_str(&spec.name)),
        format!("min_clients={}", spec.min_clients),
    ];
    if let Some(m) = &spec.mandatory_clients {
        let list: Vec<String> = m.iter().map(|s| py_str(s)).collect();
        ctor.push(format!("mandatory_clients=[{}]", list.join(", ")));
    }
    if !spec.meta_props.is_empty() {
        let map: serde_json::Map<String, Value> = spec.meta_props.0.iter().cloned().collect();
        ctor.push(format!("meta_props={}", w.value(&Value::Object(map))));
    }
    let class = if setup.is_empty() {
        "FedJob"
    } else {
        "ComposedJob"
    };
    body.push(format!("job = {class}({})", ctor.join(", ")));
    for (site, entries) in &spec.resource_spec.0 {
        let map: serde_json::Map<String, Value> = entries.0.iter().cloned().collect();
        body.push(format!(
            "job.job.add_resource_spec({}, {})",
            py_str(site),
            w.value(&Value::Object(map))
        ));
    }
    let mut n = 0;
    for step in &spec.steps {
        match step {
            Step::To {
                target,
                object,
                options,
            } => {
                let line = w.call_line("job", object, &py_str(target), options);
                body.push(line);
            }
            Step::AsId { id, object } => {
                n += 1;
                let var = format!("ref_{n}");
                let obj = w.component(object);
                body.push(format!("{var} = job.as_id({obj})"));
                w.refs.push((id.clone(), var));
            }
        }
    }
    let mut out = String::new();
    out.push_str(&format!(
        "\"\"\"The FedJob program of job {} (made by Flare Console's composer).\"\"\"\n\nimport sys\n\n",
        spec.name.replace('"', "'")
    ));
    out.push_str("from nvflare.job_config.api import FedJob\n");
    if !spec.steps.iter().all(|s| !uses_filter(s)) {
        out.push_str("from nvflare.job_config.defs import FilterType\n");
    }
    if spec.steps.iter().any(|s| {
        matches!(
            s,
            Step::To {
                object: JobObject::ScriptRunner(_),
                ..
            }
        )
    }) || spec
        .set_up_client
        .iter()
        .any(|s| matches!(s.object, JobObject::ScriptRunner(_)))
    {
        out.push_str("from nvflare.job_config.script_runner import FrameworkType, ScriptRunner\n");
    }
    let mut imports = w.imports.clone();
    imports.sort();
    for (module, class, name) in &imports {
        if *class == *name {
            out.push_str(&format!("from {module} import {class}\n"));
        } else {
            out.push_str(&format!("from {module} import {class} as {name}\n"));
        }
    }
    if !setup.is_empty() {
        out.push_str("\n\nclass ComposedJob(FedJob):\n");
        out.push_str(
            "    \"\"\"Sends these objects to each client target when it is first used.\"\"\"\n\n",
        );
        out.push_str("    def set_up_client(self, target: str):\n");
        for line in &setup {
            out.push_str(&format!("        {line}\n"));
        }
    }
    out.push_str("\n\n");
    for line in body {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("\nif __name__ == \"__main__\":\n");
    out.push_str(
        "    job.export_job(sys.argv[1] if len(sys.argv) > 1 else \"/tmp/nvflare/jobs\")\n",
    );
    out
}

fn uses_filter(step: &Step) -> bool {
    matches!(step, Step::To { options, .. } if options.filter_type.is_some())
}

fn setup_lines(w: &mut Writer, setup: &[ClientSetup]) -> Vec<String> {
    setup
        .iter()
        .map(|s| w.call_line("self", &s.object, "target", &s.options))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_literals() {
        assert_eq!(py_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        let w = Writer::default();
        assert_eq!(
            w.value(&serde_json::json!({"a": [1, 2.5, null, true, "x"]})),
            "{\"a\": [1, 2.5, None, True, \"x\"]}"
        );
    }

    #[test]
    fn same_class_names_get_aliases() {
        let mut w = Writer::default();
        assert_eq!(w.class("a.b.Filter"), "Filter");
        assert_eq!(w.class("c.d.Filter"), "Filter_2");
        assert_eq!(w.class("a.b.Filter"), "Filter");
        assert_eq!(w.class("x.FedJob"), "FedJob_2");
    }
}
