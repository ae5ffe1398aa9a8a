//! ICE-TCP connections: RFC 4571 framing (a 16-bit big-endian length before each packet)
//! over passive TCP, each connection a reader and a writer task that the socket task
//! talks to through channels.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A connection silent this long is closed (browsers send consent checks every ~5 s).
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Packets queued for one connection's writer; more are dropped, as UDP would.
const WRITE_QUEUE: usize = 1024;

/// What a connection's reader tells the socket task.
pub enum TcpEvent {
    Packet(SocketAddr, Bytes),
    Closed(SocketAddr),
}

/// The socket task's side of one connection.
pub struct TcpConnection {
    writer: mpsc::Sender<Bytes>,
    reader: JoinHandle<()>,
    /// Whether a participant has taken a packet from it.
    pub accepted: bool,
    /// Packets that no participant took.
    pub refused: u32,
    pub opened: tokio::time::Instant,
}

impl TcpConnection {
    /// Starts the reader and writer tasks of an accepted connection.
    pub fn start(stream: TcpStream, remote: SocketAddr, events: mpsc::Sender<TcpEvent>) -> Self {
        let _ = stream.set_nodelay(true);
        let (mut read, mut write) = stream.into_split();
        let (writer, mut outgoing) = mpsc::channel::<Bytes>(WRITE_QUEUE);
        let reader = tokio::spawn(async move {
            while let Ok(Ok(packet)) = tokio::time::timeout(READ_TIMEOUT, read_frame(&mut read)).await {
                if events.send(TcpEvent::Packet(remote, packet)).await.is_err() {
                    return;
                }
            }
            let _ = events.send(TcpEvent::Closed(remote)).await;
        });
        tokio::spawn(async move {
            while let Some(packet) = outgoing.recv().await {
                if write.write_all(&packet).await.is_err() {
                    break;
                }
            }
            let _ = write.shutdown().await;
        });
        Self {
            writer,
            reader,
            accepted: false,
            refused: 0,
            opened: tokio::time::Instant::now(),
        }
    }

    /// Queues a packet, framed; false if the queue is full or the connection is gone.
    pub fn send(&self, packet: &[u8]) -> bool {
        self.writer.try_send(frame(packet)).is_ok()
    }

    /// Stops both tasks (dropping the writer ends the write side once it is drained).
    pub fn close(self) {
        self.reader.abort();
    }
}

/// One RFC 4571 frame around `packet` (media packets are far below 64 KiB).
pub fn frame(packet: &[u8]) -> Bytes {
    let len = u16::try_from(packet.len()).unwrap_or(u16::MAX);
    let mut framed = BytesMut::with_capacity(packet.len() + 2);
    framed.put_u16(len);
    framed.put_slice(&packet[..usize::from(len)]);
    framed.freeze()
}

async fn read_frame(read: &mut (impl AsyncReadExt + Unpin)) -> std::io::Result<Bytes> {
    let len = read.read_u16().await?;
    let mut packet = vec![0; usize::from(len)];
    read.read_exact(&mut packet).await?;
    Ok(Bytes::from(packet))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_a_short_frame_is_an_error() {
        let framed = frame(b"hello");
        assert_eq!(&framed[..], b"\x00\x05hello");
        let mut reader = &framed[..];
        assert_eq!(
            read_frame(&mut reader).await.unwrap(),
            Bytes::from_static(b"hello")
        );
        let mut cut = &b"\x00\x09hel"[..];
        assert!(read_frame(&mut cut).await.is_err());
    }
}
