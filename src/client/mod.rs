//! A headless sync client on the `automerge` crate: the protocol's client side
//! (docs/protocol.md) without a browser. Integration tests and the load generator use it;
//! the browser's sync worker implements the same rules in TypeScript.

mod watermark;

use std::collections::BTreeMap;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{Automerge, Change, ChangeHash, ReadDoc};
use bytes::Bytes;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::document;
use crate::protocol::{
    ClientMessage, DecodeError, ErrorCode, Hash, Hello, Peer, Role, Selection, ServerMessage, VERSION,
    Welcome,
};
pub use watermark::Watermark;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Who the client says it is.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub color: String,
    pub role: Role,
}

impl Identity {
    pub fn editor(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            color: "#1f77b4".to_owned(),
            role: Role::Editor,
        }
    }
}

/// Why the client stopped or could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("WebSocket: {0}")]
    Socket(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("the server sent a message that does not decode: {0}")]
    Decode(#[from] DecodeError),
    #[error("the server refused: {code:?}: {message}")]
    Refused { code: ErrorCode, message: String },
    #[error("the connection closed")]
    Closed,
    #[error("not connected")]
    NotConnected,
    #[error("a change from the server does not apply: {0}")]
    Apply(String),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
}

/// What one message from the server did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Welcome {
        peer_id: u64,
        max_seq: u64,
    },
    /// Changes from others (or the catch-up): (seq, hash) of each.
    Changes(Vec<(u64, Hash)>),
    /// Changes from others seen by a relay-only client after its first edit: their
    /// sequence numbers only (neither parsed nor applied).
    Relayed(Vec<u64>),
    Acked(Vec<(Hash, u64)>),
    Needed(Vec<Hash>),
    Peers,
    /// The interviewer ended the room; this client's role from now on.
    Ended {
        ended_at: u64,
        role: Role,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
    /// A run event of the room (JSON, see docs/protocol.md).
    Run(String),
    /// A media signal for this client (JSON, see docs/protocol.md).
    Media(String),
}

/// A participant with its own document, unacknowledged changes and watermark.
pub struct SyncClient {
    url: String,
    /// An API token sent as `Authorization: Bearer`: the client connects as that staff
    /// member (without one, the URL must carry a candidate key).
    bearer: Option<String>,
    identity: Identity,
    doc: Automerge,
    watermark: Watermark,
    /// Own changes not yet acknowledged, oldest first.
    pending: Vec<(Hash, Bytes)>,
    /// The `synced_seq` the last `Hello` said; the watermark restarts from it at `Welcome`.
    hello_synced: u64,
    /// Whether changes from others are applied once this client has edited (load
    /// generators only relay them; the catch-up before the first edit is always applied).
    apply_remote: bool,
    edited: bool,
    sink: Option<SplitSink<Socket, Message>>,
    stream: Option<SplitStream<Socket>>,
    pub peer_id: Option<u64>,
    pub peers: BTreeMap<u64, Peer>,
    pub presence: BTreeMap<u64, Vec<Selection>>,
    pub welcome: Option<Welcome>,
}

impl SyncClient {
    /// A client for the room WebSocket at `url`, with nothing synced yet.
    pub fn new(url: &str, identity: Identity) -> Self {
        Self {
            url: url.to_owned(),
            bearer: None,
            identity,
            doc: document::empty(),
            watermark: Watermark::default(),
            pending: Vec::new(),
            hello_synced: 0,
            apply_remote: true,
            edited: false,
            sink: None,
            stream: None,
            peer_id: None,
            peers: BTreeMap::new(),
            presence: BTreeMap::new(),
            welcome: None,
        }
    }

