//! Changes waiting for their dependencies.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;

use super::{ChangeMeta, PeerId};
use crate::clock::Millis;
use crate::protocol::Hash;

/// A held change whose dependencies have all arrived.
pub struct Released {
    pub meta: ChangeMeta,
    pub bytes: Bytes,
    pub author: PeerId,
}

struct HeldChange {
    meta: ChangeMeta,
    bytes: Bytes,
    author: PeerId,
    since: Millis,
    /// Dependencies not yet in the log.
    missing: usize,
}

/// The held changes of one room, indexed by hash and by the dependency they wait for.
#[derive(Debug, Default)]
pub struct Held {
    changes: HashMap<Hash, HeldChange>,
    waiting_on: HashMap<Hash, Vec<Hash>>,
    per_author: HashMap<PeerId, usize>,
}

impl std::fmt::Debug for HeldChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldChange")
            .field("author", &self.author)
            .field("missing", &self.missing)
            .finish()
    }
}

impl Held {
    pub fn contains(&self, hash: &Hash) -> bool {
        self.changes.contains_key(hash)
    }

    pub fn count_for(&self, author: PeerId) -> usize {
        self.per_author.get(&author).copied().unwrap_or(0)
    }

    pub fn insert(
        &mut self,
        meta: ChangeMeta,
        bytes: Bytes,
        author: PeerId,
        since: Millis,
        missing: &[Hash],
    ) {
        let hash = meta.hash;
        for dep in missing {
            self.waiting_on.entry(*dep).or_default().push(hash);
        }
        *self.per_author.entry(author).or_default() += 1;
        self.changes.insert(
            hash,
            HeldChange {
                meta,
                bytes,
                author,
                since,
                missing: missing.len(),
            },
        );
    }

    /// `arrived` is now in the log: returns the held changes that no longer miss anything.
    pub fn release(&mut self, arrived: &Hash) -> Vec<Released> {
        let mut ready = Vec::new();
        for waiting in self.waiting_on.remove(arrived).unwrap_or_default() {
            let Some(change) = self.changes.get_mut(&waiting) else {
                continue; // its author left
            };
            change.missing -= 1;
            if change.missing == 0 {
                let change = self.changes.remove(&waiting).expect("just seen");
                self.uncount(change.author);
                ready.push(Released {
                    meta: change.meta,
                    bytes: change.bytes,
                    author: change.author,
                });
            }
        }
        ready
    }

    /// Authors with a change held since before `cutoff`.
    pub fn authors_waiting_since_before(&self, cutoff: Millis) -> Vec<PeerId> {
        let authors: BTreeSet<PeerId> = self
            .changes
            .values()
            .filter(|change| change.since < cutoff)
            .map(|change| change.author)
            .collect();
        authors.into_iter().collect()
    }

    pub fn remove_author(&mut self, author: PeerId) {
        self.changes.retain(|_, change| change.author != author);
        self.per_author.remove(&author);
        let changes = &self.changes;
        self.waiting_on.retain(|_, waiting| {
            waiting.retain(|hash| changes.contains_key(hash));
            !waiting.is_empty()
        });
    }

    fn uncount(&mut self, author: PeerId) {
        if let Some(count) = self.per_author.get_mut(&author) {
            *count -= 1;
            if *count == 0 {
                self.per_author.remove(&author);
            }
        }
    }
}
