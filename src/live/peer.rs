//! A participant's connection as its room sees it: an outbox of encoded frames that never
//! blocks the room, and what the room tracks about the participant.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Access;
use crate::oplog::PeerId;
use crate::protocol::{ErrorCode, Hash, Peer, Selection, ServerMessage};

/// Bytes a connection may have queued but not yet written before it counts as too slow
/// and is disconnected (a snapshot plus a long catch-up fit comfortably).
pub const MAX_QUEUED_BYTES: usize = 32 * 1024 * 1024;

/// What the room asks a connection's writer to do.
#[derive(Debug)]
pub enum Outbound {
    Frame(Bytes),
    Close { code: u16, reason: String },
}

/// The sending side of a connection: frames go out in order, and the bytes queued are
/// counted so that a reader too slow to keep up is cut off instead of growing memory.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Outbound>,
    queued: Arc<AtomicUsize>,
    /// Cancelled when the room drops this connection; the connection then closes.
    pub kicked: CancellationToken,
}

/// The receiving side, owned by the connection's writer.
pub struct OutboxReceiver {
    rx: mpsc::UnboundedReceiver<Outbound>,
    queued: Arc<AtomicUsize>,
}

/// A new outbox and its receiver.
pub fn outbox() -> (Outbox, OutboxReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let outbox = Outbox {
        tx,
        queued: queued.clone(),
        kicked: CancellationToken::new(),
    };
    (outbox, OutboxReceiver { rx, queued })
}

impl Outbox {
    /// Queues an encoded frame; false if the connection is gone or too far behind.
    pub fn send(&self, frame: Bytes) -> bool {
        let queued = self.queued.fetch_add(frame.len(), Ordering::Relaxed) + frame.len();
        queued <= MAX_QUEUED_BYTES && self.tx.send(Outbound::Frame(frame)).is_ok()
    }

    pub fn send_message(&self, message: &ServerMessage) -> bool {
        self.send(Bytes::from(message.encode()))
    }

    /// Sends an `Error` and, if it is fatal, closes the connection with its close code.
    pub fn fail(&self, code: ErrorCode, message: impl Into<String>) {
        let message = message.into();
        let _ = self.send_message(&ServerMessage::Error {
            code,
            message: message.clone(),
            fatal: code.is_fatal(),
        });
        if code.is_fatal() {
            let reason: String = message.chars().take(100).collect();
            let _ = self.tx.send(Outbound::Close {
                code: code.close_code(),
                reason,
            });
        }
    }
}

impl OutboxReceiver {
    /// The next thing to do, once the previous frame has been written.
    pub async fn recv(&mut self) -> Option<Outbound> {
        let next = self.rx.recv().await?;
        if let Outbound::Frame(frame) = &next {
            self.queued.fetch_sub(frame.len(), Ordering::Relaxed);
        }
        Some(next)
    }

    /// The next thing to do if one is already queued.
    pub fn try_recv(&mut self) -> Option<Outbound> {
        let next = self.rx.try_recv().ok()?;
        if let Outbound::Frame(frame) = &next {
            self.queued.fetch_sub(frame.len(), Ordering::Relaxed);
        }
        Some(next)
    }
}

/// What a room keeps about one participant.
#[derive(Debug)]
pub struct PeerState {
    pub info: Peer,
    /// Whether this is a staff member or a candidate (as the socket's upgrade established).
    pub access: Access,
    pub outbox: Outbox,
    /// This peer's changes not yet acknowledged: (hash, seq), in seq order.
    pub awaiting_ack: VecDeque<(Hash, u64)>,
    /// The latest presence, replayed to participants who join later.
    pub presence: Vec<Selection>,
}

impl PeerState {
    pub fn new(info: Peer, access: Access, outbox: Outbox) -> Self {
        Self {
            info,
            access,
            outbox,
            awaiting_ack: VecDeque::new(),
            presence: Vec::new(),
        }
    }

    pub fn id(&self) -> PeerId {
        self.info.peer_id
    }

    /// Remembers to acknowledge `hash` once `seq` is durable.
    pub fn await_ack(&mut self, hash: Hash, seq: u64) {
        let at = self.awaiting_ack.partition_point(|(_, awaited)| *awaited <= seq);
        self.awaiting_ack.insert(at, (hash, seq));
    }

    /// Takes the awaited acknowledgements now durable (seq up to `durable_seq`).
    pub fn take_durable(&mut self, durable_seq: u64) -> Vec<(Hash, u64)> {
        let ready = self.awaiting_ack.partition_point(|(_, seq)| *seq <= durable_seq);
        self.awaiting_ack.drain(..ready).collect()
    }
}
