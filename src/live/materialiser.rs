//! The materialiser: off the hot path, each live room keeps an Automerge document that
//! follows its log in batches (when typing pauses, or every few seconds while it goes on;
//! at once when someone needs the exact state; never one apply per keystroke),
//! reports the room's state (code, language, title) and writes snapshots, so that running
//! code, opening the room and replay never need the whole log.

use std::sync::Arc;
use std::time::Duration;

use automerge::{Automerge, Change};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::background;
use crate::clock::now_millis;
use crate::document::{self, DocState};
use crate::store::{SnapshotRecord, Store};

/// Changes are applied once the room has been quiet this long...
const APPLY_WHEN_QUIET_FOR: Duration = Duration::from_secs(1);
/// ...or, while typing goes on, once the oldest unapplied change is about this old
/// (between half and one and a half times, at random: rooms that started typing together,
/// say after a restart, must not all apply in the same instant, which stalled the relay
/// for hundreds of milliseconds every 5 s at 500 rooms). Applying (and reading the text
/// back) costs about as much for a few changes as for many, so fewer, larger batches keep
/// hundreds of busy rooms cheap; what needs the exact state asks for it (`current_state`).
const APPLY_AT_MOST_AFTER: Duration = Duration::from_secs(5);
/// A room quiet for this long gets a snapshot if it changed since the last one.
const IDLE_SNAPSHOT_AFTER: Duration = Duration::from_secs(30);
/// Shortest time between two snapshots made because enough changes came in: a burst
/// (a paste, an upload of offline edits) must not become a stream of document saves.
const MIN_SNAPSHOT_GAP: Duration = Duration::from_secs(10);

/// What the materialiser reports to its room.
#[derive(Debug)]
pub enum Materialised {
    /// The document's state after applying everything up to `seq`.
    State { seq: u64, state: DocState },
    /// A snapshot covering the log up to `covers_seq` is stored.
    Snapshot { covers_seq: u64, document: Bytes },
}

enum Command {
    Apply(Vec<(u64, Bytes)>),
    /// Apply everything pending now and answer with the state.
    CurrentState(oneshot::Sender<(u64, DocState)>),
    /// Apply everything pending, snapshot if anything is new, then answer.
    Flush(oneshot::Sender<()>),
}

/// The room's handle on its materialiser task.
#[derive(Clone)]
pub struct MaterialiserHandle {
    tx: mpsc::UnboundedSender<Command>,
}

/// Where the materialiser starts: the newest snapshot (if any) and the changes after it.
pub struct Start {
    pub room_id: Arc<str>,
    pub snapshot: Option<(u64, Bytes)>,
    pub tail: Vec<(u64, Bytes)>,
    pub snapshot_every: u64,
}

impl MaterialiserHandle {
    /// Starts a materialiser that reports to `events`.
    pub fn spawn(store: Arc<dyn Store>, start: Start, events: mpsc::UnboundedSender<Materialised>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(store, start, rx, events));
        Self { tx }
    }

    pub fn apply(&self, entries: Vec<(u64, Bytes)>) {
        let _ = self.tx.send(Command::Apply(entries));
    }

    /// The state with everything sent so far applied.
    pub async fn current_state(&self) -> Option<(u64, DocState)> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Command::CurrentState(reply)).ok()?;
        answer.await.ok()
    }

    /// Applies everything and writes a snapshot if the last one is behind.
    pub async fn flush(&self) {
        let (reply, answer) = oneshot::channel();
        if self.tx.send(Command::Flush(reply)).is_ok() {
            let _ = answer.await;
        }
    }
}

struct Materialiser {
    room_id: Arc<str>,
    store: Arc<dyn Store>,
    events: mpsc::UnboundedSender<Materialised>,
    doc: Automerge,
    applied_seq: u64,
    snapshot_seq: u64,
    snapshot_every: u64,
    pending: Vec<(u64, Bytes)>,
    last_snapshot_at: Instant,
}

async fn run(
    store: Arc<dyn Store>,
    start: Start,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<Materialised>,
) {
    let snapshot_seq = start.snapshot.as_ref().map_or(0, |(seq, _)| *seq);
    let room_id = start.room_id.clone();
    let loaded = background::run(move || {
        let doc = match &start.snapshot {
            Some((_, saved)) => document::load(saved).unwrap_or_else(|err| {
                tracing::error!(room_id = %start.room_id, error = %err, "cannot load the room's snapshot; starting from the log");
                document::empty()
            }),
            None => document::empty(),
        };
        let (doc, seq) = apply(&start.room_id, doc, start.tail);
        let state = document::read_state(&doc);
        (doc, seq, state)
    })
    .await;
    let Ok((doc, applied_seq, state)) = loaded else {
        tracing::error!(%room_id, "the materialiser failed to load the room");
        return;
    };
    let mut this = Materialiser {
        room_id,
        store,
        events,
        doc,
        applied_seq: applied_seq.max(snapshot_seq),
        snapshot_seq,
        snapshot_every: start.snapshot_every,
        pending: Vec::new(),
        last_snapshot_at: Instant::now(),
    };
    this.report(state);

    let mut apply_by = Instant::now();
    let mut last_change = Instant::now();
    loop {
        let apply_at = (last_change + APPLY_WHEN_QUIET_FOR).min(apply_by);
        let idle_at = last_change + IDLE_SNAPSHOT_AFTER;
        let throttled_until = this.last_snapshot_at + MIN_SNAPSHOT_GAP;
        let command = tokio::select! {
            command = commands.recv() => command,
            () = tokio::time::sleep_until(apply_at), if !this.pending.is_empty() => {
                this.catch_up().await;
                continue;
            }
            () = tokio::time::sleep_until(idle_at), if this.applied_seq > this.snapshot_seq => {
                this.snapshot().await;
                continue;
            }
            // The one place a snapshot is made for enough changes: at once after an apply
            // makes it due, or, held back by MIN_SNAPSHOT_GAP, as soon as the gap is over,
            // so that the log's tail after the newest snapshot stays short after a burst.
            () = tokio::time::sleep_until(throttled_until), if this.snapshot_due() => {
                this.catch_up().await;
                this.snapshot().await;
                continue;
            }
        };
        match command {
            None => break,
            Some(Command::Apply(entries)) => {
                last_change = Instant::now();
                if this.pending.is_empty() {
                    apply_by = last_change + longest_wait();
                }
                this.pending.extend(entries);
            }
            Some(Command::CurrentState(reply)) => {
                this.catch_up().await;
                let doc = std::mem::replace(&mut this.doc, document::empty());
                if let Ok((doc, state)) = background::run(move || {
                    let mut state = document::read_state(&doc);
                    state.heads = document::heads(&doc);
                    (doc, state)
                })
                .await
                {
                    this.doc = doc;
                    let _ = reply.send((this.applied_seq, state));
                }
            }
            Some(Command::Flush(reply)) => {
                this.catch_up().await;
                if this.applied_seq > this.snapshot_seq {
                    this.snapshot().await;
                }
                let _ = reply.send(());
            }
        }
    }
}

