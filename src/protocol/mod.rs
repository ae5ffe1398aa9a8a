//! The sync protocol of docs/protocol.md: message types and their binary encoding, with no
//! I/O. The server decodes [`ClientMessage`]s and encodes [`ServerMessage`]s; headless
//! clients (tests, the load generator) do the reverse.

mod codec;
mod errors;

pub use codec::{Reader, Writer};
pub use errors::ErrorCode;

/// The protocol version this build speaks.
pub const VERSION: u64 = 4;
/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest Automerge cursor in a selection, in bytes.
pub const MAX_CURSOR_BYTES: usize = 128;
/// Most selections in one presence update.
pub const MAX_SELECTIONS: usize = 16;

/// An Automerge change hash.
pub type Hash = [u8; 32];

/// Why a message did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the message is empty")]
    Empty,
    #[error("unknown message type 0x{0:02x}")]
    UnknownType(u8),
    #[error("the message ends inside {0}")]
    Truncated(&'static str),
    #[error("{0} is too large a number")]
    Overflow(&'static str),
    #[error("{0} is not valid")]
    Invalid(&'static str),
    #[error("{0} is too long")]
    TooLong(&'static str),
    #[error("bytes are left over after the last field")]
    TrailingBytes,
}

/// Whether a participant may edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Editor,
    Observer,
}

impl Role {
    fn code(self) -> u64 {
        match self {
            Role::Editor => 0,
            Role::Observer => 1,
        }
    }

    fn read(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.uint("role")? {
            0 => Ok(Role::Editor),
            1 => Ok(Role::Observer),
            _ => Err(DecodeError::Invalid("role")),
        }
    }
}

/// A selection as two Automerge cursors on the `code` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub anchor: String,
    pub head: String,
}

/// The first message of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    pub version: u64,
    pub synced_seq: u64,
    pub heads: Vec<Hash>,
    pub name: String,
    pub color: String,
    pub role: Role,
}

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    Hello(Hello),
    Changes(Vec<Vec<u8>>),
    Presence(Vec<Selection>),
    /// Run the room's code (its current text and language) with this standard input.
    Run {
        stdin: String,
    },
    /// A media signalling message: JSON (docs/protocol.md, "Media: audio and video").
    Media(String),
}

/// Another participant in the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub peer_id: u64,
    pub name: String,
    pub color: String,
    pub role: Role,
}

/// The room's materialised state at a sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preview {
    pub seq: u64,
    pub code: String,
    pub language: String,
    pub title: String,
}

/// A saved document covering the log up to `covers_seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub covers_seq: u64,
    pub document: Vec<u8>,
}

/// The server's answer to `Hello`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    pub version: u64,
    pub peer_id: u64,
    pub max_seq: u64,
    pub durable_seq: u64,
    pub reset: bool,
    pub preview: Preview,
    pub snapshot: Option<Snapshot>,
    pub peers: Vec<Peer>,
    /// The role the participant was given: `Observer` for a candidate once the room has
    /// ended, whatever `Hello` asked for.
    pub role: Role,
    /// When the interviewer ended the room (ms since the epoch); 0 while it goes on.
    pub ended_at: u64,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    Welcome(Welcome),
    Changes {
        durable_seq: u64,
        changes: Vec<(u64, Vec<u8>)>,
    },
    Ack {
        durable_seq: u64,
        acked: Vec<(Hash, u64)>,
    },
    Need(Vec<Hash>),
    PeerJoined(Peer),
    PeerLeft(u64),
    PeerPresence {
        peer_id: u64,
        selections: Vec<Selection>,
    },
    Error {
        code: ErrorCode,
        message: String,
        fatal: bool,
    },
    /// The interviewer ended the room at `ended_at`; the recipient's role from now on.
    Ended {
        ended_at: u64,
        role: Role,
    },
    /// Something happened to a run of the room's code: a JSON object (see
    /// docs/protocol.md), the same events the execute API streams.
    Run(String),
    /// A media signalling message for the recipient: JSON.
    Media(String),
}

mod tag {
    pub const HELLO: u8 = 0x01;
    pub const CHANGES: u8 = 0x02;
    pub const PRESENCE: u8 = 0x03;
    pub const RUN: u8 = 0x04;
    pub const MEDIA: u8 = 0x05;
    pub const WELCOME: u8 = 0x81;
    pub const SERVER_CHANGES: u8 = 0x82;
    pub const ACK: u8 = 0x83;
    pub const NEED: u8 = 0x84;
    pub const PEER_JOINED: u8 = 0x85;
    pub const PEER_LEFT: u8 = 0x86;
    pub const PEER_PRESENCE: u8 = 0x87;
    pub const ERROR: u8 = 0x88;
    pub const ENDED: u8 = 0x89;
    pub const RUN_EVENT: u8 = 0x8a;
    pub const MEDIA_SIGNAL: u8 = 0x8b;
}

