//! `scripts/bench media`: the SFU inside the real server (release build, its own process)
//! carrying calls between webrtc-rs peers in this process. Each room has 8 people, each
//! publishing VP8 video (30 frames a second, 1 Mbit/s by default) and Opus audio (50
//! packets a second) and receiving the 7 others'. For each number of rooms:
//! - the latency from a publisher's send to a subscriber's receive, p50 and p99, and
//!   the SFU's own hop (a frame's first packet in to its copies out, from `/metrics`);
//! - the server's CPU per room, and the packets it sends per second per CPU-second;
//! - frames that never arrived.

#[path = "../tests/common/media/mod.rs"]
mod media_peer;
#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use media_peer::{MediaPeer, Transport};
use support::{BenchDb, ServerOptions, ServerProcess, create_room, machine_summary, process_cpu_seconds};

#[derive(Debug, Parser)]
#[command(about = "Audio and video through the SFU: latency, CPU and packets per second")]
struct Args {
    #[command(flatten)]
    server: ServerOptions,
    /// Numbers of rooms to measure, comma-separated.
    #[arg(long, default_value = "1,5,10")]
    rooms: String,
    /// People in each room.
    #[arg(long, default_value_t = 8)]
    people: usize,
    /// Seconds measured for each number of rooms (after every stream has arrived).
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Video bitrate of each publisher, in kbit/s.
    #[arg(long, default_value_t = 1000)]
    video_kbps: usize,
    /// Share every core between the server and the peers instead of giving the server
    /// core 0 and the peers the others.
    #[arg(long)]
    no_pin: bool,
}

const AUDIO_BYTES: usize = 80;

/// When each frame of one publisher left it, by index.
#[derive(Default)]
struct Sent {
    video: std::sync::Mutex<Vec<Instant>>,
    audio: std::sync::Mutex<Vec<Instant>>,
}

