//! What a test peer receives: remote tracks read and checked, and the keyframe requests
//! that reach it as a publisher.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::sansio::Protocol;
use serde_json::json;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{PeerConnectionEventHandler, RTCPeerConnectionState};

use super::Inbox;
use super::payload::{read_synthetic, vp8_payload};
use super::signalling::record;

/// Counts the keyframe requests that reach a published video track.
pub fn watch_keyframe_requests(video: Arc<TrackLocalStaticSample>, count: Arc<AtomicU64>, inbox: Arc<Inbox>) {
    tokio::spawn(async move {
        while let Some(event) = video.poll().await {
            if let TrackLocalEvent::OnRtcpPacket(packets) = event {
                let requests = packets.iter().filter(|p| is_keyframe_request(p.as_ref())).count();
                count.fetch_add(requests as u64, Ordering::Relaxed);
                inbox.changed.notify_waiters();
            }
        }
    });
}

fn is_keyframe_request(packet: &dyn rtc::rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

pub struct Handler {
    pub inbox: Arc<Inbox>,
    pub remote_video: Arc<Mutex<HashMap<u64, Arc<dyn TrackRemote>>>>,
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
                        packet.header.marker.then(|| std::mem::take(&mut frame))
                    }
                    _ => Some(packet.payload.to_vec()),
                };
                let Some(data) = complete else { continue };
                let parsed = read_synthetic(&data);
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
pub struct KeyframeRequestTap {
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
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
