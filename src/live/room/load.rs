//! Loading a room: its record, newest snapshot, the changes after it and the index of its
//! whole log; a room with an empty log gets its first change (the starter code) here.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::Room;
use crate::clock::now_millis;
use crate::document::{self, DocState};
use crate::live::materialiser::{Materialised, MaterialiserHandle, Start};
use crate::live::{OpenError, RoomsInner};
use crate::oplog::{Ingested, OpLog};
use crate::protocol::Preview;
use crate::store::StoreError;

/// The server's own peer id: the author of each room's first change.
pub const SERVER_PEER: u64 = 0;

pub(super) async fn load(
    registry: &RoomsInner,
    id: Arc<str>,
    durable_tx: mpsc::UnboundedSender<u64>,
    events: mpsc::UnboundedSender<Materialised>,
) -> Result<Room, OpenError> {
    let store = registry.store.clone();
    let config = registry.config.clone();
    let failed = |err: StoreError| {
        tracing::error!(room_id = %id, error = %err, "cannot load the room");
        OpenError::Store
    };
    let record = store
        .get_room(&id)
        .await
        .map_err(failed)?
        .ok_or(OpenError::NotFound)?;
    let snapshot = store.latest_snapshot(&id).await.map_err(failed)?;
    let covers = snapshot.as_ref().map_or(0, |s| s.covers_seq);
    let tail_records = store.changes_after(&id, covers, u32::MAX).await.map_err(failed)?;
    let index = store.change_index(&id).await.map_err(failed)?;

    let log = OpLog::new(&index, config.max_pending_changes);
    let durable_seq = log.max_seq();
    let tail: VecDeque<(u64, Bytes)> = tail_records
        .into_iter()
        .map(|change| (change.seq as u64, Bytes::from(change.bytes)))
        .collect();
    let preview = match &snapshot {
        Some(snapshot) => Preview {
            seq: snapshot.covers_seq as u64,
            code: snapshot.code.clone(),
            language: snapshot.language.clone(),
            title: snapshot.title.clone(),
        },
        None => Preview {
            seq: 0,
            code: record.initial_code.clone(),
            language: record.language.clone(),
            title: record.title.clone(),
        },
    };
    let snapshot = snapshot.map(|s| (s.covers_seq as u64, Bytes::from(s.bytes)));
    let materialiser = MaterialiserHandle::spawn(
        store.clone(),
        Start {
            room_id: id.clone(),
            snapshot: snapshot.clone(),
            tail: tail.iter().cloned().collect(),
            snapshot_every: config.snapshot_every,
        },
        events,
    );
    let mut room = Room {
        id,
        candidate_key: Arc::from(record.candidate_key.as_str()),
        ended_at: record.ended_at,
        config,
        log,
        tail,
        tail_floor: covers as u64,
        snapshot,
        preview,
        durable_seq,
        peers: BTreeMap::new(),
        next_peer: SERVER_PEER + 1,
        persister: registry.persister(),
        durable_tx,
        materialiser,
        empty_since: Some(tokio::time::Instant::now()),
        durable_told: durable_seq,
        relayed_at: tokio::time::Instant::now(),
        runner: registry.runner.get().cloned(),
    };
    if room.log.is_empty() {
        let state = DocState {
            code: record.initial_code,
            language: record.language,
            title: record.title,
            heads: Vec::new(),
        };
        room.create_document(&state);
    }
    tracing::debug!(room_id = %room.id, changes = room.log.len(), snapshot = covers, "room loaded");
    Ok(room)
}

impl Room {
    /// Writes the room's first change: its starter code, language and title.
    fn create_document(&mut self, state: &DocState) {
        let change = document::initial_change(state, now_millis());
        match self.log.ingest(SERVER_PEER, change, now_millis()) {
            Ok(Ingested::Accepted(entries)) => self.accept(entries),
            other => {
                tracing::error!(room_id = %self.id, result = ?other, "cannot create the room's document")
            }
        }
    }
}
