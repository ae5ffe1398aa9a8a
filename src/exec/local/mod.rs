//! The local sandbox (the embedded default): each run in fresh Linux namespaces made by
//! bubblewrap (user, pid, network, mount, ipc, uts, cgroup), seeing a read-only view of
//! the host's toolchains and a tmpfs work dir, with no network at all, rlimits, cgroup
//! limits where the machine allows them, and a wall-clock kill of the whole process
//! tree. It offers only the languages whose toolchain the host has.

mod cgroup;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::bootstrap::{self, BOOTSTRAP};
use super::watch::{self, SandboxEnd};
use super::{Chunk, Executor, RunRequest, RunResult, Stream, recipes};
use cgroup::{Hierarchy, RunGroup};

/// The work dir's size.
const WORK_DIR_BYTES: u64 = 64 * 1024 * 1024;
/// The user the program runs as inside its namespace.
const RUNNER_UID: &str = "10001";

/// Why the local sandbox cannot start.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("bubblewrap (bwrap) is not installed; install the bubblewrap package")]
    NoBubblewrap,
    #[error("bubblewrap cannot make a sandbox here: {0}")]
    Broken(String),
}

/// Runs code in namespaces on this machine.
pub struct LocalExecutor {
    bwrap: PathBuf,
    /// esbuild (for TypeScript), bound into the sandbox when found.
    esbuild: Option<PathBuf>,
    cgroups: Option<Hierarchy>,
    runtimes: BTreeMap<&'static str, String>,
}

/// Runs started by this process, for unique cgroup names.
static RUNS: AtomicU64 = AtomicU64::new(0);

impl LocalExecutor {
    /// Finds bubblewrap and the host's toolchains (by running the version probe in a
    /// sandbox), and what cgroup limits the machine allows.
    pub async fn start() -> Result<Self, LocalError> {
        let bwrap = find_program("bwrap").ok_or(LocalError::NoBubblewrap)?;
        let cgroups = Hierarchy::detect();
        if cgroups.is_none() {
            tracing::warn!(
                "no writable cgroup here: local runs get rlimits and the clock, but no memory or process limit"
            );
        }
        let mut executor = Self {
            bwrap,
            esbuild: find_esbuild(),
            cgroups,
            runtimes: BTreeMap::new(),
        };
        let probe = executor.probe().await?;
        executor.runtimes = recipes::parse_runtimes(&probe);
        Ok(executor)
    }

