//! Ending an interview (candidates can then only watch, staff go on) and the staff-only
//! notes document (never reachable from a candidate's socket or page). On both backends.

mod common;

use std::time::Duration;

use common::sync::{SETTLE, connected, pump};
use common::{Backend, StaffAccount, TestDb, TestServer};
use pairline::auth::Role;
use pairline::client::{Event, Identity, SyncClient};
use pairline::protocol::{ErrorCode, Role as PeerRole};
use reqwest::StatusCode;
use serde_json::Value;

on_both_backends!(
    ending_a_room_leaves_candidates_watching_and_staff_editing,
    notes_are_for_staff_only_and_go_with_their_room
);

/// A staff member's client of the socket at `url`, connected with an API token.
async fn staff_client(url: &str, token: &str, name: &str) -> SyncClient {
    let mut client = SyncClient::new(url, Identity::editor(name)).with_bearer(token);
    client.connect().await.expect("staff connect");
    client
        .until(SETTLE, "the document", |c| !c.document().get_heads().is_empty())
        .await
        .expect("the document arrives");
    client
}

/// Waits for the `Ended` message and returns the role it grants.
async fn ended_role(client: &mut SyncClient) -> PeerRole {
    let wait = async {
        loop {
            if let Event::Ended { ended_at, role } = client.next_event().await.expect("an event") {
                assert!(ended_at > 0);
                return role;
            }
        }
    };
    tokio::time::timeout(SETTLE, wait).await.expect("Ended arrives")
}

async fn ending_a_room_leaves_candidates_watching_and_staff_editing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let store = db.store().await;
    let other = StaffAccount::create(store.as_ref(), "other@example.com", Role::Interviewer).await;
    let room = server.create_room("python", "ending").await;
    let id = room["roomId"].as_str().unwrap();
    assert_eq!(room["endedAt"], Value::Null);

    let mut candidate = connected(&room, "Candidate").await;
    let ws_url = room["wsUrl"].as_str().unwrap();
    let mut staff = staff_client(ws_url, &server.interviewer.token, "Interviewer").await;
    candidate.edit(0, 0, "# before the end\n").await.unwrap();
    candidate
        .until(SETTLE, "the acknowledgement", |c| c.unacknowledged() == 0)
        .await
        .unwrap();

    // Only the room's owner (or an admin) ends it; a colleague gets the API's 404.
    let end_path = format!("/v1/rooms/{id}/end");
    let refused = other.client().post(server.url(&end_path)).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let (status, ended) = server.post(&end_path, &Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    let ended_at = ended["endedAt"].as_str().expect("an end time").to_owned();
    let (_, again) = server.post(&end_path, &Value::Null).await;
    assert_eq!(
        again["endedAt"],
        ended_at.as_str(),
        "ending twice keeps the first time"
    );
    let (_, fetched) = server.get(&format!("/v1/rooms/{id}")).await;
    assert_eq!(fetched["endedAt"], ended_at.as_str());

    // Everyone connected is told; the candidate now only watches.
    assert_eq!(ended_role(&mut candidate).await, PeerRole::Observer);
    assert_eq!(ended_role(&mut staff).await, PeerRole::Editor);
    candidate.edit(0, 0, "# after the end\n").await.unwrap();
    let events = pump(&mut candidate, Duration::from_millis(500)).await.unwrap();
    assert!(
        events.iter().any(|event| matches!(
            event,
            Event::Error {
                code: ErrorCode::RoomEnded,
                ..
            }
        )),
        "the late edit is refused: {events:?}"
    );
    assert!(
        candidate.is_connected(),
        "the refusal is not fatal: the candidate keeps watching"
    );

    // Staff still edit, and the candidate still sees it.
    staff.edit(0, 0, "# staff note in code\n").await.unwrap();
    candidate
        .until(SETTLE, "the staff edit", |c| {
            c.text().contains("# staff note in code")
        })
        .await
        .unwrap();
    let (_, document) = server.get(&format!("/v1/rooms/{id}/document")).await;
    let code = document["code"].as_str().unwrap();
    assert!(code.contains("# before the end") && code.contains("# staff note in code"));
    assert!(!code.contains("# after the end"), "{code}");

    // A candidate arriving later (asking to edit) is let in as an observer.
    let late = connected(&room, "Late candidate").await;
    let welcome = late.welcome.clone().unwrap();
    assert_eq!((welcome.role, welcome.ended_at > 0), (PeerRole::Observer, true));
    let page = common::text_of(&server.anonymous, room["candidateUrl"].as_str().unwrap()).await;
    assert!(page.contains("data-read-only=\"true\"") && page.contains("ended this interview"));
    drop(late);
    store.close().await;
    server.stop().await;
}

