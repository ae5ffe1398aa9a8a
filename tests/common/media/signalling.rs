//! The room socket's side of a test peer: signals out, the server's signals handled.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use pairline::client::{Event, SyncClient};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use webrtc::peer_connection::{PeerConnection, RTCIceCandidateInit, RTCSessionDescription};

use super::Inbox;

/// The room socket's side of a peer: sends queued signals, handles the server's.
pub async fn pump(
    mut client: SyncClient,
    pc: Arc<dyn PeerConnection>,
    mut outgoing: mpsc::UnboundedReceiver<String>,
    inbox: Arc<Inbox>,
) {
    // Which publisher each mid the server offered carries.
    let mut forwarded: HashMap<String, u64> = HashMap::new();
    loop {
        tokio::select! {
            signal = outgoing.recv() => {
                let Some(signal) = signal else { return };
                if client.media(&signal).await.is_err() {
                    return;
                }
            }
            event = client.next_event() => match event {
                Ok(Event::Media(text)) => {
                    let signal: Value = serde_json::from_str(&text).expect("signals are JSON");
                    match handle(pc.as_ref(), &signal, &inbox, &mut forwarded).await {
                        Ok(Some(answer)) => {
                            if client.media(&answer).await.is_err() {
                                return;
                            }
                        }
                        Ok(None) => {}
                        // A closed peer connection ends the peer; a test sees why.
                        Err(err) => {
                            record(&inbox, json!({"type": "peer_error", "message": err}));
                            return;
                        }
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    }
}

/// Handles one server signal; returns the answer to send, if it calls for one.
async fn handle(
    pc: &dyn PeerConnection,
    signal: &Value,
    inbox: &Inbox,
    forwarded: &mut HashMap<String, u64>,
) -> Result<Option<String>, String> {
    let sdp = signal["sdp"].as_str().unwrap_or("").to_owned();
    match signal["type"].as_str() {
        Some("answer") => {
            let answer = RTCSessionDescription::answer(sdp.clone()).map_err(|e| format!("an answer: {e}"))?;
            pc.set_remote_description(answer)
                .await
                .map_err(|e| format!("apply the answer: {e}"))?;
            dial_tcp_candidates(pc, &sdp).await;
            record(inbox, json!({"type": "answered"}));
            Ok(None)
        }
        Some("offer") => {
            // The client's own offer wins a crossing: ignore the server's.
            if pc.pending_local_description().await.is_some() {
                return Ok(None);
            }
            let offer = RTCSessionDescription::offer(sdp).map_err(|e| format!("an offer: {e}"))?;
            pc.set_remote_description(offer)
                .await
                .map_err(|e| format!("apply the server's offer: {e}"))?;
            end_stopped_tracks(inbox, signal, forwarded);
            let answer = pc.create_answer(None).await.map_err(|e| format!("answer: {e}"))?;
            pc.set_local_description(answer)
                .await
                .map_err(|e| format!("set the answer: {e}"))?;
            let sdp = pc.local_description().await.ok_or("no local answer")?.sdp;
            record(inbox, signal.clone());
            Ok(Some(json!({"type": "answer", "sdp": sdp}).to_string()))
        }
        _ => {
            record(inbox, signal.clone());
            Ok(None)
        }
    }
}

/// A server offer that stops (port 0) every m-line of a publisher's ends its tracks:
/// webrtc-rs raises no event for a stopped transceiver, so the SDP is the evidence.
fn end_stopped_tracks(inbox: &Inbox, offer: &Value, forwarded: &mut HashMap<String, u64>) {
    for track in offer["tracks"].as_array().into_iter().flatten() {
        if let (Some(mid), Some(peer)) = (track["mid"].as_str(), track["peer_id"].as_u64()) {
            forwarded.insert(mid.to_owned(), peer);
        }
    }
    let stopped = stopped_mids(offer["sdp"].as_str().unwrap_or(""));
    let publishers: BTreeSet<u64> = forwarded.values().copied().collect();
    for publisher in publishers {
        let all_stopped = forwarded
            .iter()
            .filter(|(_, p)| **p == publisher)
            .all(|(mid, _)| stopped.contains(mid));
        if all_stopped {
            let mut tracks = inbox.tracks.lock().unwrap();
            for kind in ["video", "audio"] {
                tracks.entry((publisher, kind)).or_default().ended = true;
            }
        }
    }
    inbox.changed.notify_waiters();
}

/// The mids of an SDP's stopped (port 0) m-lines.
fn stopped_mids(sdp: &str) -> BTreeSet<String> {
    let mut stopped = BTreeSet::new();
    let mut port_zero = false;
    for line in sdp.lines() {
        if let Some(rest) = line.strip_prefix("m=") {
            port_zero = rest.split(' ').nth(1) == Some("0");
        } else if let Some(mid) = line.strip_prefix("a=mid:")
            && port_zero
        {
            stopped.insert(mid.trim().to_owned());
        }
    }
    stopped
}

/// webrtc-rs dials a passive ICE-TCP candidate only when it is added on its own, not
/// when it comes in the SDP: add the answer's.
async fn dial_tcp_candidates(pc: &dyn PeerConnection, sdp: &str) {
    for line in sdp
        .lines()
        .filter(|l| l.contains(" tcp ") && l.contains("tcptype passive"))
    {
        let candidate = RTCIceCandidateInit {
            candidate: line.trim_start_matches("a=").to_owned(),
            sdp_mline_index: Some(0),
            ..Default::default()
        };
        let _ = pc.add_ice_candidate(candidate).await;
    }
}

pub fn record(inbox: &Inbox, signal: Value) {
    inbox.signals.lock().unwrap().push(signal);
    inbox.changed.notify_waiters();
}

/// The mids of an SDP's m-lines, with their kinds.
pub fn mids(sdp: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut kind = None;
    for line in sdp.lines() {
        if let Some(rest) = line.strip_prefix("m=") {
            kind = rest.split(' ').next().map(str::to_owned);
        } else if let (Some(mid), Some(kind)) = (line.strip_prefix("a=mid:"), &kind) {
            found.push((mid.trim().to_owned(), kind.clone()));
        }
    }
    found
}