/// Generous upper bound on list items: each takes at least one byte, and the reader also
/// refuses counts larger than the bytes left.
const ANY: usize = usize::MAX;
/// Longest text field of a preview (the code itself): bounded by the frame size.
const LONG: usize = usize::MAX;

impl ClientMessage {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ClientMessage::Hello(hello) => {
                let mut w = Writer::new(tag::HELLO);
                w.uint(hello.version).uint(hello.synced_seq);
                w.list(&hello.heads, |w, head| {
                    w.hash(head);
                });
                w.string(&hello.name).string(&hello.color).uint(hello.role.code());
                w.finish()
            }
            ClientMessage::Changes(changes) => {
                let mut w = Writer::new(tag::CHANGES);
                w.list(changes, |w, change| {
                    w.bytes(change);
                });
                w.finish()
            }
            ClientMessage::Presence(selections) => {
                let mut w = Writer::new(tag::PRESENCE);
                write_selections(&mut w, selections);
                w.finish()
            }
            ClientMessage::Run { stdin } => {
                let mut w = Writer::new(tag::RUN);
                w.string(stdin);
                w.finish()
            }
            ClientMessage::Media(signal) => {
                let mut w = Writer::new(tag::MEDIA);
                w.string(signal);
                w.finish()
            }
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (&kind, rest) = bytes.split_first().ok_or(DecodeError::Empty)?;
        let mut r = Reader::new(rest);
        let message = match kind {
            tag::HELLO => ClientMessage::Hello(Hello {
                version: r.uint("version")?,
                synced_seq: r.uint("synced_seq")?,
                heads: r.list("heads", ANY, |r| r.hash("head"))?,
                // Bytes bound here; the character limit is checked by the room.
                name: r.string("name", MAX_NAME_CHARS * 4)?,
                color: r.string("color", 16)?,
                role: Role::read(&mut r)?,
            }),
            tag::CHANGES => {
                ClientMessage::Changes(r.list("changes", ANY, |r| Ok(r.bytes("change")?.to_vec()))?)
            }
            tag::PRESENCE => ClientMessage::Presence(read_selections(&mut r)?),
            // Bound by the frame size; the run service checks the stdin limit.
            tag::RUN => ClientMessage::Run {
                stdin: r.string("stdin", LONG)?,
            },
            // Bound by the frame size; the SFU's decoder checks the signal's own limit.
            tag::MEDIA => ClientMessage::Media(r.string("signal", LONG)?),
            other => return Err(DecodeError::UnknownType(other)),
        };
        r.end()?;
        Ok(message)
    }
}

