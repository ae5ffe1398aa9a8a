//! `scripts/bench sync`: the sync engine driven over real WebSockets by this process (the
//! load generator) against the release server in its own process:
//! - keystroke-to-peer latency with many rooms of typing clients, and the server's CPU;
//! - the same latency in a room whose document holds the 259,778-edit trace, beside an
//!   empty room;
//! - the whole trace pushed by one client as fast as it goes: changes/s made durable;
//! - a fresh client opening the trace room: time to the first text and to an editable
//!   document (headless; the browser's figures come from the browser benchmark);
//! - memory per idle room and per connection.

#[path = "../support/mod.rs"]
mod support;
mod trace;
mod typing;

use clap::Parser;
use support::{BenchDb, ServerOptions, ServerProcess, machine_summary};

/// The server's default `sync.snapshot_every`.
const SNAPSHOT_EVERY: u64 = 5000;

#[derive(Debug, Parser)]
#[command(about = "Sync engine latency, throughput and memory")]
pub struct Args {
    #[command(flatten)]
    server: ServerOptions,
    /// Rooms typed in at once.
    #[arg(long, default_value_t = 500)]
    rooms: usize,
    /// Clients per room.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Keystrokes per second per client.
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// Seconds of typing per latency phase.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The editing trace (see ../shared/traces/README.md).
    #[arg(long, default_value = "../shared/traces/automerge-paper.json")]
    trace: String,
    /// Only the many-rooms typing phase (for quick comparisons).
    #[arg(long)]
    typing_only: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let backends = args.server.backends();
    let edits = trace::load(&args.trace);
    println!("# Sync engine benchmark\n\n{}\n", machine_summary());
    for backend in backends {
        println!("## {backend}\n");
        let db = BenchDb::new(backend).await;
        let server = ServerProcess::start(&args.server.binary, &db).await;
        typing::many_rooms(&args, &server).await;
        if args.typing_only {
            server.stop().await;
            db.drop().await;
            continue;
        }
        let trace_room = trace::push(&server, &edits).await;
        trace::wait_for_snapshot(&trace_room, SNAPSHOT_EVERY).await;
        typing::trace_room_beside_empty_room(&args, &server, &trace_room).await;
        trace::open_fresh(&trace_room).await;
        server.stop().await;
        db.drop().await;
    }
}
