//! The role matrix: every route and every WebSocket message type against anonymous
//! visitors, candidates, interviewers (their own room and someone else's), admins,
//! disabled accounts (by token and by session) and expired sessions. Each cell names the
//! answer expected; the test prints the whole table when any cell differs. On both
//! backends.

mod common;

use std::fmt::Write as _;
use std::time::Duration;

use common::sync::{SETTLE, connected, pump};
use common::{Backend, StaffAccount, TestDb, TestServer, upgrade_status};
use pairline::auth::Role;
use pairline::auth::tokens::{new_token, token_hash};
use pairline::client::{Event, Identity, SyncClient};
use pairline::clock::now_millis;
use pairline::protocol::{ErrorCode, Role as PeerRole, Selection};
use pairline::store::{SessionRecord, Store};
use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    every_route_answers_each_caller_as_the_matrix_says,
    every_message_type_answers_each_participant_as_the_matrix_says
);

/// Who is asking, in the order of the matrix's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Candidate,
    Owner,
    OtherInterviewer,
    Admin,
    DisabledToken,
    DisabledSession,
    ExpiredSession,
}

const EVERYONE: [Who; 8] = [
    Who::Anonymous,
    Who::Candidate,
    Who::Owner,
    Who::OtherInterviewer,
    Who::Admin,
    Who::DisabledToken,
    Who::DisabledSession,
    Who::ExpiredSession,
];

/// Each route with the answer each caller gets, in `EVERYONE`'s order: a status code,
/// or `login` for the redirect to the login page. Staff already logged in are sent home
/// from the login page.
#[rustfmt::skip]
const ROUTES: &[(&str, [&str; 8])] = &[
    //                              anon     cand     own      other    admin    dis-tok  dis-ses  expired
    ("POST /v1/rooms",             ["401",   "401",   "201",   "201",   "201",   "401",   "401",   "401"]),
    ("GET /v1/rooms",              ["401",   "401",   "200",   "200",   "200",   "401",   "401",   "401"]),
    ("GET /v1/rooms/ID",           ["401",   "401",   "200",   "404",   "200",   "401",   "401",   "401"]),
    ("GET /v1/rooms/ID/document",  ["401",   "401",   "200",   "404",   "200",   "401",   "401",   "401"]),
    ("GET /v1/rooms/ID/notes",     ["401",   "401",   "200",   "404",   "200",   "401",   "401",   "401"]),
    ("POST /v1/rooms/ID/end",      ["401",   "401",   "200",   "404",   "200",   "401",   "401",   "401"]),
    ("DELETE /v1/rooms/ID",        ["401",   "401",   "204",   "404",   "204",   "401",   "401",   "401"]),
    // Code execution is off in this test: a caller allowed to run gets 503 execution_off.
    ("POST /v1/rooms/ID/execute",  ["401",   "401",   "503",   "404",   "503",   "401",   "401",   "401"]),
    ("GET /v1/rooms/ID/runs",      ["401",   "401",   "200",   "404",   "200",   "401",   "401",   "401"]),
    ("GET /v1/languages",          ["200",   "200",   "200",   "200",   "200",   "200",   "200",   "200"]),
    ("GET /",                      ["login", "login", "200",   "200",   "200",   "401",   "login", "login"]),
    ("POST /rooms",                ["login", "login", "303",   "303",   "303",   "401",   "login", "login"]),
    ("GET /r/ID",                  ["login", "login", "200",   "200",   "200",   "401",   "login", "login"]),
    ("POST /r/ID/end",             ["login", "login", "303",   "403",   "303",   "401",   "login", "login"]),
    ("GET /join/ID/KEY",           ["404",   "200",   "404",   "404",   "404",   "404",   "404",   "404"]),
    ("GET /login",                 ["200",   "200",   "303",   "303",   "303",   "401",   "200",   "200"]),
    ("GET /account",               ["login", "login", "200",   "200",   "200",   "401",   "login", "login"]),
    ("POST /account/tokens",       ["login", "login", "200",   "200",   "200",   "401",   "login", "login"]),
    ("GET /admin/users",           ["login", "login", "403",   "403",   "200",   "401",   "login", "login"]),
    ("POST /admin/invites",        ["login", "login", "403",   "403",   "200",   "401",   "login", "login"]),
    ("WS /v1/rooms/ID/ws",         ["401",   "101",   "101",   "101",   "101",   "401",   "401",   "401"]),
    ("WS notes socket",            ["401",   "404",   "101",   "101",   "101",   "401",   "401",   "401"]),
];

