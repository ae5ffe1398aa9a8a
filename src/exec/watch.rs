//! Watching a sandbox run, the same way for every backend: its stdout and stderr as they
//! come, the bootstrap's reports taken out of stderr, the compile and run deadlines, the
//! output limit; and turning what was seen into a [`RunResult`].

use bytes::Bytes;
use futures::{Stream as FuturesStream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::bootstrap::{Signal, SignalFilter};
use super::output::OutputCollector;
use super::{COMPILE_TIMEOUT, Chunk, Limits, RunRequest, RunResult, Status, Stream};

/// Why the watcher stopped the run before it ended by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Compiling took longer than [`COMPILE_TIMEOUT`].
    CompileTime,
    /// The program ran past its wall-clock limit.
    Time,
    /// The program wrote more than the output limit.
    Output,
}

/// What was seen of one run.
pub struct Watched {
    pub output: OutputCollector,
    pub compile_failed: bool,
    /// The bootstrap's last report: (exit code, program wall time, peak memory, OOM kills).
    pub done: Option<(i32, u64, u64, u64)>,
    /// Set when the run must be killed (the caller kills it).
    pub stopped: Option<Stop>,
    /// When the program started (after compiling), for the wall time if it was killed.
    pub started: Option<Instant>,
}

/// Reads `frames` until they end or a limit is hit (then returns at once: the caller
/// kills the sandbox). Output is forwarded to `watchers` as it comes.
pub async fn watch<S>(
    frames: S,
    nonce: &str,
    limits: &Limits,
    watchers: mpsc::UnboundedSender<Chunk>,
) -> Watched
where
    S: FuturesStream<Item = (Stream, Bytes)>,
{
    let mut frames = std::pin::pin!(frames);
    let mut filter = SignalFilter::new(nonce);
    let mut watched = Watched {
        output: OutputCollector::new(limits.output_bytes, watchers),
        compile_failed: false,
        done: None,
        stopped: None,
        started: None,
    };
    let mut deadline = Instant::now() + COMPILE_TIMEOUT;
    loop {
        let frame = tokio::select! {
            frame = frames.next() => frame,
            () = tokio::time::sleep_until(deadline) => {
                watched.stopped = Some(if watched.started.is_some() { Stop::Time } else { Stop::CompileTime });
                return watched;
            }
        };
        let Some((stream, data)) = frame else { break };
        let (text, signals) = match stream {
            Stream::Stdout => (data.to_vec(), Vec::new()),
            Stream::Stderr => filter.feed(&data),
        };
        if !text.is_empty() && !watched.output.push(stream, &text) {
            watched.stopped = Some(Stop::Output);
            return watched;
        }
        for signal in signals {
            match signal {
                Signal::Compiled => {
                    let now = Instant::now();
                    watched.started = Some(now);
                    deadline = now + limits.wall;
                }
                Signal::CompileFailed => watched.compile_failed = true,
                Signal::Done {
                    exit_code,
                    wall_ms,
                    peak_bytes,
                    oom_kills,
                } => watched.done = Some((exit_code, wall_ms, peak_bytes, oom_kills)),
            }
        }
    }
    let rest = filter.finish();
    if !rest.is_empty() && !watched.output.push(Stream::Stderr, &rest) {
        watched.stopped = Some(Stop::Output);
    }
    watched
}

/// What the sandbox itself says after the run (beyond the bootstrap's reports).
#[derive(Debug, Default, Clone, Copy)]
pub struct SandboxEnd {
    /// The sandbox's exit status, if it ended by itself.
    pub exit_code: Option<i32>,
    /// The sandbox saw an out-of-memory kill.
    pub oom_killed: bool,
    /// The peak memory the sandbox measured from outside, if it can.
    pub peak_bytes: Option<u64>,
}

/// The result of a watched run.
pub fn result(
    request: &RunRequest,
    watched: Watched,
    end: SandboxEnd,
    runtime: String,
    backend: &'static str,
) -> RunResult {
    let limits = request.limits;
    let done = watched.done;
    let oom = end.oom_killed || done.is_some_and(|(_, _, _, kills)| kills > 0);
    let exit_code = done.map(|(code, ..)| code).or(end.exit_code);
    let status = match watched.stopped {
        Some(Stop::Output) => Status::OutputLimit,
        Some(Stop::Time | Stop::CompileTime) => Status::Timeout,
        None if watched.compile_failed => Status::CompileError,
        None if oom => Status::MemoryLimit,
        None if done.is_none() && watched.started.is_none() => Status::InternalError,
        None if exit_code == Some(0) => Status::Ok,
        None => Status::RuntimeError,
    };
    let execution_time_ms = match (done, watched.started) {
        (Some((_, wall_ms, ..)), _) => wall_ms,
        (None, Some(started)) => started.elapsed().as_millis() as u64,
        (None, None) => 0,
    };
    let peak = end.peak_bytes.or(done.map(|(_, _, peak, _)| peak)).unwrap_or(0);
    let mut message = status.describe(&limits, exit_code);
    if watched.stopped == Some(Stop::CompileTime) {
        message = format!(
            "Time limit: compiling took longer than {} s and was stopped.",
            COMPILE_TIMEOUT.as_secs()
        );
    }
    let (stdout, stderr, truncated) = watched.output.finish();
    let shows_exit = matches!(status, Status::Ok | Status::RuntimeError | Status::MemoryLimit);
    RunResult {
        status,
        stdout,
        stderr,
        exit_code: if shows_exit { exit_code } else { None },
        execution_time_ms,
        memory_usage_mb: (peak as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0,
        truncated,
        runtime,
        backend,
        message,
    }
}

/// A result for a run the sandbox could not carry out.
pub fn internal_error(request: &RunRequest, runtime: String, backend: &'static str, why: &str) -> RunResult {
    RunResult {
        status: Status::InternalError,
        stdout: String::new(),
        stderr: String::new(),
        exit_code: None,
        execution_time_ms: 0,
        memory_usage_mb: 0.0,
        truncated: false,
        runtime,
        backend,
        message: format!(
            "{} ({why})",
            Status::InternalError.describe(&request.limits, None)
        ),
    }
}
