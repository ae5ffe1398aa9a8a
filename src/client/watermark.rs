//! The client's sync watermark (docs/protocol.md, "The watermark and catch-up").

use std::collections::BTreeSet;

/// Tracks which sequence numbers a client has received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watermark {
    contiguous: u64,
    above: BTreeSet<u64>,
    durable: u64,
}

impl Watermark {
    /// Starts from a stored watermark: everything up to `synced` is held.
    pub fn from_synced(synced: u64) -> Self {
        Self {
            contiguous: synced,
            above: BTreeSet::new(),
            durable: synced,
        }
    }

    /// A change with sequence number `seq` was received (or acknowledged).
    pub fn see(&mut self, seq: u64) {
        if seq <= self.contiguous {
            return;
        }
        self.above.insert(seq);
        while self.above.remove(&(self.contiguous + 1)) {
            self.contiguous += 1;
        }
    }

    /// Everything up to `seq` was received at once (a snapshot covering it).
    pub fn cover(&mut self, seq: u64) {
        self.contiguous = self.contiguous.max(seq);
        self.above.retain(|above| *above > seq);
        while self.above.remove(&(self.contiguous + 1)) {
            self.contiguous += 1;
        }
    }

    /// The server said everything up to `seq` is durable.
    pub fn durable(&mut self, seq: u64) {
        self.durable = self.durable.max(seq);
    }

    /// Every sequence number up to this has been received.
    pub fn contiguous(&self) -> u64 {
        self.contiguous
    }

    /// What to send as `Hello.synced_seq`: received and durable.
    pub fn synced(&self) -> u64 {
        self.contiguous.min(self.durable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_only_over_contiguous_durable_numbers() {
        let mut mark = Watermark::default();
        mark.see(2);
        mark.see(3);
        assert_eq!(mark.contiguous(), 0, "1 is missing");
        mark.see(1);
        assert_eq!(mark.contiguous(), 3);
        assert_eq!(mark.synced(), 0, "nothing is durable yet");
        mark.durable(2);
        assert_eq!(mark.synced(), 2);
        mark.durable(10);
        assert_eq!(mark.synced(), 3);
        mark.see(3);
        mark.see(5);
        assert_eq!(mark.synced(), 3);
        assert_eq!(Watermark::from_synced(7).synced(), 7);
    }
}
