//! Reading what the relay needs from an Automerge change without applying it: its hash,
//! actor, the actor's sequence number and its dependencies.

use automerge::Change;

use crate::protocol::Hash;

/// The header of a change, checked: the chunk parses and its checksum matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeMeta {
    pub hash: Hash,
    pub actor: Vec<u8>,
    pub actor_seq: u64,
    pub deps: Vec<Hash>,
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidChange {
    #[error("the change does not parse: {0}")]
    Unparsable(String),
    #[error("actor {actor} already made change number {actor_seq} with different content")]
    ReusedSequenceNumber { actor: String, actor_seq: u64 },
    #[error("actor {actor}'s change number {actor_seq} skips change number {expected}")]
    SkippedSequenceNumber {
        actor: String,
        actor_seq: u64,
        expected: u64,
    },
}

/// Parses and verifies a change's chunk (header, checksum and ops), returning its header.
pub fn parse(bytes: &[u8]) -> Result<ChangeMeta, InvalidChange> {
    let change = Change::try_from(bytes).map_err(|err| InvalidChange::Unparsable(err.to_string()))?;
    Ok(ChangeMeta {
        hash: change.hash().0,
        actor: change.actor_id().to_bytes().to_vec(),
        actor_seq: change.seq(),
        deps: change.deps().iter().map(|dep| dep.0).collect(),
    })
}

/// An actor id as hexadecimal, for messages.
pub fn actor_hex(actor: &[u8]) -> String {
    actor.iter().map(|byte| format!("{byte:02x}")).collect()
}
