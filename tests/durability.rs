//! Durability: while four clients edit without pause, the server is killed with SIGKILL
//! and restarted, twenty times. Every change the server acknowledged must be in the log
//! afterwards, and every client must converge. On SQLite and on PostgreSQL.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::process::{ServerProcess, free_port};
use common::sync::{SETTLE, assert_converged_at, pump, random_edit};
use common::{Backend, TestDb};
use pairline::auth::Role;
use pairline::client::{Event, Identity, SyncClient};
use pairline::protocol::Hash;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const CRASHES: usize = 20;
/// Acknowledgements the editors must receive between two crashes (and after the last).
const ACKS_BETWEEN_CRASHES: usize = 10;

on_both_backends!(acknowledged_changes_survive_twenty_crashes);

async fn acknowledged_changes_survive_twenty_crashes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let listen = format!("127.0.0.1:{}", free_port());
    let client = db
        .staff_account("ada@example.com", Role::Interviewer)
        .await
        .client();
    let mut server = ServerProcess::start(&["serve"], &db, &listen).await;
    let room: Value = client
        .post(format!("{}/v1/rooms", server.base))
        .json(&serde_json::json!({ "language": "python", "title": "crash test" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let stop = CancellationToken::new();
    let acks = Arc::new(AtomicUsize::new(0));
    let editors: Vec<_> = (0..4)
        .map(|n| {
            tokio::spawn(keep_editing(
                room["candidateWsUrl"].as_str().unwrap().to_owned(),
                n,
                stop.clone(),
                acks.clone(),
            ))
        })
        .collect();
    // Each crash comes once the editors are back and the server has made more of their
    // changes durable since the last one.
    for _ in 0..CRASHES {
        wait_for_more_acks(&acks).await;
        server.kill().await;
        server = ServerProcess::start(&["serve"], &db, &listen).await;
    }
    wait_for_more_acks(&acks).await;
    stop.cancel();

    let mut clients = Vec::new();
    let mut acknowledged = HashSet::new();
    for editor in editors {
        let (mut client, acked) = editor.await.unwrap();
        reconnect(&mut client).await;
        clients.push(client);
        acknowledged.extend(acked);
    }
    assert_converged_at(&client, &server.base, &room, &mut clients).await;

    let store = db.store().await;
    let logged: HashSet<Hash> = store
        .change_index(room["roomId"].as_str().unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.hash.try_into().unwrap())
        .collect();
    let lost: Vec<_> = acknowledged.difference(&logged).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged changes are not in the log",
        lost.len()
    );
    assert!(
        acknowledged.len() > 100,
        "only {} changes were acknowledged",
        acknowledged.len()
    );
    store.close().await;
    server.stop_with("-TERM").await;
}

/// Edits without pause, online or not, reconnecting whenever the server is back; returns
/// the client and the hashes the server acknowledged.
async fn keep_editing(
    url: String,
    seed: u64,
    stop: CancellationToken,
    acks: Arc<AtomicUsize>,
) -> (SyncClient, HashSet<Hash>) {
    let mut client = SyncClient::new(&url, Identity::editor(&format!("editor {seed}")));
    reconnect(&mut client).await;
    client
        .until(SETTLE, "the document", |c| !c.document().get_heads().is_empty())
        .await
        .unwrap();
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut acked = HashSet::new();
    while !stop.is_cancelled() {
        if !client.is_connected() && client.connect().await.is_err() {
            client.disconnect();
        }
        if random_edit(&mut client, &mut rng).await.is_err() {
            client.disconnect();
        }
        match pump(&mut client, Duration::from_millis(5)).await {
            Ok(events) => {
                for event in events {
                    if let Event::Acked(list) = event {
                        acks.fetch_add(list.len(), Ordering::Relaxed);
                        acked.extend(list.into_iter().map(|(hash, _)| hash));
                    }
                }
            }
            Err(_) => client.disconnect(),
        }
    }
    (client, acked)
}

/// Waits until the editors have had `ACKS_BETWEEN_CRASHES` more acknowledgements.
async fn wait_for_more_acks(acks: &AtomicUsize) {
    let target = acks.load(Ordering::Relaxed) + ACKS_BETWEEN_CRASHES;
    let deadline = tokio::time::Instant::now() + SETTLE;
    while acks.load(Ordering::Relaxed) < target {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the editors' changes are no longer acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn reconnect(client: &mut SyncClient) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    while client.connect().await.is_err() {
        client.disconnect();
        assert!(tokio::time::Instant::now() < deadline, "cannot reconnect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
