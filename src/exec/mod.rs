//! Running code: the [`Executor`] trait, what a run asks for and what it returns, and the
//! pieces both sandboxes share (the language recipes, the output collector). The Docker
//! backend is the production choice; the local namespace sandbox is the embedded default.

pub mod bootstrap;
pub mod docker;
pub mod events;
pub mod local;
pub mod output;
mod queue;
pub mod recipes;
pub mod runs;
pub mod service;
pub mod setup;
pub mod watch;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;

pub use output::{Chunk, Stream};
pub use recipes::Recipe;

/// What one run may use. The service fills in defaults and clamps to the server's maxima
/// before a backend sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Wall-clock time for the program itself (compiling has its own allowance).
    pub wall: Duration,
    pub memory_mib: u32,
    /// Processes and threads the run may have at once.
    pub processes: u32,
    /// Bytes of stdout and stderr together kept and streamed; the run is stopped beyond.
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            wall: Duration::from_secs(10),
            memory_mib: 256,
            processes: 64,
            output_bytes: 1024 * 1024,
        }
    }
}

/// How long compiling may take, whatever the run's wall-clock limit.
pub const COMPILE_TIMEOUT: Duration = Duration::from_secs(30);

/// One run: a program, its input, and its limits.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub recipe: &'static Recipe,
    pub code: String,
    pub stdin: Bytes,
    pub limits: Limits,
}

impl RunRequest {
    /// The runtime a sandbox with these `runtimes` runs this request's language with.
    pub fn runtime_in(&self, runtimes: &BTreeMap<&'static str, String>) -> String {
        runtimes.get(self.recipe.language.id).cloned().unwrap_or_default()
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The program exited with status 0.
    Ok,
    /// The program exited with another status or was killed by a signal.
    RuntimeError,
    /// The compiler refused the code; its messages are the stderr.
    CompileError,
    /// The program (or its compiler) ran past its time and was killed.
    Timeout,
    /// The program ran out of memory and was killed.
    MemoryLimit,
    /// The program wrote more than the output limit and was stopped.
    OutputLimit,
    /// The sandbox failed; not the program's fault.
    InternalError,
}

impl Status {
    /// A sentence for people, shown with the run.
    pub fn describe(self, limits: &Limits, exit_code: Option<i32>) -> String {
        match self {
            Status::Ok => "The program finished.".into(),
            Status::RuntimeError => match exit_code {
                Some(code) if code > 128 => format!(
                    "The program was killed by signal {} ({}).",
                    code - 128,
                    signal_name(code - 128)
                ),
                Some(code) => format!("The program exited with status {code}."),
                None => "The program failed.".into(),
            },
            Status::CompileError => "Compile error: the code did not compile (see the messages).".into(),
            Status::Timeout => format!(
                "Time limit: the program ran longer than {} s and was stopped.",
                limits.wall.as_secs_f64()
            ),
            Status::MemoryLimit => format!(
                "Memory limit: the program used more than {} MiB and was stopped.",
                limits.memory_mib
            ),
            Status::OutputLimit => format!(
                "Output limit: the program wrote more than {} and was stopped.",
                human_bytes(limits.output_bytes)
            ),
            Status::InternalError => "The sandbox failed to run the program; try again.".into(),
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        6 => "SIGABRT",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV, a memory access error",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => "a signal",
    }
}

/// `1 MiB`, `64 KiB`, `100 bytes`.
pub fn human_bytes(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// What a run produced. Field names follow the original brief.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    pub status: Status,
    pub stdout: String,
    pub stderr: String,
    /// The program's exit status; null when it did not run (compile error, sandbox failure).
    pub exit_code: Option<i32>,
    /// Wall-clock time of the program itself, without compiling.
    pub execution_time_ms: u64,
    /// The most memory the run used.
    pub memory_usage_mb: f64,
    /// Output was cut at the limit (the text ends with a visible marker).
    pub truncated: bool,
    /// The runtime that ran the code, e.g. `Python 3.11.2`.
    pub runtime: String,
    /// Which sandbox ran it: `docker` or `local`.
    pub backend: &'static str,
    /// A sentence saying how the run ended.
    pub message: String,
}

/// A sandbox that runs code.
#[async_trait]
pub trait Executor: Send + Sync + 'static {
    /// `docker` or `local`.
    fn name(&self) -> &'static str;

    /// The runtime version of each language this sandbox can run (by language id), e.g.
    /// `python` → `Python 3.11.2`. Languages it cannot run are absent.
    fn runtimes(&self) -> BTreeMap<&'static str, String>;

    /// Runs `request`, sending output to `output` as it is produced. Never fails: a
    /// sandbox failure is a result with [`Status::InternalError`].
    async fn run(&self, request: RunRequest, output: mpsc::UnboundedSender<Chunk>) -> RunResult;
}
