//! The sync engine against the real server, with headless clients on the `automerge`
//! crate, on SQLite and on PostgreSQL.

mod common;

use std::time::Duration;

use common::sync::{RawSocket, SETTLE, assert_converged, connected, drive, pump, random_edit};
use common::{Backend, TestDb, TestServer};
use pairline::client::{ClientError, Event, Identity, SyncClient};
use pairline::config::{Config, SyncConfig};
use pairline::protocol::{ClientMessage, ErrorCode, Hello, Role, Selection, VERSION};
use tokio_tungstenite::tungstenite::Message;

on_both_backends!(
    eight_clients_editing_at_once_converge,
    a_client_offline_for_500_edits_converges,
    duplicates_and_out_of_order_changes_are_handled,
    a_reconnecting_client_gets_only_what_it_lacks,
    a_head_only_the_client_has_is_asked_for,
    an_empty_room_unloads_and_comes_back_from_its_snapshot,
    bad_input_is_refused_and_the_room_carries_on,
);

async fn eight_clients_editing_at_once_converge(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let room = server.create_room("python", "eight").await;
    let mut tasks = Vec::new();
    for n in 0..8 {
        let client = connected(&room, &format!("client {n}")).await;
        tasks.push(tokio::spawn(drive(client, 40, n)));
    }
    let mut clients = Vec::new();
    for task in tasks {
        clients.push(task.await.unwrap());
    }
    let code = assert_converged(&server, &room, &mut clients).await;
    assert_ne!(
        code,
        pairline::languages::find("python").unwrap().starter,
        "the edits are there"
    );
    server.stop().await;
}

async fn a_client_offline_for_500_edits_converges(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let room = server.create_room("go", "offline").await;
    let online = connected(&room, "online").await;
    let mut offline = connected(&room, "offline").await;
    offline.disconnect();
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..500 {
        random_edit(&mut offline, &mut rng).await.unwrap();
    }
    assert_eq!(offline.unacknowledged(), 500);
    let online = drive(online, 50, 8).await;
    offline.connect().await.unwrap();
    assert_converged(&server, &room, &mut [online, offline]).await;
    server.stop().await;
}

async fn duplicates_and_out_of_order_changes_are_handled(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let room = server.create_room("rust", "order").await;
    let observer = connected(&room, "watcher").await;
    let mut author = connected(&room, "author").await;
    author.disconnect();
    let mut rng = fastrand::Rng::with_seed(3);
    for _ in 0..20 {
        random_edit(&mut author, &mut rng).await.unwrap();
    }
    let changes: Vec<Vec<u8>> = author
        .document()
        .get_changes(&observer.document().get_heads())
        .iter()
        .map(|change| change.raw_bytes().to_vec())
        .collect();
    assert_eq!(changes.len(), 20);

    // A second connection with a fresh identity sends them backwards, then twice over.
    let mut sender = SyncClient::new(
        room["candidateWsUrl"].as_str().unwrap(),
        Identity::editor("sender"),
    );
    sender.connect().await.unwrap();
    let mut reversed = changes.clone();
    reversed.reverse();
    sender.send_raw_changes(reversed).await.unwrap();
    sender.send_raw_changes(changes.clone()).await.unwrap();
    let mut acked = 0;
    let wait = async {
        while acked < 20 {
            if let Event::Acked(list) = sender.next_event().await.unwrap() {
                acked += list.len();
            }
        }
    };
    tokio::time::timeout(SETTLE, wait)
        .await
        .expect("duplicates are acknowledged");

    // The author comes back: its own pending changes are all duplicates now.
    author.connect().await.unwrap();
    let expected = author.text();
    let code = assert_converged(&server, &room, &mut [observer, author]).await;
    assert_eq!(code, expected);
    server.stop().await;
}

async fn a_reconnecting_client_gets_only_what_it_lacks(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let room = server.create_room("c", "catch-up").await;
    let writer = drive(connected(&room, "writer").await, 10, 1).await;
    let reader = connected(&room, "reader").await;
    let mut clients = [writer, reader];
    assert_converged(&server, &room, &mut clients).await;
    let [writer, mut reader] = clients;
    // Once the room is quiet the server tells everyone how far the log is durable, so the
    // reader's watermark reaches the writer's last change.
    let newest = writer.watermark().synced();
    reader
        .until(SETTLE, "the durable notice", |c| c.watermark().synced() >= newest)
        .await
        .expect("the reader hears that everything is durable");
    reader.disconnect();
    let writer = drive(writer, 5, 2).await;
    let mut settled = [writer];
    assert_converged(&server, &room, &mut settled).await;

    reader.connect().await.unwrap();
    assert!(
        reader.welcome.as_ref().unwrap().snapshot.is_none(),
        "no snapshot for a client nearly in sync"
    );
    let mut received = 0;
    while received < 5 {
        if let Event::Changes(changes) = reader.next_event().await.unwrap() {
            received += changes.len();
        }
    }
    assert_eq!(received, 5, "exactly the five changes it lacked");
    let [writer] = settled;
    assert_converged(&server, &room, &mut [writer, reader]).await;
    server.stop().await;
}