    /// What the sandbox would offer, for `GET /v1/languages` on a Docker server.
    pub async fn probe_runtimes() -> Result<BTreeMap<&'static str, String>, LocalError> {
        Ok(Self::start().await?.runtimes)
    }

    async fn probe(&self) -> Result<String, LocalError> {
        let output = self
            .command(&["bash", "-c", &recipes::probe_script()])
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|err| LocalError::Broken(err.to_string()))?;
        if !output.status.success() && output.stdout.is_empty() {
            return Err(LocalError::Broken(
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// bubblewrap running `program` in a fresh sandbox.
    fn command(&self, program: &[&str]) -> Command {
        let mut command = Command::new(&self.bwrap);
        command.args([
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--uid",
            RUNNER_UID,
            "--gid",
            RUNNER_UID,
            "--hostname",
            "sandbox",
            "--ro-bind",
            "/usr",
            "/usr",
            "--symlink",
            "usr/bin",
            "/bin",
            "--symlink",
            "usr/sbin",
            "/sbin",
            "--symlink",
            "usr/lib",
            "/lib",
            "--symlink",
            "usr/lib64",
            "/lib64",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            &WORK_DIR_BYTES.to_string(),
            "--tmpfs",
            "/work",
            "--chdir",
            "/work",
            "--clearenv",
            "--setenv",
            "PATH",
            "/usr/local/bin:/usr/bin:/bin:/opt/pairline/bin",
            "--setenv",
            "LANG",
            "C.UTF-8",
            "--setenv",
            "PAIRLINE_WORK",
            "/work",
        ]);
        // What the toolchains read from /etc (alternatives' links, the loader's cache,
        // Java's configuration), and nothing else of it.
        for dir in [
            "/etc/alternatives",
            "/etc/ld.so.cache",
            "/etc/java-17-openjdk",
            "/etc/ssl/certs",
        ] {
            if Path::new(dir).exists() {
                command.args(["--ro-bind", dir, dir]);
            }
        }
        if let Some(esbuild) = &self.esbuild {
            command
                .arg("--ro-bind")
                .arg(esbuild)
                .arg("/opt/pairline/bin/esbuild");
        }
        // The root (bubblewrap's own tmpfs) becomes read-only: only /work can be written.
        command.args(["--remount-ro", "/", "--"]).args(program);
        command.kill_on_drop(true);
        command
    }

    fn spawn(&self, group: Option<&RunGroup>) -> std::io::Result<Child> {
        let mut command = self.command(&["bash", "-c", BOOTSTRAP]);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let procs = group.map(RunGroup::procs_files).unwrap_or_default();
        // SAFETY: between fork and exec the closure only makes system calls (open, write,
        // close, setrlimit) on data prepared before the fork.
        unsafe {
            command.pre_exec(move || {
                for path in &procs {
                    let fd = libc::open(path.as_ptr(), libc::O_WRONLY);
                    if fd >= 0 {
                        libc::write(fd, b"0".as_ptr().cast(), 1);
                        libc::close(fd);
                    }
                }
                limit(libc::RLIMIT_CORE, 0);
                limit(libc::RLIMIT_NOFILE, 1024);
                limit(libc::RLIMIT_FSIZE, WORK_DIR_BYTES);
                Ok(())
            });
        }
        command.spawn()
    }
}

/// Sets a resource limit (soft and hard) in the child.
fn limit(resource: libc::__rlimit_resource_t, value: libc::rlim_t) {
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: setrlimit reads the struct passed by reference.
    unsafe { libc::setrlimit(resource, &limit) };
}

#[async_trait]
impl Executor for LocalExecutor {
    fn name(&self) -> &'static str {
        "local"
    }

    fn runtimes(&self) -> BTreeMap<&'static str, String> {
        self.runtimes.clone()
    }

    async fn run(&self, request: RunRequest, output: mpsc::UnboundedSender<Chunk>) -> RunResult {
        let runtime = request.runtime_in(&self.runtimes);
        let name = format!(
            "pairline-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        );
        let group = match &self.cgroups {
            Some(hierarchy) => match hierarchy.create(&name, &request.limits) {
                Ok(group) => Some(group),
                Err(err) => {
                    tracing::error!(error = %err, "cannot make a run's cgroup");
                    return watch::internal_error(&request, runtime, "local", "cannot limit the run");
                }
            },
            None => None,
        };
        let mut child = match self.spawn(group.as_ref()) {
            Ok(child) => child,
            Err(err) => {
                tracing::error!(error = %err, "cannot start bubblewrap");
                return watch::internal_error(&request, runtime, "local", "cannot start the sandbox");
            }
        };
        let nonce = bootstrap::nonce();
        let input = bootstrap::framed_input(&request, &nonce);
        let mut stdin = child.stdin.take().expect("piped stdin");
        let writer = tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
        });
        let (frames_tx, frames_rx) = mpsc::unbounded_channel();
        let readers = [
            tokio::spawn(read_into(
                child.stdout.take().expect("piped stdout"),
                Stream::Stdout,
                frames_tx.clone(),
            )),
            tokio::spawn(read_into(
                child.stderr.take().expect("piped stderr"),
                Stream::Stderr,
                frames_tx,
            )),
        ];
        let frames = futures::stream::unfold(
            frames_rx,
            |mut rx| async move { rx.recv().await.map(|f| (f, rx)) },
        );
        let watched = watch::watch(frames, &nonce, &request.limits, output).await;
        writer.abort();
        if watched.stopped.is_some() {
            // Killing bubblewrap ends its pid namespace, and with it every process of the
            // run; the cgroup is emptied too, for good measure.
            let _ = child.start_kill();
            if let Some(group) = &group {
                group.kill_all();
            }
        }
        let status = child.wait().await.ok();
        for reader in readers {
            reader.abort();
        }
        let end = SandboxEnd {
            exit_code: status.and_then(|status| status.code()),
            oom_killed: group.as_ref().is_some_and(|group| group.oom_kills() > 0),
            peak_bytes: group.as_ref().and_then(RunGroup::peak_bytes),
        };
        if let Some(group) = group {
            tokio::task::spawn_blocking(move || drop(group));
        }
        watch::result(&request, watched, end, runtime, "local")
    }
}

/// Forwards what a pipe delivers until it closes.
async fn read_into(
    mut pipe: impl AsyncRead + Unpin,
    stream: Stream,
    frames: mpsc::UnboundedSender<(Stream, Bytes)>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    while let Ok(read) = pipe.read(&mut buffer).await {
        if read == 0
            || frames
                .send((stream, Bytes::copy_from_slice(&buffer[..read])))
                .is_err()
        {
            return;
        }
    }
}

/// A program on the server's PATH.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// esbuild for TypeScript: on the PATH, or the one the browser client's build installed
/// (assets/node_modules), which must be outside /usr to be bound in.
fn find_esbuild() -> Option<PathBuf> {
    if let Some(found) = find_program("esbuild").filter(|path| !path.starts_with("/usr")) {
        return Some(found);
    }
    let bundled =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/node_modules/@esbuild/linux-x64/bin/esbuild");
    bundled.is_file().then_some(bundled)
}
