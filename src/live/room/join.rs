//! A participant joining: checking its `Hello`, then `Welcome`, the catch-up (snapshot
//! and/or the changes it lacks), the others' presence, and a `Need` for heads the server
//! lacks.

use bytes::Bytes;

use super::Room;
use crate::live::peer::{Outbox, PeerState};
use crate::live::{Access, JoinError};
use crate::oplog::PeerId;
use crate::protocol::{
    ErrorCode, Hello, MAX_NAME_CHARS, Peer, Role, ServerMessage, Snapshot, VERSION, Welcome,
};

/// Largest catch-up `Changes` message, in bytes of change data.
const CATCH_UP_FRAME_BYTES: usize = 256 * 1024;

impl Room {
    pub(super) fn join(&mut self, hello: Hello, access: Access, outbox: Outbox) -> Result<PeerId, JoinError> {
        check_hello(&hello)?;
        // Once the room has ended, candidates may only watch.
        let role = if self.ended_at != 0 && access == Access::Candidate {
            Role::Observer
        } else {
            hello.role
        };
        self.check_capacity(role)?;
        let peer_id = self.next_peer;
        self.next_peer += 1;
        let info = Peer {
            peer_id,
            name: hello.name.trim().to_owned(),
            color: hello.color.to_ascii_lowercase(),
            role,
        };

        let reset = hello.synced_seq > self.log.max_seq();
        let synced = if reset { 0 } else { hello.synced_seq };
        // An empty client starts from the newest snapshot; so does one behind the changes
        // kept in memory. Everyone else gets exactly the changes it lacks.
        let snapshot = self
            .snapshot
            .as_ref()
            .filter(|_| synced == 0 || synced < self.tail_floor);
        let after = snapshot.map_or(synced, |(covers, _)| *covers);
        let welcome = ServerMessage::Welcome(Welcome {
            version: VERSION,
            peer_id,
            max_seq: self.log.max_seq(),
            durable_seq: self.durable_seq,
            reset,
            preview: self.preview.clone(),
            snapshot: snapshot.map(|(covers_seq, document)| Snapshot {
                covers_seq: *covers_seq,
                document: document.to_vec(),
            }),
            peers: self.peers.values().map(|peer| peer.info.clone()).collect(),
            role,
            ended_at: self.ended_at as u64,
        });
        outbox.send_message(&welcome);
        self.send_catch_up(&outbox, after);
        for other in self.peers.values().filter(|other| !other.presence.is_empty()) {
            outbox.send_message(&ServerMessage::PeerPresence {
                peer_id: other.id(),
                selections: other.presence.clone(),
            });
        }
        let unknown = self.log.unknown(&hello.heads);
        if !unknown.is_empty() {
            outbox.send_message(&ServerMessage::Need(unknown));
        }

        self.broadcast_from(peer_id, &ServerMessage::PeerJoined(info.clone()));
        tracing::debug!(room_id = %self.id, peer_id, name = %info.name, synced, reset, "participant joined");
        self.peers.insert(peer_id, PeerState::new(info, access, outbox));
        self.empty_since = None;
        Ok(peer_id)
    }

    /// Sends every change in memory after `after`, in frames of bounded size.
    fn send_catch_up(&self, outbox: &Outbox, after: u64) {
        let mut frame: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut frame_bytes = 0;
        let flush = |frame: &mut Vec<(u64, Vec<u8>)>| {
            if !frame.is_empty() {
                outbox.send(Bytes::from(
                    ServerMessage::Changes {
                        durable_seq: self.durable_seq,
                        changes: std::mem::take(frame),
                    }
                    .encode(),
                ));
            }
        };
        for (seq, change) in self.tail.iter().filter(|(seq, _)| *seq > after) {
            frame.push((*seq, change.to_vec()));
            frame_bytes += change.len();
            if frame_bytes >= CATCH_UP_FRAME_BYTES {
                flush(&mut frame);
                frame_bytes = 0;
            }
        }
        flush(&mut frame);
    }

    fn check_capacity(&self, role: Role) -> Result<(), JoinError> {
        let present = self.peers.values().filter(|peer| peer.info.role == role).count();
        let (limit, what) = match role {
            Role::Editor => (self.config.max_editors, "editors"),
            Role::Observer => (self.config.max_observers, "observers"),
        };
        if present >= limit {
            return Err(JoinError::new(
                ErrorCode::RoomFull,
                format!("the room already has {limit} {what}, the most it allows"),
            ));
        }
        Ok(())
    }
}

fn check_hello(hello: &Hello) -> Result<(), JoinError> {
    if hello.version != VERSION {
        return Err(JoinError::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "this server speaks protocol version {VERSION}, not {}; reload the page",
                hello.version
            ),
        ));
    }
    let name = hello.name.trim();
    let name_chars = name.chars().count();
    if name_chars == 0 || name_chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(JoinError::new(
            ErrorCode::InvalidHello,
            format!("a display name needs 1 to {MAX_NAME_CHARS} characters and no control characters"),
        ));
    }
    let color_ok = hello.color.len() == 7
        && hello.color.starts_with('#')
        && hello.color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !color_ok {
        return Err(JoinError::new(
            ErrorCode::InvalidHello,
            "a colour must look like #1f77b4",
        ));
    }
    Ok(())
}
