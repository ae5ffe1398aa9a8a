//! A headless call participant for media tests and benchmarks: a webrtc-rs peer that
//! joins a room's call over the room's socket, publishes synthetic VP8 and Opus whose
//! payloads say who sent them and in what order, and records what it receives.
//! (Each test binary and the media benchmark use a different part of it.)
#![allow(dead_code, unused_imports)]

mod payload;
mod receive;
mod signalling;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use pairline::client::{Identity, SyncClient};
use rtc::interceptor::Slot;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use webrtc::media_stream::Track;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, RTCConfigurationBuilder, Registry,
    SettingEngineBuilder, register_default_interceptors,
};

pub use payload::{read_synthetic, synthetic};
use receive::{Handler, KeyframeRequestTap, watch_keyframe_requests};
use signalling::{mids, pump};

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
        watch_keyframe_requests(video.clone(), keyframe_requests.clone(), inbox.clone());

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
        self.send_video(index, keyframe, VIDEO_FRAME_BYTES).await;
        self.send_audio(index, AUDIO_PACKET_BYTES).await;
    }

    /// Sends video frame `index` of `len` bytes (30 frames a second).
    pub async fn send_video(&self, index: u32, keyframe: bool, len: usize) {
        let video = synthetic(self.peer_id, index, len, Some(keyframe));
        write(&self.video, VIDEO_PT, video, Duration::from_millis(33)).await;
    }

    /// Sends audio packet `index` of `len` bytes (50 packets a second).
    pub async fn send_audio(&self, index: u32, len: usize) {
        let audio = synthetic(self.peer_id, index, len, None);
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
