//! One actor (tokio task) per live room: it owns the room's log index, its participants
//! and the recent tail of its log; relays changes to the other participants at once,
//! hands them to the group-commit persister and acknowledges them once durable, and feeds
//! the materialiser. Nothing here applies a change to a document.

mod changes;
mod join;
mod load;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::materialiser::{Materialised, MaterialiserHandle};
use super::peer::{Outbox, PeerState};
use super::persister::Persister;
use super::{Access, JoinError, OpenError, RoomsInner, RunReply, RunRequests, SocketRun};
use crate::clock::{Millis, now_millis};
use crate::config::SyncConfig;
use crate::document::DocState;
use crate::oplog::{OpLog, PeerId};
use crate::protocol::{ErrorCode, Hello, Preview, Role, Selection, ServerMessage};

/// How often the room checks its timers (held changes, idleness).
const TICK: Duration = Duration::from_millis(250);
/// How long a room must be quiet before participants are told how far the log is durable.
const DURABLE_NOTICE_AFTER: Duration = Duration::from_millis(500);
/// How long a stopping room waits for its last changes to be written.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// What connections (and the registry) ask of a room.
pub enum RoomCommand {
    /// Answers once the room is loaded: whether it exists, and its candidate key.
    Probe(oneshot::Sender<Result<Arc<str>, OpenError>>),
    Join {
        hello: Hello,
        access: Access,
        outbox: Outbox,
        reply: oneshot::Sender<Result<PeerId, JoinError>>,
    },
    Changes {
        peer: PeerId,
        changes: Vec<Bytes>,
    },
    Presence {
        peer: PeerId,
        selections: Vec<Selection>,
    },
    Leave {
        peer: PeerId,
    },
    State(oneshot::Sender<Option<(u64, DocState)>>),
    /// The state as last materialised, at once (what a page shows before the editor loads).
    Preview(oneshot::Sender<Preview>),
    /// The room was deleted: disconnect everyone and stop.
    Close,
    /// The interviewer ended the room at `at`.
    End {
        at: Millis,
    },
    /// This staff account was disabled: close its sockets.
    DisconnectUser(Arc<str>),
    /// A participant asks to run the room's code.
    Run {
        peer: PeerId,
        stdin: String,
    },
    /// An encoded message for everyone (a run's events).
    Broadcast(Bytes),
}

/// A loaded room.
struct Room {
    id: Arc<str>,
    /// The secret of the room's candidate link ('' for none).
    candidate_key: Arc<str>,
    /// When the interviewer ended the room; 0 while it goes on.
    ended_at: Millis,
    config: Arc<SyncConfig>,
    log: OpLog,
    /// Accepted changes after `tail_floor`, in sequence order.
    tail: VecDeque<(u64, Bytes)>,
    tail_floor: u64,
    /// The newest snapshot: (covers_seq, saved document).
    snapshot: Option<(u64, Bytes)>,
    preview: Preview,
    durable_seq: u64,
    peers: BTreeMap<PeerId, PeerState>,
    next_peer: PeerId,
    persister: Persister,
    durable_tx: mpsc::UnboundedSender<u64>,
    materialiser: MaterialiserHandle,
    empty_since: Option<Instant>,
    /// The newest `durable_seq` every participant has been told.
    durable_told: u64,
    /// When changes were last relayed.
    relayed_at: Instant,
    /// The code-execution service, if code can run on this server.
    runner: Option<Arc<dyn RunRequests>>,
}

/// Runs a room from loading to unloading. `generation` identifies this actor in the
/// registry, so that it removes only its own entry when it ends.
pub(super) async fn run(
    registry: Arc<RoomsInner>,
    id: Arc<str>,
    generation: u64,
    mut inbox: mpsc::UnboundedReceiver<RoomCommand>,
) {
    let (durable_tx, mut durable_rx) = mpsc::unbounded_channel();
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let loaded = load::load(&registry, id.clone(), durable_tx, events_tx).await;
    let mut room = match loaded {
        Ok(room) => room,
        Err(err) => {
            registry.forget(&id, generation);
            refuse_all(&mut inbox, err);
            return;
        }
    };
    let stopping = registry.stopping.clone();
    let mut tick = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            command = inbox.recv() => match command {
                Some(RoomCommand::Close) => {
                    room.disconnect_all(ErrorCode::RoomNotFound, "this room was deleted");
                    registry.forget(&id, generation);
                    refuse_all(&mut inbox, OpenError::NotFound);
                    return;
                }
                Some(command) => room.handle(command),
                None => break,
            },
            Some(seq) = durable_rx.recv() => room.durable(seq),
            Some(event) = events_rx.recv() => room.materialised(event),
            _ = tick.tick() => {
                room.expire_held();
                room.tell_durable_when_quiet();
                if room.idle_for_long_enough() {
                    break;
                }
            }
            () = stopping.cancelled() => {
                room.disconnect_all(ErrorCode::ServerShuttingDown, "the server is restarting; your edits are kept and will sync when it is back");
                break;
            }
        }
    }
    room.finish(&mut durable_rx).await;
    registry.forget(&id, generation);
    refuse_all(&mut inbox, OpenError::Unloading);
    tracing::debug!(room_id = %id, "room unloaded");
}

