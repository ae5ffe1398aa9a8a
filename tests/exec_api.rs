//! Running code through the server with the Docker sandbox: the execute API (JSON and
//! server-sent events), runs streamed to everyone in the room over its socket, stored
//! runs, `GET /v1/languages`, who may run, limits, and the fair queue. On both storage
//! backends.

mod common;

use std::time::Duration;

use common::sync::{SETTLE, connected};
use common::{Backend, StaffAccount, TestDb, TestServer};
use pairline::auth::Role;
use pairline::client::{Event, SyncClient};
use pairline::config::{Config, ExecBackend};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    the_api_runs_the_rooms_code_and_stores_the_run,
    a_run_streams_to_everyone_in_the_room,
    bad_requests_are_refused_with_clear_errors,
    runs_queue_fairly_and_a_full_queue_refuses,
    the_server_stays_responsive_during_hostile_runs
);

fn docker_config(db: &TestDb, concurrency: usize, queue_size: usize) -> Config {
    let mut config = db.config();
    config.exec.backend = ExecBackend::Docker;
    config.exec.docker_image =
        std::env::var("PAIRLINE_RUNNER_IMAGE").unwrap_or_else(|_| "pairline-runner:latest".into());
    config.exec.pool_size = 1;
    config.exec.concurrency = concurrency;
    config.exec.queue_size = queue_size;
    config
}

async fn execute(server: &TestServer, room: &Value, body: Value) -> (StatusCode, Value) {
    let id = room["roomId"].as_str().unwrap();
    server.post(&format!("/v1/rooms/{id}/execute"), &body).await
}

/// The run events a socket client receives until (and including) `finished`.
async fn run_events(client: &mut SyncClient) -> Vec<Value> {
    let mut events = Vec::new();
    let wait = async {
        loop {
            if let Event::Run(event) = client.next_event().await.expect("an event") {
                let event: Value = serde_json::from_str(&event).unwrap();
                let done = matches!(event["type"].as_str(), Some("finished" | "refused"));
                events.push(event);
                if done {
                    return;
                }
            }
        }
    };
    tokio::time::timeout(SETTLE, wait)
        .await
        .expect("the run's events arrive");
    events
}

