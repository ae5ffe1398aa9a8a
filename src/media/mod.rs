//! Audio and video: an SFU on str0m inside the server. One task owns the media sockets
//! (one UDP port for everyone, and an ICE-TCP listener for networks that block UDP) and
//! every participant's WebRTC session; it forwards each participant's microphone,
//! camera and screen to the other members of their room's call. Signalling travels as
//! `Media` messages on the room's WebSocket (docs/protocol.md).

mod metrics;
mod net;
mod participant;
mod sfu;
pub mod signal;
mod speaker;
mod tcp;

use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::Arc;

use str0m::Candidate;
use str0m::net::TcpType;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::MediaConfig;
pub use metrics::MediaMetrics;
use sfu::{Sfu, SfuSettings};
use signal::{ClientSignal, IceServer, ServerSignal};

/// Where the SFU sends a participant's signals (their room socket).
pub trait SignalSink: Send + 'static {
    fn send(&self, signal: &ServerSignal);
}

/// Why the SFU did not start.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("cannot bind the media UDP port {addr} (set media.udp_port, or media.enabled = false): {source}")]
    Udp {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot bind the ICE-TCP port {addr} (set media.tcp_port, or media.enabled = false): {source}")]
    Tcp {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the SFU's thread: {0}")]
    Thread(std::io::Error),
    #[error("the advertised media address {0} cannot be used: {1}")]
    Candidate(SocketAddr, String),
}

enum Command {
    Signal {
        room: Arc<str>,
        peer_id: u64,
        sink: Box<dyn SignalSink>,
        signal: ClientSignal,
    },
    Disconnect {
        room: Arc<str>,
        peer_id: u64,
    },
}

/// A handle on the running SFU.
#[derive(Clone)]
pub struct Media {
    commands: mpsc::UnboundedSender<Command>,
}

/// The bound media sockets and the addresses they are advertised at.
struct Bound {
    udp: StdUdpSocket,
    tcp: std::net::TcpListener,
    udp_addr: SocketAddr,
    tcp_addr: SocketAddr,
}

impl Media {
    /// Binds the media sockets and starts the SFU, which runs until `stopping` on a thread
    /// of its own (a single-threaded runtime: no hand-offs between workers per packet).
    pub fn start(
        config: &MediaConfig,
        metrics: MediaMetrics,
        stopping: CancellationToken,
    ) -> Result<(Media, JoinHandle<()>), MediaError> {
        let bound = bind(config)?;
        let candidates = vec![
            Candidate::host(bound.udp_addr, "udp")
                .map_err(|err| MediaError::Candidate(bound.udp_addr, err.to_string()))?,
            Candidate::builder()
                .tcp()
                .host(bound.tcp_addr)
                .tcptype(TcpType::Passive)
                .build()
                .map_err(|err| MediaError::Candidate(bound.tcp_addr, err.to_string()))?,
        ];
        let ice_servers = if config.ice_servers.is_empty() {
            Vec::new()
        } else {
            vec![IceServer {
                urls: config.ice_servers.clone(),
                username: config.turn_username.clone(),
                credential: config.turn_credential.clone(),
            }]
        };
        let settings = SfuSettings {
            candidates,
            ice_servers,
            max_participants: config.max_participants,
            ice_timeout: config.ice_timeout,
        };
        let (udp_addr, tcp_addr) = (bound.udp_addr, bound.tcp_addr);
        let (commands, receiver) = mpsc::unbounded_channel();
        // A thread of its own, not `spawn_blocking`: a runtime dropped without a graceful
        // stop (a test's) would wait for a blocking task forever. The loop ends when
        // `stopping` fires or every `Media` handle is gone.
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("pairline-sfu".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the SFU");
                runtime.block_on(async move {
                    let sockets = net::Sockets {
                        udp: UdpSocket::from_std(bound.udp).expect("the media UDP socket joins the runtime"),
                        tcp: TcpListener::from_std(bound.tcp)
                            .expect("the ICE-TCP listener joins the runtime"),
                        udp_addr,
                        tcp_addr,
                    };
                    let sfu = Sfu::new(settings, metrics.clone());
                    net::run(sfu, sockets, receiver, metrics, stopping).await;
                });
                let _ = done.send(());
            })
            .map_err(MediaError::Thread)?;
        let task = tokio::spawn(async move {
            let _ = finished.await;
        });
        tracing::info!(udp = %udp_addr, ice_tcp = %tcp_addr, "media: the SFU is listening");
        Ok((Media { commands }, task))
    }

    /// Hands a participant's signal to the SFU (`sink` reaches them).
    pub fn signal(&self, room: Arc<str>, peer_id: u64, sink: Box<dyn SignalSink>, signal: ClientSignal) {
        let _ = self.commands.send(Command::Signal {
            room,
            peer_id,
            sink,
            signal,
        });
    }

    /// The participant's socket closed: they leave the call, if they were in it.
    pub fn disconnect(&self, room: Arc<str>, peer_id: u64) {
        let _ = self.commands.send(Command::Disconnect { room, peer_id });
    }
}

