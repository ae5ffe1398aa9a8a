//! The Docker sandbox (production): one fresh, hardened container per run, never reused,
//! always removed. A pool of containers created in advance (each used once) hides most
//! of the cost of creating one. The code, the script and the stdin reach the container
//! through its standard input (its root is read-only; see `bootstrap`).

mod container;
mod pool;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bollard::Docker;
use tokio::sync::mpsc;

use super::{Chunk, Executor, Limits, RunRequest, RunResult, recipes};
use container::Sandbox;
use pool::Pool;

/// The label every sandbox container carries (its value names the executor instance), so
/// that leftovers of a server that died can be found and removed at start.
pub const LABEL: &str = "pairline.sandbox";

/// How the Docker backend is set up.
#[derive(Debug, Clone)]
pub struct DockerOptions {
    /// The runner image (built by `scripts/build-images`).
    pub image: String,
    /// Containers kept created and ready for runs with the default limits.
    pub pool_size: usize,
    /// The limits pooled containers are created with; runs asking for others get a
    /// container created for them.
    pub pooled_limits: Limits,
}

/// Why the Docker backend cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("cannot reach the Docker engine ({0}); is dockerd running? (scripts/test starts one)")]
    Unreachable(String),
    #[error("the sandbox image {0} is missing; build it with scripts/build-images")]
    MissingImage(String),
    #[error("the sandbox image could not report its toolchains: {0}")]
    Probe(String),
}

/// Runs code in Docker containers.
pub struct DockerExecutor {
    docker: Docker,
    image: Arc<str>,
    /// This executor's random name, the value of its containers' [`LABEL`].
    instance: Arc<str>,
    pool: Pool,
    runtimes: BTreeMap<&'static str, String>,
}

impl DockerExecutor {
    /// Connects to the local engine, checks the image, removes containers a previous
    /// server left behind, learns the toolchains' versions and starts filling the pool.
    pub async fn connect(options: DockerOptions) -> Result<Self, DockerError> {
        let docker = engine_with(&options.image).await?;
        let image: Arc<str> = options.image.into();
        let instance: Arc<str> = crate::exec::bootstrap::nonce().into();
        container::remove_leftovers(&docker).await;
        let probe = container::probe(&docker, &image, &instance, &recipes::probe_script())
            .await
            .map_err(DockerError::Probe)?;
        let runtimes = recipes::parse_runtimes(&probe);
        if runtimes.is_empty() {
            return Err(DockerError::Probe(format!("no toolchain answered: {probe}")));
        }
        let pool = Pool::start(
            docker.clone(),
            image.clone(),
            instance.clone(),
            options.pooled_limits,
            options.pool_size,
        );
        Ok(Self {
            docker,
            image,
            instance,
            pool,
            runtimes,
        })
    }

    /// What this backend would offer, without starting it: for `GET /v1/languages` on a
    /// server that runs code with the other backend.
    pub async fn probe_runtimes(image: &str) -> Result<BTreeMap<&'static str, String>, DockerError> {
        let docker = engine_with(image).await?;
        let instance = crate::exec::bootstrap::nonce();
        let probe = container::probe(&docker, image, &instance, &recipes::probe_script())
            .await
            .map_err(DockerError::Probe)?;
        Ok(recipes::parse_runtimes(&probe))
    }

    /// The value of [`LABEL`] on this executor's containers.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Containers ready in the pool now.
    pub fn pooled(&self) -> usize {
        self.pool.ready()
    }

    /// Waits until the pool holds `count` containers (or `timeout` passes).
    pub async fn wait_for_pool(&self, count: usize, timeout: Duration) -> bool {
        self.pool.wait_until_ready(count, timeout).await
    }
}

/// The local Docker engine, once it answers and has `image`.
async fn engine_with(image: &str) -> Result<Docker, DockerError> {
    let docker = Docker::connect_with_local_defaults()
        .map_err(|err| DockerError::Unreachable(err.to_string()))?
        .negotiate_version()
        .await
        .map_err(|err| DockerError::Unreachable(err.to_string()))?;
    docker
        .inspect_image(image)
        .await
        .map_err(|_| DockerError::MissingImage(image.to_owned()))?;
    Ok(docker)
}

#[async_trait]
impl Executor for DockerExecutor {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn runtimes(&self) -> BTreeMap<&'static str, String> {
        self.runtimes.clone()
    }

    async fn run(&self, request: RunRequest, output: mpsc::UnboundedSender<Chunk>) -> RunResult {
        let runtime = request.runtime_in(&self.runtimes);
        let id = match self.pool.take(&request.limits) {
            Some(id) => Ok((id, true)),
            None => container::create(&self.docker, &self.image, &self.instance, &request.limits)
                .await
                .map(|id| (id, false)),
        };
        let sandbox = match id {
            Ok((id, started)) => Sandbox::new(self.docker.clone(), id, started),
            Err(err) => {
                tracing::error!(error = %err, "cannot create a sandbox container");
                return container::internal_error(&request, runtime, "cannot create a sandbox container");
            }
        };
        sandbox.run(request, runtime, output).await
    }
}
