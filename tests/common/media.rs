//! A headless call participant for media tests and benchmarks: a webrtc-rs peer that
//! joins a room's call over the room's socket, publishes synthetic VP8 and Opus whose
//! payloads say who sent them and in what order, and records what it receives.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use pairline::client::{Event, Identity, SyncClient};
use rtc::interceptor::{Attribute, Interceptor, Packet, Slot, StreamInfo, TaggedPacket};
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::sansio::Protocol;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use webrtc::media_stream::Track;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCPeerConnectionState, RTCSessionDescription, Registry, SettingEngineBuilder,
    register_default_interceptors,
};

/// How long a media test waits for anything.
pub const MEDIA_WAIT: Duration = Duration::from_secs(30);
const VIDEO_PT: u8 = 96;
const AUDIO_PT: u8 = 111;
/// Bytes of a synthetic video frame (spans several RTP packets) and audio packet.
const VIDEO_FRAME_BYTES: usize = 3000;
const AUDIO_PACKET_BYTES: usize = 80;

/// How a peer reaches the SFU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    /// ICE-TCP only: no UDP socket at all.
    TcpOnly,
}

/// What one remote track delivered.
#[derive(Debug, Default)]
pub struct TrackLog {
    pub kind: Option<RtpCodecKind>,
    /// Indices of complete, intact frames (video) or packets (audio).
    pub indices: BTreeSet<u32>,
    /// Frames or packets whose payload was not what the publisher sent.
    pub corrupt: u32,
    /// When each index arrived (for latency measurements).
    pub arrivals: HashMap<u32, Instant>,
    pub ended: bool,
}

/// Everything a peer received, by publisher peer id and kind.
#[derive(Default)]
pub struct Inbox {
    pub tracks: Mutex<BTreeMap<(u64, &'static str), TrackLog>>,
    pub signals: Mutex<Vec<Value>>,
    pub changed: Notify,
}

impl Inbox {
    /// Waits until `done` holds for what arrived, or panics naming `what` after `wait`.
    pub async fn until(&self, wait: Duration, what: &str, done: impl Fn(&Inbox) -> bool) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.changed.notified();
            if done(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() && !done(self) {
                let signals: Vec<String> = self
                    .signals
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|s| {
                        let mut s = s.clone();
                        s.as_object_mut().map(|o| o.remove("sdp"));
                        s.to_string()
                    })
                    .collect();
                panic!(
                    "timed out waiting for {what}; signals so far: {}",
                    signals.join(", ")
                );
            }
        }
    }

    /// The log of `publisher`'s `kind` track ("video" or "audio"), if it arrived.
    pub fn track<T>(
        &self,
        publisher: u64,
        kind: &'static str,
        read: impl FnOnce(&TrackLog) -> T,
    ) -> Option<T> {
        self.tracks.lock().unwrap().get(&(publisher, kind)).map(read)
    }

    /// The signals of `type` received so far.
    pub fn signals_of(&self, kind: &str) -> Vec<Value> {
        let signals = self.signals.lock().unwrap();
        signals.iter().filter(|s| s["type"] == kind).cloned().collect()
    }
}

/// A call participant.
pub struct MediaPeer {
    pub peer_id: u64,
    pub inbox: Arc<Inbox>,
    /// Keyframe requests (PLI or FIR) that reached this peer as a publisher.
    pub keyframe_requests: Arc<AtomicU64>,
    pc: Arc<dyn PeerConnection>,
    video: Arc<TrackLocalStaticSample>,
    audio: Arc<TrackLocalStaticSample>,
    signals: mpsc::UnboundedSender<String>,
    /// Remote video tracks, by publisher, for sending keyframe requests.
    remote_video: Arc<Mutex<HashMap<u64, Arc<dyn TrackRemote>>>>,
    pump: tokio::task::JoinHandle<()>,
}

