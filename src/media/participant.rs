//! One member of a call: their str0m [`Rtc`], the tracks they publish, the tracks
//! forwarded to them, and the state of the SDP negotiation with their browser.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid};
use str0m::{Candidate, Rtc};

use super::SignalSink;
use super::signal::{CallMember, ForwardedTrack, MuteState, ServerSignal, SignalError, Source};
use super::speaker::Voice;

/// A participant's identity inside the SFU (peer ids repeat across rooms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(pub u64);

/// Offers a participant may make in [`OFFER_WINDOW`].
const MAX_OFFERS: usize = 20;
const OFFER_WINDOW: Duration = Duration::from_secs(10);
/// At most one keyframe request per published track in this time.
const KEYFRAME_INTERVAL: Duration = Duration::from_millis(500);

/// A track the participant publishes.
#[derive(Debug)]
pub struct Published {
    pub mid: Mid,
    pub kind: MediaKind,
    pub source: Source,
    last_keyframe_request: Option<Instant>,
}

/// Where a forwarded track is in its negotiation with the subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardState {
    /// Still to be offered.
    ToOpen,
    /// Offered as this mid; the answer has not arrived.
    Negotiating(Mid),
    Open(Mid),
    /// To be stopped (its publisher left or stopped sending).
    ToStop(Mid),
    NegotiatingStop(Mid),
}

/// Another participant's track, forwarded to this one.
#[derive(Debug)]
pub struct Forward {
    pub from: ParticipantId,
    pub from_peer: u64,
    pub from_mid: Mid,
    pub kind: MediaKind,
    pub source: Source,
    pub state: ForwardState,
}

impl Forward {
    /// The mid of this track in the subscriber's session, once it has one.
    pub fn mid(&self) -> Option<Mid> {
        match self.state {
            ForwardState::ToOpen => None,
            ForwardState::Negotiating(m)
            | ForwardState::Open(m)
            | ForwardState::ToStop(m)
            | ForwardState::NegotiatingStop(m) => Some(m),
        }
    }
}

pub struct Participant {
    pub id: ParticipantId,
    pub room: Arc<str>,
    pub peer_id: u64,
    pub rtc: Rtc,
    pub sink: Box<dyn SignalSink>,
    pub state: MuteState,
    pub published: Vec<Published>,
    pub forwarded: Vec<Forward>,
    /// The server's offer awaiting the participant's answer.
    pending: Option<SdpPendingOffer>,
    /// Whether the participant has made its first offer (before it, nothing is offered
    /// to it: its browser has no session yet).
    pub offered: bool,
    /// What the participant said each of its sending mids carries.
    declared: BTreeMap<String, Source>,
    recent_offers: VecDeque<Instant>,
    /// When the last packet from this participant arrived (or when it joined).
    pub last_heard: Instant,
    pub next_timeout: Instant,
    /// How much the participant has been speaking lately.
    pub voice: Voice,
}

impl Participant {
    pub fn new(
        id: ParticipantId,
        room: Arc<str>,
        peer_id: u64,
        candidates: &[Candidate],
        sink: Box<dyn SignalSink>,
        now: Instant,
    ) -> Self {
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(now);
        for candidate in candidates {
            rtc.add_local_candidate(candidate.clone());
        }
        Self {
            id,
            room,
            peer_id,
            rtc,
            sink,
            state: MuteState::default(),
            published: Vec::new(),
            forwarded: Vec::new(),
            pending: None,
            offered: false,
            declared: BTreeMap::new(),
            recent_offers: VecDeque::new(),
            last_heard: now,
            next_timeout: now,
            voice: Voice::default(),
        }
    }

    pub fn send(&self, signal: &ServerSignal) {
        self.sink.send(signal);
    }

    pub fn refuse(&self, code: SignalError, message: impl Into<String>) {
        self.send(&ServerSignal::error(code, message));
    }

    pub fn member(&self) -> CallMember {
        CallMember {
            peer_id: self.peer_id,
            state: self.state,
        }
    }

