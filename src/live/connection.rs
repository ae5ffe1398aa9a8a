//! One participant's WebSocket: the first message must be `Hello`; after joining, frames
//! are decoded, checked against the rate limit, and handed to the room; a writer task
//! sends what the room queues, and pings to keep the connection alive.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::peer::{Outbound, Outbox, OutboxReceiver, outbox};
use super::{Access, OpenError, RoomHandle, Rooms};
use crate::config::SyncConfig;
use crate::media::signal::{ClientSignal, ServerSignal, SignalError};
use crate::media::{Media, SignalSink};
use crate::oplog::PeerId;
use crate::protocol::{ClientMessage, ErrorCode, Hello, ServerMessage};

/// How long a new connection may take to say `Hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server pings.
const PING_EVERY: Duration = Duration::from_secs(20);
/// A connection silent (no message, no pong) for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a closed connection keeps reading while the client finishes closing.
const CLOSE_LINGER: Duration = Duration::from_secs(2);
/// At most this many queued frames are written before one flush.
const MAX_FRAMES_PER_FLUSH: usize = 64;
/// Attempts to join a room that is unloading at that very moment.
const JOIN_ATTEMPTS: usize = 3;

/// Serves one participant of `room_id` until either side closes.
pub async fn serve(socket: WebSocket, rooms: Rooms, room_id: String, access: Access) {
    let config = Arc::new(rooms.config().clone());
    let (sink, mut stream) = socket.split();
    let (outbox, receiver) = outbox();
    let writer_done = CancellationToken::new();
    let writer = tokio::spawn(write(sink, receiver, outbox.kicked.clone(), writer_done.clone()));

    let joined = join(&mut stream, &rooms, &room_id, access, &outbox, &writer_done).await;
    if let Some((room, peer)) = joined {
        let call = Call {
            media: rooms.media().cloned(),
            room_id: Arc::from(room_id.as_str()),
            peer,
        };
        read(&mut stream, &room, &call, &outbox, &config, &writer_done).await;
        room.leave(peer);
        call.leave();
    }
    drop(outbox);
    let _ = writer.await;
    // Finish the closing handshake: drop what the client still sends until its close, so
    // that unread data does not reset the connection before our close frame reaches it.
    let _ = tokio::time::timeout(CLOSE_LINGER, async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
}

/// Waits for `Hello` and joins the room; on failure the participant has been told why.
async fn join(
    stream: &mut SplitStream<WebSocket>,
    rooms: &Rooms,
    room_id: &str,
    access: Access,
    outbox: &Outbox,
    writer_done: &CancellationToken,
) -> Option<(RoomHandle, PeerId)> {
    let first = tokio::select! {
        first = tokio::time::timeout(HELLO_TIMEOUT, stream.next()) => first,
        () = writer_done.cancelled() => return None,
    };
    let hello = match first {
        Ok(Some(Ok(Message::Binary(bytes)))) => match ClientMessage::decode(&bytes) {
            Ok(ClientMessage::Hello(hello)) => hello,
            Ok(_) => {
                outbox.fail(ErrorCode::ExpectedHello, "the first message must be Hello");
                return None;
            }
            Err(err) => {
                outbox.fail(
                    ErrorCode::MalformedMessage,
                    format!("the first message does not decode: {err}"),
                );
                return None;
            }
        },
        Ok(Some(Ok(Message::Text(_)))) => {
            outbox.fail(ErrorCode::MalformedMessage, "messages must be binary frames");
            return None;
        }
        Err(_) => {
            outbox.fail(ErrorCode::ExpectedHello, "no Hello within 10 seconds");
            return None;
        }
        _ => return None,
    };
    join_room(rooms, room_id, hello, access, outbox).await
}

async fn join_room(
    rooms: &Rooms,
    room_id: &str,
    hello: Hello,
    access: Access,
    outbox: &Outbox,
) -> Option<(RoomHandle, PeerId)> {
    let mut last_error = None;
    for _ in 0..JOIN_ATTEMPTS {
        let room = match rooms.handle(room_id) {
            Ok(room) => room,
            Err(err) => {
                last_error = Some(err.into());
                break;
            }
        };
        match room.join(hello.clone(), access.clone(), outbox.clone()).await {
            Ok(peer) => return Some((room, peer)),
            Err(err) if err == OpenError::Unloading.into() => last_error = Some(err),
            Err(err) => {
                last_error = Some(err);
                break;
            }
        }
    }
    if let Some(err) = last_error {
        outbox.fail(err.code, err.message);
    }
    None
}

/// Reads the participant's messages until it leaves, breaks a rule, or the writer stops.
async fn read(
    stream: &mut SplitStream<WebSocket>,
    room: &RoomHandle,
    call: &Call,
    outbox: &Outbox,
    config: &SyncConfig,
    writer_done: &CancellationToken,
) {
    let peer = call.peer;
    let mut limiter = RateLimiter::new(config.max_messages_per_second);
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => next,
            () = writer_done.cancelled() => return,
        };
        let message = match next {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(err))) => {
                if is_too_large(&err) {
                    outbox.fail(
                        ErrorCode::MessageTooLarge,
                        format!("a message was larger than {} bytes", config.max_message_bytes),
                    );
                }
                return;
            }
            Ok(None) => return,
            Err(_) => {
                outbox.fail(ErrorCode::Internal, "the connection was silent for too long");
                return;
            }
        };
        let bytes = match message {
            Message::Binary(bytes) if bytes.len() > config.max_message_bytes => {
                outbox.fail(
                    ErrorCode::MessageTooLarge,
                    format!("a message was larger than {} bytes", config.max_message_bytes),
                );
                return;
            }
            Message::Binary(bytes) => bytes,
            Message::Text(_) => {
                outbox.fail(ErrorCode::MalformedMessage, "messages must be binary frames");
                return;
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if !limiter.allow() {
            outbox.fail(
                ErrorCode::RateLimited,
                format!(
                    "more than {} messages a second; slow down",
                    config.max_messages_per_second
                ),
            );
            return;
        }
        match ClientMessage::decode(&bytes) {
            Ok(ClientMessage::Changes(changes)) => {
                room.changes(peer, changes.into_iter().map(Bytes::from).collect());
            }
            Ok(ClientMessage::Presence(selections)) => room.presence(peer, selections),
            Ok(ClientMessage::Run { stdin }) => room.run(peer, stdin),
            Ok(ClientMessage::Media(signal)) => call.signal(&signal, outbox),
            Ok(ClientMessage::Hello(_)) => {
                outbox.fail(ErrorCode::ExpectedHello, "Hello may be sent only once");
                return;
            }
            Err(err) => {
                outbox.fail(
                    ErrorCode::MalformedMessage,
                    format!("a message does not decode: {err}"),
                );
                return;
            }
        }
    }
}

