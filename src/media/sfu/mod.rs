//! The SFU without I/O: every call's participants, what arrives for them, and what they
//! send. The socket task ([`crate::media::net`]) feeds it packets, signals and the time, and
//! sends the [`Transmit`]s it queues; its tests do the same with str0m clients in memory
//! and simulated time.

mod media;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::net::{Protocol, Receive, Transmit};
use str0m::{Candidate, Input, Output};

use super::participant::{Participant, ParticipantId};
use super::signal::{ClientSignal, IceServer, ServerSignal, SignalError};
use super::speaker;
use super::{MediaMetrics, SignalSink};

/// How often each call's active speaker is worked out.
const SPEAKER_EVERY: Duration = Duration::from_millis(400);
/// The longest the SFU sleeps between two looks at its participants.
const MAX_SLEEP: Duration = Duration::from_millis(100);

/// What the SFU is told at start.
pub struct SfuSettings {
    /// The local candidates every participant is given (UDP, and ICE-TCP if enabled).
    pub candidates: Vec<Candidate>,
    pub ice_servers: Vec<IceServer>,
    pub max_participants: usize,
    pub ice_timeout: Duration,
}

/// One room's call.
#[derive(Default)]
struct Call {
    members: Vec<ParticipantId>,
    speaker: Option<u64>,
    next_speaker_check: Option<Instant>,
}

/// Every call on this server.
pub struct Sfu {
    settings: SfuSettings,
    participants: HashMap<ParticipantId, Participant>,
    by_peer: HashMap<(Arc<str>, u64), ParticipantId>,
    calls: HashMap<Arc<str>, Call>,
    /// Which participant a remote address belongs to, learnt from the first packet.
    routes: HashMap<(Protocol, SocketAddr), ParticipantId>,
    transmits: Vec<Transmit>,
    /// ICE-TCP connections whose participant left: the socket task closes them.
    closed_tcp: Vec<SocketAddr>,
    metrics: MediaMetrics,
    /// When each frame forwarded since the last look arrived (its first packet).
    forwarded_frames: Vec<(bool, Instant)>,
    next_id: u64,
}

/// Participants whose output is still to be polled after an input.
type Dirty = Vec<ParticipantId>;

impl Sfu {
    pub fn new(settings: SfuSettings, metrics: MediaMetrics) -> Self {
        Self {
            settings,
            participants: HashMap::new(),
            by_peer: HashMap::new(),
            calls: HashMap::new(),
            routes: HashMap::new(),
            transmits: Vec::new(),
            closed_tcp: Vec::new(),
            metrics,
            forwarded_frames: Vec::new(),
            next_id: 1,
        }
    }

