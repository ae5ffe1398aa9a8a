//! Live rooms: the registry of room actors (loaded on demand, unloaded when empty), the
//! WebSocket endpoint participants connect to, and the group-commit persister and
//! materialisers behind them. The protocol is docs/protocol.md.

mod connection;
mod materialiser;
mod peer;
mod persister;
mod room;
pub mod ws;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::SyncConfig;
use crate::document::DocState;
use crate::oplog::PeerId;
use crate::protocol::{ErrorCode, Hello, Preview, Selection};
use crate::store::Store;
use peer::Outbox;
use persister::Persister;
use room::RoomCommand;

/// Why a room could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("no such room")]
    NotFound,
    #[error("the room could not be loaded from the database")]
    Store,
    #[error("the room is unloading")]
    Unloading,
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// Why a participant could not join, as the protocol's `Error` says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinError {
    pub code: ErrorCode,
    pub message: String,
}

impl JoinError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<OpenError> for JoinError {
    fn from(err: OpenError) -> Self {
        let code = match err {
            OpenError::NotFound => ErrorCode::RoomNotFound,
            OpenError::Store => ErrorCode::Internal,
            OpenError::Unloading | OpenError::ShuttingDown => ErrorCode::ServerShuttingDown,
        };
        Self::new(code, err.to_string())
    }
}

/// Who a room's socket speaks for, as its upgrade established: a logged-in staff member,
/// or a candidate holding the room's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// A staff member: their account's id.
    Staff(Arc<str>),
    Candidate,
}

/// A run of a room's code asked for over its socket, for the code-execution service.
pub struct SocketRun {
    pub room_id: Arc<str>,
    /// The display name of whoever asked.
    pub started_by: String,
    /// Their account ('' for a candidate).
    pub user_id: String,
    pub stdin: String,
    /// Where to send a refusal (only the asker hears it).
    pub reply: RunReply,
}

/// The asker's connection, for a refusal.
pub struct RunReply(Outbox);

impl RunReply {
    /// Tells the asker the run did not start, and why.
    pub fn refuse(&self, message: impl Into<String>) {
        self.0.send_message(&crate::protocol::ServerMessage::Run(
            crate::exec::events::refused(message),
        ));
    }
}

/// The code-execution service as the rooms see it.
pub trait RunRequests: Send + Sync + 'static {
    /// Starts (or queues, or refuses) a run; returns at once.
    fn submit(&self, run: SocketRun);
}

/// Every live room of this server.
#[derive(Clone)]
pub struct Rooms {
    inner: Arc<RoomsInner>,
}

struct RoomsInner {
    store: Arc<dyn Store>,
    config: Arc<SyncConfig>,
    rooms: Mutex<HashMap<Arc<str>, Slot>>,
    next_generation: AtomicU64,
    persister: Mutex<Option<Persister>>,
    stopping: CancellationToken,
    tasks: TaskTracker,
    this: Weak<RoomsInner>,
    /// Where runs asked for over sockets go (unset: code execution is off).
    runner: OnceLock<Arc<dyn RunRequests>>,
    /// The SFU the rooms' calls go to (unset: audio and video are off).
    media: OnceLock<crate::media::Media>,
}

struct Slot {
    generation: u64,
    tx: mpsc::UnboundedSender<RoomCommand>,
}

/// A way to talk to one room's actor.
#[derive(Clone)]
pub struct RoomHandle {
    tx: mpsc::UnboundedSender<RoomCommand>,
}

impl Rooms {
    /// The registry, and the persister task to await after [`Rooms::shutdown`].
    pub fn new(store: Arc<dyn Store>, config: SyncConfig) -> (Self, JoinHandle<()>) {
        let (persister, persister_task) = Persister::spawn(store.clone());
        let inner = Arc::new_cyclic(|this| RoomsInner {
            store,
            config: Arc::new(config),
            rooms: Mutex::new(HashMap::new()),
            next_generation: AtomicU64::new(1),
            persister: Mutex::new(Some(persister)),
            stopping: CancellationToken::new(),
            tasks: TaskTracker::new(),
            this: this.clone(),
            runner: OnceLock::new(),
            media: OnceLock::new(),
        });
        (Self { inner }, persister_task)
    }

    pub fn config(&self) -> &SyncConfig {
        &self.inner.config
    }

    /// Sends the runs asked for over sockets to `runner` (set once, at start).
    pub fn set_runner(&self, runner: Arc<dyn RunRequests>) {
        let _ = self.inner.runner.set(runner);
    }

    /// Sends the rooms' media signalling to `media` (set once, at start).
    pub fn set_media(&self, media: crate::media::Media) {
        let _ = self.inner.media.set(media);
    }

    /// The SFU, if audio and video are on.
    pub fn media(&self) -> Option<&crate::media::Media> {
        self.inner.media.get()
    }

    /// The room's actor if it is running (nobody to tell otherwise); never loads it.
    pub fn if_loaded(&self, room_id: &str) -> Option<RoomHandle> {
        let rooms = self.inner.rooms.lock().expect("the room registry lock");
        rooms
            .get(room_id)
            .filter(|slot| !slot.tx.is_closed())
            .map(|slot| RoomHandle { tx: slot.tx.clone() })
    }