/// The participant's link to the room's call: their signals go to the SFU, and their
/// socket closing takes them out of the call.
struct Call {
    media: Option<Media>,
    room_id: Arc<str>,
    peer: PeerId,
}

impl Call {
    fn signal(&self, text: &str, outbox: &Outbox) {
        let sink = OutboxSignals(outbox.clone());
        let Some(media) = &self.media else {
            sink.send(&ServerSignal::error(
                SignalError::Unavailable,
                "audio and video are turned off on this server",
            ));
            return;
        };
        match ClientSignal::decode(text) {
            Ok(signal) => media.signal(self.room_id.clone(), self.peer, Box::new(sink), signal),
            Err(message) => sink.send(&ServerSignal::error(SignalError::Malformed, message)),
        }
    }

    fn leave(&self) {
        if let Some(media) = &self.media {
            media.disconnect(self.room_id.clone(), self.peer);
        }
    }
}

/// The SFU's signals go out on the participant's socket.
struct OutboxSignals(Outbox);

impl SignalSink for OutboxSignals {
    fn send(&self, signal: &ServerSignal) {
        self.0.send_message(&ServerMessage::Media(signal.to_json()));
    }
}

fn is_too_large(err: &axum::Error) -> bool {
    let text = err.to_string().to_ascii_lowercase();
    text.contains("too long") || text.contains("too large") || text.contains("capacity")
}

/// Sends what the room queues, and pings; ends on a close, when the room drops the
/// connection, or when every sender is gone.
async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut receiver: OutboxReceiver,
    kicked: CancellationToken,
    done: CancellationToken,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        let outcome = tokio::select! {
            next = receiver.recv() => match next {
                Some(Outbound::Frame(frame)) => match write_queued(&mut sink, &mut receiver, frame).await {
                    Ok(None) => Ok(()),
                    Ok(Some(last)) => {
                        let _ = sink.send(last).await;
                        break;
                    }
                    Err(err) => Err(err),
                },
                Some(Outbound::Close { code, reason }) => {
                    let _ = sink.send(close(code, &reason)).await;
                    break;
                }
                None => {
                    let _ = sink.send(close(1000, "")).await;
                    break;
                }
            },
            () = kicked.cancelled() => {
                let _ = sink.send(close(1008, "too slow to keep up")).await;
                break;
            }
            _ = ping.tick() => sink.send(Message::Ping(Bytes::new())).await,
        };
        if outcome.is_err() {
            break;
        }
    }
    done.cancel();
}

/// Writes `first` and every frame already queued behind it with one flush (one system
/// call for a burst). Returns the close frame to send last if one was queued.
async fn write_queued(
    sink: &mut SplitSink<WebSocket, Message>,
    receiver: &mut OutboxReceiver,
    first: Bytes,
) -> Result<Option<Message>, axum::Error> {
    sink.feed(Message::Binary(first)).await?;
    let mut last = None;
    for _ in 0..MAX_FRAMES_PER_FLUSH {
        match receiver.try_recv() {
            Some(Outbound::Frame(frame)) => sink.feed(Message::Binary(frame)).await?,
            Some(Outbound::Close { code, reason }) => {
                last = Some(close(code, &reason));
                break;
            }
            None => break,
        }
    }
    sink.flush().await?;
    Ok(last)
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// A token bucket: `rate` messages a second, bursts of twice that.
struct RateLimiter {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    fn new(rate: u32) -> Self {
        Self {
            rate: f64::from(rate),
            tokens: f64::from(rate) * 2.0,
            last: Instant::now(),
        }
    }

    fn allow(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.rate * 2.0);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