struct Publisher {
    peer: Arc<MediaPeer>,
    sent: Arc<Sent>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let backend = args.server.backends()[0];
    println!("# Media benchmark\n\n{}\n", machine_summary());
    println!(
        "{} people per room, each sending {} kbit/s VP8 at 30 frames/s and Opus at 50 packets/s, \
         receiving everyone else's; {} s measured per row; publishers and subscribers are \
         webrtc-rs peers in the benchmark's process, the SFU is the server's ({backend} storage).\n",
        args.people, args.video_kbps, args.seconds
    );
    let pin = !args.no_pin && cores() >= 2;
    if pin {
        println!(
            "The server runs on core 0 and the peers on the other {} (`--no-pin` shares them).\n",
            cores() - 1
        );
        pin_to(std::process::id(), &format!("1-{}", cores() - 1));
    }
    println!(
        "| rooms | people | end to end p50 ms | p99 ms | SFU hop, audio p50 ms | p99 ms | SFU hop, video p50 ms | p99 ms | server CPU % | CPU % per room | packets sent/s | packets/s per core | lost | bench CPU % |"
    );
    println!(
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for rooms in args
        .rooms
        .split(',')
        .map(|n| n.trim().parse::<usize>().expect("--rooms: numbers"))
    {
        let db = BenchDb::new(backend).await;
        let settings = [
            ("PAIRLINE_MEDIA_UDP_PORT", "0"),
            ("PAIRLINE_MEDIA_TCP_PORT", "0"),
            ("PAIRLINE_MEDIA_BIND", "127.0.0.1"),
            ("PAIRLINE_MEDIA_ADVERTISE_IP", "127.0.0.1"),
        ];
        let server = ServerProcess::start_with(&args.server.binary, &db, &settings).await;
        if pin {
            pin_to(server.pid, "0");
        }
        measure(&args, &server, rooms).await;
        server.stop().await;
        db.drop().await;
    }
}

async fn measure(args: &Args, server: &ServerProcess, rooms: usize) {
    let http = server.staff_client(reqwest::Client::builder());
    let mut calls = Vec::new();
    for n in 0..rooms {
        let room = create_room(&http, &server.base, &format!("call {n}")).await;
        let url = room["candidateWsUrl"].as_str().unwrap().to_owned();
        let mut peers = Vec::new();
        for person in 0..args.people {
            eprint!(
                "\rjoining: room {} of {rooms}, person {} of {}   ",
                n + 1,
                person + 1,
                args.people
            );
            let peer = MediaPeer::join(&url, &format!("Person {person}"), Transport::Udp).await;
            peers.push(Publisher {
                peer: Arc::new(peer),
                sent: Arc::new(Sent::default()),
            });
        }
        calls.push(peers);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let frame_bytes = args.video_kbps * 1000 / 8 / 30;
    for publisher in calls.iter().flatten() {
        stream(publisher, frame_bytes, &stop);
    }
    eprint!("\rwaiting until everyone receives everyone else                ");
    for call in &calls {
        for receiver in call {
            let others: Vec<u64> = call
                .iter()
                .map(|p| p.peer.peer_id)
                .filter(|id| *id != receiver.peer.peer_id)
                .collect();
            receiver.peer.until_receiving(&others).await;
        }
    }

    let from: HashMap<u64, (usize, usize)> = calls
        .iter()
        .flatten()
        .map(|p| (p.peer.peer_id, p.sent_counts()))
        .collect();
    eprint!(
        "\rmeasuring for {} s                                             ",
        args.seconds
    );
    let before = scrape(server).await;
    let (server_cpu, bench_cpu, started) =
        (server.cpu_seconds(), process_cpu_seconds("self"), Instant::now());
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let wall = started.elapsed().as_secs_f64();
    let server_cpu = server.cpu_seconds() - server_cpu;
    let bench_cpu = process_cpu_seconds("self") - bench_cpu;
    let after = scrape(server).await;
    let to: HashMap<u64, (usize, usize)> = calls
        .iter()
        .flatten()
        .map(|p| (p.peer.peer_id, p.sent_counts()))
        .collect();
    // Let what is in flight arrive before counting what is missing.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);

    let mut latency = Histogram::<u64>::new(3).unwrap();
    let mut lost = 0u64;
    for call in &calls {
        for receiver in call {
            for publisher in call.iter().filter(|p| !Arc::ptr_eq(&p.peer, &receiver.peer)) {
                let id = publisher.peer.peer_id;
                let (video_from, audio_from) = from[&id];
                let (video_to, audio_to) = to[&id];
                for (kind, sent, range) in [
                    ("video", &publisher.sent.video, video_from..video_to),
                    ("audio", &publisher.sent.audio, audio_from..audio_to),
                ] {
                    let sent = sent.lock().unwrap();
                    receiver.peer.inbox.track(id, kind, |log| {
                        for index in range.clone() {
                            match log.arrivals.get(&(index as u32)) {
                                Some(at) => {
                                    let micros = at.saturating_duration_since(sent[index]).as_micros();
                                    latency.record(micros as u64).unwrap();
                                }
                                None => lost += 1,
                            }
                        }
                    });
                }
            }
        }
    }
    eprint!("\r{:70}\r", "");
    let people = rooms * args.people;
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let hop = |kind: &str, q: f64| {
        bucket_quantile(&before, &after, "pairline_media_forward_seconds", kind, q) * 1000.0
    };
    let packets = counter(&after, "pairline_media_packets_sent_total")
        - counter(&before, "pairline_media_packets_sent_total");
    println!(
        "| {rooms} | {people} | {:.1} | {:.1} | ≤ {:.2} | ≤ {:.2} | ≤ {:.2} | ≤ {:.2} | {:.0} | {:.1} | {:.0} | {:.0} | {lost} | {:.0} |",
        ms(&latency, 0.5),
        ms(&latency, 0.99),
        hop("audio", 0.5),
        hop("audio", 0.99),
        hop("video", 0.5),
        hop("video", 0.99),
        server_cpu / wall * 100.0,
        server_cpu / wall * 100.0 / rooms as f64,
        packets / wall,
        packets / server_cpu.max(1e-9),
        bench_cpu / wall * 100.0,
    );
    for publisher in calls.iter().flatten() {
        publisher.peer.close().await;
    }
}

impl Publisher {
    /// Frames sent so far: (video, audio).
    fn sent_counts(&self) -> (usize, usize) {
        (
            self.sent.video.lock().unwrap().len(),
            self.sent.audio.lock().unwrap().len(),
        )
    }
}

/// Publishes video every 33 ms (a keyframe every 2 s, and when asked) and audio every
/// 20 ms until `stop`, noting when each frame left. Each publisher starts at a random
/// point of the period, as real cameras and microphones do (not all in step).
fn stream(publisher: &Publisher, frame_bytes: usize, stop: &Arc<AtomicBool>) {
    let start = |period_ms: u64| {
        let offset = Duration::from_micros(fastrand::u64(0..period_ms * 1000));
        tokio::time::interval_at(
            tokio::time::Instant::now() + offset,
            Duration::from_millis(period_ms),
        )
    };
    let (peer, sent, stop_video) = (publisher.peer.clone(), publisher.sent.clone(), stop.clone());
    let mut ticker = start(33);
    tokio::spawn(async move {
        let mut requests_seen = 0;
        while !stop_video.load(Ordering::Relaxed) {
            ticker.tick().await;
            let index = sent.video.lock().unwrap().len() as u32;
            let requests = peer.keyframe_requests.load(Ordering::Relaxed);
            sent.video.lock().unwrap().push(Instant::now());
            peer.send_video(
                index,
                index.is_multiple_of(60) || requests != requests_seen,
                frame_bytes,
            )
            .await;
            requests_seen = requests;
        }
    });
    let (peer, sent, stop) = (publisher.peer.clone(), publisher.sent.clone(), stop.clone());
    let mut ticker = start(20);
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            ticker.tick().await;
            let index = sent.audio.lock().unwrap().len() as u32;
            sent.audio.lock().unwrap().push(Instant::now());
            peer.send_audio(index, AUDIO_BYTES).await;
        }
    });
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Pins every thread of process `pid` to `cpus` (a taskset list such as `0` or `1-3`).
fn pin_to(pid: u32, cpus: &str) {
    let status = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("cannot pin process {pid} to cores {cpus} with taskset; measuring unpinned");
    }
}

