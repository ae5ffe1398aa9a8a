//! The SFU core driven without sockets: str0m clients in memory, packets handed across
//! by hand, time simulated. Two people join a call; what one sends reaches the other
//! intact, and leaving tells the other.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};

use super::{Sfu, SfuSettings};
use crate::media::signal::{ClientSignal, ServerSignal, Source};
use crate::media::{MediaMetrics, SignalSink};

const SERVER: ([u8; 4], u16) = ([10, 0, 0, 1], 7882);

#[derive(Clone, Default)]
struct Signals(Arc<Mutex<Vec<ServerSignal>>>);

impl SignalSink for Signals {
    fn send(&self, signal: &ServerSignal) {
        self.0.lock().unwrap().push(signal.clone());
    }
}

impl Signals {
    fn take(&self) -> Vec<ServerSignal> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// A browser stand-in: a full-ICE str0m session publishing one audio track.
struct Client {
    peer_id: u64,
    addr: SocketAddr,
    rtc: Rtc,
    signals: Signals,
    audio: Mid,
    /// The payloads of the audio frames received.
    heard: Vec<Vec<u8>>,
    connected: bool,
}

fn room() -> Arc<str> {
    Arc::from("room")
}

fn sfu() -> Sfu {
    Sfu::new(
        SfuSettings {
            candidates: vec![Candidate::host(SocketAddr::from(SERVER), "udp").unwrap()],
            ice_servers: Vec::new(),
            max_participants: 8,
            ice_timeout: Duration::from_secs(15),
        },
        MediaMetrics::default(),
    )
}

impl Client {
    /// Joins the call and offers one audio track; the SFU answers at once.
    fn join(sfu: &mut Sfu, peer_id: u64, now: Instant) -> Client {
        let addr = SocketAddr::from(([10, 0, 1, peer_id as u8], 5000));
        let mut rtc = Rtc::builder().clear_codecs().enable_opus(true, false).build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        let signals = Signals::default();
        sfu.signal(
            room(),
            peer_id,
            Box::new(signals.clone()),
            ClientSignal::Join,
            now,
        );
        assert!(matches!(signals.take()[..], [ServerSignal::Joined { .. }]));
        let mut change = rtc.sdp_api();
        let audio = change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let (offer, pending) = change.apply().unwrap();
        let mut client = Client {
            peer_id,
            addr,
            rtc,
            signals,
            audio,
            heard: Vec::new(),
            connected: false,
        };
        let tracks = BTreeMap::from([(audio.to_string(), Source::Microphone)]);
        let sdp = offer.to_sdp_string();
        let signal = ClientSignal::Offer { sdp, tracks };
        sfu.signal(room(), peer_id, Box::new(client.signals.clone()), signal, now);
        client.take_answer(pending);
        client
    }

    fn take_answer(&mut self, pending: SdpPendingOffer) {
        let signals = self.signals.take();
        let answer = signals.iter().find_map(|s| match s {
            ServerSignal::Answer { sdp } => Some(sdp.clone()),
            _ => None,
        });
        let answer = SdpAnswer::from_sdp_string(&answer.expect("an answer")).unwrap();
        self.rtc.sdp_api().accept_answer(pending, answer).unwrap();
    }

    /// Answers the SFU's offers; returns the other signals.
    fn handle_signals(&mut self, sfu: &mut Sfu, now: Instant) -> Vec<ServerSignal> {
        let mut others = Vec::new();
        for signal in self.signals.take() {
            match signal {
                ServerSignal::Offer { sdp, .. } => {
                    let offer = SdpOffer::from_sdp_string(&sdp).unwrap();
                    let answer = self.rtc.sdp_api().accept_offer(offer).unwrap();
                    let signal = ClientSignal::Answer {
                        sdp: answer.to_sdp_string(),
                    };
                    sfu.signal(room(), self.peer_id, Box::new(self.signals.clone()), signal, now);
                }
                other => others.push(other),
            }
        }
        others
    }

    fn send_audio(&mut self, payload: &[u8], now: Instant, n: u64) {
        let writer = self.rtc.writer(self.audio).expect("the audio writer");
        let pt = writer.payload_params().next().expect("opus").pt();
        let time = MediaTime::new(n * 960, Frequency::FORTY_EIGHT_KHZ);
        writer.write(pt, now, time, payload.to_vec()).unwrap();
    }
}

/// Moves packets both ways, answers the SFU's offers, and moves time 5 ms on, `rounds`
/// times.
fn run(sfu: &mut Sfu, clients: &mut [Client], now: &mut Instant, rounds: usize) {
    for _ in 0..rounds {
        for client in clients.iter_mut() {
            loop {
                match client.rtc.poll_output().unwrap() {
                    Output::Timeout(_) => break,
                    Output::Transmit(t) => {
                        sfu.receive(Protocol::Udp, client.addr, t.destination, &t.contents, *now);
                    }
                    Output::Event(Event::Connected) => client.connected = true,
                    Output::Event(Event::MediaData(data)) => client.heard.push(data.data.to_vec()),
                    Output::Event(_) => {}
                }
            }
        }
        let transmits: Vec<_> = sfu.take_transmits().collect();
        for t in transmits {
            let client = clients
                .iter_mut()
                .find(|c| c.addr == t.destination)
                .expect("a client");
            let receive = Receive {
                proto: Protocol::Udp,
                source: t.source,
                destination: t.destination,
                contents: (&t.contents[..]).try_into().unwrap(),
            };
            client.rtc.handle_input(Input::Receive(*now, receive)).unwrap();
        }
        for client in clients.iter_mut() {
            client.handle_signals(sfu, *now);
        }
        *now += Duration::from_millis(5);
        for client in clients.iter_mut() {
            client.rtc.handle_input(Input::Timeout(*now)).unwrap();
        }
        sfu.timeout(*now);
    }
}

#[test]
fn audio_crosses_the_sfu_in_memory_and_leaving_tells_the_other() {
    let mut now = Instant::now();
    let mut sfu = sfu();
    let mut clients = vec![Client::join(&mut sfu, 1, now), Client::join(&mut sfu, 2, now)];
    run(&mut sfu, &mut clients, &mut now, 400);
    assert!(
        clients.iter().all(|c| c.connected),
        "both connect over ICE and DTLS"
    );

    for n in 0..50 {
        let payload = format!("frame {n} from Ada").into_bytes();
        clients[0].send_audio(&payload, now, n);
        run(&mut sfu, &mut clients, &mut now, 4);
    }
    run(&mut sfu, &mut clients, &mut now, 40);
    let heard = &clients[1].heard;
    assert!(heard.len() >= 45, "Grace heard {} of 50 frames", heard.len());
    assert!(
        heard
            .iter()
            .all(|p| p.starts_with(b"frame ") && p.ends_with(b" from Ada"))
    );
    assert!(clients[0].heard.is_empty(), "nobody hears themselves");

    sfu.signal(room(), 1, Box::new(Signals::default()), ClientSignal::Leave, now);
    let grace = clients[1].handle_signals(&mut sfu, now);
    assert!(
        grace
            .iter()
            .any(|s| matches!(s, ServerSignal::Left { peer_id: 1 })),
        "{grace:?}"
    );
}