async fn a_head_only_the_client_has_is_asked_for(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let room = server.create_room("ruby", "need").await;
    let mut carrier = connected(&room, "carrier").await;
    // A change made elsewhere (say, broadcast by a server that then crashed before
    // writing it) that the carrier holds but the server does not.
    let mut elsewhere = SyncClient::new(room["candidateWsUrl"].as_str().unwrap(), Identity::editor("gone"));
    elsewhere
        .document_mut()
        .merge(&mut carrier.document().clone())
        .unwrap();
    elsewhere
        .edit(0, 0, "# only the carrier has this\n")
        .await
        .unwrap();
    let foreign = elsewhere.document().get_last_local_change().unwrap().clone();
    carrier.document_mut().apply_changes([foreign]).unwrap();
    carrier.disconnect();

    carrier.connect().await.unwrap();
    let events = pump(&mut carrier, Duration::from_millis(500)).await.unwrap();
    assert!(events.iter().any(|e| matches!(e, Event::Needed(_))), "{events:?}");
    let (_, document) = poll_document(&server, &room, |code| code.starts_with("# only the carrier")).await;
    assert!(document.starts_with("# only the carrier has this"));
    server.stop().await;
}

async fn an_empty_room_unloads_and_comes_back_from_its_snapshot(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start_with(Config {
        sync: SyncConfig {
            unload_after: Duration::from_millis(50),
            snapshot_every: 25,
            ..SyncConfig::default()
        },
        ..db.config()
    })
    .await;
    let room = server.create_room("java", "unload").await;
    let room_id = room["roomId"].as_str().unwrap().to_owned();
    let writer = drive(connected(&room, "writer").await, 60, 5).await;
    let mut clients = [writer];
    let code = assert_converged(&server, &room, &mut clients).await;
    drop(clients);

    let store = db.store().await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let snapshot = store.latest_snapshot(&room_id).await.unwrap();
        if snapshot.as_ref().is_some_and(|s| s.code == code) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no final snapshot was written"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut fresh = connected(&room, "fresh").await;
    assert!(
        fresh.welcome.as_ref().unwrap().snapshot.is_some(),
        "an empty client starts from the snapshot"
    );
    assert_eq!(
        fresh.welcome.as_ref().unwrap().preview.code,
        code,
        "the preview shows the code at once"
    );
    fresh
        .until(SETTLE, "the code", |c| c.text() == code)
        .await
        .unwrap();
    store.close().await;
    server.stop().await;
}

