//! One sandbox container: how it is created (hardened), run once, and removed.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, ResourcesUlimits};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder, WaitContainerOptions,
};
use bytes::Bytes;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::LABEL;

/// The label naming the server process that created a container.
const PID_LABEL: &str = "pairline.pid";
use crate::exec::bootstrap::{self, BOOTSTRAP};
use crate::exec::watch::{self, SandboxEnd};
use crate::exec::{Chunk, Limits, RunRequest, RunResult, Stream};

/// The unprivileged user of the runner image.
const RUNNER_USER: &str = "10001:10001";
/// The work dir's size: code, build output and files the program writes.
const WORK_DIR_SIZE: &str = "64m";

/// The container configuration for one run: no network, memory (and swap) limit, pids
/// limit, one CPU, no capabilities, no new privileges, non-root, read-only root with a
/// tmpfs work dir, no logs kept (output is read through the attached stream).
fn config(image: &str, instance: &str, limits: &Limits, cmd: Vec<String>) -> ContainerCreateBody {
    let memory = i64::from(limits.memory_mib) * 1024 * 1024;
    let host = HostConfig {
        network_mode: Some("none".into()),
        memory: Some(memory),
        memory_swap: Some(memory),
        pids_limit: Some(i64::from(limits.processes)),
        nano_cpus: Some(1_000_000_000),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges".into()]),
        readonly_rootfs: Some(true),
        tmpfs: Some(HashMap::from([(
            "/work".to_owned(),
            format!("rw,exec,nosuid,nodev,size={WORK_DIR_SIZE},uid=10001,gid=10001,mode=0700"),
        )])),
        log_config: Some(HostConfigLogConfig {
            typ: Some("none".into()),
            config: None,
        }),
        ulimits: Some(vec![
            ulimit("core", 0),
            ulimit("nofile", 1024),
            ulimit("fsize", 64 * 1024 * 1024),
        ]),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(image.into()),
        cmd: Some(cmd),
        user: Some(RUNNER_USER.into()),
        working_dir: Some("/work".into()),
        hostname: Some("sandbox".into()),
        env: Some(vec![
            "LANG=C.UTF-8".into(),
            "PATH=/usr/local/bin:/usr/bin:/bin".into(),
        ]),
        network_disabled: Some(true),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        open_stdin: Some(true),
        stdin_once: Some(true),
        tty: Some(false),
        labels: Some(HashMap::from([
            (LABEL.to_owned(), instance.to_owned()),
            (PID_LABEL.to_owned(), std::process::id().to_string()),
        ])),
        host_config: Some(host),
        ..Default::default()
    }
}

fn ulimit(name: &str, value: i64) -> ResourcesUlimits {
    ResourcesUlimits {
        name: Some(name.into()),
        soft: Some(value),
        hard: Some(value),
    }
}

/// Creates (does not start) a sandbox container that runs the bootstrap, labelled with
/// the executor `instance` that owns it.
pub async fn create(
    docker: &Docker,
    image: &str,
    instance: &str,
    limits: &Limits,
) -> Result<String, bollard::errors::Error> {
    let cmd = vec!["bash".into(), "-c".into(), BOOTSTRAP.into()];
    let created = docker
        .create_container(None, config(image, instance, limits, cmd))
        .await?;
    Ok(created.id)
}

/// Removes a container, whatever state it is in; failures are logged.
pub async fn remove(docker: &Docker, id: &str) {
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    if let Err(err) = docker.remove_container(id, Some(options)).await {
        tracing::warn!(container = id, error = %err, "cannot remove a sandbox container");
    }
}

/// Removes every sandbox container a server that is no longer running left behind.
pub async fn remove_leftovers(docker: &Docker) {
    let filters = HashMap::from([("label".to_owned(), vec![LABEL.to_owned()])]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let Ok(leftovers) = docker.list_containers(Some(options)).await else {
        return;
    };
    for container in leftovers {
        let owner = container.labels.as_ref().and_then(|labels| labels.get(PID_LABEL));
        let owner_alive = owner
            .and_then(|pid| pid.parse::<i32>().ok())
            .is_some_and(process_is_alive);
        if let (Some(id), false) = (container.id, owner_alive) {
            remove(docker, &id).await;
        }
    }
}

/// Whether a process with this id exists on this machine.
fn process_is_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 sends nothing; it only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() == libc::EPERM }
}

