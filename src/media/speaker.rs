//! The active speaker: each participant's recent voice activity from the audio levels
//! (RFC 6464) on the audio they send, and who of a call's members is speaking now.

/// Voice activity above this makes someone the speaker.
const SPEAKING: f32 = 0.3;
/// The speaker stays the speaker while they trail off above this.
const TRAILING: f32 = 0.1;
/// An audio level (dBov) louder than this counts as speech.
const SPEECH_LEVEL: i8 = -50;

/// How much a participant has been speaking lately: 0 (silent) to 1 (every packet).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Voice(f32);

impl Voice {
    /// Folds in one packet's audio level (0 dBov loudest, -127 silence): about the last
    /// ten packets (200 ms) count.
    pub fn hear(&mut self, level: i8) {
        let speaking = if level > SPEECH_LEVEL { 1.0 } else { 0.0 };
        self.0 = self.0 * 0.9 + speaking * 0.1;
    }
}

/// The speaker among `voices` (peer id, voice): the most active one above the speaking
/// threshold; in silence the `current` speaker while they still trail off, else nobody.
pub fn pick(current: Option<u64>, voices: impl IntoIterator<Item = (u64, Voice)>) -> Option<u64> {
    let voices: Vec<(u64, Voice)> = voices.into_iter().collect();
    let loudest = voices
        .iter()
        .filter(|(_, voice)| voice.0 > SPEAKING)
        .max_by(|a, b| a.1.0.total_cmp(&b.1.0));
    match loudest {
        Some((peer, _)) => Some(*peer),
        None => current.filter(|peer| voices.iter().any(|(p, voice)| p == peer && voice.0 > TRAILING)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(levels: &[i8]) -> Voice {
        let mut voice = Voice::default();
        for level in levels {
            voice.hear(*level);
        }
        voice
    }

    #[test]
    fn the_loudest_talker_is_the_speaker_and_silence_ends_it() {
        let talking = voice(&[-20; 20]);
        let murmur = voice(&[-20, -90, -90, -20, -90, -90, -90, -90]);
        let silent = voice(&[-127; 20]);
        assert!(talking.0 > murmur.0);
        assert_eq!(pick(None, [(1, silent), (2, talking), (3, murmur)]), Some(2));
        assert_eq!(pick(Some(3), [(1, silent), (2, silent)]), None);
        // Someone who just stopped stays the speaker for a moment.
        let trailing = voice(&[
            -20, -20, -20, -20, -20, -20, -127, -127, -127, -127, -127, -127, -127, -127,
        ]);
        assert!(trailing.0 < SPEAKING && trailing.0 > TRAILING);
        assert_eq!(pick(Some(2), [(1, silent), (2, trailing)]), Some(2));
        assert_eq!(pick(None, [(1, silent), (2, trailing)]), None);
    }
}
