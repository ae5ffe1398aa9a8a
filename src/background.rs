//! Low-priority threads for CPU work off the hot path (applying batches of changes to a
//! room's document, saving snapshots). They run at a lower scheduling priority than the
//! async runtime, so on a small machine a large document being materialised cannot delay
//! the relay of keystrokes: the kernel gives the runtime's threads the CPU first.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::oneshot;

/// The niceness of background threads (0 is the default, 19 the lowest priority).
const NICENESS: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// The work panicked; its result is lost.
#[derive(Debug, thiserror::Error)]
#[error("a background job panicked")]
pub struct JobPanicked;

/// Runs `work` on a background thread and waits for its result.
pub async fn run<T, F>(work: F) -> Result<T, JobPanicked>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let job: Job = Box::new(move || {
        if let Ok(result) = catch_unwind(AssertUnwindSafe(work)) {
            let _ = reply.send(result);
        }
    });
    pool().send(job).map_err(|_| JobPanicked)?;
    answer.await.map_err(|_| JobPanicked)
}

/// The pool, started on first use with one thread per core.
fn pool() -> &'static Sender<Job> {
    static POOL: OnceLock<Sender<Job>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        for n in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("pairline-background-{n}"))
                .spawn(move || work_through(&queue))
                .expect("start a background thread");
        }
        jobs
    })
}

fn work_through(queue: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let next = queue.lock().map(|queue| queue.recv());
        match next {
            Ok(Ok(job)) => job(),
            _ => return,
        }
    }
}

/// Lowers this thread's scheduling priority (on Linux niceness is per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; `who = 0` is the calling thread.
    unsafe {
        if libc::setpriority(libc::PRIO_PROCESS, 0, NICENESS) != 0 {
            tracing::debug!("cannot lower the priority of a background thread");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_and_survives_a_panic() {
        assert_eq!(run(|| 6 * 7).await.unwrap(), 42);
        assert!(run(|| -> u32 { panic!("boom") }).await.is_err());
        assert_eq!(run(|| "still working").await.unwrap(), "still working");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn background_threads_run_at_a_lower_priority() {
        // SAFETY: getpriority reads the calling thread's niceness.
        let niceness = run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) })
            .await
            .unwrap();
        assert_eq!(niceness, NICENESS);
    }
}
