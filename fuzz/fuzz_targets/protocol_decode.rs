//! Any bytes given to the protocol decoders: no panic, and whatever decodes re-encodes to
//! a message that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pairline::protocol::{ClientMessage, ServerMessage};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = ClientMessage::decode(data) {
        assert_eq!(ClientMessage::decode(&message.encode()).as_ref(), Ok(&message));
    }
    if let Ok(message) = ServerMessage::decode(data) {
        assert_eq!(ServerMessage::decode(&message.encode()).as_ref(), Ok(&message));
    }
});
