//! Starting code execution as configured: the chosen sandbox, or none with the reason,
//! and (in the background) what the other sandbox would offer.

use std::sync::Arc;

use super::Executor;
use super::docker::{DockerExecutor, DockerOptions};
use super::local::LocalExecutor;
use super::service::RunService;
use crate::config::{ExecBackend, ExecConfig};
use crate::live::Rooms;
use crate::store::Store;

/// The run service for `config`. A sandbox that cannot start does not stop the server:
/// runs are refused with the reason, which is also logged.
pub async fn start(config: &ExecConfig, store: Arc<dyn Store>, rooms: Rooms) -> RunService {
    let started: Result<Arc<dyn Executor>, String> = match config.backend {
        ExecBackend::Off => {
            Err("Code execution is turned off on this server (exec.backend = off).".to_owned())
        }
        ExecBackend::Docker => DockerExecutor::connect(docker_options(config))
            .await
            .map(|executor| Arc::new(executor) as Arc<dyn Executor>)
            .map_err(|err| format!("Code cannot run on this server right now: {err}.")),
        ExecBackend::Local => LocalExecutor::start()
            .await
            .map(|executor| Arc::new(executor) as Arc<dyn Executor>)
            .map_err(|err| format!("Code cannot run on this server right now: {err}.")),
    };
    let (executor, off) = match started {
        Ok(executor) => {
            tracing::info!(
                backend = executor.name(),
                languages = executor.runtimes().len(),
                "code execution ready"
            );
            (Some(executor), String::new())
        }
        Err(reason) => {
            tracing::error!(backend = config.backend.name(), %reason, "code execution is unavailable");
            (None, reason)
        }
    };
    let service = RunService::new(executor, off, config.clone(), store, rooms.clone());
    rooms.set_runner(Arc::new(service.clone()));
    learn_other_runtimes(config, &service);
    service
}

/// In the background, asks the backend not in use what it would offer, so that
/// `GET /v1/languages` can say; a backend that is not set up here offers nothing. A
/// server with execution off asks neither.
fn learn_other_runtimes(config: &ExecConfig, service: &RunService) {
    if config.backend == ExecBackend::Off {
        return;
    }
    let (config, service) = (config.clone(), service.clone());
    tokio::spawn(async move {
        if config.backend != ExecBackend::Local {
            match LocalExecutor::probe_runtimes().await {
                Ok(runtimes) => service.set_other_runtimes("local", runtimes),
                Err(err) => tracing::debug!(error = %err, "the local sandbox is not set up here"),
            }
        }
        if config.backend != ExecBackend::Docker {
            match DockerExecutor::probe_runtimes(&config.docker_image).await {
                Ok(runtimes) => service.set_other_runtimes("docker", runtimes),
                Err(err) => tracing::debug!(error = %err, "the Docker sandbox is not set up here"),
            }
        }
    });
}

fn docker_options(config: &ExecConfig) -> DockerOptions {
    DockerOptions {
        image: config.docker_image.clone(),
        pool_size: config.pool_size,
        pooled_limits: super::Limits {
            wall: config.default_wall,
            memory_mib: config.default_memory_mib,
            processes: config.max_processes,
            output_bytes: config.max_output_bytes,
        },
    }
}