async fn notes_are_for_staff_only_and_go_with_their_room(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let store = db.store().await;
    let other = StaffAccount::create(store.as_ref(), "other@example.com", Role::Interviewer).await;
    let room = server.create_room("go", "notes").await;
    let id = room["roomId"].as_str().unwrap();

    let (status, notes) = server.get(&format!("/v1/rooms/{id}/notes")).await;
    assert_eq!(
        (status, notes["text"].as_str()),
        (StatusCode::OK, Some("")),
        "{notes}"
    );
    let notes_ws = notes["wsUrl"].as_str().unwrap().to_owned();
    let notes_id = notes_ws.split('/').rev().nth(1).unwrap().to_owned();
    let (_, same) = server.get(&format!("/v1/rooms/{id}/notes")).await;
    assert_eq!(same["wsUrl"], notes_ws.as_str(), "one notes document per room");

    // Two staff members write the notes together; a candidate is in the room meanwhile.
    let mut candidate = connected(&room, "Candidate").await;
    let mut mine = staff_client(&notes_ws, &server.interviewer.token, "Interviewer").await;
    let mut theirs = staff_client(&notes_ws, &other.token, "Colleague").await;
    let secret = "SECRET: strong on graphs, weak on tests";
    mine.edit(0, 0, secret).await.unwrap();
    theirs
        .until(SETTLE, "the note", |c| c.text() == secret)
        .await
        .unwrap();
    mine.until(SETTLE, "the acknowledgement", |c| c.unacknowledged() == 0)
        .await
        .unwrap();
    let (_, read) = server.get(&format!("/v1/rooms/{id}/notes")).await;
    assert_eq!(read["text"], secret);

    // Nothing of the notes reaches the candidate: not on their socket, not in their page,
    // and their key does not open the notes' socket.
    let events = pump(&mut candidate, Duration::from_millis(500)).await.unwrap();
    assert!(!candidate.text().contains("SECRET"), "{events:?}");
    let candidate_page = common::text_of(&server.anonymous, room["candidateUrl"].as_str().unwrap()).await;
    assert!(!candidate_page.contains("SECRET") && !candidate_page.contains(&notes_id));
    let key = room["candidateWsUrl"]
        .as_str()
        .unwrap()
        .split("key=")
        .nth(1)
        .unwrap();
    let mut intruder = SyncClient::new(&format!("{notes_ws}?key={key}"), Identity::editor("Intruder"));
    let refused = intruder
        .connect()
        .await
        .expect_err("a candidate key does not open the notes");
    assert!(refused.to_string().contains("404"), "{refused}");
    let staff_page = common::text_of(&server.client, room["editorUrl"].as_str().unwrap()).await;
    assert!(staff_page.contains(&notes_id) && staff_page.contains("SECRET: strong on graphs"));

    // The notes are not a room of their own to the API or the pages.
    let (status, _) = server.get(&format!("/v1/rooms/{notes_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = server.get("/v1/rooms").await;
    assert_eq!(list["rooms"].as_array().unwrap().len(), 1);
    let page = server
        .interviewer
        .client()
        .get(server.url(&format!("/r/{notes_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let (status, _) = common::json_of(
        other
            .client()
            .get(server.url(&format!("/v1/rooms/{id}/notes")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the API's notes are the owner's and admins'"
    );

    // Deleting the room deletes its notes.
    drop((mine, theirs, candidate));
    let (status, _) = server.delete(&format!("/v1/rooms/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(store.get_room(&notes_id).await.unwrap().is_none());
    store.close().await;
    server.stop().await;
}