impl MediaPeer {
    /// Connects to the room behind `ws_url` as `name`, joins its call and offers VP8 video
    /// and Opus audio; returns once the offer is answered.
    pub async fn join(ws_url: &str, name: &str, transport: Transport) -> MediaPeer {
        let mut client = SyncClient::new(ws_url, Identity::editor(name));
        client.connect().await.expect("connect to the room");
        client
            .until(MEDIA_WAIT, "the welcome", |c| c.peer_id.is_some())
            .await
            .expect("welcomed");
        let peer_id = client.peer_id.expect("a peer id");
        let inbox = Arc::new(Inbox::default());
        let keyframe_requests = Arc::new(AtomicU64::new(0));
        let remote_video = Arc::new(Mutex::new(HashMap::new()));
        let handler = Arc::new(Handler {
            inbox: inbox.clone(),
            remote_video: remote_video.clone(),
        });
        let pc: Arc<dyn PeerConnection> = Arc::new(build_peer_connection(transport, handler).await);
        let video = local_track(RtpCodecKind::Video, peer_id);
        let audio = local_track(RtpCodecKind::Audio, peer_id);
        for track in [&video, &audio] {
            pc.add_track(track.clone() as Arc<dyn TrackLocal>)
                .await
                .expect("add a track");
        }
        watch_keyframe_requests(video.clone(), keyframe_requests.clone());

        let (signals, outgoing) = mpsc::unbounded_channel();
        let pump = tokio::spawn(pump(client, pc.clone(), outgoing, inbox.clone()));
        signals.send(json!({"type": "join"}).to_string()).unwrap();
        inbox
            .until(MEDIA_WAIT, "joined", |inbox| {
                !inbox.signals_of("joined").is_empty()
            })
            .await;

        let offer = pc.create_offer(None).await.expect("create an offer");
        pc.set_local_description(offer).await.expect("set the offer");
        let sdp = pc.local_description().await.expect("a local offer").sdp;
        let tracks: BTreeMap<String, &str> = mids(&sdp)
            .into_iter()
            .map(|(mid, kind)| (mid, if kind == "audio" { "microphone" } else { "camera" }))
            .collect();
        signals
            .send(json!({"type": "offer", "sdp": sdp, "tracks": tracks}).to_string())
            .unwrap();
        inbox
            .until(MEDIA_WAIT, "the answer", |inbox| {
                inbox.signals_of("answered").len() + inbox.signals_of("error").len() > 0
            })
            .await;
        assert!(
            inbox.signals_of("error").is_empty(),
            "{:?}",
            inbox.signals_of("error")
        );
        MediaPeer {
            peer_id,
            inbox,
            keyframe_requests,
            pc,
            video,
            audio,
            signals,
            remote_video,
            pump,
        }
    }

    /// Sends a raw signal (tests of bad input use it).
    pub fn signal(&self, signal: Value) {
        self.signals.send(signal.to_string()).unwrap();
    }

    /// Waits until this peer receives audio and video from each of `publishers`.
    pub async fn until_receiving(&self, publishers: &[u64]) {
        self.inbox
            .until(MEDIA_WAIT, "media from every other peer", |inbox| {
                publishers.iter().all(|p| {
                    ["video", "audio"]
                        .iter()
                        .all(|kind| inbox.track(*p, kind, |t| !t.indices.is_empty()).unwrap_or(false))
                })
            })
            .await;
    }

    /// Sends video frame `index` (a keyframe if asked) and audio packet `index`.
    pub async fn send(&self, index: u32, keyframe: bool) {
        let video = synthetic(self.peer_id, index, VIDEO_FRAME_BYTES, Some(keyframe));
        let audio = synthetic(self.peer_id, index, AUDIO_PACKET_BYTES, None);
        write(&self.video, VIDEO_PT, video, Duration::from_millis(33)).await;
        write(&self.audio, AUDIO_PT, audio, Duration::from_millis(20)).await;
    }

    /// Asks `publisher` (through the SFU) for a keyframe of the video this peer receives.
    pub async fn request_keyframe(&self, publisher: u64) {
        let track = self.remote_video.lock().unwrap().get(&publisher).cloned();
        let track = track.expect("video from that publisher");
        let ssrc = *track.ssrcs().await.first().expect("an ssrc");
        let _ = track
            .write_rtcp(vec![Box::new(PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc: ssrc,
            })])
            .await;
    }

    /// Drops off the network: the peer connection closes, the room socket stays.
    pub async fn vanish(&self) {
        let _ = self.pc.close().await;
    }

    /// Leaves abruptly: the peer connection and the room socket close.
    pub async fn close(&self) {
        let _ = self.pc.close().await;
        self.pump.abort();
    }
}