/// Answers the commands still queued for a room that is not (or no longer) running.
fn refuse_all(inbox: &mut mpsc::UnboundedReceiver<RoomCommand>, err: OpenError) {
    inbox.close();
    while let Ok(command) = inbox.try_recv() {
        match command {
            RoomCommand::Probe(reply) => {
                let _ = reply.send(Err(err.clone()));
            }
            RoomCommand::Join { reply, .. } => {
                let _ = reply.send(Err(JoinError::from(err.clone())));
            }
            RoomCommand::State(reply) => {
                let _ = reply.send(None);
            }
            RoomCommand::Preview(_)
            | RoomCommand::Changes { .. }
            | RoomCommand::Presence { .. }
            | RoomCommand::Leave { .. }
            | RoomCommand::Close
            | RoomCommand::End { .. }
            | RoomCommand::DisconnectUser(_)
            | RoomCommand::Run { .. }
            | RoomCommand::Broadcast(_) => {}
        }
    }
}

impl Room {
    fn handle(&mut self, command: RoomCommand) {
        match command {
            RoomCommand::Probe(reply) => {
                let _ = reply.send(Ok(self.candidate_key.clone()));
            }
            RoomCommand::Join {
                hello,
                access,
                outbox,
                reply,
            } => {
                let _ = reply.send(self.join(hello, access, outbox));
            }
            RoomCommand::End { at } => self.end(at),
            RoomCommand::DisconnectUser(user) => {
                let theirs: Vec<PeerId> = self
                    .peers
                    .values()
                    .filter(|peer| matches!(&peer.access, Access::Staff(id) if *id == user))
                    .map(PeerState::id)
                    .collect();
                for peer in theirs {
                    self.fail_peer(peer, ErrorCode::AccessRevoked, "your account was disabled");
                }
            }
            RoomCommand::Changes { peer, changes } => self.receive_changes(peer, changes),
            RoomCommand::Presence { peer, selections } => self.presence(peer, selections),
            RoomCommand::Leave { peer } => self.remove_peer(peer),
            RoomCommand::Run { peer, stdin } => self.run(peer, stdin),
            RoomCommand::Broadcast(frame) => {
                for state in self.peers.values() {
                    state.outbox.send(frame.clone());
                }
            }
            RoomCommand::Close => unreachable!("handled by the actor loop"),
            RoomCommand::Preview(reply) => {
                let _ = reply.send(self.preview.clone());
            }
            RoomCommand::State(reply) => {
                // The materialiser may need a moment to catch up: never make the room wait.
                let materialiser = self.materialiser.clone();
                tokio::spawn(async move {
                    let _ = reply.send(materialiser.current_state().await);
                });
            }
        }
    }

    fn materialised(&mut self, event: Materialised) {
        match event {
            Materialised::State { seq, state } => {
                self.preview = Preview {
                    seq,
                    code: state.code,
                    language: state.language,
                    title: state.title,
                };
            }
            Materialised::Snapshot { covers_seq, document } => {
                // Keep one snapshot interval of changes in memory: clients a little
                // behind the new snapshot get changes, not a whole document.
                let floor = self.snapshot.as_ref().map_or(self.tail_floor, |(seq, _)| *seq);
                while self.tail.front().is_some_and(|(seq, _)| *seq <= floor) {
                    self.tail.pop_front();
                }
                self.tail_floor = self.tail_floor.max(floor);
                self.snapshot = Some((covers_seq, document));
            }
        }
    }

    /// Ends the room: candidates become observers, and everyone is told their role now.
    fn end(&mut self, at: Millis) {
        if self.ended_at != 0 {
            return;
        }
        self.ended_at = at;
        for state in self.peers.values_mut() {
            if state.access == Access::Candidate {
                state.info.role = Role::Observer;
            }
            state.outbox.send_message(&ServerMessage::Ended {
                ended_at: at as u64,
                role: state.info.role,
            });
        }
        tracing::debug!(room_id = %self.id, "room ended");
    }

    /// Hands a participant's run to the code-execution service, if they may run code.
    fn run(&mut self, peer: PeerId, stdin: String) {
        let Some(state) = self.peers.get(&peer) else {
            return;
        };
        let reply = RunReply(state.outbox.clone());
        if self.ended_for(state) {
            return reply.refuse("The interview has ended: the code can no longer be run from this link.");
        }
        if state.info.role == Role::Observer {
            return reply.refuse("Observers cannot run the code.");
        }
        let Some(runner) = &self.runner else {
            return reply.refuse("Code execution is turned off on this server.");
        };
        runner.submit(SocketRun {
            room_id: self.id.clone(),
            started_by: state.info.name.clone(),
            user_id: match &state.access {
                Access::Staff(id) => id.to_string(),
                Access::Candidate => String::new(),
            },
            stdin,
            reply,
        });
    }