async fn the_api_runs_the_rooms_code_and_stores_the_run(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start_with(docker_config(&db, 2, 8)).await;
    let room = server.create_room("python", "runs").await;
    let id = room["roomId"].as_str().unwrap();

    // The room's own code: the Python starter, which greets each line of stdin.
    let (status, run) = execute(&server, &room, json!({ "stdin": "Ada\nGrace\n" })).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["stdout"], "Hello, Ada!\nHello, Grace!\n");
    assert_eq!(run["status"], "ok");
    assert_eq!(run["exitCode"], 0);
    assert_eq!(run["truncated"], false);
    assert_eq!(run["backend"], "docker");
    assert!(run["runtime"].as_str().unwrap().starts_with("Python 3."), "{run}");
    assert!(run["executionTimeMs"].as_u64().is_some() && run["memoryUsageMb"].as_f64().is_some());
    assert_eq!(run["startedBy"], "interviewer@example.com");
    assert!(
        !run["heads"].as_array().unwrap().is_empty(),
        "the document's heads are kept"
    );

    // Code and language in the body override the room's.
    let (_, other) = execute(
        &server,
        &room,
        json!({ "code": "console.log(6 * 7)", "language": "javascript" }),
    )
    .await;
    assert_eq!(
        (other["status"].as_str(), other["stdout"].as_str()),
        (Some("ok"), Some("42\n"))
    );

    // Both are stored, newest first; one run's view carries its code.
    let (_, list) = server.get(&format!("/v1/rooms/{id}/runs")).await;
    let runs = list["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["runId"], other["runId"]);
    assert_eq!(runs[1]["stdin"], "Ada\nGrace\n");
    let first = runs[1]["runId"].as_str().unwrap();
    let (status, stored) = server.get(&format!("/v1/rooms/{id}/runs/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(stored["code"].as_str().unwrap().contains("def greet"), "{stored}");
    assert_eq!(stored["stdout"], run["stdout"]);

    // Server-sent events: started, output as it comes, finished.
    let response = server
        .client
        .post(server.url(&format!("/v1/rooms/{id}/execute")))
        .header("accept", "text/event-stream")
        .json(&json!({ "code": "import time\nprint('a', flush=True)\ntime.sleep(0.3)\nprint('b')", "language": "python" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    let kinds: Vec<&str> = body
        .lines()
        .filter_map(|line| line.strip_prefix("event: "))
        .collect();
    assert_eq!(kinds.first(), Some(&"started"), "{body}");
    assert_eq!(kinds.last(), Some(&"finished"), "{body}");
    assert!(
        kinds.iter().filter(|kind| **kind == "output").count() >= 2,
        "output streamed in at least two pieces: {body}"
    );

    // The languages this server runs, with their versions.
    let (status, languages) = server.get("/v1/languages").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(languages["backend"], "docker");
    let list = languages["languages"].as_array().unwrap();
    assert_eq!(list.len(), 9);
    let go = list.iter().find(|language| language["id"] == "go").unwrap();
    assert_eq!(go["available"], true);
    assert!(
        go["runtimes"]["docker"].as_str().unwrap().starts_with("Go 1."),
        "{go}"
    );

    // A room's runs go with it.
    let (status, _) = server.delete(&format!("/v1/rooms/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let store = db.store().await;
    assert!(store.room_runs(id, 10).await.unwrap().is_empty());
    server.stop().await;
}

async fn a_run_streams_to_everyone_in_the_room(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start_with(docker_config(&db, 2, 8)).await;
    let room = server.create_room("python", "streams").await;
    let mut candidate = connected(&room, "Candidate").await;
    let mut watcher = connected(&room, "Watcher").await;

    // The candidate presses Run: both see the run start, stream and finish.
    candidate.run("Ada\n").await.unwrap();
    for client in [&mut candidate, &mut watcher] {
        let events = run_events(client).await;
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds.first(), Some(&"started"), "{events:?}");
        assert_eq!(events[0]["startedBy"], "Candidate");
        let streamed: String = events
            .iter()
            .filter(|e| e["type"] == "output")
            .map(|e| e["data"].as_str().unwrap())
            .collect();
        assert_eq!(streamed, "Hello, Ada!\n");
        let finished = events.last().unwrap();
        assert_eq!(finished["run"]["status"], "ok", "{finished}");
        assert_eq!(finished["run"]["startedBy"], "Candidate");
    }

    // A run through the API reaches the room too.
    let (status, _) = execute(&server, &room, json!({ "stdin": "Grace\n" })).await;
    assert_eq!(status, StatusCode::OK);
    let events = run_events(&mut watcher).await;
    assert_eq!(events.last().unwrap()["run"]["stdout"], "Hello, Grace!\n");

    // Once the interview has ended, the candidate may no longer run code.
    let id = room["roomId"].as_str().unwrap();
    let (status, _) = server.post(&format!("/v1/rooms/{id}/end"), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let ended = async {
        loop {
            if let Event::Ended { .. } = candidate.next_event().await.unwrap() {
                return;
            }
        }
    };
    tokio::time::timeout(SETTLE, ended).await.expect("Ended arrives");
    candidate.run("").await.unwrap();
    let events = run_events(&mut candidate).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "refused");
    assert!(
        events[0]["message"].as_str().unwrap().contains("ended"),
        "{events:?}"
    );
    server.stop().await;
}

async fn bad_requests_are_refused_with_clear_errors(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start_with(docker_config(&db, 2, 8)).await;
    let room = server.create_room("python", "bad").await;
    let id = room["roomId"].as_str().unwrap();

    let too_much = "x".repeat(1024 * 1024 + 1);
    let cases = [
        (
            json!({ "stdin": too_much }),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            json!({ "wallTimeMs": 60_000 }),
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (json!({ "memoryMb": 1 }), StatusCode::BAD_REQUEST, "invalid_limit"),
        (
            json!({ "language": "cobol" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "language_unavailable",
        ),
        (json!({ "stdin": 5 }), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            json!({ "shell": "rm -rf /" }),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        let (got, error) = execute(&server, &room, body.clone()).await;
        assert_eq!(
            (got, common::error_code(&error)),
            (status, code),
            "{body} -> {error}"
        );
        assert!(!error["error"]["message"].as_str().unwrap_or_default().is_empty());
    }

    // Only the room's owner (or an admin) may run its code through the API.
    let store = db.store().await;
    let other = StaffAccount::create(store.as_ref(), "other@example.com", Role::Interviewer).await;
    let url = server.url(&format!("/v1/rooms/{id}/execute"));
    let response = other.client().post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = server.anonymous.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (_, list) = server.get(&format!("/v1/rooms/{id}/runs")).await;
    assert_eq!(
        list["runs"].as_array().unwrap().len(),
        0,
        "nothing refused was run"
    );
    server.stop().await;
}

async fn runs_queue_fairly_and_a_full_queue_refuses(backend: Backend) {
    let db = TestDb::new(backend).await;
    // One run at a time on the server, one waiting at most.
    let server = TestServer::start_with(docker_config(&db, 1, 1)).await;
    let first_room = server.create_room("python", "first").await;
    let second_room = server.create_room("python", "second").await;
    let third_room = server.create_room("python", "third").await;
    let mut second_watcher = connected(&second_room, "Watcher").await;

    let id = first_room["roomId"].as_str().unwrap();
    let mut watcher = connected(&first_room, "First watcher").await;
    let slow = json!({ "code": "import time\ntime.sleep(1.5)\nprint('slow done')" });
    let first = {
        let url = server.url(&format!("/v1/rooms/{id}/execute"));
        let client = server.client.clone();
        tokio::spawn(async move {
            client
                .post(url)
                .json(&slow)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
        })
    };
    // Wait until the first run has started, so that the second one must queue.
    let started = async {
        loop {
            if let Event::Run(event) = watcher.next_event().await.unwrap()
                && event.contains("\"started\"")
            {
                return;
            }
        }
    };
    tokio::time::timeout(SETTLE, started)
        .await
        .expect("the first run starts");

    candidate_runs_and_waits(&mut second_watcher).await;
    let (status, refused) = execute(&server, &third_room, json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
    assert_eq!(common::error_code(&refused), "queue_full");
    assert!(refused["error"]["message"].as_str().unwrap().contains("busy"));

    let first = first.await.unwrap().unwrap();
    assert_eq!(first["stdout"], "slow done\n");
    let events = run_events(&mut second_watcher).await;
    assert_eq!(events.last().unwrap()["run"]["status"], "ok", "{events:?}");
    let (_, list) = server.get(&format!("/v1/rooms/{id}/runs")).await;
    assert_eq!(list["runs"].as_array().unwrap().len(), 1);
    server.stop().await;
}

/// Presses Run in the second room while the server is busy: the run is queued first.
async fn candidate_runs_and_waits(client: &mut SyncClient) {
    client.run("Queued\n").await.unwrap();
    let wait = async {
        loop {
            if let Event::Run(event) = client.next_event().await.unwrap() {
                let event: Value = serde_json::from_str(&event).unwrap();
                assert_eq!(event["type"], "queued", "the run waits its turn: {event}");
                assert_eq!(event["position"], 1);
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("a queued event");
}

async fn the_server_stays_responsive_during_hostile_runs(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start_with(docker_config(&db, 3, 8)).await;
    let bombs = [
        (
            "c",
            "#include <unistd.h>\nint main(){ for(;;) fork(); }",
            "timeout",
        ),
        (
            "python",
            "x = []\nwhile True:\n    x.append(bytearray(8 << 20))",
            "memory_limit",
        ),
    ];
    let mut hostile = Vec::new();
    for (language, code, _) in bombs {
        let room = server.create_room(language, "hostile").await;
        let url = server.url(&format!("/v1/rooms/{}/execute", room["roomId"].as_str().unwrap()));
        let client = server.client.clone();
        let body = json!({ "code": code, "wallTimeMs": 3000 });
        hostile.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }));
    }
    // Meanwhile the server answers, and a well-behaved run elsewhere is unaffected.
    let neighbour = server.create_room("python", "neighbour").await;
    for _ in 0..3 {
        let (status, _) =
            common::json_of(server.anonymous.get(server.url("/healthz")).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        let (status, run) = execute(&server, &neighbour, json!({ "code": "print(6 * 7)" })).await;
        assert_eq!(
            (status, run["stdout"].as_str()),
            (StatusCode::OK, Some("42\n")),
            "{run}"
        );
    }
    for (task, (_, _, expected)) in hostile.into_iter().zip(bombs) {
        let run = task.await.unwrap();
        assert_eq!(run["status"], expected, "{run}");
        assert!(!run["message"].as_str().unwrap().is_empty());
    }
    server.stop().await;
}