async fn build_peer_connection(transport: Transport, handler: Arc<Handler>) -> impl PeerConnection {
    let mut media = MediaEngine::default();
    for (kind, mime, pt, clock_rate, channels) in [
        (RtpCodecKind::Video, MIME_TYPE_VP8, VIDEO_PT, 90_000, 0),
        (RtpCodecKind::Audio, MIME_TYPE_OPUS, AUDIO_PT, 48_000, 2),
    ] {
        media
            .register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: codec(mime, clock_rate, channels),
                    payload_type: pt,
                },
                kind,
            )
            .expect("register a codec");
    }
    let registry = register_default_interceptors(Registry::new(), &mut media).expect("interceptors");
    let registry = registry.with(Slot::from(14_000), KeyframeRequestTap::default());
    let mut settings = SettingEngineBuilder::new();
    let builder = PeerConnectionBuilder::new();
    let builder = match transport {
        Transport::Udp => builder.with_udp_addrs(vec!["127.0.0.1:0".to_owned()]),
        Transport::TcpOnly => {
            settings = settings.with_network_types(vec![rtc::ice::network_type::NetworkType::Tcp4]);
            builder
                .with_udp_addrs(Vec::<String>::new())
                .with_tcp_addrs(vec!["127.0.0.1:0".to_owned()])
        }
    };
    builder
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .with_setting_engine(settings.build())
        .with_handler(handler)
        .build()
        .await
        .expect("a peer connection")
}

fn codec(mime: &str, clock_rate: u32, channels: u16) -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: mime.to_owned(),
        clock_rate,
        channels,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: Vec::new(),
    }
}

fn local_track(kind: RtpCodecKind, peer_id: u64) -> Arc<TrackLocalStaticSample> {
    let (mime, clock_rate, channels) = match kind {
        RtpCodecKind::Video => (MIME_TYPE_VP8, 90_000, 0),
        _ => (MIME_TYPE_OPUS, 48_000, 2),
    };
    let track = MediaStreamTrack::new(
        format!("pairline-test-{peer_id}"),
        format!("{kind}-{peer_id}"),
        format!("{kind}"),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(fastrand::u32(1..)),
                ..Default::default()
            },
            codec: codec(mime, clock_rate, channels),
            ..Default::default()
        }],
    );
    Arc::new(TrackLocalStaticSample::new(Instant::now(), track).expect("a local track"))
}

async fn write(track: &TrackLocalStaticSample, pt: u8, data: Bytes, duration: Duration) {
    let ssrc = *track.ssrcs().await.first().expect("an ssrc");
    let _ = track
        .sample_writer(ssrc, pt)
        .write_sample(&Sample {
            data,
            duration,
            ..Sample::new(Instant::now())
        })
        .await;
}

/// Counts the keyframe requests that reach a published video track.
fn watch_keyframe_requests(video: Arc<TrackLocalStaticSample>, count: Arc<AtomicU64>) {
    tokio::spawn(async move {
        while let Some(event) = video.poll().await {
            if let TrackLocalEvent::OnRtcpPacket(packets) = event {
                let requests = packets.iter().filter(|p| is_keyframe_request(p.as_ref())).count();
                count.fetch_add(requests as u64, Ordering::Relaxed);
            }
        }
    });
}

