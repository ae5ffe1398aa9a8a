//! The command line: `pairline [serve]`, `pairline migrate` and `pairline user add`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{Config, ConfigError};

#[derive(Debug, Parser)]
#[command(
    name = "pairline",
    version,
    about = "Pairline: collaborative coding interviews with a shared editor, sandboxed runs, audio/video and replay",
    after_help = "Settings come from built-in defaults, then the --config file (TOML), then PAIRLINE_* \
                  environment variables, e.g. PAIRLINE_LISTEN=0.0.0.0:8080 or PAIRLINE_DATABASE_URL=postgres://..."
)]
struct Cli {
    /// TOML file with settings (see README.md for every setting).
    #[arg(long, short, global = true, value_name = "FILE", env = "PAIRLINE_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
enum Command {
    /// Run the server (the default when no command is given): applies pending database
    /// migrations, then serves the web app and API until Ctrl-C or SIGTERM.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Clone, Subcommand)]
enum TokenCommand {
    /// Create an API token acting with an account's rights and print it on stdout.
    Create {
        /// The account's e-mail address.
        #[arg(long)]
        email: String,
        /// What the token is for, e.g. "CI".
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Clone, Subcommand)]
enum UserCommand {
    /// Create an account. The password is asked for (not echoed), or read from the first
    /// line of stdin when it is not a terminal.
    Add {
        /// The account's e-mail address (its login).
        #[arg(long)]
        email: String,
        /// admin or interviewer.
        #[arg(long)]
        role: String,
    },
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)));
    let loaded = match Config::load(cli.config.as_deref(), env) {
        Ok(loaded) => loaded,
        Err(err) => return fail_config(&err),
    };
    init_logging(&loaded.config.log_level);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("pairline: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(loaded.config).await,
            Command::Migrate => migrate(loaded.config).await,
            Command::User(UserCommand::Add { email, role }) => {
                crate::auth::cli::add_user(&loaded.config, &email, &role).await
            }
            Command::Token(TokenCommand::Create { email, name }) => {
                crate::auth::cli::create_token(&loaded.config, &email, &name).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("pairline: {message}");
            ExitCode::FAILURE
        }
    }
}

fn fail_config(err: &ConfigError) -> ExitCode {
    eprintln!("pairline: {err}");
    ExitCode::from(2)
}

async fn serve(config: Config) -> Result<(), String> {
    let listener = TcpListener::bind(config.listen).await.map_err(|err| {
        format!(
            "cannot listen on {}: {err}; choose another address with the `listen` setting (PAIRLINE_LISTEN)",
            config.listen
        )
    })?;
    crate::launch(config, listener, shutdown_signal())
        .await
        .map_err(|err| err.to_string())
}

async fn migrate(config: Config) -> Result<(), String> {
    let store = crate::store::connect(&config)
        .await
        .map_err(|err| format!("cannot open the database {}: {err}", config.database_url()))?;
    let report = store.migrate().await.map_err(|err| err.to_string());
    store.close().await;
    let report = report?;
    println!(
        "{}: applied {} new migration(s); the schema is at {} of {} known",
        config.database_url(),
        report.applied,
        report.known,
        report.known
    );
    Ok(())
}

fn init_logging(filter: &str) {
    let mut filter = tracing_subscriber::EnvFilter::builder()
        .parse(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Automerge opens an info-level span, arguments formatted, for every column of every
    // change it parses: at the default level that was a tenth of the materialiser's CPU.
    // Its warnings and errors still show; `log_level = "automerge=debug"` brings the rest.
    if !filter.to_string().contains("automerge")
        && let Ok(quiet) = "automerge=warn".parse()
    {
        filter = filter.add_directive(quiet);
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed by this call, not when the
/// future is first polled: a signal that arrives right after the server says it is
/// listening must stop it gracefully, not kill it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let watch = |kind: SignalKind, name: &'static str| {
        signal(kind)
            .inspect_err(|err| tracing::warn!(error = %err, "cannot watch for {name}"))
            .ok()
    };
    let mut interrupt = watch(SignalKind::interrupt(), "Ctrl-C");
    let mut terminate = watch(SignalKind::terminate(), "SIGTERM");
    async move {
        tokio::select! {
            () = received(interrupt.as_mut()) => tracing::info!("received Ctrl-C"),
            () = received(terminate.as_mut()) => tracing::info!("received SIGTERM"),
        }
    }
}

/// Completes when `signal` arrives; never if it could not be watched.
async fn received(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => drop(signal.recv().await),
        None => std::future::pending().await,
    }
}
