//! What the SFU counts, as Prometheus metrics (`/metrics`) that benchmarks read too.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The SFU's counters; cheap to update from its task.
#[derive(Debug, Clone)]
pub struct MediaMetrics {
    frames_in: Counter,
    frames_out: Counter,
    packets_sent: Counter,
    packets_dropped: Counter,
    participants: Gauge,
    /// From a frame's first packet reaching the SFU to its copies leaving it, by kind.
    forward_seconds: Family<KindLabel, Histogram, fn() -> Histogram>,
}

/// `kind="audio"` or `kind="video"`: an audio frame is one packet, so its time is the
/// SFU's own; a video frame's also holds the wait for the frame's later packets.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

fn forward_histogram() -> Histogram {
    // 25 µs to ~0.3 s, each bucket half again the one before.
    Histogram::new(exponential_buckets(0.000_025, 1.5, 24))
}

impl Default for MediaMetrics {
    fn default() -> Self {
        Self {
            frames_in: Counter::default(),
            frames_out: Counter::default(),
            packets_sent: Counter::default(),
            packets_dropped: Counter::default(),
            participants: Gauge::default(),
            forward_seconds: Family::new_with_constructor(forward_histogram),
        }
    }
}

impl MediaMetrics {
    /// Adds the metrics to `registry` (prefixed `media_`).
    pub fn register(&self, registry: &mut Registry) {
        let media = registry.sub_registry_with_prefix("media");
        media.register(
            "frames_received",
            "Audio and video frames received from publishers",
            self.frames_in.clone(),
        );
        media.register(
            "frames_forwarded",
            "Frames written to subscribers",
            self.frames_out.clone(),
        );
        media.register(
            "packets_sent",
            "Packets sent: media, RTCP, STUN and DTLS",
            self.packets_sent.clone(),
        );
        media.register(
            "packets_dropped",
            "Packets no participant took: garbage, strangers, late arrivals",
            self.packets_dropped.clone(),
        );
        media.register("participants", "People in calls", self.participants.clone());
        media.register(
            "forward_seconds",
            "Time from a frame's first packet reaching the SFU to its copies being sent, by kind",
            self.forward_seconds.clone(),
        );
    }

    pub(super) fn received(&self) {
        self.frames_in.inc();
    }
    pub(super) fn forwarded(&self) {
        self.frames_out.inc();
    }
    pub(super) fn sent(&self, packets: u64) {
        self.packets_sent.inc_by(packets);
    }
    pub(super) fn dropped(&self) {
        self.packets_dropped.inc();
    }
    pub(super) fn set_participants(&self, count: usize) {
        self.participants.set(i64::try_from(count).unwrap_or(i64::MAX));
    }
    pub(super) fn forward_took(&self, video: bool, seconds: f64) {
        let kind = if video { "video" } else { "audio" };
        self.forward_seconds
            .get_or_create(&KindLabel { kind })
            .observe(seconds);
    }
}