impl Materialiser {
    /// Applies every pending change in one batch, off the async threads, and reports the
    /// state (the actor loop then snapshots if that is due).
    async fn catch_up(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let doc = std::mem::replace(&mut self.doc, document::empty());
        let room_id = self.room_id.clone();
        let applied = background::run(move || {
            let (doc, seq) = apply(&room_id, doc, pending);
            let state = document::read_state(&doc);
            (doc, seq, state)
        })
        .await;
        match applied {
            Ok((doc, seq, state)) => {
                self.doc = doc;
                self.applied_seq = self.applied_seq.max(seq);
                self.report(state);
            }
            Err(err) => tracing::error!(room_id = %self.room_id, error = %err, "applying changes panicked"),
        }
    }

    /// Enough changes since the newest snapshot to write another.
    fn snapshot_due(&self) -> bool {
        self.applied_seq - self.snapshot_seq >= self.snapshot_every
    }

    fn report(&self, state: DocState) {
        let _ = self.events.send(Materialised::State {
            seq: self.applied_seq,
            state,
        });
    }

    /// Saves the document and stores it as the room's newest snapshot.
    async fn snapshot(&mut self) {
        self.last_snapshot_at = Instant::now();
        let doc = std::mem::replace(&mut self.doc, document::empty());
        let Ok((doc, saved, state)) = background::run(move || {
            let saved = doc.save();
            let state = document::read_state(&doc);
            (doc, saved, state)
        })
        .await
        else {
            tracing::error!(room_id = %self.room_id, "saving a snapshot panicked");
            return;
        };
        self.doc = doc;
        let covers_seq = self.applied_seq;
        let record = SnapshotRecord {
            room_id: self.room_id.to_string(),
            covers_seq: covers_seq as i64,
            bytes: saved,
            created_at: now_millis(),
            code: state.code,
            language: state.language,
            title: state.title,
        };
        match self.store.put_snapshot(&record).await {
            Ok(()) => {
                self.snapshot_seq = covers_seq;
                tracing::debug!(room_id = %self.room_id, covers_seq, bytes = record.bytes.len(), "snapshot written");
                let _ = self.events.send(Materialised::Snapshot {
                    covers_seq,
                    document: Bytes::from(record.bytes),
                });
            }
            Err(err) => {
                tracing::warn!(room_id = %self.room_id, error = %err, "cannot write a snapshot; will retry later")
            }
        }
    }
}

/// How long, at most, this batch of changes waits to be applied while typing goes on.
fn longest_wait() -> Duration {
    APPLY_AT_MOST_AFTER.mul_f64(0.5 + fastrand::f64())
}

/// Applies `entries` (in sequence order) to `doc` in one batch; a batch that fails is
/// retried change by change so that one bad change cannot stop the room's state.
fn apply(room_id: &str, mut doc: Automerge, entries: Vec<(u64, Bytes)>) -> (Automerge, u64) {
    let last_seq = entries.last().map_or(0, |(seq, _)| *seq);
    let changes: Vec<(u64, Change)> = entries
        .iter()
        .filter_map(|(seq, bytes)| Change::try_from(&bytes[..]).ok().map(|change| (*seq, change)))
        .collect();
    if doc
        .apply_changes(changes.iter().map(|(_, change)| change.clone()))
        .is_err()
    {
        for (seq, change) in changes {
            if let Err(err) = doc.apply_changes([change]) {
                tracing::error!(room_id, seq, error = %err, "a change does not apply; the room's state skips it");
            }
        }
    }
    (doc, last_seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_typing_together_apply_at_different_times() {
        let waits: Vec<Duration> = (0..500).map(|_| longest_wait()).collect();
        let shortest = waits.iter().min().unwrap();
        let longest = waits.iter().max().unwrap();
        assert!(*shortest >= APPLY_AT_MOST_AFTER / 2 && *longest < APPLY_AT_MOST_AFTER * 3 / 2);
        // 500 uniform draws over 5 s: the spread is all but certain to exceed 4 s.
        assert!(
            *longest - *shortest > Duration::from_secs(4),
            "{shortest:?}..{longest:?}"
        );
    }
}