async fn bad_input_is_refused_and_the_room_carries_on(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start_with(Config {
        sync: SyncConfig {
            max_message_bytes: 64 * 1024,
            max_editors: 3,
            max_pending_changes: 3,
            pending_timeout: Duration::from_millis(300),
            max_messages_per_second: 20,
            ..SyncConfig::default()
        },
        ..db.config()
    })
    .await;
    let room = server.create_room("cpp", "bad input").await;
    let mut bystander = connected(&room, "bystander").await;
    let hello = |version: u64, name: &str, color: &str, role: Role| {
        ClientMessage::Hello(Hello {
            version,
            synced_seq: 0,
            heads: Vec::new(),
            name: name.to_owned(),
            color: color.to_owned(),
            role,
        })
        .encode()
    };
    let valid_hello = || hello(VERSION, "mallory", "#ff0000", Role::Editor);

    let cases: Vec<(&str, Vec<Message>, ErrorCode, u16)> = vec![
        (
            "a text frame",
            vec![Message::text("hello")],
            ErrorCode::MalformedMessage,
            4400,
        ),
        (
            "garbage",
            vec![Message::binary(vec![0xde, 0xad])],
            ErrorCode::MalformedMessage,
            4400,
        ),
        (
            "changes before hello",
            vec![Message::binary(ClientMessage::Changes(vec![]).encode())],
            ErrorCode::ExpectedHello,
            4400,
        ),
        (
            "a future version",
            vec![Message::binary(hello(VERSION + 1, "m", "#ff0000", Role::Editor))],
            ErrorCode::UnsupportedVersion,
            4426,
        ),
        (
            "an empty name",
            vec![Message::binary(hello(VERSION, "  ", "#ff0000", Role::Editor))],
            ErrorCode::InvalidHello,
            4400,
        ),
        (
            "a bad colour",
            vec![Message::binary(hello(VERSION, "m", "red", Role::Editor))],
            ErrorCode::InvalidHello,
            4400,
        ),
        (
            "two hellos",
            vec![Message::binary(valid_hello()), Message::binary(valid_hello())],
            ErrorCode::ExpectedHello,
            4400,
        ),
        (
            "a change that is not one",
            vec![
                Message::binary(valid_hello()),
                Message::binary(ClientMessage::Changes(vec![vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]]).encode()),
            ],
            ErrorCode::InvalidChange,
            4422,
        ),
        (
            "an observer editing",
            vec![
                Message::binary(hello(VERSION, "watcher", "#00ff00", Role::Observer)),
                Message::binary(ClientMessage::Changes(vec![]).encode()),
            ],
            ErrorCode::ObserverCannotEdit,
            4403,
        ),
        (
            "an oversized message",
            vec![
                Message::binary(valid_hello()),
                Message::binary(vec![0x03; 100 * 1024]),
            ],
            ErrorCode::MessageTooLarge,
            1009,
        ),
        (
            "a flood",
            std::iter::once(Message::binary(valid_hello()))
                .chain((0..200).map(|_| Message::binary(ClientMessage::Presence(vec![]).encode())))
                .collect(),
            ErrorCode::RateLimited,
            4429,
        ),
    ];
    for (what, messages, code, close) in cases {
        let mut socket = RawSocket::open(&room).await;
        for message in messages {
            // The server may refuse before the last message; the refusal still arrives.
            if !socket.try_send(message).await {
                break;
            }
        }
        assert_eq!(socket.expect_refusal().await, (code, close), "{what}");
    }

    // Changes whose dependencies never come: held, then refused.
    let (orphans, _) = orphan_changes(&bystander, 5).await;
    let mut waiter = SyncClient::new(
        room["candidateWsUrl"].as_str().unwrap(),
        Identity::editor("waiter"),
    );
    waiter.connect().await.unwrap();
    waiter.send_raw_changes(orphans[1..2].to_vec()).await.unwrap();
    let refused = waiter.until(SETTLE, "a refusal", |_| false).await;
    assert!(
        matches!(
            refused,
            Err(ClientError::Refused {
                code: ErrorCode::MissingDependencies,
                ..
            })
        ),
        "{refused:?}"
    );
    let mut hoarder = SyncClient::new(
        room["candidateWsUrl"].as_str().unwrap(),
        Identity::editor("hoarder"),
    );
    hoarder.connect().await.unwrap();
    hoarder.send_raw_changes(orphans[1..].to_vec()).await.unwrap();
    let refused = hoarder.until(SETTLE, "a refusal", |_| false).await;
    assert!(
        matches!(
            refused,
            Err(ClientError::Refused {
                code: ErrorCode::TooManyPending,
                ..
            })
        ),
        "{refused:?}"
    );

    // Oversized presence is dropped with a warning; the connection stays.
    let mut chatty = SyncClient::new(
        room["candidateWsUrl"].as_str().unwrap(),
        Identity::editor("chatty"),
    );
    chatty.connect().await.unwrap();
    let long = Selection {
        anchor: "x".repeat(500),
        head: String::new(),
    };
    chatty.send(&ClientMessage::Presence(vec![long])).await.unwrap();
    let events = pump(&mut chatty, Duration::from_millis(300)).await.unwrap();
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Error {
                code: ErrorCode::InvalidPresence,
                ..
            }
        )),
        "{events:?}"
    );

    // The room is full: bystander, chatty and one more editor.
    let _third = connected(&room, "third").await;
    let mut fourth = SyncClient::new(
        room["candidateWsUrl"].as_str().unwrap(),
        Identity::editor("fourth"),
    );
    assert!(matches!(
        fourth.connect().await,
        Err(ClientError::Refused {
            code: ErrorCode::RoomFull,
            ..
        })
    ));

    // An unknown room is a 404 before any upgrade.
    let unknown = room["candidateWsUrl"]
        .as_str()
        .unwrap()
        .replace(room["roomId"].as_str().unwrap(), "AAAAAAAAAAAAAAAAAAAAAA");
    assert!(tokio_tungstenite::connect_async(unknown).await.is_err());

    // Through all of it the bystander kept its connection and still syncs.
    bystander = drive(bystander, 5, 9).await;
    assert_converged(&server, &room, &mut [bystander]).await;
    server.stop().await;
}

/// Changes made on a private copy of `client`'s document after a first change that is
/// never sent: every one of them misses a dependency.
async fn orphan_changes(client: &SyncClient, count: usize) -> (Vec<Vec<u8>>, SyncClient) {
    let mut private = SyncClient::new("ws://unused", Identity::editor("private"));
    private
        .document_mut()
        .merge(&mut client.document().clone())
        .unwrap();
    let mut changes = Vec::new();
    for n in 0..count {
        private.edit(0, 0, &n.to_string()).await.unwrap();
        changes.push(
            private
                .document()
                .get_last_local_change()
                .unwrap()
                .raw_bytes()
                .to_vec(),
        );
    }
    (changes, private)
}

/// Polls the server's document until `done(code)`.
async fn poll_document(
    server: &TestServer,
    room: &serde_json::Value,
    done: impl Fn(&str) -> bool,
) -> (u64, String) {
    let path = format!("/v1/rooms/{}/document", room["roomId"].as_str().unwrap());
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let (_, document) = server.get(&path).await;
        let code = document["code"].as_str().unwrap_or_default().to_owned();
        if done(&code) {
            return (document["seq"].as_u64().unwrap(), code);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server's document never matched: {code:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