    /// Connects as the staff member owning API token `token`.
    pub fn with_bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }

    /// Keeps changes received after the first local edit out of the document, unparsed
    /// (for load generation: the relay is measured, not Automerge).
    pub fn relay_only(mut self) -> Self {
        self.apply_remote = false;
        self
    }

    /// Connects, says `Hello` and waits for `Welcome`; then re-sends the changes the
    /// server has not acknowledged. The catch-up follows as ordinary messages.
    pub async fn connect(&mut self) -> Result<(), ClientError> {
        let config = WebSocketConfig::default().read_buffer_size(crate::live::ws::READ_BUFFER_BYTES);
        let mut request = self.url.as_str().into_client_request()?;
        if let Some(token) = &self.bearer {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| ClientError::Refused {
                    code: ErrorCode::InvalidHello,
                    message: "the API token is not a valid header value".to_owned(),
                })?;
            request.headers_mut().insert("authorization", value);
        }
        let (socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
        let (sink, stream) = socket.split();
        self.sink = Some(sink);
        self.stream = Some(stream);
        self.hello_synced = self.watermark.synced();
        let hello = ClientMessage::Hello(Hello {
            version: VERSION,
            synced_seq: self.hello_synced,
            heads: self.doc.get_heads().iter().map(|head| head.0).collect(),
            name: self.identity.name.clone(),
            color: self.identity.color.clone(),
            role: self.identity.role,
        });
        self.send(&hello).await?;
        loop {
            if let Event::Welcome { .. } = self.next_event().await? {
                break;
            }
        }
        if !self.pending.is_empty() {
            let changes = self.pending.iter().map(|(_, bytes)| bytes.to_vec()).collect();
            self.send(&ClientMessage::Changes(changes)).await?;
        }
        Ok(())
    }

    /// Drops the connection (as a network failure would); the document stays.
    pub fn disconnect(&mut self) {
        self.sink = None;
        self.stream = None;
        self.peer_id = None;
    }

    /// Whether changes from others go into the document: always, except for a relay-only
    /// client once it has edited.
    fn applies_remote(&self) -> bool {
        self.apply_remote || !self.edited
    }

    /// Whether everything the server had when this client joined has arrived.
    pub fn is_caught_up(&self) -> bool {
        self.watermark.contiguous() >= self.welcome.as_ref().map_or(0, |welcome| welcome.max_seq)
    }

    /// The room's WebSocket URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_connected(&self) -> bool {
        self.sink.is_some()
    }

    /// The code text.
    pub fn text(&self) -> String {
        document::read_state(&self.doc).code
    }

    /// The length of the code in UTF-16 code units, the unit of positions.
    pub fn len(&self) -> usize {
        document::code_object(&self.doc).map_or(0, |code| self.doc.length(&code))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn document(&self) -> &Automerge {
        &self.doc
    }

    /// The document itself, e.g. to merge changes from elsewhere without sending them.
    pub fn document_mut(&mut self) -> &mut Automerge {
        &mut self.doc
    }

    pub fn watermark(&self) -> &Watermark {
        &self.watermark
    }

    /// Own changes not yet acknowledged.
    pub fn unacknowledged(&self) -> usize {
        self.pending.len()
    }

    /// Replaces `delete` UTF-16 units at `pos` with `insert`, as one change, sent at once
    /// if connected. Returns the change's hash, or `None` for an edit that changes nothing.
    pub async fn edit(
        &mut self,
        pos: usize,
        delete: usize,
        insert: &str,
    ) -> Result<Option<Hash>, ClientError> {
        if delete == 0 && insert.is_empty() {
            return Ok(None);
        }
        let code = document::code_object(&self.doc)
            .ok_or(ClientError::Apply("the document has no code yet".into()))?;
        let mut tx = self.doc.transaction();
        tx.splice_text(&code, pos, delete as isize, insert)
            .map_err(|err| ClientError::Apply(err.to_string()))?;
        tx.commit();
        self.edited = true;
        let change = self.doc.get_last_local_change().expect("just committed");
        let (hash, bytes) = (change.hash().0, Bytes::copy_from_slice(change.raw_bytes()));
        self.pending.push((hash, bytes.clone()));
        if self.is_connected() {
            self.send(&ClientMessage::Changes(vec![bytes.to_vec()])).await?;
        }
        Ok(Some(hash))
    }

    /// Sends raw changes as they are (tests use it for duplicates and bad input).
    pub async fn send_raw_changes(&mut self, changes: Vec<Vec<u8>>) -> Result<(), ClientError> {
        self.send(&ClientMessage::Changes(changes)).await
    }

    /// Asks the server to run the room's code with `stdin`; the run's events arrive as
    /// [`Event::Run`].
    pub async fn run(&mut self, stdin: &str) -> Result<(), ClientError> {
        self.send(&ClientMessage::Run {
            stdin: stdin.to_owned(),
        })
        .await
    }

    /// Sends a media signal (JSON); the server's arrive as [`Event::Media`].
    pub async fn media(&mut self, signal: &str) -> Result<(), ClientError> {
        self.send(&ClientMessage::Media(signal.to_owned())).await
    }

    /// Sends any message (tests use it for bad input).
    pub async fn send(&mut self, message: &ClientMessage) -> Result<(), ClientError> {
        self.send_frame(message.encode()).await
    }

    /// Sends raw bytes as one binary frame.
    pub async fn send_frame(&mut self, frame: Vec<u8>) -> Result<(), ClientError> {
        let sink = self.sink.as_mut().ok_or(ClientError::NotConnected)?;
        sink.send(Message::Binary(frame.into())).await?;
        Ok(())
    }

    /// Reads and handles the next message from the server.
    pub async fn next_event(&mut self) -> Result<Event, ClientError> {
        loop {
            let stream = self.stream.as_mut().ok_or(ClientError::NotConnected)?;
            let frame = match stream.next().await {
                Some(Ok(Message::Binary(bytes))) => bytes,
                Some(Ok(Message::Close(_))) | None => {
                    self.disconnect();
                    return Err(ClientError::Closed);
                }
                Some(Ok(_)) => continue,
                Some(Err(err)) => {
                    self.disconnect();
                    return Err(err.into());
                }
            };
            return self.handle(ServerMessage::decode(&frame)?).await;
        }
    }

    /// Handles messages until `done` holds, or fails after `timeout`.
    pub async fn until(
        &mut self,
        timeout: Duration,
        what: &'static str,
        mut done: impl FnMut(&Self) -> bool,
    ) -> Result<(), ClientError> {
        let wait = async {
            while !done(self) {
                self.next_event().await?;
            }
            Ok(())
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| ClientError::Timeout(what))?
    }

    async fn handle(&mut self, message: ServerMessage) -> Result<Event, ClientError> {
        Ok(match message {
            ServerMessage::Welcome(welcome) => self.welcome(welcome)?,
            ServerMessage::Changes { durable_seq, changes } => {
                self.watermark.durable(durable_seq);
                for (seq, _) in &changes {
                    self.watermark.see(*seq);
                }
                if !self.applies_remote() {
                    return Ok(Event::Relayed(changes.iter().map(|(seq, _)| *seq).collect()));
                }
                let mut seen = Vec::with_capacity(changes.len());
                let mut parsed = Vec::with_capacity(changes.len());
                for (seq, bytes) in changes {
                    let change =
                        Change::try_from(&bytes[..]).map_err(|err| ClientError::Apply(err.to_string()))?;
                    seen.push((seq, change.hash().0));
                    parsed.push(change);
                }
                self.doc
                    .apply_changes(parsed)
                    .map_err(|err| ClientError::Apply(err.to_string()))?;
                Event::Changes(seen)
            }
            ServerMessage::Ack { durable_seq, acked } => {
                self.watermark.durable(durable_seq);
                for (hash, seq) in &acked {
                    self.watermark.see(*seq);
                    self.pending.retain(|(pending, _)| pending != hash);
                }
                Event::Acked(acked)
            }
            ServerMessage::Need(hashes) => {
                let changes: Vec<Vec<u8>> = hashes
                    .iter()
                    .filter_map(|hash| self.doc.get_change_by_hash(&ChangeHash(*hash)))
                    .map(|change| change.raw_bytes().to_vec())
                    .collect();
                if !changes.is_empty() {
                    self.send(&ClientMessage::Changes(changes)).await?;
                }
                Event::Needed(hashes)
            }
            ServerMessage::PeerJoined(peer) => {
                self.peers.insert(peer.peer_id, peer);
                Event::Peers
            }
            ServerMessage::PeerLeft(peer_id) => {
                self.peers.remove(&peer_id);
                self.presence.remove(&peer_id);
                Event::Peers
            }
            ServerMessage::PeerPresence { peer_id, selections } => {
                self.presence.insert(peer_id, selections);
                Event::Peers
            }
            ServerMessage::Error { code, message, fatal } => {
                if fatal {
                    return Err(ClientError::Refused { code, message });
                }
                Event::Error { code, message }
            }
            ServerMessage::Ended { ended_at, role } => Event::Ended { ended_at, role },
            ServerMessage::Run(event) => Event::Run(event),
            ServerMessage::Media(signal) => Event::Media(signal),
        })
    }

    fn welcome(&mut self, welcome: Welcome) -> Result<Event, ClientError> {
        // The catch-up sends everything after what Hello said; numbers received above it
        // before may have been reused by a server that crashed, so they count for nothing.
        self.watermark = if welcome.reset {
            Watermark::default()
        } else {
            Watermark::from_synced(self.hello_synced)
        };
        self.watermark.durable(welcome.durable_seq);
        if let Some(snapshot) = &welcome.snapshot {
            if self.applies_remote() {
                self.doc
                    .load_incremental(&snapshot.document)
                    .map_err(|err| ClientError::Apply(err.to_string()))?;
            }
            self.watermark.cover(snapshot.covers_seq);
        }
        self.peer_id = Some(welcome.peer_id);
        self.peers = welcome
            .peers
            .iter()
            .map(|peer| (peer.peer_id, peer.clone()))
            .collect();
        let event = Event::Welcome {
            peer_id: welcome.peer_id,
            max_seq: welcome.max_seq,
        };
        self.welcome = Some(welcome);
        Ok(event)
    }
}
