//! Helpers for sync tests: random edits, driving clients, settling and comparing, and a
//! raw WebSocket for sending bad input.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use pairline::client::{ClientError, Event, Identity, SyncClient};
use pairline::protocol::{ErrorCode, Hash, ServerMessage};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::TestServer;

/// How long a test waits for anything to settle.
pub const SETTLE: Duration = Duration::from_secs(30);

/// A connected client of `room`.
pub async fn connected(room: &Value, name: &str) -> SyncClient {
    let mut client = SyncClient::new(room["candidateWsUrl"].as_str().unwrap(), Identity::editor(name));
    client.connect().await.expect("connect");
    client
        .until(SETTLE, "the room's first change", |c| {
            !c.document().get_heads().is_empty()
        })
        .await
        .expect("the room's document arrives");
    client
}

/// A random edit at a character boundary: inserts (sometimes with emoji and newlines)
/// and deletions. Returns the hash of the change.
pub async fn random_edit(client: &mut SyncClient, rng: &mut fastrand::Rng) -> Result<Hash, ClientError> {
    let text = client.text();
    let chars: Vec<char> = text.chars().collect();
    let at = rng.usize(..=chars.len());
    let delete = if rng.u8(..) < 80 {
        rng.usize(..=3.min(chars.len() - at))
    } else {
        0
    };
    let insert: String = (0..rng.usize(usize::from(delete == 0)..4))
        .map(|_| match rng.u8(..10) {
            0 => '🙂',
            1 => '\n',
            _ => rng.alphanumeric(),
        })
        .collect();
    let utf16 = |chars: &[char]| chars.iter().map(|c| c.len_utf16()).sum::<usize>();
    let pos = utf16(&chars[..at]);
    let removed = utf16(&chars[at..at + delete]);
    Ok(client
        .edit(pos, removed, &insert)
        .await?
        .expect("a random edit always changes something"))
}

/// Handles whatever arrives within `wait`.
pub async fn pump(client: &mut SyncClient, wait: Duration) -> Result<Vec<Event>, ClientError> {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(event) = tokio::time::timeout_at(deadline, client.next_event()).await {
        events.push(event?);
    }
    Ok(events)
}

/// Makes `edits` random edits, handling incoming messages in between.
pub async fn drive(mut client: SyncClient, edits: usize, seed: u64) -> SyncClient {
    let mut rng = fastrand::Rng::with_seed(seed);
    for _ in 0..edits {
        random_edit(&mut client, &mut rng).await.expect("edit");
        pump(&mut client, Duration::from_millis(rng.u64(0..4)))
            .await
            .expect("pump");
    }
    client
}

/// Waits until every client's changes are acknowledged, then until each has every change
/// the server has, and checks that all texts equal the server's materialised document.
pub async fn assert_converged(server: &TestServer, room: &Value, clients: &mut [SyncClient]) -> String {
    assert_converged_at(&server.client, &server.base, room, clients).await
}

/// [`assert_converged`] against the server at `base` (e.g. a separate process), asking it
/// through `http` (which must carry the credentials of a staff member managing the room).
pub async fn assert_converged_at(
    http: &reqwest::Client,
    base: &str,
    room: &Value,
    clients: &mut [SyncClient],
) -> String {
    for client in clients.iter_mut() {
        client
            .until(SETTLE, "acknowledgements", |c| c.unacknowledged() == 0)
            .await
            .expect("every change is acknowledged");
    }
    let url = format!("{base}/v1/rooms/{}/document", room["roomId"].as_str().unwrap());
    let document: Value = http.get(url).send().await.unwrap().json().await.unwrap();
    let seq = document["seq"].as_u64().unwrap();
    let code = document["code"].as_str().unwrap().to_owned();
    for client in clients.iter_mut() {
        client
            .until(SETTLE, "every change", |c| c.watermark().contiguous() >= seq)
            .await
            .expect("every change arrives");
        assert_eq!(client.text(), code, "a client differs from the server");
    }
    code
}

/// A bare WebSocket to a room, for sending what a well-behaved client never would.
pub struct RawSocket {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl RawSocket {
    pub async fn open(room: &Value) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(room["candidateWsUrl"].as_str().unwrap())
            .await
            .expect("connect");
        Self { socket }
    }

    pub async fn send(&mut self, message: Message) {
        self.socket.send(message).await.expect("send");
    }

    /// Sends unless the server has already closed the connection; whether it was sent.
    pub async fn try_send(&mut self, message: Message) -> bool {
        self.socket.send(message).await.is_ok()
    }

    /// Reads until the server's `Error` and close; returns the error code and close code.
    pub async fn expect_refusal(&mut self) -> (ErrorCode, u16) {
        let mut error = None;
        let read = async {
            while let Some(message) = self.socket.next().await {
                match message {
                    Ok(Message::Binary(bytes)) => {
                        if let Ok(ServerMessage::Error {
                            code, fatal: true, ..
                        }) = ServerMessage::decode(&bytes)
                        {
                            error = Some(code);
                        }
                    }
                    Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                    Ok(_) => {}
                    Err(_) => return None,
                }
            }
            None
        };
        let close = tokio::time::timeout(SETTLE, read)
            .await
            .expect("the server closes the connection");
        (
            error.expect("an Error message before the close"),
            close.unwrap_or(u16::from(CloseCode::Abnormal)),
        )
    }
}