/// Answers `sdp` as the SFU answers a participant's offer, with a fresh session (for the
/// fuzz target and tests of hostile SDP): the answer, or why the offer was refused.
pub fn answer_offer(sdp: &str) -> Result<String, String> {
    struct Keep(std::sync::Mutex<Option<String>>);
    impl SignalSink for Arc<Keep> {
        fn send(&self, signal: &ServerSignal) {
            if let ServerSignal::Answer { sdp } = signal {
                *self.0.lock().expect("the answer lock") = Some(sdp.clone());
            }
        }
    }
    let keep = Arc::new(Keep(std::sync::Mutex::new(None)));
    let now = std::time::Instant::now();
    let candidate =
        Candidate::host(SocketAddr::from(([127, 0, 0, 1], 7882)), "udp").expect("a valid candidate");
    let mut participant = participant::Participant::new(
        participant::ParticipantId(0),
        Arc::from("fuzz"),
        0,
        &[candidate],
        Box::new(keep.clone()),
        now,
    );
    participant
        .accept_offer(sdp, Default::default(), now)
        .map_err(|(_, message)| message)?;
    let answer = keep.0.lock().expect("the answer lock").take();
    Ok(answer.unwrap_or_default())
}

/// Binds the UDP socket and the ICE-TCP listener (non-blocking, for the SFU's runtime)
/// and works out the addresses to advertise.
fn bind(config: &MediaConfig) -> Result<Bound, MediaError> {
    let udp_bind = SocketAddr::new(config.bind, config.udp_port);
    let udp_error = |source| MediaError::Udp {
        addr: udp_bind,
        source,
    };
    let udp = StdUdpSocket::bind(udp_bind).map_err(udp_error)?;
    udp.set_nonblocking(true).map_err(udp_error)?;
    enlarge_buffers(&udp);
    let tcp_bind = SocketAddr::new(config.bind, config.tcp_port);
    let tcp_error = |source| MediaError::Tcp {
        addr: tcp_bind,
        source,
    };
    let tcp = std::net::TcpListener::bind(tcp_bind).map_err(tcp_error)?;
    tcp.set_nonblocking(true).map_err(tcp_error)?;
    let ip = config
        .advertise_ip
        .unwrap_or_else(|| default_advertise_ip(config.bind));
    let udp_addr = SocketAddr::new(ip, udp.local_addr().map_err(udp_error)?.port());
    let tcp_addr = SocketAddr::new(ip, tcp.local_addr().map_err(tcp_error)?.port());
    Ok(Bound {
        udp,
        tcp,
        udp_addr,
        tcp_addr,
    })
}

/// Socket buffers big enough for bursts: every call's packets arrive on one socket, and
/// the default (~200 KiB, about 90 packets) overflows while the SFU sends a burst of
/// copies. The kernel caps the size at `net.core.rmem_max` / `wmem_max` unless the server
/// may force it (root).
const SOCKET_BUFFER_BYTES: libc::c_int = 8 * 1024 * 1024;

