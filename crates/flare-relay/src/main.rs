//! The flare-relay binary: `flare-relay --config relay.toml` serves; `flare-relay hash-password`
//! turns a password on stdin into an argon2id PHC string.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use flare_relay::AppState;
use flare_relay::config::Config;
use flare_relay::upstream::Connector;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    version,
    about = "Flare Console relay: serves the console and connects it to NVFlare"
)]
struct Cli {
    /// The TOML configuration file (see relay.example.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Address to listen on; overrides `listen` in the file.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Folder of the built console; overrides `console_dir` in the file.
    #[arg(long)]
    console_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Reads a password from stdin and prints its argon2id PHC hash.
    HashPassword,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Cmd::HashPassword) = cli.command {
        return hash_password();
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run(cli))
}

fn hash_password() -> anyhow::Result<()> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the password from stdin")?;
    let password = input
        .strip_suffix('\n')
        .map(|p| p.strip_suffix('\r').unwrap_or(p))
        .unwrap_or(&input);
    if password.is_empty() {
        bail!("empty password: write the password to stdin");
    }
    let hash = flare_relay::auth::hash_password(password)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    println!("{hash}");
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = match &cli.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(listen) = cli.listen {
        config.listen = listen;
    }
    if let Some(dir) = cli.console_dir {
        config.console_dir = dir;
    }
    config.validate()?;
    if config.users.is_empty() {
        tracing::warn!("no [[users]] configured: nobody can log in");
    }
    if !config.console_dir.join("index.html").is_file() {
        tracing::warn!(
            "{} has no index.html: build the console (trunk build) or set console_dir",
            config.console_dir.display()
        );
    }
    let connector: Arc<dyn Connector> = Arc::new(flare_relay::upstream::client::FlareClient::new());

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let bound = listener.local_addr()?;
    let state = AppState::new(&config, connector, bound)?;
    tracing::info!(origins = ?state.origins, "allowed origins");

    let server = async {
        match &config.tls {
            None => {
                announce("http", bound)?;
                flare_relay::serve(listener, state).await?;
            }
            Some(tls) => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let rustls =
                    axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                        .await
                        .context("cannot load the TLS certificate and key")?;
                announce("https", bound)?;
                flare_relay::listener::serve(listener, state, Some(rustls)).await?;
            }
        }
        anyhow::Ok(())
    };
    tokio::select! {
        result = server => result,
        () = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
    }
}

fn announce(scheme: &str, bound: SocketAddr) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "flare-relay listening on {scheme}://{bound}")?;
    stdout.flush()?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
