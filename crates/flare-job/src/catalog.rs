//! The catalog of nvflare 2.9 component classes and their constructor arguments, generated from
//! the installed nvflare by `py/make_catalog.py` into `data/catalog.json`, and argument checks.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::JobError;
use crate::object::{Arg, Component, Kind};

/// The committed catalog text (regenerate with `py/make_catalog.py data/catalog.json`).
pub const CATALOG_JSON: &str = include_str!("../data/catalog.json");

/// The JSON type of an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArgType {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// A number.
    Float,
    /// true / false.
    Bool,
    /// An array.
    List,
    /// An object.
    Dict,
    /// Not annotated or not JSON: anything.
    Any,
}

impl ArgType {
    fn name(self) -> &'static str {
        match self {
            ArgType::Str => "a string",
            ArgType::Int => "an integer",
            ArgType::Float => "a number",
            ArgType::Bool => "a boolean",
            ArgType::List => "a list",
            ArgType::Dict => "a dict",
            ArgType::Any => "any value",
        }
    }

    /// Whether a non-null `v` fits this type.
    pub(crate) fn accepts(self, v: &Value) -> bool {
        match self {
            ArgType::Str => v.is_string(),
            ArgType::Int => v.is_i64() || v.is_u64(),
            ArgType::Float => v.is_number(),
            ArgType::Bool => v.is_boolean(),
            ArgType::List => v.is_array(),
            ArgType::Dict => v.is_object(),
            ArgType::Any => true,
        }
    }
}

fn yes() -> bool {
    true
}

/// One constructor argument.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ArgInfo {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: ArgType,
    /// Whether `null` is allowed.
    #[serde(default)]
    pub nullable: bool,
    /// Whether it has no default.
    #[serde(default)]
    pub required: bool,
    /// The default (null when it has none or is not JSON).
    #[serde(default)]
    pub default: Option<Value>,
    /// The default is a Python object, not JSON.
    #[serde(default)]
    pub default_is_object: bool,
    /// The allowed values (enums, literals).
    #[serde(default)]
    pub choices: Option<Vec<Value>>,
    /// Whether the object keeps the value (nvflare exports only kept values).
    #[serde(default = "yes")]
    pub stored: bool,
}

/// One class.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ClassInfo {
    /// Full class path.
    pub path: String,
    /// Its role.
    pub kind: Kind,
    /// Constructor arguments in signature order.
    pub args: Vec<ArgInfo>,
    /// The constructor takes `**kwargs` too.
    #[serde(default)]
    pub accepts_kwargs: bool,
    /// Arguments exported even when equal to the default.
    #[serde(default)]
    pub always_serialize: Vec<String>,
    /// Whether a default-constructed object could be probed.
    #[serde(default)]
    pub probed: bool,
    /// What nvflare exports for the optional arguments of a default-constructed object.
    #[serde(default)]
    pub defaults_export: Map<String, Value>,
}

impl ClassInfo {
    /// The argument called `name`.
    pub fn arg(&self, name: &str) -> Option<&ArgInfo> {
        self.args.iter().find(|a| a.name == name)
    }
}

/// The whole catalog.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Catalog {
    /// The nvflare version it was generated from.
    pub nvflare_version: String,
    /// The packages scanned.
    pub packages: Vec<String>,
    /// The classes, sorted by path.
    pub classes: Vec<ClassInfo>,
}

impl Catalog {
    /// The class at `path`.
    pub fn get(&self, path: &str) -> Option<&ClassInfo> {
        self.classes
            .binary_search_by(|c| c.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.classes[i])
    }
}

/// The embedded catalog.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut c: Catalog = match serde_json::from_str(CATALOG_JSON) {
            Ok(c) => c,
            // The file is committed and checked by a test; an unreadable one is a build error.
            Err(e) => panic!("data/catalog.json is not a catalog: {e}"),
        };
        c.classes.sort_by(|a, b| a.path.cmp(&b.path));
        c
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a dict",
    }
}

/// Checks `component`'s arguments (and those of nested objects) against the catalog: unknown
/// argument, wrong type, missing required argument. Classes not in the catalog pass as given.
pub fn validate(component: &Component) -> Result<(), JobError> {
    for (_, arg) in &component.args.0 {
        if let Arg::Object(inner) = arg {
            validate(inner)?;
        }
    }
    let Some(info) = catalog().get(&component.path) else {
        return Ok(());
    };
    let class = component.path.clone();
    for (name, value) in &component.args.0 {
        let Some(a) = info.arg(name) else {
            return Err(JobError::UnknownArgument {
                class,
                arg: name.clone(),
            });
        };
        let wrong = |expected: String, got: &str| JobError::WrongType {
            class: class.clone(),
            arg: name.clone(),
            expected,
            got: got.to_owned(),
        };
        match value {
            Arg::Object(inner) => {
                if a.ty != ArgType::Any {
                    return Err(wrong(
                        a.ty.name().to_owned(),
                        &format!("an object ({})", inner.path),
                    ));
                }
            }
            Arg::Value(Value::Null) => {
                if !a.nullable && a.ty != ArgType::Any {
                    return Err(wrong(a.ty.name().to_owned(), "null"));
                }
            }
            Arg::Value(v) => {
                if !a.ty.accepts(v) {
                    return Err(wrong(a.ty.name().to_owned(), json_kind(v)));
                }
                if let Some(choices) = &a.choices
                    && !choices.contains(v)
                {
                    let list: Vec<String> = choices.iter().map(Value::to_string).collect();
                    return Err(wrong(format!("one of {}", list.join(", ")), &v.to_string()));
                }
            }
        }
    }
    if let Some(missing) = info
        .args
        .iter()
        .find(|a| a.required && component.args.get(&a.name).is_none())
    {
        return Err(JobError::MissingArgument {
            class,
            arg: missing.name.clone(),
        });
    }
    Ok(())
}
