//! `scripts/bench exec`: code execution through the real server (release build, its own
//! process), driven over HTTP from this process:
//! - each language's hello world (its starter with one line of stdin): the round trip of
//!   `POST /v1/rooms/{id}/execute`, median and p95, on each sandbox;
//! - runs per second sustained with 8 concurrent clients (each in its own room), and the
//!   server's CPU.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use support::{BenchDb, ServerOptions, ServerProcess, create_room_with, machine_summary};

#[derive(Debug, Parser)]
#[command(about = "Code execution: hello-world round trips and runs per second")]
struct Args {
    #[command(flatten)]
    server: ServerOptions,
    /// docker, local or all.
    #[arg(long, default_value = "all")]
    sandbox: String,
    /// The Docker backend's runner image.
    #[arg(long, default_value = "pairline-runner:latest")]
    image: String,
    /// Timed runs per language (after two warm-up runs).
    #[arg(long, default_value_t = 20)]
    samples: usize,
    /// Concurrent clients in the throughput phase.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Seconds of the throughput phase.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Containers the Docker sandbox keeps created ahead of runs (0: none, to see what
    /// the pool saves).
    #[arg(long, default_value_t = 4)]
    pool_size: usize,
    /// Only these languages (comma-separated ids) in the round-trip phase.
    #[arg(long)]
    languages: Option<String>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let sandboxes: Vec<&str> = match args.sandbox.as_str() {
        "all" => vec!["docker", "local"],
        "docker" => vec!["docker"],
        "local" => vec!["local"],
        other => panic!("unknown sandbox {other:?}: use docker, local or all"),
    };
    println!("# Code execution benchmark\n\n{}\n", machine_summary());
    for backend in args.server.backends() {
        for sandbox in &sandboxes {
            println!(
                "## {sandbox} sandbox ({backend} storage, Docker pool of {})\n",
                args.pool_size
            );
            let db = BenchDb::new(backend).await;
            let pool_size = args.pool_size.to_string();
            let settings = [
                ("PAIRLINE_EXEC_BACKEND", *sandbox),
                ("PAIRLINE_EXEC_DOCKER_IMAGE", args.image.as_str()),
                ("PAIRLINE_EXEC_POOL_SIZE", pool_size.as_str()),
                ("PAIRLINE_EXEC_QUEUE_SIZE", "64"),
            ];
            let server = ServerProcess::start_with(&args.server.binary, &db, &settings).await;
            let http = server.staff_client(reqwest::Client::builder());
            round_trips(&args, &server, &http).await;
            throughput(&args, &server, &http).await;
            server.stop().await;
            db.drop().await;
        }
    }
}

/// The languages the server runs, with their runtimes.
async fn offered(server: &ServerProcess, http: &reqwest::Client) -> Vec<(String, String)> {
    let languages: Value = http
        .get(format!("{}/v1/languages", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let backend = languages["backend"].as_str().unwrap_or("off").to_owned();
    languages["languages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|language| language["available"] == true)
        .map(|language| {
            (
                language["id"].as_str().unwrap().to_owned(),
                language["runtimes"][&backend].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// One run through the API: (round trip, the result).
async fn execute(http: &reqwest::Client, base: &str, room: &str, body: &Value) -> (Duration, Value) {
    let started = Instant::now();
    let response = http
        .post(format!("{base}/v1/rooms/{room}/execute"))
        .json(body)
        .send()
        .await
        .expect("the execute request");
    let result: Value = response.json().await.unwrap_or(Value::Null);
    (started.elapsed(), result)
}

async fn round_trips(args: &Args, server: &ServerProcess, http: &reqwest::Client) {
    let only: Option<Vec<&str>> = args.languages.as_deref().map(|list| list.split(',').collect());
    println!(
        "### Hello world: the starter with one line of stdin, {} runs each\n",
        args.samples
    );
    println!("| language | runtime | round trip p50 ms | p95 ms | program time p50 ms | not ok |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for (language, runtime) in offered(server, http).await {
        if only
            .as_ref()
            .is_some_and(|only| !only.contains(&language.as_str()))
        {
            continue;
        }
        let room = create_room_with(
            http,
            &server.base,
            json!({ "language": language, "title": language }),
        )
        .await;
        let room = room["roomId"].as_str().unwrap().to_owned();
        let body = json!({ "stdin": "Ada\n" });
        for _ in 0..2 {
            execute(http, &server.base, &room, &body).await;
        }
        let mut trip = Histogram::<u64>::new(3).unwrap();
        let mut program = Histogram::<u64>::new(3).unwrap();
        let mut failed = 0;
        for _ in 0..args.samples {
            let (elapsed, result) = execute(http, &server.base, &room, &body).await;
            if result["status"] != "ok" || result["stdout"] != "Hello, Ada!\n" {
                failed += 1;
                eprintln!("{language}: {result}");
            }
            trip.record(elapsed.as_micros() as u64).unwrap();
            program
                .record(result["executionTimeMs"].as_u64().unwrap_or(0))
                .unwrap();
        }
        let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "| {language} | {runtime} | {:.0} | {:.0} | {} | {failed} |",
            ms(&trip, 0.5),
            ms(&trip, 0.95),
            program.value_at_quantile(0.5),
        );
    }
    println!();
}

async fn throughput(args: &Args, server: &ServerProcess, http: &reqwest::Client) {
    let rooms: Vec<String> = futures::future::join_all((0..args.clients).map(|n| async move {
        let room = create_room_with(
            http,
            &server.base,
            json!({ "language": "python", "title": format!("load {n}") }),
        )
        .await;
        room["roomId"].as_str().unwrap().to_owned()
    }))
    .await;
    let cpu_before = server.cpu_seconds();
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let clients = rooms.iter().map(|room| async move {
        let body = json!({ "stdin": "Ada\n" });
        let (mut ok, mut other) = (0u64, 0u64);
        let mut trips = Vec::new();
        while Instant::now() < until {
            let (elapsed, result) = execute(http, &server.base, room, &body).await;
            if result["status"] == "ok" {
                ok += 1;
                trips.push(elapsed);
            } else {
                other += 1;
            }
        }
        (ok, other, trips)
    });
    let results = futures::future::join_all(clients).await;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = (server.cpu_seconds() - cpu_before) / seconds * 100.0;
    let ok: u64 = results.iter().map(|(ok, _, _)| ok).sum();
    let other: u64 = results.iter().map(|(_, other, _)| other).sum();
    let mut trip = Histogram::<u64>::new(3).unwrap();
    for (_, _, trips) in &results {
        for elapsed in trips {
            trip.record(elapsed.as_micros() as u64).unwrap();
        }
    }
    println!(
        "### Throughput: {} clients, each in its own room, running Python hello world for {} s\n",
        args.clients, args.seconds
    );
    println!("| runs ok | not ok | runs/s | round trip p50 ms | p95 ms | server CPU |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {ok} | {other} | {:.1} | {:.0} | {:.0} | {cpu:.0}% |\n",
        ok as f64 / seconds,
        trip.value_at_quantile(0.5) as f64 / 1000.0,
        trip.value_at_quantile(0.95) as f64 / 1000.0,
    );
}
