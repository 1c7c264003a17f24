//! The FedJob API of NVFlare 2.9 as a Rust builder: objects assigned to the server, a site or all
//! clients, nvflare's ids and `as_id` references, job patterns, a catalog of component classes
//! with argument checks, and the export of the job folder nvflare writes. Serde only: it compiles
//! for wasm32 (the browser composer) and natively; `native` (not on wasm) reads resources from
//! and writes jobs to the file system, the `zip` feature zips an export in memory.

mod catalog;
pub mod compose;
mod error;
mod export;
pub mod import;
mod job;
mod json;
#[cfg(not(target_arch = "wasm32"))]
mod native;
mod object;
mod patterns;
pub mod python;
mod shlex;
#[cfg(feature = "zip")]
mod zipped;

pub use catalog::{ArgInfo, ArgType, CATALOG_JSON, Catalog, ClassInfo, catalog, validate};
pub use error::JobError;
pub use export::{ExportedJob, Loaded, MemoryResources, ResourceLoader, export_args, params};
pub use job::{
    ALL_SITES, ClientSetup, FedJob, FilterType, JobSpec, SERVER, Step, ToOptions, ToResult,
    check_job_name, generate_id,
};
pub use json::Json;
#[cfg(not(target_arch = "wasm32"))]
pub use native::FsResources;
pub use object::{
    Arg, Args, CommandLine, Component, Framework, JobObject, Kind, OrderedMap, ScriptRunner,
};
pub use patterns::{
    CLIENT_API_EXECUTOR, CcwfCyclicClient, CcwfCyclicServer, CcwfPattern, CcwfWorkflow,
    CrossSiteEval, CyclicPattern, FedAvgPattern, Pattern, SwarmClient, SwarmServer,
};

/// A job file: a pattern (`{"pattern": "fedavg", ...}`) or a job (`{"name": ..., "steps": [...]}`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum JobFile {
    /// A job pattern.
    Pattern(Pattern),
    /// A job.
    Job(FedJob),
}

impl JobFile {
    /// Reads a job file.
    pub fn from_json(text: &str) -> Result<JobFile, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if value.get("pattern").is_some() {
            return serde_json::from_value(value)
                .map(JobFile::Pattern)
                .map_err(|e| e.to_string());
        }
        serde_json::from_value(value)
            .map(JobFile::Job)
            .map_err(|e| e.to_string())
    }

    /// The job.
    pub fn into_job(self) -> Result<FedJob, JobError> {
        match self {
            JobFile::Pattern(p) => p.build(),
            JobFile::Job(j) => Ok(j),
        }
    }
}