/// Runs `script` with bash in a sandbox container (default limits) and returns what it
/// printed: the toolchain probe at start.
pub async fn probe(docker: &Docker, image: &str, instance: &str, script: &str) -> Result<String, String> {
    let cmd = vec!["bash".into(), "-c".into(), script.into()];
    let created = docker
        .create_container(None, config(image, instance, &Limits::default(), cmd))
        .await
        .map_err(|err| err.to_string())?;
    let sandbox = Sandbox::new(docker.clone(), created.id, false);
    let printed = sandbox.output_of().await;
    remove(docker, &sandbox.id).await;
    printed
}

/// A container for one run, removed after it.
pub struct Sandbox {
    docker: Docker,
    id: String,
    /// Started ahead of the run (from the pool): its bootstrap waits for input.
    started: bool,
}

impl Sandbox {
    pub fn new(docker: Docker, id: String, started: bool) -> Self {
        Self { docker, id, started }
    }

    /// Starts the container and returns everything it prints (stdout and stderr).
    async fn output_of(&self) -> Result<String, String> {
        let options = AttachContainerOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .stream(true)
            .build();
        let attached = self
            .docker
            .attach_container(&self.id, Some(options))
            .await
            .map_err(|err| err.to_string())?;
        self.docker
            .start_container(&self.id, None)
            .await
            .map_err(|err| err.to_string())?;
        let mut output = attached.output;
        let mut printed = Vec::new();
        while let Some(Ok(frame)) = output.next().await {
            printed.extend_from_slice(&frame.into_bytes());
        }
        Ok(String::from_utf8_lossy(&printed).into_owned())
    }

    /// Runs `request` in this container, streams its output, and removes the container.
    pub async fn run(
        self,
        request: RunRequest,
        runtime: String,
        output: mpsc::UnboundedSender<Chunk>,
    ) -> RunResult {
        let result = self.run_inner(&request, runtime.clone(), output).await;
        let (docker, id) = (self.docker.clone(), self.id.clone());
        tokio::spawn(async move { remove(&docker, &id).await });
        result.unwrap_or_else(|why| {
            tracing::error!(container = %self.id, error = %why, "a sandbox run failed");
            internal_error(&request, runtime, "the Docker engine refused the run")
        })
    }

    async fn run_inner(
        &self,
        request: &RunRequest,
        runtime: String,
        output: mpsc::UnboundedSender<Chunk>,
    ) -> Result<RunResult, bollard::errors::Error> {
        let options = AttachContainerOptionsBuilder::default()
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .stream(true)
            .build();
        let attached = self.docker.attach_container(&self.id, Some(options)).await?;
        if !self.started {
            self.docker.start_container(&self.id, None).await?;
        }
        let nonce = bootstrap::nonce();
        let input = bootstrap::framed_input(request, &nonce);
        let mut stdin = attached.input;
        // The program may exit without reading its stdin: a failed write is not an error.
        let writer = tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
            let _ = stdin.shutdown().await;
        });
        let frames = attached.output.filter_map(|frame| async move {
            match frame.ok()? {
                LogOutput::StdOut { message } => Some((Stream::Stdout, message)),
                LogOutput::StdErr { message } => Some((Stream::Stderr, message)),
                LogOutput::Console { message } => Some((Stream::Stdout, message)),
                LogOutput::StdIn { .. } => None::<(Stream, Bytes)>,
            }
        });
        let watched = watch::watch(frames, &nonce, &request.limits, output).await;
        writer.abort();
        if watched.stopped.is_some() {
            let kill = KillContainerOptionsBuilder::default().signal("SIGKILL").build();
            let _ = self.docker.kill_container(&self.id, Some(kill)).await;
        }
        // The output ends as the container exits; wait for Docker to record how it ended.
        // (A non-zero exit is reported as an error by bollard: either way it has ended.)
        let mut waiting = self.docker.wait_container(&self.id, None::<WaitContainerOptions>);
        let _ = tokio::time::timeout(Duration::from_secs(5), waiting.next()).await;
        let state = self.docker.inspect_container(&self.id, None).await?.state;
        let end = SandboxEnd {
            exit_code: state.as_ref().and_then(|s| s.exit_code).map(|code| code as i32),
            oom_killed: state.as_ref().and_then(|s| s.oom_killed).unwrap_or(false),
            peak_bytes: None,
        };
        Ok(watch::result(request, watched, end, runtime, "docker"))
    }
}

/// A result for a run Docker could not carry out.
pub fn internal_error(request: &RunRequest, runtime: String, why: &str) -> RunResult {
    watch::internal_error(request, runtime, "docker", why)
}
