//! Server configuration, layered: built-in defaults, then a TOML file, then `PAIRLINE_*`
//! environment variables. Every setting is parsed by one function whichever layer it
//! comes from, so a bad value is reported the same way, naming the setting, where the
//! value came from and what is allowed.

mod media;
mod parse;
mod settings;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

pub use media::MediaConfig;
pub use settings::{SETTINGS, Setting, all as all_settings};

/// The prefix of every environment variable that sets a configuration value.
pub const ENV_PREFIX: &str = "PAIRLINE_";

/// Everything the server needs to start. Build one with [`Config::load`], or start from
/// [`Config::default`] and change fields (as tests do).
#[derive(Clone)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Base URL used in every link the server hands out; derived from the listen address
    /// when unset.
    pub public_url: Option<Url>,
    /// Directory for the embedded database and other local state.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; the embedded SQLite file in `data_dir` when unset.
    pub database_url: Option<DatabaseUrl>,
    /// Upper bound on pooled database connections.
    pub database_max_connections: u32,
    /// Days after a room's last activity before it is deleted; 0 keeps rooms forever.
    pub retention_days: u32,
    /// How often the retention job looks for expired rooms.
    pub retention_sweep_interval: Duration,
    /// `tracing` filter directive, e.g. `info` or `pairline=debug,info`.
    pub log_level: String,
    /// Largest request body accepted by the HTTP API.
    pub max_request_bytes: usize,
    /// How long a shutdown waits for in-flight requests before it stops waiting.
    pub shutdown_grace: Duration,
    /// Limits and timings of the collaborative editing engine.
    pub sync: SyncConfig,
    pub exec: ExecConfig,
    pub media: MediaConfig,
}

/// Limits and timings of the sync engine (the `sync.*` settings).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncConfig {
    /// Largest WebSocket message a client may send.
    pub max_message_bytes: usize,
    /// Most editors in one room.
    pub max_editors: usize,
    /// Most observers (read-only participants) in one room.
    pub max_observers: usize,
    /// Most changes one connection may have waiting for missing dependencies.
    pub max_pending_changes: usize,
    /// How long changes may wait for their dependencies before the connection is closed.
    pub pending_timeout: Duration,
    /// Messages per second one connection may send (bursts of twice as many).
    pub max_messages_per_second: u32,
    /// Changes between two snapshots of a room's document.
    pub snapshot_every: u64,
    /// How long a room with no one in it stays loaded.
    pub unload_after: Duration,
}

/// Which sandbox runs code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecBackend {
    /// Linux namespaces on this machine (bubblewrap), with the host's toolchains.
    Local,
    /// One fresh container per run (the production choice).
    Docker,
    /// No code runs on this server.
    Off,
}

impl ExecBackend {
    pub fn name(self) -> &'static str {
        match self {
            ExecBackend::Local => "local",
            ExecBackend::Docker => "docker",
            ExecBackend::Off => "off",
        }
    }
}

/// Code execution (the `exec.*` settings): the sandbox, fairness, and per-run maxima.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    pub backend: ExecBackend,
    /// The Docker backend's runner image.
    pub docker_image: String,
    /// Containers the Docker backend keeps created ahead of runs.
    pub pool_size: usize,
    /// Runs at once on the whole server.
    pub concurrency: usize,
    /// Runs that may wait for a sandbox; more are refused.
    pub queue_size: usize,
    /// The wall-clock limit of a run that names none, and the most one may ask for.
    pub default_wall: Duration,
    pub max_wall: Duration,
    pub default_memory_mib: u32,
    pub max_memory_mib: u32,
    /// Processes and threads a run may have at once.
    pub max_processes: u32,
    pub max_output_bytes: usize,
    pub max_stdin_bytes: usize,
    pub max_code_bytes: usize,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self {
            backend: ExecBackend::Local,
            docker_image: "pairline-runner:latest".to_owned(),
            pool_size: 2,
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            queue_size: 32,
            default_wall: Duration::from_secs(10),
            max_wall: Duration::from_secs(30),
            default_memory_mib: 256,
            max_memory_mib: 1024,
            max_processes: 64,
            max_output_bytes: 1024 * 1024,
            max_stdin_bytes: 1024 * 1024,
            max_code_bytes: 1024 * 1024,
        }
    }
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 1024 * 1024,
            max_editors: 8,
            max_observers: 24,
            max_pending_changes: 1000,
            pending_timeout: Duration::from_secs(10),
            max_messages_per_second: 100,
            snapshot_every: 5000,
            unload_after: Duration::from_secs(60),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_max_connections: 10,
            retention_days: 30,
            retention_sweep_interval: Duration::from_secs(3600),
            log_level: "info".to_owned(),
            max_request_bytes: 1024 * 1024,
            shutdown_grace: Duration::from_secs(10),
            sync: SyncConfig::default(),
            exec: ExecConfig::default(),
            media: MediaConfig::default(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url.as_ref().map(Url::as_str))
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url())
            .field("database_max_connections", &self.database_max_connections)
            .field("retention_days", &self.retention_days)
            .field("retention_sweep_interval", &self.retention_sweep_interval)
            .field("log_level", &self.log_level)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("sync", &self.sync)
            .field("exec", &self.exec)
            .field("media", &self.media)
            .finish()
    }
}