    /// Packets to send, in order.
    pub fn take_transmits(&mut self) -> std::vec::Drain<'_, Transmit> {
        self.transmits.drain(..)
    }

    /// When the frames forwarded since the last call arrived (and whether each is video),
    /// to time the SFU's hop.
    pub fn take_forwarded_frames(&mut self) -> std::vec::Drain<'_, (bool, Instant)> {
        self.forwarded_frames.drain(..)
    }

    /// How many people are in calls.
    pub fn participant_count(&self) -> usize {
        self.participants.len()
    }

    /// ICE-TCP connections to close.
    pub fn take_closed_tcp(&mut self) -> Vec<SocketAddr> {
        std::mem::take(&mut self.closed_tcp)
    }

    /// When [`Sfu::timeout`] must next be called.
    pub fn next_timeout(&self, now: Instant) -> Instant {
        let speaker = self.calls.values().filter_map(|c| c.next_speaker_check);
        self.participants
            .values()
            .map(|p| p.next_timeout)
            .chain(speaker)
            .fold(now + MAX_SLEEP, Instant::min)
    }

    /// A signal from participant `peer_id` of `room` (`sink` reaches them).
    pub fn signal(
        &mut self,
        room: Arc<str>,
        peer_id: u64,
        sink: Box<dyn SignalSink>,
        signal: ClientSignal,
        now: Instant,
    ) {
        let key = (room.clone(), peer_id);
        if let ClientSignal::Join = signal {
            if let Some(old) = self.by_peer.get(&key).copied() {
                self.remove(old, None, now);
            }
            self.join(room, peer_id, sink, now);
            return;
        }
        let Some(id) = self.by_peer.get(&key).copied() else {
            if !matches!(signal, ClientSignal::Leave) {
                sink.send(&ServerSignal::error(
                    SignalError::NotJoined,
                    "join the call first",
                ));
            }
            return;
        };
        let mut dirty = vec![id];
        match signal {
            ClientSignal::Join => unreachable!("handled above"),
            ClientSignal::Leave => {
                self.remove(id, None, now);
                return;
            }
            ClientSignal::Offer { sdp, tracks } => {
                let participant = self.participants.get_mut(&id).expect("routed participants exist");
                if let Err((code, message)) = participant.accept_offer(&sdp, tracks, now) {
                    participant.refuse(code, message);
                }
            }
            ClientSignal::Answer { sdp } => {
                let participant = self.participants.get_mut(&id).expect("routed participants exist");
                match participant.accept_answer(&sdp) {
                    Ok(opened) => {
                        for (from, mid) in opened {
                            self.request_keyframe(from, mid, now, &mut dirty);
                        }
                    }
                    Err((code, message)) => participant.refuse(code, message),
                }
            }
            ClientSignal::State(state) => {
                let participant = self.participants.get_mut(&id).expect("routed participants exist");
                participant.state = state;
                let member = participant.member();
                self.tell_others(id, &ServerSignal::Participant(member));
            }
        }
        self.drive(dirty, now);
    }

    /// The participant's socket closed: they leave the call.
    pub fn disconnect(&mut self, room: Arc<str>, peer_id: u64, now: Instant) {
        if let Some(id) = self.by_peer.get(&(room, peer_id)).copied() {
            self.remove(id, None, now);
        }
    }

    /// A packet from the network; false if no participant takes it (it is dropped).
    pub fn receive(
        &mut self,
        proto: Protocol,
        source: SocketAddr,
        destination: SocketAddr,
        bytes: &[u8],
        now: Instant,
    ) -> bool {
        let Ok(contents) = bytes.try_into() else {
            self.metrics.dropped();
            return false;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto,
                source,
                destination,
                contents,
            },
        );
        let id = match self.routes.get(&(proto, source)) {
            Some(id) => *id,
            None => {
                let Some(id) = self
                    .participants
                    .values()
                    .find(|p| p.rtc.accepts(&input))
                    .map(|p| p.id)
                else {
                    self.metrics.dropped();
                    return false;
                };
                self.routes.insert((proto, source), id);
                id
            }
        };
        let Some(participant) = self.participants.get_mut(&id) else {
            self.routes.remove(&(proto, source));
            return false;
        };
        participant.last_heard = now;
        if let Err(err) = participant.rtc.handle_input(input) {
            tracing::debug!(peer = participant.peer_id, error = %err, "media input refused");
        }
        self.drive(vec![id], now);
        true
    }

    /// Moves time forward: timers of every participant due, ICE timeouts, active speakers.
    pub fn timeout(&mut self, now: Instant) {
        let ice_timeout = self.settings.ice_timeout;
        let silent: Vec<ParticipantId> = self
            .participants
            .values()
            .filter(|p| now.saturating_duration_since(p.last_heard) > ice_timeout)
            .map(|p| p.id)
            .collect();
        for id in silent {
            self.remove(
                id,
                Some("no media arrived for too long (the connection was lost)"),
                now,
            );
        }
        let due: Dirty = self
            .participants
            .values_mut()
            .filter(|p| p.next_timeout <= now)
            .map(|p| {
                let _ = p.rtc.handle_input(Input::Timeout(now));
                p.id
            })
            .collect();
        self.drive(due, now);
        self.pick_speakers(now);
    }

    fn join(&mut self, room: Arc<str>, peer_id: u64, sink: Box<dyn SignalSink>, now: Instant) {
        let call = self.calls.entry(room.clone()).or_default();
        if call.members.len() >= self.settings.max_participants {
            sink.send(&ServerSignal::error(
                SignalError::CallFull,
                format!("the call already has {} people", self.settings.max_participants),
            ));
            if call.members.is_empty() {
                self.calls.remove(&room);
            }
            return;
        }
        let id = ParticipantId(self.next_id);
        self.next_id += 1;
        call.members.push(id);
        call.next_speaker_check.get_or_insert(now + SPEAKER_EVERY);
        let others: Vec<_> = call
            .members
            .iter()
            .filter(|m| **m != id)
            .filter_map(|m| self.participants.get(m))
            .map(Participant::member)
            .collect();
        let participant = Participant::new(id, room.clone(), peer_id, &self.settings.candidates, sink, now);
        participant.send(&ServerSignal::Joined {
            ice_servers: self.settings.ice_servers.clone(),
            participants: others,
        });
        let member = participant.member();
        self.participants.insert(id, participant);
        self.by_peer.insert((room, peer_id), id);
        self.tell_others(id, &ServerSignal::Participant(member));
        // Everything the others publish is forwarded to the newcomer.
        let others = self.members_besides(id);
        let mut newcomer = self.participants.remove(&id).expect("just inserted");
        for other in others {
            let other = &self.participants[&other];
            for published in &other.published {
                newcomer.forward(other, published);
            }
        }
        self.participants.insert(id, newcomer);
        tracing::debug!(room = %self.participants[&id].room, peer_id, "joined the call");
    }

    /// Removes a participant; `lost` tells them why when their connection failed.
    fn remove(&mut self, id: ParticipantId, lost: Option<&str>, now: Instant) {
        let Some(mut participant) = self.participants.remove(&id) else {
            return;
        };
        if let Some(reason) = lost {
            participant.refuse(SignalError::ConnectionLost, reason);
        }
        participant.rtc.disconnect();
        self.by_peer
            .remove(&(participant.room.clone(), participant.peer_id));
        let closed_tcp = &mut self.closed_tcp;
        self.routes.retain(|(proto, addr), owner| {
            let keep = *owner != id;
            if !keep && *proto == Protocol::Tcp {
                closed_tcp.push(*addr);
            }
            keep
        });
        let Some(call) = self.calls.get_mut(&participant.room) else {
            return;
        };
        call.members.retain(|m| *m != id);
        let members = call.members.clone();
        if members.is_empty() {
            self.calls.remove(&participant.room);
        }
        let left = ServerSignal::Left {
            peer_id: participant.peer_id,
        };
        for member in &members {
            if let Some(other) = self.participants.get_mut(member) {
                other.stop_forwarding(id, None);
                other.send(&left);
            }
        }
        tracing::debug!(room = %participant.room, peer_id = participant.peer_id, "left the call");
        self.drive(members, now);
    }

    /// Polls each participant in `dirty` (and any its output touches) until it waits
    /// for time to pass, handling what comes out.
    fn drive(&mut self, mut dirty: Dirty, now: Instant) {
        let mut events = Vec::new();
        while let Some(id) = dirty.pop() {
            let Some(participant) = self.participants.get_mut(&id) else {
                continue;
            };
            participant.negotiate();
            loop {
                match participant.rtc.poll_output() {
                    Ok(Output::Timeout(at)) => {
                        participant.next_timeout = at;
                        break;
                    }
                    Ok(Output::Transmit(transmit)) => self.transmits.push(transmit),
                    Ok(Output::Event(event)) => events.push(event),
                    Err(err) => {
                        tracing::debug!(peer = participant.peer_id, error = %err, "media session failed");
                        participant.rtc.disconnect();
                        break;
                    }
                }
            }
            if !participant.rtc.is_alive() {
                self.remove(id, Some("the media connection failed"), now);
                events.clear();
                continue;
            }
            for event in events.drain(..) {
                self.handle_event(id, event, now, &mut dirty);
            }
        }
    }

    /// Works out each call's active speaker and tells its members when it changes.
    fn pick_speakers(&mut self, now: Instant) {
        let mut changes = Vec::new();
        for (room, call) in &mut self.calls {
            if call.next_speaker_check.is_some_and(|at| at > now) {
                continue;
            }
            call.next_speaker_check = Some(now + SPEAKER_EVERY);
            let voices = call
                .members
                .iter()
                .filter_map(|m| self.participants.get(m))
                .map(|p| (p.peer_id, p.voice));
            let speaker = speaker::pick(call.speaker, voices);
            if speaker != call.speaker {
                call.speaker = speaker;
                changes.push((room.clone(), speaker));
            }
        }
        for (room, speaker) in changes {
            let signal = ServerSignal::Speaker { peer_id: speaker };
            for member in self.calls[&room].members.iter() {
                if let Some(p) = self.participants.get(member) {
                    p.send(&signal);
                }
            }
        }
    }

    fn members_besides(&self, id: ParticipantId) -> Vec<ParticipantId> {
        let Some(room) = self.participants.get(&id).map(|p| &p.room) else {
            return Vec::new();
        };
        self.calls
            .get(room)
            .map(|call| call.members.iter().copied().filter(|m| *m != id).collect())
            .unwrap_or_default()
    }

    fn tell_others(&self, id: ParticipantId, signal: &ServerSignal) {
        for other in self.members_besides(id) {
            if let Some(other) = self.participants.get(&other) {
                other.send(signal);
            }
        }
    }
}