/// The callers' credentials.
struct Callers {
    owner: StaffAccount,
    other: StaffAccount,
    admin: StaffAccount,
    disabled: StaffAccount,
    disabled_session: String,
    expired_session: String,
}

impl Callers {
    async fn new(server: &TestServer, store: &dyn Store) -> Self {
        let disabled = StaffAccount::create(store, "disabled@example.com", Role::Interviewer).await;
        let disabled_session = session_cookie(store, &disabled, 3_600_000).await;
        assert!(
            store
                .set_disabled_at(&disabled.user.id, now_millis())
                .await
                .unwrap()
        );
        let owner = StaffAccount::create(store, &server.interviewer.user.email, Role::Interviewer).await;
        Self {
            expired_session: session_cookie(store, &owner, -1).await,
            owner,
            other: StaffAccount::create(store, "other@example.com", Role::Interviewer).await,
            admin: StaffAccount::create(store, "admin@example.com", Role::Admin).await,
            disabled,
            disabled_session,
        }
    }

    /// The headers `who` sends.
    fn headers(&self, who: Who) -> Vec<(&'static str, String)> {
        let bearer = |account: &StaffAccount| vec![("authorization", format!("Bearer {}", account.token))];
        match who {
            Who::Anonymous | Who::Candidate => Vec::new(),
            Who::Owner => bearer(&self.owner),
            Who::OtherInterviewer => bearer(&self.other),
            Who::Admin => bearer(&self.admin),
            Who::DisabledToken => bearer(&self.disabled),
            Who::DisabledSession => vec![("cookie", self.disabled_session.clone())],
            Who::ExpiredSession => vec![("cookie", self.expired_session.clone())],
        }
    }
}

/// A session cookie for `account` that expires `lifetime` ms from now (negative: expired).
async fn session_cookie(store: &dyn Store, account: &StaffAccount, lifetime: i64) -> String {
    let token = new_token();
    let now = now_millis();
    store
        .create_session(&SessionRecord {
            token_hash: token_hash(&token),
            user_id: account.user.id.clone(),
            csrf_token: "matrix-csrf".to_owned(),
            created_at: now - 3_600_000,
            expires_at: now + lifetime,
        })
        .await
        .unwrap();
    format!("pairline_session={token}")
}

