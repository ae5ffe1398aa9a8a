//! Typing clients: keystroke-to-peer latency, acknowledgement latency, server CPU, and
//! memory per room and per connection.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hdrhistogram::Histogram;
use pairline::client::{Event, Identity, SyncClient};
use pairline::protocol::Hash;
use serde_json::Value;

use crate::Args;
use crate::support::{ServerProcess, create_room, process_cpu_seconds};

/// Typing before the measured period: thousands of clients starting at the same instant
/// (their first changes, the server's first write for every room) are not the steady
/// state the figures describe.
const WARM_UP: Duration = Duration::from_secs(3);
/// Connections opened at once while setting up.
const CONNECT_CONCURRENCY: usize = 64;

/// What one typing client saw. Changes are matched across clients by the sequence number
/// the server gave them in their room (the author learns it from the acknowledgement), so
/// that receiving clients need not parse changes to know which is which.
struct Tally {
    room: String,
    sent: Vec<(Hash, Instant)>,
    received: Vec<(u64, Instant)>,
    acked: Vec<(Hash, u64, Instant)>,
    errors: u64,
}

/// 500 rooms (by default) of 4 clients typing 2 keystrokes a second each.
pub async fn many_rooms(args: &Args, server: &ServerProcess) {
    let http = server.staff_client(reqwest::Client::builder());
    let rooms: Vec<Value> = futures::stream::iter(0..args.rooms)
        .map(|n| {
            let (http, base) = (&http, &server.base);
            async move { create_room(http, base, &format!("room {n}")).await }
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let before = server.rss_kib();
    let first = connect_all(rooms.iter().map(|room| (room.clone(), 0)).collect()).await;
    let one_each = server.rss_kib();
    let rest = connect_all(
        rooms
            .iter()
            .flat_map(|room| (1..args.clients).map(move |n| (room.clone(), n)))
            .collect(),
    )
    .await;
    let all = server.rss_kib();
    let extra = (args.clients - 1) * args.rooms;
    let per_connection = (all.saturating_sub(one_each)) as f64 / extra.max(1) as f64;
    let per_room = (one_each.saturating_sub(before)) as f64 / args.rooms as f64 - per_connection;

    let clients: Vec<SyncClient> = first.into_iter().chain(rest).collect();
    println!(
        "### {} rooms x {} clients x {} keystrokes/s, {} s measured after {} s of warm-up\n",
        args.rooms,
        args.clients,
        args.rate,
        args.seconds,
        WARM_UP.as_secs()
    );
    let cpu = CpuMeter::start(server);
    let tallies = type_for(clients, args.rate, Duration::from_secs(args.seconds)).await;
    print_latency_table(&[("many rooms", &tallies)], cpu.stop(server));
    println!(
        "\nServer memory: {:.0} KiB per loaded room (beyond its connections), {:.0} KiB per connection \
         (RSS {} MiB before, {} MiB with {} connections).\n",
        per_room,
        per_connection,
        before / 1024,
        all / 1024,
        args.rooms * args.clients
    );
}

/// Clients typing in the trace room and, at the same time, in an empty room.
pub async fn trace_room_beside_empty_room(args: &Args, server: &ServerProcess, trace_room: &Value) {
    let http = server.staff_client(reqwest::Client::builder());
    let empty_room = create_room(&http, &server.base, "empty").await;
    let started = Instant::now();
    let trace_clients = connect_all((0..args.clients).map(|n| (trace_room.clone(), n)).collect()).await;
    let loaded = started.elapsed();
    let empty_clients = connect_all((0..args.clients).map(|n| (empty_room.clone(), n)).collect()).await;
    println!(
        "### The trace room beside an empty room: {} clients each, {} keystrokes/s, {} s\n\n\
         ({} clients joined the trace room and loaded its document in {:.1} s.)\n",
        args.clients,
        args.rate,
        args.seconds,
        args.clients,
        loaded.as_secs_f64()
    );
    let seconds = Duration::from_secs(args.seconds);
    let cpu = CpuMeter::start(server);
    let (in_trace, in_empty) = tokio::join!(
        type_for(trace_clients, args.rate, seconds),
        type_for(empty_clients, args.rate, seconds),
    );
    print_latency_table(
        &[("trace room", &in_trace), ("empty room", &in_empty)],
        cpu.stop(server),
    );
    println!();
}

/// Connects one relay-only client per (room, n), a few dozen at a time.
async fn connect_all(targets: Vec<(Value, usize)>) -> Vec<SyncClient> {
    futures::stream::iter(targets)
        .map(|(room, n)| async move {
            let mut client = SyncClient::new(
                room["candidateWsUrl"].as_str().unwrap(),
                Identity::editor(&format!("typist {n}")),
            )
            .relay_only();
            client.connect().await.expect("connect");
            client
                .until(Duration::from_secs(60), "the document", SyncClient::is_caught_up)
                .await
                .expect("the catch-up arrives");
            client
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await
}

/// The server's CPU use since `before` (its CPU seconds then) over `seconds`, in percent.
/// CPU used by the server and by this load generator over a phase.
struct CpuMeter {
    started: Instant,
    server: f64,
    generator: f64,
}

/// CPU shares over a phase, in percent of one core.
struct CpuUse {
    server: f64,
    generator: f64,
}

impl CpuMeter {
    fn start(server: &ServerProcess) -> Self {
        Self {
            started: Instant::now(),
            server: server.cpu_seconds(),
            generator: process_cpu_seconds("self"),
        }
    }

    fn stop(self, server: &ServerProcess) -> CpuUse {
        let seconds = self.started.elapsed().as_secs_f64();
        CpuUse {
            server: (server.cpu_seconds() - self.server) / seconds * 100.0,
            generator: (process_cpu_seconds("self") - self.generator) / seconds * 100.0,
        }
    }
}

/// Every client types for `WARM_UP` and then `duration`; returns what each saw of the
/// keystrokes sent after the warm-up.
async fn type_for(clients: Vec<SyncClient>, rate: f64, duration: Duration) -> Vec<Tally> {
    let measure_from = Instant::now() + WARM_UP;
    let until = measure_from + duration;
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(n, client)| tokio::spawn(type_in(client, rate, measure_from, until, n as u64)))
        .collect();
    let mut tallies = Vec::new();
    for task in tasks {
        tallies.push(task.await.expect("a typing task"));
    }
    tallies
}

async fn type_in(
    mut client: SyncClient,
    rate: f64,
    measure_from: Instant,
    until: Instant,
    seed: u64,
) -> Tally {
    let mut rng = fastrand::Rng::with_seed(seed);
    let gap = Duration::from_secs_f64(1.0 / rate);
    let mut next = Instant::now() + gap.mul_f64(rng.f64());
    let mut tally = Tally {
        room: client.url().to_owned(),
        sent: Vec::new(),
        received: Vec::new(),
        acked: Vec::new(),
        errors: 0,
    };
    while Instant::now() < until {
        match tokio::time::timeout_at(next.into(), client.next_event()).await {
            Ok(Ok(Event::Relayed(seqs))) => {
                let now = Instant::now();
                tally.received.extend(seqs.into_iter().map(|seq| (seq, now)));
            }
            Ok(Ok(Event::Changes(changes))) => {
                let now = Instant::now();
                tally
                    .received
                    .extend(changes.into_iter().map(|(seq, _)| (seq, now)));
            }
            Ok(Ok(Event::Acked(acked))) => {
                let now = Instant::now();
                tally
                    .acked
                    .extend(acked.into_iter().map(|(hash, seq)| (hash, seq, now)));
            }
            Ok(Ok(_)) => {}
            Ok(Err(_)) => {
                tally.errors += 1;
                break;
            }
            Err(_) => {
                next += gap;
                let at = rng.usize(..=client.len());
                let started = Instant::now();
                match client.edit(at, 0, "x").await {
                    Ok(Some(hash)) if started >= measure_from => tally.sent.push((hash, started)),
                    Ok(Some(_)) => {}
                    _ => tally.errors += 1,
                }
            }
        }
    }
    tally
}

fn print_latency_table(groups: &[(&str, &Vec<Tally>)], cpu: CpuUse) {
    println!(
        "| room | keystrokes | deliveries | peer p50 ms | peer p99 ms | peer max ms | ack p50 ms | ack p99 ms | errors | server CPU | load generator CPU |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, tallies) in groups {
        let sent: HashMap<Hash, Instant> = tallies.iter().flat_map(|t| t.sent.iter().copied()).collect();
        let mut peer = Histogram::<u64>::new(3).unwrap();
        let mut ack = Histogram::<u64>::new(3).unwrap();
        let mut sent_by_seq: HashMap<(&str, u64), Instant> = HashMap::new();
        for tally in tallies.iter() {
            for (hash, seq, at) in &tally.acked {
                if let Some(sent_at) = sent.get(hash) {
                    ack.record(at.duration_since(*sent_at).as_micros() as u64)
                        .unwrap();
                    sent_by_seq.insert((&tally.room, *seq), *sent_at);
                }
            }
        }
        for tally in tallies.iter() {
            for (seq, at) in &tally.received {
                if let Some(sent_at) = sent_by_seq.get(&(tally.room.as_str(), *seq)) {
                    peer.record(at.duration_since(*sent_at).as_micros() as u64)
                        .unwrap();
                }
            }
        }
        let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "| {name} | {} | {} | {:.2} | {:.2} | {:.1} | {:.2} | {:.2} | {} | {:.0}% | {:.0}% |",
            sent.len(),
            peer.len(),
            ms(&peer, 0.5),
            ms(&peer, 0.99),
            peer.max() as f64 / 1000.0,
            ms(&ack, 0.5),
            ms(&ack, 0.99),
            tallies.iter().map(|t| t.errors).sum::<u64>(),
            cpu.server,
            cpu.generator,
        );
    }
}
