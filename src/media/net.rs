//! The socket task: owns the UDP socket, the ICE-TCP listener and its connections, and
//! the [`Sfu`]; feeds it what arrives, the signals and the time, and sends what it queues.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::net::{Protocol, Transmit};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::sfu::Sfu;
use super::tcp::{TcpConnection, TcpEvent};
use super::{Command, MediaMetrics};

/// Largest datagram read (media packets stay under the ~1200-byte MTU str0m uses).
const MAX_DATAGRAM: usize = 2048;
/// Datagrams read in one go before the task looks at timers and signals again.
const READ_BURST: usize = 64;
/// Most ICE-TCP connections at once.
const MAX_TCP_CONNECTIONS: usize = 512;
/// A connection no participant has taken a packet from is closed after this long, or
/// after this many packets.
const TCP_ADOPTION_TIMEOUT: Duration = Duration::from_secs(10);
const TCP_MAX_REFUSED: u32 = 32;

pub struct Sockets {
    pub udp: UdpSocket,
    pub tcp: TcpListener,
    /// The advertised addresses: what str0m's candidates say packets arrive at.
    pub udp_addr: SocketAddr,
    pub tcp_addr: SocketAddr,
}

pub async fn run(
    mut sfu: Sfu,
    sockets: Sockets,
    mut commands: mpsc::UnboundedReceiver<Command>,
    metrics: MediaMetrics,
    stopping: CancellationToken,
) {
    let (tcp_events, mut tcp_incoming) = mpsc::channel::<TcpEvent>(4096);
    let mut connections: HashMap<SocketAddr, TcpConnection> = HashMap::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut housekeeping = tokio::time::interval(Duration::from_secs(1));
    loop {
        let deadline = sfu.next_timeout(Instant::now());
        tokio::select! {
            () = stopping.cancelled() => break,
            command = commands.recv() => {
                let Some(command) = command else { break };
                apply(&mut sfu, command);
            }
            received = sockets.udp.recv_from(&mut buf) => {
                if let Ok((len, source)) = received {
                    sfu.receive(Protocol::Udp, source, sockets.udp_addr, &buf[..len], Instant::now());
                    for _ in 1..READ_BURST {
                        let Ok((len, source)) = sockets.udp.try_recv_from(&mut buf) else { break };
                        sfu.receive(Protocol::Udp, source, sockets.udp_addr, &buf[..len], Instant::now());
                    }
                }
            }
            accepted = sockets.tcp.accept() => {
                if let Ok((stream, remote)) = accepted {
                    if connections.len() >= MAX_TCP_CONNECTIONS {
                        tracing::warn!(%remote, "media: too many ICE-TCP connections; refusing one");
                    } else {
                        let connection = TcpConnection::start(stream, remote, tcp_events.clone());
                        if let Some(old) = connections.insert(remote, connection) {
                            old.close();
                        }
                    }
                }
            }
            Some(event) = tcp_incoming.recv() => match event {
                TcpEvent::Packet(remote, packet) => {
                    let taken = sfu.receive(Protocol::Tcp, remote, sockets.tcp_addr, &packet, Instant::now());
                    if let Some(connection) = connections.get_mut(&remote) {
                        if taken {
                            connection.accepted = true;
                        } else if !connection.accepted {
                            connection.refused += 1;
                        }
                    }
                }
                TcpEvent::Closed(remote) => {
                    if let Some(connection) = connections.remove(&remote) {
                        connection.close();
                    }
                }
            },
            _ = housekeeping.tick() => close_strangers(&mut connections),
            () = tokio::time::sleep_until(deadline.into()) => {}
        }
        let now = Instant::now();
        if sfu.next_timeout(now) <= now {
            sfu.timeout(now);
        }
        send(&mut sfu, &sockets.udp, &connections, &metrics);
        let sent_at = Instant::now();
        for (video, arrived) in sfu.take_forwarded_frames() {
            metrics.forward_took(video, sent_at.saturating_duration_since(arrived).as_secs_f64());
        }
        metrics.set_participants(sfu.participant_count());
        for remote in sfu.take_closed_tcp() {
            if let Some(connection) = connections.remove(&remote) {
                connection.close();
            }
        }
    }
    for (_, connection) in connections.drain() {
        connection.close();
    }
}

fn apply(sfu: &mut Sfu, command: Command) {
    let now = Instant::now();
    match command {
        Command::Signal {
            room,
            peer_id,
            sink,
            signal,
        } => sfu.signal(room, peer_id, sink, signal, now),
        Command::Disconnect { room, peer_id } => sfu.disconnect(room, peer_id, now),
    }
}

/// Sends what the SFU queued. A full socket buffer drops the packet, as the network
/// would; str0m's retransmissions and keyframe requests recover.
fn send(
    sfu: &mut Sfu,
    udp: &UdpSocket,
    connections: &HashMap<SocketAddr, TcpConnection>,
    metrics: &MediaMetrics,
) {
    let mut sent = 0;
    for Transmit {
        proto,
        destination,
        contents,
        ..
    } in sfu.take_transmits()
    {
        let ok = match proto {
            Protocol::Udp => udp.try_send_to(&contents, destination).is_ok(),
            _ => connections
                .get(&destination)
                .is_some_and(|connection| connection.send(&contents)),
        };
        sent += u64::from(ok);
    }
    metrics.sent(sent);
}

/// Closes ICE-TCP connections that no participant has taken a packet from in time.
fn close_strangers(connections: &mut HashMap<SocketAddr, TcpConnection>) {
    let strangers: Vec<SocketAddr> = connections
        .iter()
        .filter(|(_, c)| {
            !c.accepted && (c.refused > TCP_MAX_REFUSED || c.opened.elapsed() > TCP_ADOPTION_TIMEOUT)
        })
        .map(|(remote, _)| *remote)
        .collect();
    for remote in strangers {
        if let Some(connection) = connections.remove(&remote) {
            tracing::debug!(%remote, "media: closing an ICE-TCP connection no participant took");
            connection.close();
        }
    }
}