    /// The room's actor, started (and the room loaded) if it is not running.
    pub fn handle(&self, room_id: &str) -> Result<RoomHandle, OpenError> {
        if self.inner.stopping.is_cancelled() {
            return Err(OpenError::ShuttingDown);
        }
        let mut rooms = self.inner.rooms.lock().expect("the room registry lock");
        if let Some(slot) = rooms.get(room_id)
            && !slot.tx.is_closed()
        {
            return Ok(RoomHandle { tx: slot.tx.clone() });
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let id: Arc<str> = Arc::from(room_id);
        let generation = self.inner.next_generation.fetch_add(1, Ordering::Relaxed);
        let registry = self
            .inner
            .this
            .upgrade()
            .expect("the registry is alive while used");
        self.inner
            .tasks
            .spawn(room::run(registry, id.clone(), generation, rx));
        rooms.insert(
            id,
            Slot {
                generation,
                tx: tx.clone(),
            },
        );
        Ok(RoomHandle { tx })
    }

    /// Stops a deleted room's actor, if it runs: its participants are told and disconnected.
    pub fn close(&self, room_id: &str) {
        let rooms = self.inner.rooms.lock().expect("the room registry lock");
        if let Some(slot) = rooms.get(room_id) {
            let _ = slot.tx.send(RoomCommand::Close);
        }
    }

    /// Tells a loaded room that it ended at `at` (the store already says so; a room loaded
    /// later reads it there): its candidates can only watch from now on.
    pub fn end(&self, room_id: &str, at: crate::clock::Millis) {
        let rooms = self.inner.rooms.lock().expect("the room registry lock");
        if let Some(slot) = rooms.get(room_id) {
            let _ = slot.tx.send(RoomCommand::End { at });
        }
    }

    /// Disconnects every socket of the staff account `user_id` in every loaded room (its
    /// account was disabled: no new socket opens, and the open ones close now).
    pub fn disconnect_user(&self, user_id: &str) {
        let user: Arc<str> = Arc::from(user_id);
        let rooms = self.inner.rooms.lock().expect("the room registry lock");
        for slot in rooms.values() {
            let _ = slot.tx.send(RoomCommand::DisconnectUser(user.clone()));
        }
    }

    /// How many rooms are loaded.
    pub fn loaded(&self) -> usize {
        self.inner.rooms.lock().expect("the room registry lock").len()
    }

    /// Disconnects everyone, waits for every room to write its changes and snapshot, and
    /// stops the persister.
    pub async fn shutdown(&self) {
        self.inner.stopping.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
        self.inner.persister.lock().expect("the persister lock").take();
    }
}

impl RoomsInner {
    fn persister(&self) -> Persister {
        self.persister
            .lock()
            .expect("the persister lock")
            .clone()
            .expect("rooms start only before shutdown")
    }

    /// Removes a room's entry if it is still the one of actor `generation`.
    fn forget(&self, room_id: &str, generation: u64) {
        let mut rooms = self.rooms.lock().expect("the room registry lock");
        if rooms
            .get(room_id)
            .is_some_and(|slot| slot.generation == generation)
        {
            rooms.remove(room_id);
        }
    }
}

impl RoomHandle {
    /// Waits until the room is loaded and returns its candidate key ('' for none); fails
    /// if the room does not exist.
    pub async fn probe(&self) -> Result<Arc<str>, OpenError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(RoomCommand::Probe(reply))
            .map_err(|_| OpenError::Unloading)?;
        answer.await.unwrap_or(Err(OpenError::Unloading))
    }

    async fn join(&self, hello: Hello, access: Access, outbox: Outbox) -> Result<PeerId, JoinError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(RoomCommand::Join {
                hello,
                access,
                outbox,
                reply,
            })
            .map_err(|_| JoinError::from(OpenError::Unloading))?;
        answer.await.unwrap_or(Err(JoinError::from(OpenError::Unloading)))
    }

    fn changes(&self, peer: PeerId, changes: Vec<Bytes>) {
        let _ = self.tx.send(RoomCommand::Changes { peer, changes });
    }

    fn presence(&self, peer: PeerId, selections: Vec<Selection>) {
        let _ = self.tx.send(RoomCommand::Presence { peer, selections });
    }

    fn leave(&self, peer: PeerId) {
        let _ = self.tx.send(RoomCommand::Leave { peer });
    }

    fn run(&self, peer: PeerId, stdin: String) {
        let _ = self.tx.send(RoomCommand::Run { peer, stdin });
    }

    /// Sends an encoded message to everyone in the room.
    pub fn broadcast(&self, frame: Bytes) {
        let _ = self.tx.send(RoomCommand::Broadcast(frame));
    }

    /// The room's state as last materialised (a few seconds behind at most while people
    /// type), without waiting.
    pub async fn preview(&self) -> Option<Preview> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(RoomCommand::Preview(reply)).ok()?;
        answer.await.ok()
    }

    /// The room's materialised state with every accepted change applied: (seq, state).
    pub async fn state(&self) -> Option<(u64, DocState)> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(RoomCommand::State(reply)).ok()?;
        answer.await.ok().flatten()
    }
}
