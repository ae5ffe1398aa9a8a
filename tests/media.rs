//! Audio and video through the SFU, with webrtc-rs peers on loopback against the real
//! server: complete streams between three publishers, keyframe requests, a peer leaving,
//! ICE-TCP, and bad input on the media ports and in the signalling.

mod common;
#[path = "common/media/mod.rs"]
mod media_peer;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use common::{Backend, TestDb, TestServer};
use media_peer::{MEDIA_WAIT, MediaPeer, Transport};
use pairline::client::{Event, Identity, SyncClient};
use serde_json::{Value, json};

/// Frames every receiver must get from every publisher, once all are connected.
const FRAMES: u32 = 60;

/// Sends frames from `peer` every 33 ms (a keyframe every 30, and whenever one was asked
/// for) until `stop`; `sent` counts them.
fn stream(peer: Arc<MediaPeer>, sent: Arc<AtomicU32>, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(33));
        let mut requests_seen = 0;
        while !stop.load(Ordering::Relaxed) {
            ticker.tick().await;
            let index = sent.load(Ordering::Relaxed);
            let requests = peer.keyframe_requests.load(Ordering::Relaxed);
            peer.send(index, index.is_multiple_of(30) || requests != requests_seen)
                .await;
            requests_seen = requests;
            sent.fetch_add(1, Ordering::Relaxed);
        }
    })
}

/// A peer publishing frames until it is stopped.
struct Streaming {
    peer: Arc<MediaPeer>,
    sent: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
}

