//! `scripts/bench api`: room creation and room fetch throughput and latency under
//! concurrent load, and the time from process start to `/readyz`, on SQLite and on
//! PostgreSQL. The server runs as its own process (the release binary); this process is
//! the load generator, over real HTTP on loopback.

mod support;

use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::json;
use support::{BenchDb, ServerOptions, ServerProcess, machine_summary};

#[derive(Debug, Parser)]
#[command(about = "Rooms API throughput and latency, and start-up time")]
struct Args {
    #[command(flatten)]
    server: ServerOptions,
    /// Seconds of load per phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients (each with its own keep-alive connection).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Server starts to time.
    #[arg(long, default_value_t = 5)]
    starts: usize,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let backends = args.server.backends();
    println!("# Rooms API benchmark\n\n{}\n", machine_summary());
    println!(
        "Load: {} concurrent keep-alive clients, {} s per phase, load generator and server on the same machine.\n",
        args.concurrency, args.seconds
    );
    println!("| backend | operation | requests/s | p50 ms | p99 ms | max ms | errors | server CPU |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut startup_rows = Vec::new();
    for backend in backends {
        let db = BenchDb::new(backend).await;
        startup_rows.push((backend, time_startups(&args, &db).await));
        let server = ServerProcess::start(&args.server.binary, &db).await;
        let ids = run_phase(&args, &server, backend, "create room", Operation::Create, &[]).await;
        run_phase(&args, &server, backend, "fetch room", Operation::Fetch, &ids).await;
        server.stop().await;
        db.drop().await;
    }
    println!(
        "\n| backend | first start, empty database (migrations) | later starts, median | later starts, max |"
    );
    println!("| --- | ---: | ---: | ---: |");
    for (backend, (first, median, max)) in startup_rows {
        println!("| {backend} | {first:.0} ms | {median:.0} ms | {max:.0} ms |");
    }
}

/// Starts the server `args.starts` times on `db`; returns the first start's time to
/// ready and the median and max of the rest, in milliseconds.
async fn time_startups(args: &Args, db: &BenchDb) -> (f64, f64, f64) {
    let mut times = Vec::new();
    for _ in 0..args.starts.max(2) {
        let started = Instant::now();
        let server = ServerProcess::start(&args.server.binary, db).await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        server.stop().await;
    }
    let first = times.remove(0);
    times.sort_by(f64::total_cmp);
    (first, times[times.len() / 2], *times.last().unwrap())
}

#[derive(Clone, Copy)]
enum Operation {
    Create,
    Fetch,
}

/// Runs one phase of load and prints its row; returns the ids of rooms created.
async fn run_phase(
    args: &Args,
    server: &ServerProcess,
    backend: &str,
    name: &str,
    operation: Operation,
    ids: &[String],
) -> Vec<String> {
    let client = server.staff_client(reqwest::Client::builder().pool_max_idle_per_host(args.concurrency));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let cpu_before = server.cpu_seconds();
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|worker| {
            let (client, base, ids) = (client.clone(), server.base.clone(), ids.to_vec());
            tokio::spawn(async move { worker_loop(worker, client, base, operation, ids, deadline).await })
        })
        .collect();
    let mut latencies = Histogram::<u64>::new(3).unwrap();
    let (mut errors, mut created) = (0u64, Vec::new());
    for worker in workers {
        let (histogram, worker_errors, worker_ids) = worker.await.unwrap();
        latencies.add(histogram).unwrap();
        errors += worker_errors;
        created.extend(worker_ids);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = (server.cpu_seconds() - cpu_before) / elapsed * 100.0;
    let ms = |micros: u64| micros as f64 / 1000.0;
    println!(
        "| {backend} | {name} | {:.0} | {:.2} | {:.2} | {:.1} | {errors} | {cpu:.0}% |",
        latencies.len() as f64 / elapsed,
        ms(latencies.value_at_quantile(0.5)),
        ms(latencies.value_at_quantile(0.99)),
        ms(latencies.max()),
    );
    created
}

async fn worker_loop(
    worker: usize,
    client: reqwest::Client,
    base: String,
    operation: Operation,
    ids: Vec<String>,
    deadline: Instant,
) -> (Histogram<u64>, u64, Vec<String>) {
    let mut histogram = Histogram::<u64>::new(3).unwrap();
    let (mut errors, mut created) = (0, Vec::new());
    let mut pick = worker.wrapping_mul(2_654_435_761) + 1;
    while Instant::now() < deadline {
        let started = Instant::now();
        let ok = match operation {
            Operation::Create => {
                let body = json!({ "language": "python", "title": format!("bench {worker}") });
                match client.post(format!("{base}/v1/rooms")).json(&body).send().await {
                    Ok(response) if response.status() == 201 => {
                        let room: serde_json::Value = response.json().await.unwrap_or_default();
                        created.extend(room["roomId"].as_str().map(str::to_owned));
                        true
                    }
                    _ => false,
                }
            }
            Operation::Fetch => {
                pick = pick
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let id = &ids[(pick >> 33) % ids.len()];
                match client.get(format!("{base}/v1/rooms/{id}")).send().await {
                    Ok(response) if response.status() == 200 => response.bytes().await.is_ok(),
                    _ => false,
                }
            }
        };
        histogram.record(started.elapsed().as_micros() as u64).unwrap();
        errors += u64::from(!ok);
    }
    (histogram, errors, created)
}
