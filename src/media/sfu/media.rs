//! What flows through a call: tracks published and forwarded, frames written to every
//! subscriber, keyframe requests passed back to publishers.

use std::time::Instant;

use str0m::media::{MediaData, MediaKind, Mid};
use str0m::{Event, IceConnectionState};

use super::{Dirty, Sfu};
use crate::media::participant::ParticipantId;

impl Sfu {
    pub(super) fn handle_event(&mut self, id: ParticipantId, event: Event, now: Instant, dirty: &mut Dirty) {
        match event {
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.remove(id, Some("the media connection was lost"), now);
            }
            Event::MediaAdded(added) if added.direction.is_receiving() => {
                self.publish(id, added.mid, added.kind, dirty);
            }
            Event::MediaChanged(changed) => {
                if changed.direction.is_receiving() {
                    let kind = self.participants[&id].rtc.media(changed.mid).map(|m| m.kind());
                    if let Some(kind) = kind {
                        self.publish(id, changed.mid, kind, dirty);
                    }
                } else if self
                    .participants
                    .get_mut(&id)
                    .is_some_and(|p| p.unpublish(changed.mid))
                {
                    for other in self.members_besides(id) {
                        if let Some(other) = self.participants.get_mut(&other) {
                            other.stop_forwarding(id, Some(changed.mid));
                            dirty.push(other.id);
                        }
                    }
                }
            }
            Event::MediaData(data) => self.forward(id, data, now, dirty),
            Event::KeyframeRequest(request) => {
                let source = self.participants.get(&id).and_then(|p| p.source_of(request.mid));
                if let Some((from, mid)) = source {
                    self.request_keyframe(from, mid, now, dirty);
                }
            }
            _ => {}
        }
    }

    /// A track a participant started sending: every other member gets it.
    fn publish(&mut self, id: ParticipantId, mid: Mid, kind: MediaKind, dirty: &mut Dirty) {
        let others = self.members_besides(id);
        let Some(mut publisher) = self.participants.remove(&id) else {
            return;
        };
        if publisher.publish(mid, kind) {
            let published = publisher.published.last().expect("just published");
            for other in others {
                if let Some(other) = self.participants.get_mut(&other) {
                    other.forward(&publisher, published);
                    dirty.push(other.id);
                }
            }
        }
        self.participants.insert(id, publisher);
    }

    /// Writes a frame a participant sent to every other member receiving it.
    fn forward(&mut self, id: ParticipantId, data: MediaData, now: Instant, dirty: &mut Dirty) {
        let Some(publisher) = self.participants.get_mut(&id) else {
            return;
        };
        if let Some(level) = data.ext_vals.audio_level {
            publisher.voice.hear(level);
        }
        if !data.contiguous {
            publisher.request_keyframe(data.mid, now);
        }
        self.metrics.received();
        let data = &data;
        let mut forwarded = false;
        for other in self.members_besides(id) {
            let Some(subscriber) = self.participants.get_mut(&other) else {
                continue;
            };
            let Some(mid) = subscriber.forwarded_mid(id, data.mid) else {
                continue;
            };
            let Some(writer) = subscriber.rtc.writer(mid) else {
                continue;
            };
            let Some(pt) = writer.match_params(data.params) else {
                continue;
            };
            match writer.write(pt, data.network_time, data.time, data.data.clone()) {
                Ok(()) => {
                    self.metrics.forwarded();
                    forwarded = true;
                }
                Err(err) => tracing::debug!(peer = subscriber.peer_id, error = %err, "cannot forward"),
            }
            dirty.push(other);
        }
        if forwarded {
            let video = data.params.spec().codec.is_video();
            self.forwarded_frames.push((video, data.network_time));
        }
    }

    pub(super) fn request_keyframe(
        &mut self,
        from: ParticipantId,
        mid: Mid,
        now: Instant,
        dirty: &mut Dirty,
    ) {
        if let Some(publisher) = self.participants.get_mut(&from)
            && publisher.request_keyframe(mid, now)
        {
            dirty.push(from);
        }
    }
}