async fn scrape(server: &ServerProcess) -> String {
    reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("the metrics page")
        .text()
        .await
        .expect("the metrics text")
}

/// A counter's value in a Prometheus text page.
fn counter(page: &str, name: &str) -> f64 {
    page.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The upper bound of the bucket of histogram `name` (the series with `kind`) holding
/// quantile `q` of what was observed between two scrapes, in the histogram's unit.
fn bucket_quantile(before: &str, after: &str, name: &str, kind: &str, q: f64) -> f64 {
    let prefix = format!("{name}_bucket{{");
    let buckets = |page: &str| -> Vec<(f64, f64)> {
        page.lines()
            .filter_map(|line| {
                let (labels, count) = line.strip_prefix(&prefix)?.split_once("} ")?;
                let label = |key: &str| {
                    labels
                        .split(',')
                        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix("=\"")?.strip_suffix('"'))
                };
                (label("kind")? == kind).then_some(())?;
                let le = label("le")?;
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                Some((le, count.split_whitespace().next()?.parse().ok()?))
            })
            .collect()
    };
    let (before, after) = (buckets(before), buckets(after));
    let deltas: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, count)| {
            let earlier = before.iter().find(|(b, _)| b == le).map_or(0.0, |(_, c)| *c);
            (*le, count - earlier)
        })
        .collect();
    let total = deltas.last().map_or(0.0, |(_, c)| *c);
    deltas
        .iter()
        .find(|(_, cumulative)| *cumulative >= q * total)
        .map_or(f64::NAN, |(le, _)| *le)
}
