//! Containers created and started ahead of time, each used for one run only: started, the
//! bootstrap waits for its input on stdin, so a run skips both creating and starting a
//! container. A background task keeps the pool full; runs with other limits than the
//! pooled ones create their own.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::Docker;
use tokio::sync::Notify;

use super::container;
use crate::exec::Limits;

/// Longest wait between attempts while the engine refuses to create containers.
const MAX_RETRY: Duration = Duration::from_secs(10);

/// The pool's handle. Dropping it stops the refill task and removes the spare containers.
pub struct Pool {
    shared: Arc<Shared>,
    limits: Limits,
}

struct Shared {
    ready: Mutex<VecDeque<String>>,
    size: usize,
    /// Wakes the refill task when a container is taken.
    taken: Notify,
    /// Wakes waiters when a container is added.
    added: Notify,
    stopped: tokio_util::sync::CancellationToken,
}

impl Pool {
    /// Starts filling a pool of `size` containers created with `limits`.
    pub fn start(docker: Docker, image: Arc<str>, instance: Arc<str>, limits: Limits, size: usize) -> Self {
        let shared = Arc::new(Shared {
            ready: Mutex::new(VecDeque::new()),
            size,
            taken: Notify::new(),
            added: Notify::new(),
            stopped: tokio_util::sync::CancellationToken::new(),
        });
        tokio::spawn(refill(docker, image, instance, limits, shared.clone()));
        Self { shared, limits }
    }

    /// A ready container for a run with `limits`, if the pool has one.
    pub fn take(&self, limits: &Limits) -> Option<String> {
        if *limits != self.limits {
            return None;
        }
        let id = self.shared.ready.lock().expect("pool lock").pop_front();
        self.shared.taken.notify_one();
        id
    }

    pub fn ready(&self) -> usize {
        self.shared.ready.lock().expect("pool lock").len()
    }

    /// Waits until `count` containers are ready; false if `timeout` passes first.
    pub async fn wait_until_ready(&self, count: usize, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, async {
            loop {
                let added = self.shared.added.notified();
                if self.ready() >= count {
                    return;
                }
                added.await;
            }
        })
        .await
        .is_ok()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.stopped.cancel();
    }
}

async fn create_and_start(
    docker: &Docker,
    image: &str,
    instance: &str,
    limits: &Limits,
) -> Result<String, bollard::errors::Error> {
    let id = container::create(docker, image, instance, limits).await?;
    if let Err(err) = docker.start_container(&id, None).await {
        container::remove(docker, &id).await;
        return Err(err);
    }
    Ok(id)
}

async fn refill(docker: Docker, image: Arc<str>, instance: Arc<str>, limits: Limits, shared: Arc<Shared>) {
    let mut retry = Duration::from_millis(100);
    loop {
        let missing = shared
            .size
            .saturating_sub(shared.ready.lock().expect("pool lock").len());
        if missing == 0 {
            tokio::select! {
                () = shared.taken.notified() => continue,
                () = shared.stopped.cancelled() => break,
            }
        }
        let created = tokio::select! {
            created = create_and_start(&docker, &image, &instance, &limits) => created,
            () = shared.stopped.cancelled() => break,
        };
        match created {
            Ok(id) => {
                retry = Duration::from_millis(100);
                shared.ready.lock().expect("pool lock").push_back(id);
                shared.added.notify_waiters();
            }
            Err(err) => {
                tracing::warn!(error = %err, ?retry, "cannot create a pooled sandbox container");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(MAX_RETRY);
            }
        }
    }
    let spare: Vec<String> = shared.ready.lock().expect("pool lock").drain(..).collect();
    for id in spare {
        container::remove(&docker, &id).await;
    }
}