/// A database URL. Its password never appears in `Debug` or `Display` output.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Accepts `sqlite:` and `postgres:`/`postgresql:` URLs.
    pub fn parse(value: &str) -> Result<Self, String> {
        let scheme = value
            .split_once(':')
            .map(|(scheme, _)| scheme)
            .unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Self(value.to_owned())),
            "postgres" | "postgresql" => Url::parse(value)
                .map(|_| Self(value.to_owned()))
                .map_err(|err| format!("not a valid PostgreSQL URL ({err})")),
            _ => Err("expected a URL starting with sqlite:// or postgres://".to_owned()),
        }
    }

    /// The SQLite database file in `data_dir`.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        Self(format!("sqlite://{}", data_dir.join("pairline.db").display()))
    }

    /// The full URL, password included: hand it only to the database driver.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this URL selects the PostgreSQL backend.
    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres")
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("REDACTED"));
                f.write_str(url.as_str())
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    ReadFile { path: PathBuf, source: std::io::Error },
    #[error("the config file {path} is not valid TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("unknown setting `{name}` in {origin}; known settings: {known}")]
    UnknownSetting {
        name: String,
        origin: String,
        known: String,
    },
    #[error("invalid value {value} for setting `{name}` (from {origin}): {reason}")]
    InvalidValue {
        name: String,
        origin: String,
        /// The offending value, quoted, or a placeholder for secret settings.
        value: String,
        reason: String,
    },
}

/// A loaded configuration plus notes worth logging once logging is up.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

impl Config {
    /// Loads defaults, then `file` (if any), then `PAIRLINE_*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Loaded, ConfigError> {
        let mut config = Config::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
                path: path.to_owned(),
                source,
            })?;
            config.apply_toml(&text, path)?;
        }
        let warnings = config.apply_env(env)?;
        Ok(Loaded { config, warnings })
    }

    fn apply_toml(&mut self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let table: toml::Table = text.parse().map_err(|err: toml::de::Error| ConfigError::Toml {
            path: path.to_owned(),
            message: err.message().to_owned(),
        })?;
        let origin = format!("the config file {}", path.display());
        let mut values = BTreeMap::new();
        parse::flatten_toml("", &table, &mut values);
        for (name, value) in values {
            let setting = settings::find(&name).ok_or_else(|| ConfigError::UnknownSetting {
                name: name.clone(),
                origin: origin.clone(),
                known: settings::names(),
            })?;
            setting.apply(self, &value, &origin)?;
        }
        Ok(())
    }

    fn apply_env(
        &mut self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Vec<String>, ConfigError> {
        let mut warnings = Vec::new();
        let mut vars: Vec<(String, String)> = env
            .into_iter()
            .filter(|(key, _)| key.starts_with(ENV_PREFIX))
            .collect();
        vars.sort();
        for (key, value) in vars {
            match settings::all().find(|setting| setting.env_var() == key) {
                Some(setting) => setting.apply(self, &value, &format!("environment variable {key}"))?,
                None if parse::is_tooling_var(&key) => {}
                None => warnings.push(format!(
                    "ignoring environment variable {key}: no such setting (known: {})",
                    settings::names()
                )),
            }
        }
        Ok(warnings)
    }

    /// The database URL in effect: the configured one or the SQLite file in `data_dir`.
    pub fn database_url(&self) -> DatabaseUrl {
        self.database_url
            .clone()
            .unwrap_or_else(|| DatabaseUrl::sqlite_in(&self.data_dir))
    }

    /// The public base URL in effect, given the address the server actually listens on.
    pub fn public_url_for(&self, bound: SocketAddr) -> Url {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let host = if bound.ip().is_loopback() || bound.ip().is_unspecified() {
            "localhost".to_owned()
        } else {
            match bound {
                SocketAddr::V4(addr) => addr.ip().to_string(),
                SocketAddr::V6(addr) => format!("[{}]", addr.ip()),
            }
        };
        Url::parse(&format!("http://{host}:{}/", bound.port())).expect("a valid derived URL")
    }
}

#[cfg(test)]
mod tests;
