//! Changes from a participant: checked against the log index, relayed at once to the
//! others, queued for group commit, and acknowledged to their authors once durable.

use std::collections::BTreeSet;

use bytes::Bytes;
use tokio::time::Instant;

use super::Room;
use crate::clock::now_millis;
use crate::live::persister::PersistRequest;
use crate::oplog::{Accepted, Ingested, PeerId, Refused};
use crate::protocol::{ErrorCode, Hash, Role, ServerMessage};
use crate::store::ChangeRecord;

impl Room {
    pub(super) fn receive_changes(&mut self, peer: PeerId, changes: Vec<Bytes>) {
        let Some(state) = self.peers.get(&peer) else {
            return;
        };
        if self.ended_for(state) {
            // Not fatal: the candidate goes on watching; edits made just before the end
            // are dropped (their page is read-only from the `Ended` message on).
            state.outbox.fail(
                ErrorCode::RoomEnded,
                "the interviewer ended this interview: the code can no longer be changed",
            );
            return;
        }
        if state.info.role == Role::Observer {
            self.fail_peer(
                peer,
                ErrorCode::ObserverCannotEdit,
                "observers can watch but not edit",
            );
            return;
        }
        let now = now_millis();
        let mut accepted = Vec::new();
        let mut needed = BTreeSet::new();
        let mut duplicates = Vec::new();
        for bytes in changes {
            match self.log.ingest(peer, bytes, now) {
                Ok(Ingested::Accepted(entries)) => accepted.extend(entries),
                Ok(Ingested::Duplicate { hash, seq }) => duplicates.push((hash, seq)),
                Ok(Ingested::Held { missing }) => needed.extend(missing),
                Ok(Ingested::AlreadyHeld) => {}
                Err(Refused::Invalid(err)) => {
                    self.accept(accepted);
                    self.fail_peer(peer, ErrorCode::InvalidChange, err.to_string());
                    return;
                }
                Err(Refused::TooManyHeld(limit)) => {
                    self.accept(accepted);
                    self.fail_peer(
                        peer,
                        ErrorCode::TooManyPending,
                        format!("more than {limit} changes are waiting for changes they depend on"),
                    );
                    return;
                }
            }
        }
        self.accept(accepted);
        self.acknowledge_duplicates(peer, duplicates);
        // Ask for what is still missing (some may have arrived later in the same message).
        let needed: Vec<_> = needed
            .into_iter()
            .filter(|hash| self.log.seq_of(hash).is_none())
            .collect();
        if !needed.is_empty()
            && let Some(state) = self.peers.get(&peer)
        {
            state.outbox.send_message(&ServerMessage::Need(needed));
        }
    }

    /// Relays, persists and materialises newly accepted changes.
    pub(super) fn accept(&mut self, entries: Vec<Accepted>) {
        let Some(up_to_seq) = entries.last().map(|entry| entry.seq) else {
            return;
        };
        self.relay(&entries);
        let mut records = Vec::with_capacity(entries.len());
        let mut materialise = Vec::with_capacity(entries.len());
        for entry in entries {
            if let Some(author) = self.peers.get_mut(&entry.author) {
                author.await_ack(entry.meta.hash, entry.seq);
            }
            self.tail.push_back((entry.seq, entry.bytes.clone()));
            materialise.push((entry.seq, entry.bytes.clone()));
            records.push(ChangeRecord {
                room_id: self.id.to_string(),
                seq: entry.seq as i64,
                hash: entry.meta.hash.to_vec(),
                actor: entry.meta.actor,
                actor_seq: entry.meta.actor_seq as i64,
                deps: entry.meta.deps.concat(),
                bytes: entry.bytes.to_vec(),
                received_at: entry.received_at,
            });
        }
        self.persister.submit(PersistRequest {
            room_id: self.id.clone(),
            records,
            up_to_seq,
            durable: self.durable_tx.clone(),
        });
        self.materialiser.apply(materialise);
    }

    /// Sends accepted changes to every participant but their authors.
    fn relay(&mut self, entries: &[Accepted]) {
        let single_author = entries.iter().all(|entry| entry.author == entries[0].author);
        let encode = |skip: Option<PeerId>| {
            let changes = entries
                .iter()
                .filter(|entry| Some(entry.author) != skip)
                .map(|entry| (entry.seq, entry.bytes.to_vec()))
                .collect::<Vec<_>>();
            (!changes.is_empty()).then(|| {
                Bytes::from(
                    ServerMessage::Changes {
                        durable_seq: self.durable_seq,
                        changes,
                    }
                    .encode(),
                )
            })
        };
        self.relayed_at = Instant::now();
        // The usual case, one author: encode once for everyone.
        let shared = single_author.then(|| encode(None)).flatten();
        let mut slow = Vec::new();
        for peer in self.peers.values() {
            let frame = match &shared {
                Some(frame) if peer.id() != entries[0].author => Some(frame.clone()),
                Some(_) => None,
                None => encode(Some(peer.id())),
            };
            if let Some(frame) = frame
                && !peer.outbox.send(frame)
            {
                slow.push(peer.id());
            }
        }
        for peer in slow {
            self.drop_slow(peer);
        }
    }

    /// Changes the log already had: acknowledged at once if durable, else once they are.
    fn acknowledge_duplicates(&mut self, peer: PeerId, duplicates: Vec<(Hash, u64)>) {
        let durable_seq = self.durable_seq;
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        let (now, later): (Vec<_>, Vec<_>) = duplicates.into_iter().partition(|(_, seq)| *seq <= durable_seq);
        for (hash, seq) in later {
            state.await_ack(hash, seq);
        }
        if !now.is_empty() {
            state.outbox.send_message(&ServerMessage::Ack {
                durable_seq,
                acked: now,
            });
        }
    }

    /// The persister wrote the room's log up to `seq`.
    pub(super) fn durable(&mut self, seq: u64) {
        self.durable_seq = self.durable_seq.max(seq);
        let durable_seq = self.durable_seq;
        let mut slow = Vec::new();
        for peer in self.peers.values_mut() {
            let acked = peer.take_durable(durable_seq);
            if !acked.is_empty()
                && !peer
                    .outbox
                    .send_message(&ServerMessage::Ack { durable_seq, acked })
            {
                slow.push(peer.id());
            }
        }
        for peer in slow {
            self.drop_slow(peer);
        }
    }
}