    /// Answers the participant's offer. The server's own offer, if one is out, is dropped
    /// (the client's offer wins a crossing) and made again later.
    pub fn accept_offer(
        &mut self,
        sdp: &str,
        tracks: BTreeMap<String, Source>,
        now: Instant,
    ) -> Result<(), (SignalError, String)> {
        while self
            .recent_offers
            .front()
            .is_some_and(|at| now - *at > OFFER_WINDOW)
        {
            self.recent_offers.pop_front();
        }
        if self.recent_offers.len() >= MAX_OFFERS {
            return Err((
                SignalError::TooManyOffers,
                format!(
                    "more than {MAX_OFFERS} offers in {} seconds",
                    OFFER_WINDOW.as_secs()
                ),
            ));
        }
        self.recent_offers.push_back(now);
        let offer = SdpOffer::from_sdp_string(sdp)
            .map_err(|err| (SignalError::BadSdp, format!("the offer is not valid SDP: {err}")))?;
        if !has_usable_codec(sdp) {
            return Err((
                SignalError::NoCodec,
                "the offer has no codec the server forwards: it needs Opus audio or VP8 video".into(),
            ));
        }
        let answer = self
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|err| (SignalError::BadSdp, format!("the offer was refused: {err}")))?;
        self.declared = tracks;
        self.pending = None;
        for forward in &mut self.forwarded {
            forward.state = match forward.state {
                ForwardState::Negotiating(_) => ForwardState::ToOpen,
                ForwardState::NegotiatingStop(m) => ForwardState::ToStop(m),
                other => other,
            };
        }
        // A stop of a track whose offer was just dropped has nothing left to stop.
        let rtc = &self.rtc;
        self.forwarded.retain(|f| match f.state {
            ForwardState::ToStop(m) => rtc.media(m).is_some(),
            _ => true,
        });
        self.offered = true;
        self.send(&ServerSignal::Answer {
            sdp: answer.to_sdp_string(),
        });
        Ok(())
    }

    /// Applies the participant's answer to the server's offer; returns the video tracks
    /// that just opened (their publishers owe the newcomer a keyframe).
    pub fn accept_answer(&mut self, sdp: &str) -> Result<Vec<(ParticipantId, Mid)>, (SignalError, String)> {
        let Some(pending) = self.pending.take() else {
            return Err((
                SignalError::BadSdp,
                "no offer of the server's is waiting for an answer".into(),
            ));
        };
        let answer = SdpAnswer::from_sdp_string(sdp)
            .map_err(|err| (SignalError::BadSdp, format!("the answer is not valid SDP: {err}")))?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|err| (SignalError::BadSdp, format!("the answer was refused: {err}")))?;
        let mut opened = Vec::new();
        for forward in &mut self.forwarded {
            if let ForwardState::Negotiating(m) = forward.state {
                forward.state = ForwardState::Open(m);
                if forward.kind == MediaKind::Video {
                    opened.push((forward.from, forward.from_mid));
                }
            }
        }
        self.forwarded
            .retain(|f| !matches!(f.state, ForwardState::NegotiatingStop(_)));
        Ok(opened)
    }

    /// Offers the participant the tracks still to open or stop, unless an offer is
    /// already out or the participant has not offered yet.
    pub fn negotiate(&mut self) {
        let changed = self
            .forwarded
            .iter()
            .any(|f| matches!(f.state, ForwardState::ToOpen | ForwardState::ToStop(_)));
        if !changed || !self.offered || self.pending.is_some() || !self.rtc.is_alive() {
            return;
        }
        let mut change = self.rtc.sdp_api();
        for forward in &mut self.forwarded {
            match forward.state {
                ForwardState::ToOpen => {
                    let stream = format!("peer-{}", forward.from_peer);
                    let track = format!("{}-{}", stream, forward.from_mid);
                    let mid =
                        change.add_media(forward.kind, Direction::SendOnly, Some(stream), Some(track), None);
                    forward.state = ForwardState::Negotiating(mid);
                }
                ForwardState::ToStop(mid) => {
                    change.stop_media(mid);
                    forward.state = ForwardState::NegotiatingStop(mid);
                }
                _ => {}
            }
        }
        if !change.has_changes() {
            return;
        }
        let Some((offer, pending)) = change.apply() else {
            return;
        };
        self.pending = Some(pending);
        let tracks = self
            .forwarded
            .iter()
            .filter_map(|f| match f.state {
                ForwardState::Negotiating(m) | ForwardState::Open(m) => Some(ForwardedTrack {
                    mid: m.to_string(),
                    peer_id: f.from_peer,
                    source: f.source,
                }),
                _ => None,
            })
            .collect();
        self.send(&ServerSignal::Offer {
            sdp: offer.to_sdp_string(),
            tracks,
        });
    }

    /// Records a track the participant started sending; false if it is known already.
    pub fn publish(&mut self, mid: Mid, kind: MediaKind) -> bool {
        if self.published.iter().any(|p| p.mid == mid) {
            return false;
        }
        let source = self.declared.get(&*mid).copied().unwrap_or(match kind {
            MediaKind::Audio => Source::Microphone,
            MediaKind::Video => Source::Camera,
        });
        self.published.push(Published {
            mid,
            kind,
            source,
            last_keyframe_request: None,
        });
        true
    }

    /// Forgets a track the participant stopped sending; true if it was published.
    pub fn unpublish(&mut self, mid: Mid) -> bool {
        let before = self.published.len();
        self.published.retain(|p| p.mid != mid);
        before != self.published.len()
    }

    /// Starts forwarding a track of `from`'s to this participant.
    pub fn forward(&mut self, from: &Participant, published: &Published) {
        self.forwarded.push(Forward {
            from: from.id,
            from_peer: from.peer_id,
            from_mid: published.mid,
            kind: published.kind,
            source: published.source,
            state: ForwardState::ToOpen,
        });
    }

    /// Stops forwarding `from`'s tracks (all of them, or the one of `mid`).
    pub fn stop_forwarding(&mut self, from: ParticipantId, mid: Option<Mid>) {
        let matches = |f: &Forward| f.from == from && mid.is_none_or(|m| f.from_mid == m);
        self.forwarded
            .retain(|f| !(matches(f) && f.state == ForwardState::ToOpen));
        for forward in self.forwarded.iter_mut().filter(|f| matches(f)) {
            forward.state = match forward.state {
                ForwardState::Negotiating(m) | ForwardState::Open(m) => ForwardState::ToStop(m),
                other => other,
            };
        }
    }

    /// The open mid `from`'s track `from_mid` is forwarded on, if any.
    pub fn forwarded_mid(&self, from: ParticipantId, from_mid: Mid) -> Option<Mid> {
        self.forwarded.iter().find_map(|f| match f.state {
            ForwardState::Open(m) if f.from == from && f.from_mid == from_mid => Some(m),
            _ => None,
        })
    }

    /// The source of what this participant receives on `mid`.
    pub fn source_of(&self, mid: Mid) -> Option<(ParticipantId, Mid)> {
        self.forwarded
            .iter()
            .find(|f| f.mid() == Some(mid))
            .map(|f| (f.from, f.from_mid))
    }

    /// Asks the participant's browser for a keyframe on a track it publishes, at most
    /// once per [`KEYFRAME_INTERVAL`]; true if a request went out.
    pub fn request_keyframe(&mut self, mid: Mid, now: Instant) -> bool {
        let Some(track) = self.published.iter_mut().find(|p| p.mid == mid) else {
            return false;
        };
        if track.kind != MediaKind::Video
            || track
                .last_keyframe_request
                .is_some_and(|at| now - at < KEYFRAME_INTERVAL)
        {
            return false;
        }
        let Some(mut writer) = self.rtc.writer(mid) else {
            return false;
        };
        if writer.request_keyframe(None, KeyframeRequestKind::Pli).is_err() {
            return false;
        }
        track.last_keyframe_request = Some(now);
        true
    }
}

/// Whether an offer names Opus or VP8 in any of its m-lines.
fn has_usable_codec(sdp: &str) -> bool {
    sdp.lines().any(|line| {
        line.strip_prefix("a=rtpmap:")
            .and_then(|rest| rest.split_whitespace().nth(1))
            .is_some_and(|codec| {
                let name = codec.split('/').next().unwrap_or("");
                name.eq_ignore_ascii_case("opus") || name.eq_ignore_ascii_case("vp8")
            })
    })
}

#[cfg(test)]
mod tests {
    use super::has_usable_codec;

    #[test]
    fn usable_codecs_are_found_in_rtpmap_lines() {
        assert!(has_usable_codec(
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
        ));
        assert!(has_usable_codec("a=rtpmap:96 VP8/90000\n"));
        assert!(!has_usable_codec(
            "a=rtpmap:96 H264/90000\na=rtpmap:0 PCMU/8000\n"
        ));
        assert!(!has_usable_codec("a=rtpmap:96\n"));
    }
}