    /// Whether `peer` is a candidate in a room that has ended (and so may only watch).
    fn ended_for(&self, peer: &PeerState) -> bool {
        self.ended_at != 0 && peer.access == Access::Candidate
    }

    fn presence(&mut self, peer: PeerId, selections: Vec<Selection>) {
        if !crate::protocol::presence_is_valid(&selections) {
            if let Some(state) = self.peers.get(&peer) {
                state.outbox.fail(
                    ErrorCode::InvalidPresence,
                    "too many selections or too long a cursor",
                );
            }
            return;
        }
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        state.presence = selections.clone();
        self.broadcast_from(
            peer,
            &ServerMessage::PeerPresence {
                peer_id: peer,
                selections,
            },
        );
    }

    /// Sends `message` to every participant except `from`.
    fn broadcast_from(&mut self, from: PeerId, message: &ServerMessage) {
        let frame = Bytes::from(message.encode());
        let slow: Vec<PeerId> = self
            .peers
            .values()
            .filter(|peer| peer.id() != from && !peer.outbox.send(frame.clone()))
            .map(PeerState::id)
            .collect();
        for peer in slow {
            self.drop_slow(peer);
        }
    }

    /// Disconnects a participant whose connection cannot keep up.
    fn drop_slow(&mut self, peer: PeerId) {
        if let Some(state) = self.peers.get(&peer) {
            tracing::warn!(room_id = %self.id, peer, "disconnecting a participant too slow to keep up");
            state.outbox.kicked.cancel();
        }
        self.remove_peer(peer);
    }

    /// Sends a fatal error to a participant and removes it.
    fn fail_peer(&mut self, peer: PeerId, code: ErrorCode, message: impl Into<String>) {
        if let Some(state) = self.peers.get(&peer) {
            state.outbox.fail(code, message);
        }
        self.remove_peer(peer);
    }

    fn remove_peer(&mut self, peer: PeerId) {
        if self.peers.remove(&peer).is_none() {
            return;
        }
        self.log.forget_held_from(peer);
        self.broadcast_from(peer, &ServerMessage::PeerLeft(peer));
        if self.peers.is_empty() {
            self.empty_since = Some(Instant::now());
        }
        tracing::debug!(room_id = %self.id, peer, "participant left");
    }

    fn disconnect_all(&mut self, code: ErrorCode, message: &str) {
        for state in std::mem::take(&mut self.peers).into_values() {
            state.outbox.fail(code, message);
        }
    }

    fn expire_held(&mut self) {
        let timeout = self.config.pending_timeout.as_millis() as Millis;
        for peer in self.log.peers_held_too_long(now_millis(), timeout) {
            self.fail_peer(
                peer,
                ErrorCode::MissingDependencies,
                format!(
                    "changes waited more than {:?} for changes they depend on, which never came",
                    self.config.pending_timeout
                ),
            );
        }
    }

    /// Once the room has been quiet for a moment, tells everyone how far the log is durable
    /// (an `Ack` with no changes), so that their watermark reaches the newest change and a
    /// reconnecting client is not sent again what it already has.
    fn tell_durable_when_quiet(&mut self) {
        if self.durable_seq > self.durable_told && self.relayed_at.elapsed() >= DURABLE_NOTICE_AFTER {
            self.durable_told = self.durable_seq;
            let notice = ServerMessage::Ack {
                durable_seq: self.durable_seq,
                acked: Vec::new(),
            };
            self.broadcast_from(load::SERVER_PEER, &notice);
        }
    }

    fn idle_for_long_enough(&self) -> bool {
        self.peers.is_empty()
            && self.durable_seq >= self.log.max_seq()
            && self
                .empty_since
                .is_some_and(|since| since.elapsed() >= self.config.unload_after)
    }

    /// Waits (bounded) for everything accepted to be durable, then snapshots.
    async fn finish(&mut self, durable_rx: &mut mpsc::UnboundedReceiver<u64>) {
        let deadline = Instant::now() + STOP_WAIT;
        while self.durable_seq < self.log.max_seq() {
            match tokio::time::timeout_at(deadline, durable_rx.recv()).await {
                Ok(Some(seq)) => self.durable(seq),
                _ => {
                    tracing::warn!(room_id = %self.id, durable = self.durable_seq, accepted = self.log.max_seq(), "stopping before every change was written; their authors will send them again");
                    break;
                }
            }
        }
        self.materialiser.flush().await;
    }
}
