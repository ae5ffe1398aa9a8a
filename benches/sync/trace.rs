//! The 259,778-edit trace: pushed through the server by one client as fast as it goes,
//! then opened by a fresh client.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use pairline::client::{Event, Identity, SyncClient};
use pairline::protocol::{ClientMessage, Hello, Role, ServerMessage, VERSION, Welcome};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{ServerProcess, create_room_with};

/// Most change bytes per `Changes` message (under the default 1 MiB message limit).
const FRAME_BYTES: usize = 900 * 1024;

/// One edit of the trace: at `pos` delete `delete` characters, then insert `insert`.
pub struct Edit {
    pos: usize,
    delete: usize,
    insert: String,
}

/// Reads the trace, or stops with a message saying where it should be.
pub fn load(path: &str) -> Vec<Edit> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|err| {
        panic!("cannot read the editing trace at {path} ({err}); it lives in ../shared/traces/ beside the clone, or pass --trace")
    });
    let raw: Vec<Vec<Value>> =
        serde_json::from_str(&text).expect("the trace is a JSON array of [pos, del, text...]");
    raw.into_iter()
        .map(|edit| Edit {
            pos: edit[0].as_u64().expect("a position") as usize,
            delete: edit[1].as_u64().expect("a deletion count") as usize,
            insert: edit[2..].iter().filter_map(Value::as_str).collect(),
        })
        .collect()
}

/// Creates an empty room and pushes the whole trace through the server from one client:
/// every edit one change, sent as fast as the connection takes them. Returns the room.
pub async fn push(server: &ServerProcess, edits: &[Edit]) -> Value {
    let http = server.staff_client(reqwest::Client::builder());
    let room = create_room_with(
        &http,
        &server.base,
        json!({ "language": "python", "title": "trace", "template": "" }),
    )
    .await;
    let mut client = SyncClient::new(
        room["candidateWsUrl"].as_str().unwrap(),
        Identity::editor("trace"),
    )
    .relay_only();
    client.connect().await.expect("connect");
    client
        .until(Duration::from_secs(30), "the document", |c| {
            !c.document().get_heads().is_empty()
        })
        .await
        .expect("the room's first change");

    let started = Instant::now();
    let changes = make_changes(&client, edits);
    let generated = started.elapsed();
    let total_bytes: usize = changes.iter().map(Vec::len).sum();

    let cpu_before = server.cpu_seconds();
    let started = Instant::now();
    let mut frame = Vec::new();
    let mut frame_bytes = 0;
    for change in &changes {
        frame_bytes += change.len();
        frame.push(change.clone());
        if frame_bytes >= FRAME_BYTES {
            client
                .send_raw_changes(std::mem::take(&mut frame))
                .await
                .expect("send");
            frame_bytes = 0;
        }
    }
    client.send_raw_changes(frame).await.expect("send");
    let mut acked = 0;
    while acked < changes.len() {
        if let Event::Acked(list) = client.next_event().await.expect("acknowledgements") {
            acked += list.len();
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = (server.cpu_seconds() - cpu_before) / elapsed * 100.0;
    println!("### The trace pushed by one client\n");
    println!("| changes | MB | seconds until all durable | changes/s persisted | server CPU |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {:.1} | {:.2} | {:.0} | {cpu:.0}% |\n",
        changes.len(),
        total_bytes as f64 / 1e6,
        elapsed,
        changes.len() as f64 / elapsed,
    );
    println!(
        "(Generating the {} changes with the Rust automerge crate took {:.1} s beforehand; not timed above.)\n",
        changes.len(),
        generated.as_secs_f64()
    );
    room
}

/// The trace as changes, one per edit, on top of the room's first change.
fn make_changes(client: &SyncClient, edits: &[Edit]) -> Vec<Vec<u8>> {
    use automerge::transaction::Transactable;
    let mut doc = client.document().fork();
    let code = pairline::document::code_object(&doc).expect("the room has code");
    edits
        .iter()
        .map(|edit| {
            let mut tx = doc.transaction();
            tx.splice_text(&code, edit.pos, edit.delete as isize, &edit.insert)
                .expect("a trace edit applies");
            tx.commit();
            doc.get_last_local_change()
                .expect("committed")
                .raw_bytes()
                .to_vec()
        })
        .collect()
}

/// A fresh client opens the trace room: time until the server's `Welcome` (whose
/// preview is the whole text, shown at once) and until its document is loaded and caught
/// up (when it could edit).
pub async fn open_fresh(room: &Value) {
    let url = room["candidateWsUrl"].as_str().unwrap();
    let mut first_text = Vec::new();
    for _ in 0..5 {
        first_text.push(time_to_preview(url).await);
    }
    let started = Instant::now();
    let mut client = SyncClient::new(url, Identity::editor("fresh"));
    client.connect().await.expect("connect");
    client
        .until(Duration::from_secs(60), "the catch-up", SyncClient::is_caught_up)
        .await
        .expect("catch up");
    let editable = started.elapsed();
    first_text.sort_by(f64::total_cmp);
    println!("### A fresh client opening the trace room (headless, Rust automerge)\n");
    println!(
        "| text shown (Welcome with the materialised text), median of 5 | document loaded and caught up |"
    );
    println!("| ---: | ---: |");
    println!(
        "| {:.0} ms ({} characters) | {:.0} ms |\n",
        first_text[2],
        client.text().chars().count(),
        editable.as_secs_f64() * 1000.0,
    );
}

/// Waits until the room's newest snapshot covers all but the last few changes (what a
/// fresh client is sent), as the server does on its own after a burst; prints how long.
pub async fn wait_for_snapshot(room: &Value, snapshot_every: u64) {
    let url = room["candidateWsUrl"].as_str().unwrap();
    let started = Instant::now();
    loop {
        let welcome = welcome(url).await;
        let covers = welcome.snapshot.as_ref().map_or(0, |s| s.covers_seq);
        if welcome.max_seq - covers < snapshot_every {
            println!(
                "The server's snapshot covering the trace (up to change {covers} of {}) was stored {:.1} s after the last acknowledgement.\n",
                welcome.max_seq,
                started.elapsed().as_secs_f64()
            );
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no snapshot after two minutes"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Milliseconds from opening the WebSocket to a decoded `Welcome` with the room's text.
async fn time_to_preview(url: &str) -> f64 {
    let started = Instant::now();
    let welcome = welcome(url).await;
    assert!(!welcome.preview.code.is_empty(), "the preview holds the text");
    started.elapsed().as_secs_f64() * 1000.0
}

/// Connects as a fresh observer and returns the server's `Welcome`.
async fn welcome(url: &str) -> Welcome {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
    let hello = ClientMessage::Hello(Hello {
        version: VERSION,
        synced_seq: 0,
        heads: Vec::new(),
        name: "viewer".to_owned(),
        color: "#123456".to_owned(),
        role: Role::Observer,
    });
    socket.send(Message::binary(hello.encode())).await.expect("hello");
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Binary(bytes) = message
            && let Ok(ServerMessage::Welcome(welcome)) = ServerMessage::decode(&bytes)
        {
            return welcome;
        }
    }
    panic!("no Welcome");
}
