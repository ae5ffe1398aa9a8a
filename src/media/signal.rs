//! Media signalling messages: the JSON objects the `Media` protocol messages carry
//! (docs/protocol.md, "Media: audio and video"). Decoding checks every size, so the SFU
//! only ever sees bounded input.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Largest signal a client may send (an SDP offer of a full call is ~15 KiB).
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;
/// Most published tracks named in one offer.
const MAX_TRACKS: usize = 8;
/// Longest mid named in an offer.
const MAX_MID_CHARS: usize = 16;

/// What a participant publishes on a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Microphone,
    Camera,
    Screen,
}

/// Whether a participant sends each source (false: muted, camera off, not sharing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MuteState {
    pub microphone: bool,
    pub camera: bool,
    pub screen: bool,
}

/// A signal from a client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientSignal {
    Join,
    Offer {
        sdp: String,
        /// What each of the client's sending m-lines carries, by mid.
        #[serde(default)]
        tracks: BTreeMap<String, Source>,
    },
    Answer {
        sdp: String,
    },
    State(MuteState),
    Leave,
}

/// Why a client's signal was refused, as the `error` signal's `code` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalError {
    Malformed,
    NotJoined,
    CallFull,
    BadSdp,
    NoCodec,
    TooManyOffers,
    ConnectionLost,
    Unavailable,
}

/// A track the server forwards to a participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardedTrack {
    pub mid: String,
    pub peer_id: u64,
    pub source: Source,
}

/// An RTCIceServer as browsers take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub credential: String,
}

/// Someone in the call and what they send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallMember {
    pub peer_id: u64,
    #[serde(flatten)]
    pub state: MuteState,
}

/// A signal from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerSignal {
    Joined {
        ice_servers: Vec<IceServer>,
        participants: Vec<CallMember>,
    },
    Answer {
        sdp: String,
    },
    Offer {
        sdp: String,
        tracks: Vec<ForwardedTrack>,
    },
    Participant(CallMember),
    Left {
        peer_id: u64,
    },
    Speaker {
        peer_id: Option<u64>,
    },
    Error {
        code: SignalError,
        message: String,
    },
}

impl ServerSignal {
    pub fn error(code: SignalError, message: impl Into<String>) -> Self {
        ServerSignal::Error {
            code,
            message: message.into(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("signals always serialise")
    }
}

impl ClientSignal {
    /// Decodes a client's signal, refusing oversized or malformed ones with a message that
    /// says what is wrong.
    pub fn decode(text: &str) -> Result<Self, String> {
        if text.len() > MAX_SIGNAL_BYTES {
            return Err(format!(
                "a media signal of {} bytes is larger than the limit of {MAX_SIGNAL_BYTES}",
                text.len()
            ));
        }
        let signal: ClientSignal =
            serde_json::from_str(text).map_err(|err| format!("a media signal does not decode: {err}"))?;
        if let ClientSignal::Offer { tracks, .. } = &signal {
            if tracks.len() > MAX_TRACKS {
                return Err(format!("an offer may name at most {MAX_TRACKS} tracks"));
            }
            if tracks
                .keys()
                .any(|mid| mid.is_empty() || mid.chars().count() > MAX_MID_CHARS)
            {
                return Err(format!("a track's mid must be 1 to {MAX_MID_CHARS} characters"));
            }
        }
        Ok(signal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_signals_decode() {
        assert_eq!(ClientSignal::decode(r#"{"type":"join"}"#), Ok(ClientSignal::Join));
        assert_eq!(
            ClientSignal::decode(r#"{"type":"offer","sdp":"v=0","tracks":{"0":"microphone","1":"camera"}}"#),
            Ok(ClientSignal::Offer {
                sdp: "v=0".into(),
                tracks: [("0".into(), Source::Microphone), ("1".into(), Source::Camera)].into(),
            })
        );
        assert_eq!(
            ClientSignal::decode(r#"{"type":"state","microphone":false,"camera":true,"screen":false}"#),
            Ok(ClientSignal::State(MuteState {
                microphone: false,
                camera: true,
                screen: false
            }))
        );
    }

    #[test]
    fn bad_signals_are_refused_with_a_reason() {
        for bad in [
            "",
            "null",
            "[]",
            r#"{"type":"dance"}"#,
            r#"{"type":"offer"}"#,
            r#"{"type":"offer","sdp":"v=0","tracks":{"0":"hologram"}}"#,
            r#"{"type":"offer","sdp":"v=0","tracks":{"":"camera"}}"#,
            r#"{"type":"state","microphone":"loud"}"#,
        ] {
            let err = ClientSignal::decode(bad).expect_err(bad);
            assert!(!err.is_empty());
        }
        let huge = format!(r#"{{"type":"answer","sdp":"{}"}}"#, "a".repeat(MAX_SIGNAL_BYTES));
        assert!(ClientSignal::decode(&huge).unwrap_err().contains("larger than"));
        let many: BTreeMap<String, Source> = (0..9).map(|i| (i.to_string(), Source::Camera)).collect();
        let offer = serde_json::json!({"type": "offer", "sdp": "v=0", "tracks": many}).to_string();
        assert!(ClientSignal::decode(&offer).unwrap_err().contains("at most"));
    }

    #[test]
    fn server_signals_are_the_documented_json() {
        let joined = ServerSignal::Joined {
            ice_servers: vec![IceServer {
                urls: vec!["turn:turn.example.com:3478".into()],
                username: "u".into(),
                credential: "p".into(),
            }],
            participants: vec![CallMember {
                peer_id: 3,
                state: MuteState {
                    microphone: true,
                    camera: false,
                    screen: false,
                },
            }],
        };
        assert_eq!(
            joined.to_json(),
            r#"{"type":"joined","ice_servers":[{"urls":["turn:turn.example.com:3478"],"username":"u","credential":"p"}],"participants":[{"peer_id":3,"microphone":true,"camera":false,"screen":false}]}"#
        );
        assert_eq!(
            ServerSignal::Speaker { peer_id: None }.to_json(),
            r#"{"type":"speaker","peer_id":null}"#
        );
        assert_eq!(
            ServerSignal::error(SignalError::NoCodec, "x").to_json(),
            r#"{"type":"error","code":"no_codec","message":"x"}"#
        );
    }
}