/// The room socket's side of a peer: sends queued signals, handles the server's.
async fn pump(
    mut client: SyncClient,
    pc: Arc<dyn PeerConnection>,
    mut outgoing: mpsc::UnboundedReceiver<String>,
    inbox: Arc<Inbox>,
) {
    // Which publisher each mid the server offered carries.
    let mut forwarded: HashMap<String, u64> = HashMap::new();
    loop {
        tokio::select! {
            signal = outgoing.recv() => {
                let Some(signal) = signal else { return };
                if client.media(&signal).await.is_err() {
                    return;
                }
            }
            event = client.next_event() => match event {
                Ok(Event::Media(text)) => {
                    let signal: Value = serde_json::from_str(&text).expect("signals are JSON");
                    match signal["type"].as_str() {
                        Some("answer") => {
                            let answer = RTCSessionDescription::answer(signal["sdp"].as_str().unwrap().to_owned())
                                .expect("an answer");
                            pc.set_remote_description(answer).await.expect("apply the answer");
                            dial_tcp_candidates(pc.as_ref(), signal["sdp"].as_str().unwrap()).await;
                            record(&inbox, json!({"type": "answered"}));
                        }
                        Some("offer") => {
                            // The client's own offer wins a crossing: ignore the server's.
                            if pc.pending_local_description().await.is_some() {
                                continue;
                            }
                            let offer = RTCSessionDescription::offer(signal["sdp"].as_str().unwrap().to_owned())
                                .expect("an offer");
                            pc.set_remote_description(offer).await.expect("apply the server's offer");
                            end_stopped_tracks(&inbox, &signal, &mut forwarded);
                            let answer = pc.create_answer(None).await.expect("an answer");
                            pc.set_local_description(answer).await.expect("set the answer");
                            let sdp = pc.local_description().await.expect("the answer").sdp;
                            let answer = json!({"type": "answer", "sdp": sdp}).to_string();
                            if client.media(&answer).await.is_err() {
                                return;
                            }
                            record(&inbox, signal);
                        }
                        _ => record(&inbox, signal),
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    }
}

/// A server offer that stops (port 0) every m-line of a publisher's ends its tracks:
/// webrtc-rs raises no event for a stopped transceiver, so the SDP is the evidence.
fn end_stopped_tracks(inbox: &Inbox, offer: &Value, forwarded: &mut HashMap<String, u64>) {
    for track in offer["tracks"].as_array().into_iter().flatten() {
        if let (Some(mid), Some(peer)) = (track["mid"].as_str(), track["peer_id"].as_u64()) {
            forwarded.insert(mid.to_owned(), peer);
        }
    }
    let stopped = stopped_mids(offer["sdp"].as_str().unwrap_or(""));
    let publishers: BTreeSet<u64> = forwarded.values().copied().collect();
    for publisher in publishers {
        let all_stopped = forwarded
            .iter()
            .filter(|(_, p)| **p == publisher)
            .all(|(mid, _)| stopped.contains(mid));
        if all_stopped {
            let mut tracks = inbox.tracks.lock().unwrap();
            for kind in ["video", "audio"] {
                tracks.entry((publisher, kind)).or_default().ended = true;
            }
        }
    }
    inbox.changed.notify_waiters();
}

/// The mids of an SDP's stopped (port 0) m-lines.
fn stopped_mids(sdp: &str) -> BTreeSet<String> {
    let mut stopped = BTreeSet::new();
    let mut port_zero = false;
    for line in sdp.lines() {
        if let Some(rest) = line.strip_prefix("m=") {
            port_zero = rest.split(' ').nth(1) == Some("0");
        } else if let Some(mid) = line.strip_prefix("a=mid:")
            && port_zero
        {
            stopped.insert(mid.trim().to_owned());
        }
    }
    stopped
}

/// webrtc-rs dials a passive ICE-TCP candidate only when it is added on its own, not
/// when it comes in the SDP: add the answer's.
async fn dial_tcp_candidates(pc: &dyn PeerConnection, sdp: &str) {
    for line in sdp
        .lines()
        .filter(|l| l.contains(" tcp ") && l.contains("tcptype passive"))
    {
        let candidate = RTCIceCandidateInit {
            candidate: line.trim_start_matches("a=").to_owned(),
            sdp_mline_index: Some(0),
            ..Default::default()
        };
        let _ = pc.add_ice_candidate(candidate).await;
    }
}

fn record(inbox: &Inbox, signal: Value) {
    inbox.signals.lock().unwrap().push(signal);
    inbox.changed.notify_waiters();
}

/// The mids of an SDP's m-lines, with their kinds.
fn mids(sdp: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut kind = None;
    for line in sdp.lines() {
        if let Some(rest) = line.strip_prefix("m=") {
            kind = rest.split(' ').next().map(str::to_owned);
        } else if let (Some(mid), Some(kind)) = (line.strip_prefix("a=mid:"), &kind) {
            found.push((mid.trim().to_owned(), kind.clone()));
        }
    }
    found
}

/// A synthetic payload: a VP8 frame header (when `keyframe` is given), then `PLN`, the
/// publisher, the index, and filler derived from both, `len` bytes in all.
pub fn synthetic(publisher: u64, index: u32, len: usize, keyframe: Option<bool>) -> Bytes {
    let mut data = BytesMut::with_capacity(len);
    match keyframe {
        // A VP8 key frame: frame tag (P bit clear), start code, 16x16.
        Some(true) => data.put_slice(&[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 16, 0, 16, 0]),
        Some(false) => data.put_slice(&[0x11, 0x02, 0x00]),
        None => {}
    }
    data.put_slice(b"PLN");
    data.put_u64(publisher);
    data.put_u32(index);
    let mut byte = (publisher as u8) ^ (index as u8);
    while data.len() < len {
        data.put_u8(byte);
        byte = byte.wrapping_mul(31).wrapping_add(7);
    }
    data.freeze()
}

/// Reads a synthetic payload back: (publisher, index) if it is intact.
pub fn read_synthetic(data: &[u8], len: usize) -> Option<(u64, u32)> {
    let at = data.windows(3).position(|w| w == b"PLN")?;
    let publisher = u64::from_be_bytes(data.get(at + 3..at + 11)?.try_into().ok()?);
    let index = u32::from_be_bytes(data.get(at + 11..at + 15)?.try_into().ok()?);
    let keyframe = match at {
        10 => Some(true),
        3 => Some(false),
        _ => None,
    };
    (data[..] == synthetic(publisher, index, len, keyframe)[..]).then_some((publisher, index))
}

/// Strips a VP8 RTP payload descriptor (RFC 7741), returning the frame bytes.
fn vp8_payload(payload: &[u8]) -> Option<&[u8]> {
    let first = *payload.first()?;
    let mut at = 1;
    if first & 0x80 != 0 {
        let ext = *payload.get(at)?;
        at += 1;
        if ext & 0x80 != 0 {
            at += if payload.get(at)? & 0x80 != 0 { 2 } else { 1 };
        }
        if ext & 0x40 != 0 {
            at += 1;
        }
        if ext & 0x30 != 0 {
            at += 1;
        }
    }
    payload.get(at..)
}

fn is_keyframe_request(packet: &dyn rtc::rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

struct Handler {
    inbox: Arc<Inbox>,
    remote_video: Arc<Mutex<HashMap<u64, Arc<dyn TrackRemote>>>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        record(
            &self.inbox,
            json!({"type": "connection", "state": state.to_string()}),
        );
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let stream = track.stream_id().await.to_string();
        let Some(publisher) = stream.strip_prefix("peer-").and_then(|id| id.parse::<u64>().ok()) else {
            return;
        };
        let kind = track.kind().await;
        let label = if kind == RtpCodecKind::Video {
            "video"
        } else {
            "audio"
        };
        if kind == RtpCodecKind::Video {
            self.remote_video.lock().unwrap().insert(publisher, track.clone());
        }
        let inbox = self.inbox.clone();
        tokio::spawn(async move {
            let mut frame = Vec::new();
            while let Some(event) = track.poll().await {
                let TrackRemoteEvent::OnRtpPacket(packet) = event else {
                    if matches!(event, TrackRemoteEvent::OnEnded) {
                        break;
                    }
                    continue;
                };
                let complete = match kind {
                    RtpCodecKind::Video => {
                        let Some(bytes) = vp8_payload(&packet.payload) else {
                            continue;
                        };
                        if packet.payload[0] & 0x10 != 0 {
                            frame.clear();
                        }
                        frame.extend_from_slice(bytes);
                        packet
                            .header
                            .marker
                            .then(|| (std::mem::take(&mut frame), VIDEO_FRAME_BYTES))
                    }
                    _ => Some((packet.payload.to_vec(), AUDIO_PACKET_BYTES)),
                };
                let Some((data, len)) = complete else { continue };
                let parsed = read_synthetic(&data, len);
                {
                    let mut tracks = inbox.tracks.lock().unwrap();
                    let log = tracks.entry((publisher, label)).or_default();
                    log.kind = Some(kind);
                    match parsed {
                        Some((from, index)) if from == publisher => {
                            log.indices.insert(index);
                            log.arrivals.entry(index).or_insert_with(Instant::now);
                        }
                        _ => log.corrupt += 1,
                    }
                }
                inbox.changed.notify_waiters();
            }
            inbox
                .tracks
                .lock()
                .unwrap()
                .entry((publisher, label))
                .or_default()
                .ended = true;
            inbox.changed.notify_waiters();
        });
    }
}

/// An interceptor that hands keyframe requests (PLI, FIR) to the application, so that a
/// publisher can count the ones the SFU sends it.
#[derive(Default)]
struct KeyframeRequestTap {
    read: std::collections::VecDeque<TaggedPacket>,
    write: std::collections::VecDeque<TaggedPacket>,
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequestTap {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet
            && packets.iter().any(|p| is_keyframe_request(p.as_ref()))
        {
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write.pop_front()
    }
}

impl Interceptor for KeyframeRequestTap {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
