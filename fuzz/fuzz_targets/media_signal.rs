//! Any text given to the media signalling decoder, and any SDP in an offer given to the
//! SFU's offer handling: no panic; a refusal always says why.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pairline::media::answer_offer;
use pairline::media::signal::ClientSignal;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ClientSignal::decode(text) {
        Ok(ClientSignal::Offer { sdp, .. }) => {
            if let Err(reason) = answer_offer(&sdp) {
                assert!(!reason.is_empty());
            }
        }
        Ok(_) => {}
        Err(reason) => assert!(!reason.is_empty()),
    }
    // Raw text as an SDP offer too: most inputs are not JSON.
    if let Err(reason) = answer_offer(text) {
        assert!(!reason.is_empty());
    }
});