impl Drop for Streaming {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn start_streaming(peers: Vec<MediaPeer>) -> Vec<Streaming> {
    peers
        .into_iter()
        .map(|peer| {
            let peer = Arc::new(peer);
            let sent = Arc::new(AtomicU32::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            stream(peer.clone(), sent.clone(), stop.clone());
            Streaming { peer, sent, stop }
        })
        .collect()
}

/// Waits until every peer has every frame and audio packet from `from` on of every other.
async fn assert_complete(peers: &[Streaming], from: &[u32]) {
    for (receiver, _) in peers.iter().zip(from) {
        for (publisher, first) in peers.iter().zip(from) {
            if Arc::ptr_eq(&receiver.peer, &publisher.peer) {
                continue;
            }
            let id = publisher.peer.peer_id;
            let wanted: Vec<u32> = (*first..first + FRAMES).collect();
            receiver
                .peer
                .inbox
                .until(MEDIA_WAIT, "every frame from every other peer", |inbox| {
                    ["video", "audio"].iter().all(|kind| {
                        inbox
                            .track(id, kind, |t| wanted.iter().all(|i| t.indices.contains(i)))
                            .unwrap_or(false)
                    })
                })
                .await;
            for kind in ["video", "audio"] {
                let corrupt = receiver.peer.inbox.track(id, kind, |t| t.corrupt).unwrap();
                assert_eq!(corrupt, 0, "{kind} from peer {id} arrived damaged");
            }
        }
    }
}

/// People joining `room`'s call, each streaming, once each receives everyone else.
async fn in_a_call(room: &Value, people: &[(&str, Transport)]) -> Vec<Streaming> {
    let mut peers = Vec::new();
    for (name, transport) in people {
        peers.push(MediaPeer::join(ws_url(room), name, *transport).await);
    }
    let ids: Vec<u64> = peers.iter().map(|p| p.peer_id).collect();
    let peers = start_streaming(peers);
    for peer in &peers {
        let others: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|id| *id != peer.peer.peer_id)
            .collect();
        peer.peer.until_receiving(&others).await;
    }
    peers
}

#[test]
fn synthetic_payloads_read_back_and_damage_is_seen() {
    use media_peer::{read_synthetic, synthetic};
    for keyframe in [Some(true), Some(false), None] {
        let data = synthetic(7, 42, 300, keyframe);
        assert_eq!(data.len(), 300);
        assert_eq!(read_synthetic(&data), Some((7, 42)));
        let mut damaged = data.to_vec();
        damaged[200] ^= 1;
        assert_eq!(read_synthetic(&damaged), None);
    }
}

async fn server() -> (TestDb, TestServer, Value) {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let room = server.create_room("python", "Call").await;
    (db, server, room)
}

fn ws_url(room: &Value) -> &str {
    room["candidateWsUrl"].as_str().unwrap()
}

#[tokio::test]
async fn three_peers_receive_each_others_streams_complete_and_a_leaver_ends() {
    let (_db, server, room) = server().await;
    let peers = in_a_call(
        &room,
        &[
            ("Ada", Transport::Udp),
            ("Grace", Transport::Udp),
            ("Edsger", Transport::Udp),
        ],
    )
    .await;
    // From now on, nothing may be missing.
    let from: Vec<u32> = peers.iter().map(|p| p.sent.load(Ordering::Relaxed)).collect();
    assert_complete(&peers, &from).await;

    // A receiver's keyframe request reaches the publisher.
    let (ada, grace) = (&peers[0].peer, &peers[1].peer);
    let before = grace.keyframe_requests.load(Ordering::Relaxed);
    let asked = tokio::time::timeout(MEDIA_WAIT, async {
        while grace.keyframe_requests.load(Ordering::Relaxed) == before {
            let arrived = grace.inbox.changed.notified();
            ada.request_keyframe(grace.peer_id).await;
            // The SFU passes on one request per track each 500 ms: if it held this one
            // back, nothing arrives, and Ada asks again.
            let _ = tokio::time::timeout(Duration::from_millis(600), arrived).await;
        }
    })
    .await;
    assert!(asked.is_ok(), "Ada's keyframe request never reached Grace");

    // Ada mutes: the others are told.
    ada.signal(json!({"type": "state", "microphone": false, "camera": true, "screen": false}));
    grace
        .inbox
        .until(MEDIA_WAIT, "Ada's mute to be shown", |inbox| {
            inbox
                .signals_of("participant")
                .iter()
                .any(|s| s["peer_id"] == ada.peer_id && s["microphone"] == false && s["camera"] == true)
        })
        .await;

    // Edsger vanishes: his tracks end for the others, who are told he left.
    let edsger_id = peers[2].peer.peer_id;
    peers[2].stop.store(true, Ordering::Relaxed);
    peers[2].peer.close().await;
    for peer in [ada, grace] {
        peer.inbox
            .until(MEDIA_WAIT, "Edsger's tracks to end", |inbox| {
                ["video", "audio"]
                    .iter()
                    .all(|kind| inbox.track(edsger_id, kind, |t| t.ended).unwrap_or(false))
            })
            .await;
        let left = peer.inbox.signals_of("left");
        assert!(left.iter().any(|s| s["peer_id"] == edsger_id), "{left:?}");
    }
    drop(peers);
    server.stop().await;
}

#[tokio::test]
async fn a_peer_behind_a_udp_block_connects_over_ice_tcp() {
    let (_db, server, room) = server().await;
    let peers = in_a_call(&room, &[("Ada", Transport::Udp), ("Tim", Transport::TcpOnly)]).await;
    let from: Vec<u32> = peers.iter().map(|p| p.sent.load(Ordering::Relaxed)).collect();
    assert_complete(&peers, &from).await;
    drop(peers);
    server.stop().await;
}

/// A room socket that speaks only signalling.
async fn signaller(room: &Value) -> SyncClient {
    let mut client = SyncClient::new(ws_url(room), Identity::editor("Mallory"));
    client.connect().await.expect("connect");
    client
}

/// Sends `signal` and returns the server's next media signal.
async fn exchange(client: &mut SyncClient, signal: &str) -> Value {
    client.media(signal).await.expect("send a signal");
    let reply = tokio::time::timeout(MEDIA_WAIT, async {
        loop {
            if let Event::Media(text) = client.next_event().await.expect("the socket stays open") {
                return serde_json::from_str::<Value>(&text).unwrap();
            }
        }
    })
    .await;
    reply.expect("a reply to the signal")
}

fn error_code(reply: &Value) -> &str {
    assert_eq!(reply["type"], "error", "{reply}");
    assert!(!reply["message"].as_str().unwrap_or("").is_empty(), "{reply}");
    reply["code"].as_str().unwrap()
}

const H264_ONLY: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=ice-ufrag:abcd\r\n\
a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\na=rtcp-mux\r\na=rtpmap:102 H264/90000\r\n";

#[tokio::test]
async fn bad_signals_are_refused_with_a_reason_and_the_socket_stays() {
    let (_db, server, room) = server().await;
    let mut mallory = signaller(&room).await;
    assert_eq!(error_code(&exchange(&mut mallory, "not json").await), "malformed");
    assert_eq!(
        error_code(&exchange(&mut mallory, r#"{"type":"teleport"}"#).await),
        "malformed"
    );
    let early = json!({"type": "offer", "sdp": H264_ONLY}).to_string();
    assert_eq!(error_code(&exchange(&mut mallory, &early).await), "not_joined");
    assert_eq!(
        exchange(&mut mallory, r#"{"type":"join"}"#).await["type"],
        "joined"
    );
    let garbage = json!({"type": "offer", "sdp": "v=0\r\nthis is not SDP"}).to_string();
    assert_eq!(error_code(&exchange(&mut mallory, &garbage).await), "bad_sdp");
    assert_eq!(error_code(&exchange(&mut mallory, &early).await), "no_codec");
    let stray = json!({"type": "answer", "sdp": H264_ONLY}).to_string();
    assert_eq!(error_code(&exchange(&mut mallory, &stray).await), "bad_sdp");
    let huge = json!({"type": "offer", "sdp": "a".repeat(70 * 1024)}).to_string();
    assert_eq!(error_code(&exchange(&mut mallory, &huge).await), "malformed");
    // A flood of offers is cut off.
    let mut codes = Vec::new();
    for _ in 0..25 {
        codes.push(error_code(&exchange(&mut mallory, &early).await).to_owned());
    }
    assert!(codes.iter().any(|c| c == "too_many_offers"), "{codes:?}");

    // Meanwhile a real call in the same room works.
    let peers = in_a_call(&room, &[("Ada", Transport::Udp), ("Grace", Transport::Udp)]).await;
    drop(peers);
    server.stop().await;
}

#[tokio::test]
async fn garbage_on_the_media_ports_is_dropped_and_calls_carry_on() {
    let db = TestDb::new(Backend::Sqlite).await;
    let udp_port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tcp_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = db.config();
    config.media.udp_port = udp_port;
    config.media.tcp_port = tcp_port;
    let server = TestServer::start_with(config).await;
    let room = server.create_room("python", "Call").await;
    let peers = in_a_call(&room, &[("Ada", Transport::Udp), ("Grace", Transport::TcpOnly)]).await;

    // Random datagrams, a STUN binding request from a stranger, things that look like
    // DTLS and RTP, and empty ones.
    let stranger = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target = format!("127.0.0.1:{udp_port}");
    let mut rng = fastrand::Rng::with_seed(6);
    let mut stun = vec![0x00, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42];
    stun.extend((0..12).map(|_| rng.u8(..)));
    stun.extend([0x00, 0x06, 0x00, 0x08]);
    stun.extend(b"nobody:x");
    for packet in [stun, vec![22, 254, 253, 0, 0], vec![0x80, 96, 0, 1], Vec::new()] {
        stranger.send_to(&packet, &target).await.unwrap();
    }
    for _ in 0..2000 {
        let len = rng.usize(1..1500);
        let packet: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        stranger.send_to(&packet, &target).await.unwrap();
    }
    // Garbage over ICE-TCP: framed noise, a frame that claims more than follows, and
    // unframed bytes.
    use tokio::io::AsyncWriteExt;
    for garbage in [
        [&[0x00, 0x04][..], b"junk"].concat(),
        vec![0xff, 0xff, 1, 2, 3],
        (0..4096).map(|_| rng.u8(..)).collect(),
    ] {
        let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", tcp_port))
            .await
            .unwrap();
        tcp.write_all(&garbage).await.unwrap();
    }

    // The call goes on, complete.
    let from: Vec<u32> = peers.iter().map(|p| p.sent.load(Ordering::Relaxed)).collect();
    assert_complete(&peers, &from).await;
    drop(peers);
    server.stop().await;
}

#[tokio::test]
async fn a_participant_whose_media_vanishes_is_removed_after_the_ice_timeout() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    config.media.ice_timeout = Duration::from_secs(2);
    let server = TestServer::start_with(config).await;
    let room = server.create_room("python", "Call").await;
    let peers = in_a_call(&room, &[("Ada", Transport::Udp), ("Grace", Transport::Udp)]).await;

    let ids = [peers[0].peer.peer_id, peers[1].peer.peer_id];
    // Grace's network goes; her room socket stays open.
    peers[1].stop.store(true, Ordering::Relaxed);
    peers[1].peer.vanish().await;
    peers[0]
        .peer
        .inbox
        .until(MEDIA_WAIT, "Grace to be taken out of the call", |inbox| {
            inbox.signals_of("left").iter().any(|s| s["peer_id"] == ids[1])
                && ["video", "audio"]
                    .iter()
                    .all(|kind| inbox.track(ids[1], kind, |t| t.ended).unwrap_or(false))
        })
        .await;
    peers[1]
        .peer
        .inbox
        .until(MEDIA_WAIT, "Grace to be told her connection was lost", |inbox| {
            inbox
                .signals_of("error")
                .iter()
                .any(|s| s["code"] == "connection_lost")
        })
        .await;
    drop(peers);
    server.stop().await;
}

#[tokio::test]
async fn a_server_with_media_off_says_so() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = db.config();
    config.media.enabled = false;
    let server = TestServer::start_with(config).await;
    let room = server.create_room("python", "No call").await;
    let mut client = signaller(&room).await;
    assert_eq!(
        error_code(&exchange(&mut client, r#"{"type":"join"}"#).await),
        "unavailable"
    );
    server.stop().await;
}
