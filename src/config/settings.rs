//! The table of settings: name, help, and how a text value is applied to [`Config`].

use super::parse;
use super::{Config, ConfigError, DatabaseUrl, ENV_PREFIX, ExecBackend};

/// One configuration setting, settable from the TOML file (by `name`) or the
/// environment (by `PAIRLINE_` + the upper-cased name, dots as underscores).
pub struct Setting {
    pub name: &'static str,
    pub help: &'static str,
    /// Secret values are never echoed back in error messages.
    pub secret: bool,
    pub(super) apply: fn(&mut Config, &str) -> Result<(), String>,
}

impl Setting {
    /// The environment variable that sets this value.
    pub fn env_var(&self) -> String {
        format!("{ENV_PREFIX}{}", self.name.replace('.', "_").to_uppercase())
    }

    pub(super) fn apply(&self, config: &mut Config, value: &str, origin: &str) -> Result<(), ConfigError> {
        (self.apply)(config, value.trim()).map_err(|reason| ConfigError::InvalidValue {
            name: self.name.to_owned(),
            origin: origin.to_owned(),
            value: if self.secret {
                "(hidden)".to_owned()
            } else {
                format!("{value:?}")
            },
            reason,
        })
    }
}

/// Every setting the server understands.
pub static SETTINGS: &[Setting] = &[
    Setting {
        name: "listen",
        help: "address and port to listen on (default 127.0.0.1:8080)",
        secret: false,
        apply: |c, v| {
            c.listen = parse::socket_addr(v)?;
            Ok(())
        },
    },
    Setting {
        name: "public_url",
        help: "base URL used in the links the server hands out, e.g. https://pairline.example.com",
        secret: false,
        apply: |c, v| {
            c.public_url = parse::optional(v, parse::base_url)?;
            Ok(())
        },
    },
    Setting {
        name: "data_dir",
        help: "directory for the embedded database and local state (default ./data)",
        secret: false,
        apply: |c, v| {
            c.data_dir = parse::path(v)?;
            Ok(())
        },
    },
    Setting {
        name: "database_url",
        help: "sqlite://FILE or postgres://USER:PASSWORD@HOST/DB (default: SQLite in data_dir)",
        secret: true,
        apply: |c, v| {
            c.database_url = parse::optional(v, DatabaseUrl::parse)?;
            Ok(())
        },
    },
    Setting {
        name: "database_max_connections",
        help: "most database connections to keep open (default 10)",
        secret: false,
        apply: |c, v| {
            c.database_max_connections = parse::integer_in(v, 1, 1000)?;
            Ok(())
        },
    },
    Setting {
        name: "retention_days",
        help: "days after a room's last activity before it is deleted; 0 keeps rooms forever (default 30)",
        secret: false,
        apply: |c, v| {
            c.retention_days = parse::integer_in(v, 0, 36_500)?;
            Ok(())
        },
    },
    Setting {
        name: "retention_sweep_interval",
        help: "how often to look for expired rooms, e.g. 1h or 10m (default 1h)",
        secret: false,
        apply: |c, v| {
            c.retention_sweep_interval = parse::duration_in(v, "10ms", "7days")?;
            Ok(())
        },
    },
    Setting {
        name: "log_level",
        help: "log filter: error, warn, info, debug, trace, or directives like pairline=debug,info",
        secret: false,
        apply: |c, v| {
            c.log_level = parse::log_filter(v)?;
            Ok(())
        },
    },
    Setting {
        name: "max_request_bytes",
        help: "largest request body the API accepts, e.g. 1MiB (default 1MiB)",
        secret: false,
        apply: |c, v| {
            c.max_request_bytes = parse::byte_size_in(v, 1024, 1 << 30)?;
            Ok(())
        },
    },
    Setting {
        name: "shutdown_grace",
        help: "how long shutdown waits for in-flight requests, e.g. 10s (default 10s)",
        secret: false,
        apply: |c, v| {
            c.shutdown_grace = parse::duration_in(v, "0s", "10min")?;
            Ok(())
        },
    },
    Setting {
        name: "sync.max_message_bytes",
        help: "largest WebSocket message a client may send, e.g. 1MiB (default 1MiB)",
        secret: false,
        apply: |c, v| {
            c.sync.max_message_bytes = parse::byte_size_in(v, 4096, 64 << 20)?;
            Ok(())
        },
    },
    Setting {
        name: "sync.max_editors",
        help: "most editors in one room (default 8)",
        secret: false,
        apply: |c, v| {
            c.sync.max_editors = parse::integer_in(v, 1, 64)?;
            Ok(())
        },
    },
    Setting {
        name: "sync.max_observers",
        help: "most observers (read-only participants) in one room (default 24)",
        secret: false,
        apply: |c, v| {
            c.sync.max_observers = parse::integer_in(v, 0, 1000)?;
            Ok(())
        },
    },
    Setting {
        name: "sync.max_pending_changes",
        help: "most changes a connection may have waiting for their dependencies (default 1000)",
        secret: false,
        apply: |c, v| {
            c.sync.max_pending_changes = parse::integer_in(v, 1, 1_000_000)?;
            Ok(())
        },
    },
    Setting {
        name: "sync.pending_timeout",
        help: "how long changes may wait for their dependencies, e.g. 10s (default 10s)",
        secret: false,
        apply: |c, v| {
            c.sync.pending_timeout = parse::duration_in(v, "100ms", "10min")?;
            Ok(())
        },
    },
    Setting {
        name: "sync.max_messages_per_second",
        help: "messages per second a connection may send, bursts of twice as many (default 100)",
        secret: false,
        apply: |c, v| {
            c.sync.max_messages_per_second = parse::integer_in(v, 1, 100_000)?;
            Ok(())
        },
    },
    Setting {
        name: "sync.snapshot_every",
        help: "changes between two snapshots of a room's document (default 5000)",
        secret: false,
        apply: |c, v| {
            c.sync.snapshot_every = parse::integer_in(v, 10, 10_000_000)?;
            Ok(())
        },
    },
    Setting {
        name: "sync.unload_after",
        help: "how long an empty room stays loaded, e.g. 60s (default 60s)",
        secret: false,
        apply: |c, v| {
            c.sync.unload_after = parse::duration_in(v, "10ms", "1day")?;
            Ok(())
        },
    },
    Setting {
        name: "exec.backend",
        help: "the sandbox that runs code: local (namespaces, the host's toolchains), docker, or off (default local)",
        secret: false,
        apply: |c, v| {
            c.exec.backend = match v {
                "local" => ExecBackend::Local,
                "docker" => ExecBackend::Docker,
                "off" => ExecBackend::Off,
                _ => return Err("must be local, docker or off".to_owned()),
            };
            Ok(())
        },
    },
    Setting {
        name: "exec.docker_image",
        help: "the Docker backend's runner image, built by scripts/build-images (default pairline-runner:latest)",
        secret: false,
        apply: |c, v| {
            if v.is_empty() || v.contains(char::is_whitespace) {
                return Err("must be an image name such as pairline-runner:latest".to_owned());
            }
            c.exec.docker_image = v.to_owned();
            Ok(())
        },
    },
    Setting {
        name: "exec.pool_size",
        help: "containers the Docker backend creates ahead of runs (default 2)",
        secret: false,
        apply: |c, v| {
            c.exec.pool_size = parse::integer_in(v, 0, 64)?;
            Ok(())
        },
    },
    Setting {
        name: "exec.concurrency",
        help: "runs at once on the whole server (default: the number of cores)",
        secret: false,
        apply: |c, v| {
            c.exec.concurrency = parse::integer_in(v, 1, 256)?;
            Ok(())
        },
    },
    Setting {
        name: "exec.queue_size",
        help: "runs that may wait for a sandbox; more are refused (default 32)",
        secret: false,
        apply: |c, v| {
            c.exec.queue_size = parse::integer_in(v, 0, 10_000)?;
            Ok(())
        },
    },
    Setting {
        name: "exec.max_wall",
        help: "the longest wall-clock limit a run may ask for, e.g. 30s (default 30s; runs get 10s unless they ask)",
        secret: false,
        apply: |c, v| {
            c.exec.max_wall = parse::duration_in(v, "1s", "10m")?;
            c.exec.default_wall = c.exec.default_wall.min(c.exec.max_wall);
            Ok(())
        },
    },
    Setting {
        name: "exec.max_memory_mib",
        help: "the most memory in MiB a run may ask for (default 1024; runs get 256 unless they ask)",
        secret: false,
        apply: |c, v| {
            c.exec.max_memory_mib = parse::integer_in(v, 32, 65_536)?;
            c.exec.default_memory_mib = c.exec.default_memory_mib.min(c.exec.max_memory_mib);
            Ok(())
        },
    },
    Setting {
        name: "exec.max_output_bytes",
        help: "output (stdout and stderr together) kept of a run before it is stopped, e.g. 1MiB (default 1MiB)",
        secret: false,
        apply: |c, v| {
            c.exec.max_output_bytes = parse::byte_size_in(v, 1024, 64 << 20)?;
            Ok(())
        },
    },
    Setting {
        name: "exec.max_stdin_bytes",
        help: "largest standard input of a run, e.g. 1MiB (default 1MiB)",
        secret: false,
        apply: |c, v| {
            c.exec.max_stdin_bytes = parse::byte_size_in(v, 0, 64 << 20)?;
            Ok(())
        },
    },
    Setting {
        name: "exec.max_code_bytes",
        help: "largest program a run may carry, e.g. 1MiB (default 1MiB)",
        secret: false,
        apply: |c, v| {
            c.exec.max_code_bytes = parse::byte_size_in(v, 1024, 64 << 20)?;
            Ok(())
        },
    },
];

/// Every setting: the general ones, then the `media.*` ones.
pub fn all() -> impl Iterator<Item = &'static Setting> {
    SETTINGS.iter().chain(super::media::MEDIA_SETTINGS)
}

pub(super) fn find(name: &str) -> Option<&'static Setting> {
    all().find(|setting| setting.name == name)
}

pub(super) fn names() -> String {
    all().map(|s| s.name).collect::<Vec<_>>().join(", ")
}