/// The answer `who` gets from `route` on a fresh room of the owner's.
async fn answer(server: &TestServer, callers: &Callers, route: &str, who: Who) -> String {
    let room = server.create_room("python", "matrix").await;
    let id = room["roomId"].as_str().unwrap();
    let key = room["candidateWsUrl"]
        .as_str()
        .unwrap()
        .split("key=")
        .nth(1)
        .unwrap();
    let headers = callers.headers(who);
    let header_pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if let Some(socket) = route.strip_prefix("WS ") {
        let url = match socket {
            "notes socket" => {
                let (_, notes) = server.get(&format!("/v1/rooms/{id}/notes")).await;
                notes["wsUrl"].as_str().unwrap().to_owned()
            }
            _ => room["wsUrl"].as_str().unwrap().to_owned(),
        };
        let url = if who == Who::Candidate {
            format!("{url}?key={key}")
        } else {
            url
        };
        return upgrade_status(&url, &header_pairs).await.to_string();
    }
    let (method, path) = route.split_once(' ').unwrap();
    let given_key = if who == Who::Candidate {
        key
    } else {
        "AAAAAAAAAAAAAAAAAAAAAA"
    };
    let path = path.replace("ID", id).replace("KEY", given_key);
    let mut request = server
        .anonymous
        .request(Method::from_bytes(method.as_bytes()).unwrap(), server.url(&path));
    for (name, value) in &headers {
        request = request.header(*name, value);
    }
    request = match route {
        "POST /v1/rooms" => request.json(&json!({ "language": "go" })),
        "POST /v1/rooms/ID/execute" => request.json(&json!({ "stdin": "" })),
        "POST /rooms" => request.form(&[("language", "go"), ("csrf", "matrix-csrf")]),
        "POST /r/ID/end" => request.form(&[("csrf", "matrix-csrf")]),
        "POST /account/tokens" => request.form(&[("name", "matrix"), ("csrf", "matrix-csrf")]),
        "POST /admin/invites" => request.form(&[
            ("email", "invited@example.com"),
            ("role", "interviewer"),
            ("csrf", "matrix-csrf"),
        ]),
        _ => request,
    };
    let response = request.send().await.unwrap();
    let to_login = response
        .headers()
        .get(LOCATION)
        .is_some_and(|location| location.to_str().unwrap().starts_with("/login"));
    if response.status() == StatusCode::SEE_OTHER && to_login {
        "login".to_owned()
    } else {
        response.status().as_u16().to_string()
    }
}

async fn every_route_answers_each_caller_as_the_matrix_says(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let store = db.store().await;
    let callers = Callers::new(&server, store.as_ref()).await;
    let mut table = String::new();
    let mut wrong = 0;
    for (route, expected) in ROUTES {
        write!(table, "{route:<28}").unwrap();
        for (who, expected) in EVERYONE.into_iter().zip(expected) {
            let got = answer(&server, &callers, route, who).await;
            if got == *expected {
                write!(table, " {got:>6}").unwrap();
            } else {
                wrong += 1;
                write!(table, " {got:>6}≠{expected}").unwrap();
            }
        }
        table.push('\n');
    }
    assert_eq!(wrong, 0, "cells differ from the matrix:\n{table}");
    store.close().await;
    server.stop().await;
}

/// What became of one message a participant sent.
async fn outcome_of_changes(client: &mut SyncClient) -> String {
    let text = client.text();
    if client.edit(text.encode_utf16().count(), 0, "x").await.is_err() {
        return "closed".to_owned();
    }
    let wait = async {
        loop {
            match client.next_event().await {
                Ok(Event::Acked(acked)) if !acked.is_empty() => return "acked".to_owned(),
                Ok(Event::Error { code, .. }) => return code.as_str().to_owned(),
                Ok(_) => {}
                Err(pairline::client::ClientError::Refused { code, .. }) => return code.as_str().to_owned(),
                Err(err) => return format!("failed: {err}"),
            }
        }
    };
    tokio::time::timeout(SETTLE, wait)
        .await
        .expect("an answer to Changes")
}

/// Whether `watcher` sees `client`'s presence.
async fn presence_relayed(client: &mut SyncClient, watcher: &mut SyncClient) -> String {
    let selection = Selection {
        anchor: String::new(),
        head: String::new(),
    };
    let peer = client.peer_id.unwrap();
    client
        .send(&pairline::protocol::ClientMessage::Presence(vec![selection]))
        .await
        .unwrap();
    let seen = watcher
        .until(Duration::from_secs(5), "presence", |w| {
            w.presence.contains_key(&peer)
        })
        .await;
    watcher.presence.remove(&peer);
    if seen.is_ok() { "relayed" } else { "dropped" }.to_owned()
}

