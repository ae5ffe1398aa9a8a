//! Group commit: one task writes the changes of every room, many per transaction, and
//! tells each room how far its log is durable. Rooms acknowledge changes to their authors
//! only then.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::clock::{Millis, now_millis};
use crate::store::{ChangeRecord, Store, StoreError};

/// Most changes written in one transaction.
const MAX_BATCH: usize = 10_000;
/// How often, at most, a room's last-activity time is written.
const TOUCH_EVERY: Millis = 60_000;
/// Shortest time from one commit to the next: changes arriving meanwhile join the next
/// transaction. Each commit costs a sync and writes every index page it touches, so with
/// hundreds of busy rooms fewer, larger commits save much of the database's CPU; an
/// acknowledgement waits this much longer at most.
const MIN_COMMIT_GAP: Duration = Duration::from_millis(5);
/// Longest wait between retries while the database fails.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A room's changes to write, and where to report them durable.
pub struct PersistRequest {
    pub room_id: Arc<str>,
    pub records: Vec<ChangeRecord>,
    /// The largest sequence number among `records`.
    pub up_to_seq: u64,
    pub durable: mpsc::UnboundedSender<u64>,
}

/// Submits changes to the group-commit task. Cloned by every room; when the last clone
/// is dropped the task writes what it has and ends.
#[derive(Clone)]
pub struct Persister {
    tx: mpsc::UnboundedSender<PersistRequest>,
}

impl Persister {
    /// Starts the task.
    pub fn spawn(store: Arc<dyn Store>) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, tokio::spawn(run(store, rx)))
    }

    /// Queues changes for writing.
    pub fn submit(&self, request: PersistRequest) {
        if self.tx.send(request).is_err() {
            tracing::error!(
                "the persister has stopped; changes will be written after a restart by their authors"
            );
        }
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::UnboundedReceiver<PersistRequest>) {
    let mut touched: HashMap<Arc<str>, Millis> = HashMap::new();
    let mut last_commit = tokio::time::Instant::now();
    while let Some(first) = rx.recv().await {
        tokio::time::sleep_until(last_commit + MIN_COMMIT_GAP).await;
        last_commit = tokio::time::Instant::now();
        let mut requests = vec![first];
        let mut count = requests[0].records.len();
        while count < MAX_BATCH {
            match rx.try_recv() {
                Ok(request) => {
                    count += request.records.len();
                    requests.push(request);
                }
                Err(_) => break,
            }
        }
        write_until_done(store.as_ref(), &mut requests).await;
        let now = now_millis();
        let mut to_touch = Vec::new();
        for request in requests {
            let _ = request.durable.send(request.up_to_seq);
            let last = touched.get(&request.room_id).copied().unwrap_or(0);
            if now - last >= TOUCH_EVERY {
                touched.insert(request.room_id.clone(), now);
                to_touch.push(request.room_id);
            }
        }
        if !to_touch.is_empty() {
            let ids: Vec<&str> = to_touch.iter().map(|id| &**id).collect();
            if let Err(err) = store.touch_rooms(&ids, now).await {
                tracing::warn!(rooms = ids.len(), error = %err, "cannot record room activity");
            }
        }
        if touched.len() > 10_000 {
            touched.retain(|_, at| now - *at < TOUCH_EVERY);
        }
    }
    tracing::debug!("persister stopped: every change is written");
}

/// Writes every request's changes in one transaction. Changes of a room deleted
/// meanwhile are dropped (the rest of the batch is then written room by room).
async fn write_until_done(store: &dyn Store, requests: &mut [PersistRequest]) {
    let records: Vec<ChangeRecord> = requests
        .iter_mut()
        .flat_map(|r| std::mem::take(&mut r.records))
        .collect();
    if write_with_retry(store, &records).await.is_ok() {
        return;
    }
    let mut by_room: HashMap<String, Vec<ChangeRecord>> = HashMap::new();
    for record in records {
        by_room.entry(record.room_id.clone()).or_default().push(record);
    }
    for (room_id, records) in by_room {
        if write_with_retry(store, &records).await.is_err() {
            tracing::info!(%room_id, changes = records.len(), "dropping changes of a deleted room");
        }
    }
}

/// Writes `records`, retrying with backoff while the database fails: nothing is
/// acknowledged until it is written, so waiting is the only safe choice. Fails only if
/// a room the records belong to no longer exists.
async fn write_with_retry(store: &dyn Store, records: &[ChangeRecord]) -> Result<(), StoreError> {
    let mut backoff = Duration::from_millis(50);
    loop {
        match store.append_changes(records).await {
            Ok(()) => return Ok(()),
            Err(err) if err.is_missing_room() => return Err(err),
            Err(err) => {
                tracing::error!(error = %err, changes = records.len(), ?backoff, "cannot write changes; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