impl ServerMessage {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ServerMessage::Welcome(welcome) => {
                let mut w = Writer::new(tag::WELCOME);
                w.uint(welcome.version)
                    .uint(welcome.peer_id)
                    .uint(welcome.max_seq)
                    .uint(welcome.durable_seq)
                    .bool(welcome.reset);
                let preview = &welcome.preview;
                w.uint(preview.seq)
                    .string(&preview.code)
                    .string(&preview.language)
                    .string(&preview.title);
                w.option(welcome.snapshot.as_ref(), |w, snapshot| {
                    w.uint(snapshot.covers_seq).bytes(&snapshot.document);
                });
                w.list(&welcome.peers, write_peer);
                w.uint(welcome.role.code()).uint(welcome.ended_at);
                w.finish()
            }
            ServerMessage::Changes { durable_seq, changes } => {
                let mut w = Writer::new(tag::SERVER_CHANGES);
                w.uint(*durable_seq);
                w.list(changes, |w, (seq, change)| {
                    w.uint(*seq).bytes(change);
                });
                w.finish()
            }
            ServerMessage::Ack { durable_seq, acked } => {
                let mut w = Writer::new(tag::ACK);
                w.uint(*durable_seq);
                w.list(acked, |w, (hash, seq)| {
                    w.hash(hash).uint(*seq);
                });
                w.finish()
            }
            ServerMessage::Need(hashes) => {
                let mut w = Writer::new(tag::NEED);
                w.list(hashes, |w, hash| {
                    w.hash(hash);
                });
                w.finish()
            }
            ServerMessage::PeerJoined(peer) => {
                let mut w = Writer::new(tag::PEER_JOINED);
                write_peer(&mut w, peer);
                w.finish()
            }
            ServerMessage::PeerLeft(peer_id) => {
                let mut w = Writer::new(tag::PEER_LEFT);
                w.uint(*peer_id);
                w.finish()
            }
            ServerMessage::PeerPresence { peer_id, selections } => {
                let mut w = Writer::new(tag::PEER_PRESENCE);
                w.uint(*peer_id);
                write_selections(&mut w, selections);
                w.finish()
            }
            ServerMessage::Error { code, message, fatal } => {
                let mut w = Writer::new(tag::ERROR);
                w.string(code.as_str()).string(message).bool(*fatal);
                w.finish()
            }
            ServerMessage::Ended { ended_at, role } => {
                let mut w = Writer::new(tag::ENDED);
                w.uint(*ended_at).uint(role.code());
                w.finish()
            }
            ServerMessage::Run(event) => {
                let mut w = Writer::new(tag::RUN_EVENT);
                w.string(event);
                w.finish()
            }
            ServerMessage::Media(signal) => {
                let mut w = Writer::new(tag::MEDIA_SIGNAL);
                w.string(signal);
                w.finish()
            }
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (&kind, rest) = bytes.split_first().ok_or(DecodeError::Empty)?;
        let mut r = Reader::new(rest);
        let message = match kind {
            tag::WELCOME => ServerMessage::Welcome(Welcome {
                version: r.uint("version")?,
                peer_id: r.uint("peer_id")?,
                max_seq: r.uint("max_seq")?,
                durable_seq: r.uint("durable_seq")?,
                reset: r.bool("reset")?,
                preview: Preview {
                    seq: r.uint("preview seq")?,
                    code: r.string("preview code", LONG)?,
                    language: r.string("preview language", 64)?,
                    title: r.string("preview title", 1024)?,
                },
                snapshot: r.option("snapshot", |r| {
                    Ok(Snapshot {
                        covers_seq: r.uint("covers_seq")?,
                        document: r.bytes("document")?.to_vec(),
                    })
                })?,
                peers: r.list("peers", ANY, read_peer)?,
                role: Role::read(&mut r)?,
                ended_at: r.uint("ended_at")?,
            }),
            tag::SERVER_CHANGES => ServerMessage::Changes {
                durable_seq: r.uint("durable_seq")?,
                changes: r.list("changes", ANY, |r| {
                    Ok((r.uint("seq")?, r.bytes("change")?.to_vec()))
                })?,
            },
            tag::ACK => ServerMessage::Ack {
                durable_seq: r.uint("durable_seq")?,
                acked: r.list("acked", ANY, |r| Ok((r.hash("hash")?, r.uint("seq")?)))?,
            },
            tag::NEED => ServerMessage::Need(r.list("hashes", ANY, |r| r.hash("hash"))?),
            tag::PEER_JOINED => ServerMessage::PeerJoined(read_peer(&mut r)?),
            tag::PEER_LEFT => ServerMessage::PeerLeft(r.uint("peer_id")?),
            tag::PEER_PRESENCE => ServerMessage::PeerPresence {
                peer_id: r.uint("peer_id")?,
                selections: read_selections(&mut r)?,
            },
            tag::ERROR => ServerMessage::Error {
                code: ErrorCode::parse(&r.string("code", 64)?).ok_or(DecodeError::Invalid("code"))?,
                message: r.string("message", 4096)?,
                fatal: r.bool("fatal")?,
            },
            tag::ENDED => ServerMessage::Ended {
                ended_at: r.uint("ended_at")?,
                role: Role::read(&mut r)?,
            },
            tag::RUN_EVENT => ServerMessage::Run(r.string("event", LONG)?),
            tag::MEDIA_SIGNAL => ServerMessage::Media(r.string("signal", LONG)?),
            other => return Err(DecodeError::UnknownType(other)),
        };
        r.end()?;
        Ok(message)
    }
}

fn write_peer(w: &mut Writer, peer: &Peer) {
    w.uint(peer.peer_id)
        .string(&peer.name)
        .string(&peer.color)
        .uint(peer.role.code());
}

fn read_peer(r: &mut Reader<'_>) -> Result<Peer, DecodeError> {
    Ok(Peer {
        peer_id: r.uint("peer_id")?,
        name: r.string("name", MAX_NAME_CHARS * 4)?,
        color: r.string("color", 16)?,
        role: Role::read(r)?,
    })
}

fn write_selections(w: &mut Writer, selections: &[Selection]) {
    w.list(selections, |w, selection| {
        w.string(&selection.anchor).string(&selection.head);
    });
}

/// Reads selections of any size: the room drops oversized presence without closing the
/// connection (see [`presence_is_valid`]).
fn read_selections(r: &mut Reader<'_>) -> Result<Vec<Selection>, DecodeError> {
    r.list("selections", ANY, |r| {
        Ok(Selection {
            anchor: r.string("anchor", LONG)?,
            head: r.string("head", LONG)?,
        })
    })
}

/// Whether a presence update is within the limits: at most [`MAX_SELECTIONS`] selections
/// with cursors of at most [`MAX_CURSOR_BYTES`].
pub fn presence_is_valid(selections: &[Selection]) -> bool {
    selections.len() <= MAX_SELECTIONS
        && selections
            .iter()
            .all(|s| s.anchor.len() <= MAX_CURSOR_BYTES && s.head.len() <= MAX_CURSOR_BYTES)
}

#[cfg(test)]
mod tests;