fn enlarge_buffers(socket: &impl std::os::fd::AsRawFd) {
    let fd = socket.as_raw_fd();
    for (force, plain) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        let size = SOCKET_BUFFER_BYTES;
        let set = |option| {
            // SAFETY: a valid socket, and a c_int value of the size given.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    option,
                    (&raw const size).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            }
        };
        if set(force) != 0 && set(plain) != 0 {
            tracing::debug!(error = %std::io::Error::last_os_error(), "media: cannot enlarge a socket buffer");
        }
    }
}

/// The address to advertise when none is configured: the bind address if it is a
/// specific one, else the address this machine reaches the outside from (no packet is
/// sent to find it), else loopback.
fn default_advertise_ip(bind: IpAddr) -> IpAddr {
    if !bind.is_unspecified() {
        return bind;
    }
    let outbound = StdUdpSocket::bind("0.0.0.0:0").and_then(|socket| {
        socket.connect("192.0.2.1:9")?;
        socket.local_addr()
    });
    match outbound {
        Ok(addr) if !addr.ip().is_unspecified() => addr.ip(),
        _ => IpAddr::from([127, 0, 0, 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::answer_offer;

    const OFFER: &str = include_str!("../../fuzz/seeds/media_signal/offer.json");

    #[test]
    fn a_good_offer_is_answered_and_hostile_sdp_is_refused_with_a_reason() {
        let offer: serde_json::Value = serde_json::from_str(OFFER).unwrap();
        let sdp = offer["sdp"].as_str().unwrap();
        let answer = answer_offer(sdp).expect("the seed offer is answered");
        assert!(answer.contains("a=candidate"), "{answer}");
        let no_fingerprint: String = sdp
            .lines()
            .filter(|l| !l.starts_with("a=fingerprint"))
            .map(|l| format!("{l}\r\n"))
            .collect();
        let twice = format!("{sdp}{}", &sdp[sdp.find("m=audio").unwrap()..]);
        let many_lines = format!(
            "{sdp}{}",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:x\r\n".repeat(2000)
        );
        for hostile in [
            "",
            "v=0",
            "\0\0\0",
            &no_fingerprint,
            &twice,
            &many_lines,
            &sdp.replace("opus", "G729"),
        ] {
            let reason = answer_offer(hostile).expect_err("a hostile offer is refused");
            assert!(!reason.is_empty());
        }
    }

    /// What the fuzz target does, on stable and briefly: mutations of the seed offer
    /// (bytes flipped, lines dropped, doubled or cut short) never panic the SFU's offer
    /// handling, and a refusal says why.
    #[test]
    fn mangled_offers_never_panic() {
        let offer: serde_json::Value = serde_json::from_str(OFFER).unwrap();
        let sdp = offer["sdp"].as_str().unwrap();
        let lines: Vec<&str> = sdp.split("\r\n").collect();
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..1000 {
            let mut mangled: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            for _ in 0..rng.usize(1..4) {
                let at = rng.usize(..mangled.len());
                match rng.u8(..4) {
                    0 => {
                        mangled.remove(at);
                    }
                    1 => mangled.insert(at, mangled[at].clone()),
                    2 => {
                        let line = &mut mangled[at];
                        line.truncate(rng.usize(..=line.len()));
                    }
                    _ => {
                        let mut bytes = mangled[at].clone().into_bytes();
                        if !bytes.is_empty() {
                            let i = rng.usize(..bytes.len());
                            bytes[i] = rng.u8(0x20..0x7f);
                        }
                        mangled[at] = String::from_utf8(bytes).unwrap();
                    }
                }
                if mangled.is_empty() {
                    break;
                }
            }
            if let Err(reason) = answer_offer(&mangled.join("\r\n")) {
                assert!(!reason.is_empty());
            }
        }
    }
}
