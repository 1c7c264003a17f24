//! The `flare-job` command line: exports a job described in JSON (a pattern or a job) to a folder
//! or a zip, submits it to an NVFlare server with an admin startup kit, or runs it in nvflare's
//! simulator (which needs Python and nvflare).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use flare_job::{ALL_SITES, ExportedJob, FedJob, FsResources, JobFile, catalog};

#[derive(Parser)]
#[command(
    name = "flare-job",
    version,
    about = "Export, submit and simulate NVFlare 2.9 jobs described in JSON"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Export the job to a folder (`--out`) and/or a zip (`--zip`); with `--kit`, submit it too.
    Export {
        /// The job file: `{"pattern": "fedavg", ...}` or `{"name": ..., "steps": [...]}`.
        job: PathBuf,
        /// Where relative resources (scripts, folders) are read (default: the job file's folder).
        #[arg(long)]
        source: Option<PathBuf>,
        /// Folder to export into (the job lands in `<out>/<name>`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Zip file to write.
        #[arg(long)]
        zip: Option<PathBuf>,
        /// Admin startup kit (the folder holding `startup/`): submit the job and print its id.
        #[arg(long)]
        kit: Option<PathBuf>,
        /// Study to submit to.
        #[arg(long, default_value = "default")]
        study: String,
    },
    /// Run the job in nvflare's simulator (needs Python with nvflare); exits with its status.
    SimulatorRun {
        /// The job file.
        job: PathBuf,
        /// Where relative resources are read (default: the job file's folder).
        #[arg(long)]
        source: Option<PathBuf>,
        /// Simulator workspace.
        #[arg(short = 'w', long)]
        workspace: PathBuf,
        /// Number of clients (for a job sent to all clients).
        #[arg(short = 'n', long)]
        n_clients: Option<u32>,
        /// Threads (default: one per client).
        #[arg(short = 't', long)]
        threads: Option<u32>,
        /// The `nvflare` executable (default: `nvflare` on PATH).
        #[arg(long)]
        nvflare: Option<PathBuf>,
    },
    /// List the catalog's classes, or show one class's arguments.
    Catalog {
        /// A class path (or its short name).
        class: Option<String>,
    },
}

fn load(job: &Path) -> Result<FedJob> {
    let text = std::fs::read_to_string(job).with_context(|| format!("read {}", job.display()))?;
    let file = JobFile::from_json(&text).map_err(|e| anyhow!("{}: {e}", job.display()))?;
    file.into_job()
        .with_context(|| format!("build the job of {}", job.display()))
}

fn export(job: &Path, source: Option<PathBuf>) -> Result<(FedJob, ExportedJob)> {
    let fed_job = load(job)?;
    let source = source.unwrap_or_else(|| job.parent().map(Path::to_path_buf).unwrap_or_default());
    let exported = fed_job
        .export(&FsResources::new(source))
        .context("export the job")?;
    Ok((fed_job, exported))
}