async fn every_message_type_answers_each_participant_as_the_matrix_says(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let store = db.store().await;
    let callers = Callers::new(&server, store.as_ref()).await;
    let room = server.create_room("python", "messages").await;
    let id = room["roomId"].as_str().unwrap().to_owned();
    let ws = room["wsUrl"].as_str().unwrap().to_owned();
    let mut watcher = connected(&room, "Watcher").await;

    // (participant, its client) for everyone who may open the socket.
    let staff = |account: &StaffAccount, name: &str| {
        SyncClient::new(&ws, Identity::editor(name)).with_bearer(&account.token)
    };
    let mut observer_identity = Identity::editor("Observer");
    observer_identity.role = PeerRole::Observer;
    let mut participants: Vec<(&str, SyncClient)> = vec![
        (
            "candidate",
            SyncClient::new(room["candidateWsUrl"].as_str().unwrap(), Identity::editor("Cand")),
        ),
        (
            "observer",
            SyncClient::new(room["candidateWsUrl"].as_str().unwrap(), observer_identity),
        ),
        ("owner", staff(&callers.owner, "Owner")),
        ("other interviewer", staff(&callers.other, "Other")),
        ("admin", staff(&callers.admin, "Admin")),
    ];
    // Hello, Changes and Presence from each, while the room goes on and after it ended.
    let expected_running = [
        ("candidate", "editor", "acked"),
        ("observer", "observer", "observer_cannot_edit"),
        ("owner", "editor", "acked"),
        ("other interviewer", "editor", "acked"),
        ("admin", "editor", "acked"),
    ];
    let expected_ended = [
        ("candidate", "observer", "room_ended"),
        ("observer", "observer", "room_ended"),
        ("owner", "editor", "acked"),
        ("other interviewer", "editor", "acked"),
        ("admin", "editor", "acked"),
    ];
    for (phase, expected) in [("running", expected_running), ("ended", expected_ended)] {
        if phase == "ended" {
            let (status, _) = server.post(&format!("/v1/rooms/{id}/end"), &Value::Null).await;
            assert_eq!(status, StatusCode::OK);
        }
        for ((name, client), (expected_name, role, changes)) in participants.iter_mut().zip(expected) {
            assert_eq!(*name, expected_name);
            client.disconnect();
            client
                .connect()
                .await
                .unwrap_or_else(|err| panic!("{phase}: {name} says Hello: {err}"));
            client
                .until(SETTLE, "the document", |c| !c.document().get_heads().is_empty())
                .await
                .unwrap();
            let granted = client.welcome.as_ref().unwrap().role;
            let granted = if granted == PeerRole::Editor {
                "editor"
            } else {
                "observer"
            };
            assert_eq!(granted, role, "{phase}: the role granted to {name}");
            assert_eq!(
                outcome_of_changes(client).await,
                changes,
                "{phase}: Changes from {name}"
            );
            if changes != "observer_cannot_edit" {
                assert_eq!(
                    presence_relayed(client, &mut watcher).await,
                    "relayed",
                    "{phase}: Presence from {name}"
                );
            }
        }
    }
    // The watcher (a candidate) never got a byte of the notes.
    let (_, notes) = server.get(&format!("/v1/rooms/{id}/notes")).await;
    let mut note_taker = SyncClient::new(notes["wsUrl"].as_str().unwrap(), Identity::editor("Notes"))
        .with_bearer(&callers.owner.token);
    note_taker.connect().await.unwrap();
    note_taker
        .until(SETTLE, "the notes", |c| !c.document().get_heads().is_empty())
        .await
        .unwrap();
    note_taker.edit(0, 0, "PRIVATE-NOTE").await.unwrap();
    note_taker
        .until(SETTLE, "the ack", |c| c.unacknowledged() == 0)
        .await
        .unwrap();
    let events = pump(&mut watcher, Duration::from_millis(300)).await.unwrap();
    assert!(!watcher.text().contains("PRIVATE-NOTE"), "{events:?}");
    assert!(
        !events.iter().any(|event| matches!(
            event,
            Event::Error {
                code: ErrorCode::Internal,
                ..
            }
        )),
        "{events:?}"
    );
    store.close().await;
    server.stop().await;
}
