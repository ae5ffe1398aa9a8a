//! The operation-log engine, with no I/O: for one room, the index of every accepted
//! change (hash → sequence number), each actor's newest sequence number, and the changes
//! held until their dependencies arrive. It decides, for each incoming change, whether it
//! is new (and gets the next sequence number), a duplicate, held, or invalid — by reading
//! change headers only, never by applying changes to a document.

pub mod change;
mod held;

use std::collections::HashMap;

use bytes::Bytes;

use crate::clock::Millis;
use crate::protocol::Hash;
use crate::store::ChangeIndexRow;
pub use change::{ChangeMeta, InvalidChange};
use held::Held;

/// Who sent a change: a connection's peer id within its room (0 is the server itself).
pub type PeerId = u64;

/// A change the room accepted, with the sequence number it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub seq: u64,
    pub meta: ChangeMeta,
    pub bytes: Bytes,
    pub author: PeerId,
    pub received_at: Millis,
}

/// What became of an incoming change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// Accepted, followed by any held changes it released, in causal order.
    Accepted(Vec<Accepted>),
    /// Already in the log with this sequence number.
    Duplicate { hash: Hash, seq: u64 },
    /// Held until these dependencies (not in the log) arrive.
    Held { missing: Vec<Hash> },
    /// Already held (a re-send while its dependencies are still missing).
    AlreadyHeld,
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(transparent)]
    Invalid(#[from] InvalidChange),
    #[error("more than {0} changes are waiting for missing dependencies")]
    TooManyHeld(usize),
}

/// One room's log index.
#[derive(Debug, Default)]
pub struct OpLog {
    seqs: HashMap<Hash, u64>,
    actor_seqs: HashMap<Vec<u8>, u64>,
    max_seq: u64,
    held: Held,
    max_held_per_peer: usize,
}

impl OpLog {
    /// An index over `rows` (a room's stored changes, in sequence order).
    pub fn new(rows: &[ChangeIndexRow], max_held_per_peer: usize) -> Self {
        let mut log = Self {
            max_held_per_peer,
            ..Self::default()
        };
        for row in rows {
            let Ok(hash) = Hash::try_from(row.hash.as_slice()) else {
                tracing::warn!(seq = row.seq, "skipping a stored change with a malformed hash");
                continue;
            };
            let seq = row.seq as u64;
            log.seqs.insert(hash, seq);
            let newest = log.actor_seqs.entry(row.actor.clone()).or_default();
            *newest = (*newest).max(row.actor_seq as u64);
            log.max_seq = log.max_seq.max(seq);
        }
        log
    }

    /// The newest sequence number given out.
    pub fn max_seq(&self) -> u64 {
        self.max_seq
    }

    /// How many changes are in the log.
    pub fn len(&self) -> usize {
        self.seqs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seqs.is_empty()
    }

    /// The sequence number of a change in the log.
    pub fn seq_of(&self, hash: &Hash) -> Option<u64> {
        self.seqs.get(hash).copied()
    }

    /// Of `hashes`, those not in the log.
    pub fn unknown(&self, hashes: &[Hash]) -> Vec<Hash> {
        hashes
            .iter()
            .filter(|hash| !self.seqs.contains_key(*hash))
            .copied()
            .collect()
    }

    /// Takes in one change from `author`, received at `now`.
    pub fn ingest(&mut self, author: PeerId, bytes: Bytes, now: Millis) -> Result<Ingested, Refused> {
        let meta = change::parse(&bytes)?;
        if let Some(seq) = self.seq_of(&meta.hash) {
            return Ok(Ingested::Duplicate { hash: meta.hash, seq });
        }
        if self.held.contains(&meta.hash) {
            return Ok(Ingested::AlreadyHeld);
        }
        let missing = self.unknown(&meta.deps);
        if !missing.is_empty() {
            if self.held.count_for(author) >= self.max_held_per_peer {
                return Err(Refused::TooManyHeld(self.max_held_per_peer));
            }
            self.held.insert(meta, bytes, author, now, &missing);
            return Ok(Ingested::Held { missing });
        }
        self.check_actor_seq(&meta)?;
        let mut accepted = vec![self.append(meta, bytes, author, now)];
        // Accepting a change may complete the dependencies of held ones, and so on.
        let mut cursor = 0;
        while cursor < accepted.len() {
            let hash = accepted[cursor].meta.hash;
            cursor += 1;
            for ready in self.held.release(&hash) {
                if self.check_actor_seq(&ready.meta).is_err() {
                    tracing::warn!(hash = %hex(&ready.meta.hash), "dropping a held change with a bad actor sequence");
                    continue;
                }
                accepted.push(self.append(ready.meta, ready.bytes, ready.author, now));
            }
        }
        Ok(Ingested::Accepted(accepted))
    }

    /// Peers with a change held for longer than `timeout` as of `now`.
    pub fn peers_held_too_long(&self, now: Millis, timeout: Millis) -> Vec<PeerId> {
        self.held.authors_waiting_since_before(now - timeout)
    }

    /// Drops every change `peer` has held (it left or was disconnected).
    pub fn forget_held_from(&mut self, peer: PeerId) {
        self.held.remove_author(peer);
    }

    fn check_actor_seq(&self, meta: &ChangeMeta) -> Result<(), InvalidChange> {
        let newest = self.actor_seqs.get(&meta.actor).copied().unwrap_or(0);
        let actor = || change::actor_hex(&meta.actor);
        if meta.actor_seq <= newest {
            Err(InvalidChange::ReusedSequenceNumber {
                actor: actor(),
                actor_seq: meta.actor_seq,
            })
        } else if meta.actor_seq != newest + 1 {
            Err(InvalidChange::SkippedSequenceNumber {
                actor: actor(),
                actor_seq: meta.actor_seq,
                expected: newest + 1,
            })
        } else {
            Ok(())
        }
    }

    fn append(&mut self, meta: ChangeMeta, bytes: Bytes, author: PeerId, received_at: Millis) -> Accepted {
        self.max_seq += 1;
        self.seqs.insert(meta.hash, self.max_seq);
        self.actor_seqs.insert(meta.actor.clone(), meta.actor_seq);
        Accepted {
            seq: self.max_seq,
            meta,
            bytes,
            author,
            received_at,
        }
    }
}

/// A hash as hexadecimal, for logs and messages.
pub fn hex(hash: &Hash) -> String {
    change::actor_hex(hash)
}

#[cfg(test)]
mod tests;