fn submit(kit: &Path, study: &str, exported: &ExportedJob) -> Result<String> {
    let kit = flare_client::AdminKit::load(kit)
        .with_context(|| format!("load the admin kit {}", kit.display()))?;
    let zip = exported.to_zip()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start tokio")?;
    runtime.block_on(async {
        let session = flare_client::Session::login(&kit, study)
            .await
            .map_err(|e| anyhow!("login: {e}"))?;
        let result = session
            .submit_job_zip(&exported.name, zip, None, None)
            .await;
        session.close().await;
        result.map_err(|e| anyhow!("submit: {e}"))
    })
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn simulator_run(
    job: &Path,
    source: Option<PathBuf>,
    workspace: &Path,
    n_clients: Option<u32>,
    threads: Option<u32>,
    nvflare: Option<PathBuf>,
) -> Result<ExitCode> {
    let nvflare = match nvflare {
        Some(p) => p,
        None => find_on_path("nvflare").ok_or_else(|| {
            anyhow!("nvflare not found on PATH: install nvflare (Python) or pass --nvflare")
        })?,
    };
    let (fed_job, exported) = export(job, source)?;
    // As nvflare's `simulator_run`: sites named with `to` are the clients; a job for all clients
    // needs their number.
    let sites: Vec<String> = fed_job
        .clients()
        .iter()
        .filter(|c| *c != ALL_SITES)
        .cloned()
        .collect();
    let for_all = fed_job.clients().iter().any(|c| c == ALL_SITES);
    let mut args: Vec<String> = Vec::new();
    let count = if for_all {
        let n = n_clients
            .ok_or_else(|| anyhow!("the job is sent to all clients: give their number with -n"))?;
        args.extend(["-n".to_owned(), n.to_string()]);
        n
    } else {
        if n_clients.is_some() {
            bail!(
                "the job names its sites ({}): do not give -n",
                sites.join(",")
            );
        }
        args.extend([
            "-c".to_owned(),
            sites.join(","),
            "-n".to_owned(),
            sites.len().to_string(),
        ]);
        sites.len() as u32
    };
    args.extend(["-t".to_owned(), threads.unwrap_or(count).to_string()]);
    std::fs::create_dir_all(workspace)
        .with_context(|| format!("create {}", workspace.display()))?;
    let workspace = workspace.canonicalize().context("resolve the workspace")?;
    // Outside the workspace: the simulator clears it.
    let job_root = std::env::temp_dir().join(format!("flare-job-simulate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&job_root);
    let job_dir = exported.write_to(&job_root)?;
    let status = Command::new(&nvflare)
        .arg("simulator")
        .arg(&job_dir)
        .arg("-w")
        .arg(&workspace)
        .args(&args)
        .status()
        .with_context(|| format!("run {}", nvflare.display()))?;
    let _ = std::fs::remove_dir_all(&job_root);
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

fn show_catalog(class: Option<String>) -> Result<()> {
    let c = catalog();
    let Some(class) = class else {
        println!("nvflare {}: {} classes", c.nvflare_version, c.classes.len());
        for info in &c.classes {
            println!(
                "{:<10} {}",
                format!("{:?}", info.kind).to_lowercase(),
                info.path
            );
        }
        return Ok(());
    };
    let info = c
        .get(&class)
        .or_else(|| {
            c.classes
                .iter()
                .find(|i| i.path.rsplit('.').next() == Some(class.as_str()))
        })
        .ok_or_else(|| anyhow!("{class} is not in the catalog"))?;
    println!("{} ({:?})", info.path, info.kind);
    for a in &info.args {
        let default = match (&a.required, &a.default) {
            (true, _) => "required".to_owned(),
            (false, Some(d)) => format!("default {d}"),
            (false, None) if a.default_is_object => "default <object>".to_owned(),
            (false, None) => "default null".to_owned(),
        };
        let null = if a.nullable { " or null" } else { "" };
        println!("  {:<36} {:?}{null}, {default}", a.name, a.ty);
    }
    Ok(())
}

fn main() -> Result<ExitCode> {
    match Cli::parse().command {
        Cmd::Export {
            job,
            source,
            out,
            zip,
            kit,
            study,
        } => {
            if out.is_none() && zip.is_none() && kit.is_none() {
                bail!("nothing to do: give --out, --zip and/or --kit");
            }
            let (_, exported) = export(&job, source)?;
            if let Some(out) = out {
                let dir = exported.write_to(&out)?;
                eprintln!("exported {}", dir.display());
            }
            if let Some(zip) = zip {
                std::fs::write(&zip, exported.to_zip()?)
                    .with_context(|| format!("write {}", zip.display()))?;
                eprintln!("wrote {}", zip.display());
            }
            if let Some(kit) = kit {
                println!("{}", submit(&kit, &study, &exported)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::SimulatorRun {
            job,
            source,
            workspace,
            n_clients,
            threads,
            nvflare,
        } => simulator_run(&job, source, &workspace, n_clients, threads, nvflare),
        Cmd::Catalog { class } => show_catalog(class).map(|()| ExitCode::SUCCESS),
    }
}
