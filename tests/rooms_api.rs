//! The rooms REST API against the real server, on SQLite and on PostgreSQL.

mod common;

use common::{Backend, TestDb, TestServer, error_code};
use pairline::config::Config;
use pairline::languages::LANGUAGES;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

on_both_backends!(
    create_get_list_delete,
    every_language_can_be_created,
    listing_is_paginated_newest_first,
    bad_input_gets_json_errors_never_a_500,
    oversized_bodies_get_413,
    links_use_the_public_url,
);

async fn create_get_list_delete(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;

    let room = server.create_room("python", "Senior backend, round 1").await;
    let id = room["roomId"].as_str().unwrap();
    assert_eq!(id.len(), 22, "128 random bits, base64url");
    assert!(
        id.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert_eq!(room["language"], "python");
    assert_eq!(room["title"], "Senior backend, round 1");
    assert_eq!(
        room["editorUrl"],
        format!("http://localhost:{}/r/{id}", server.addr.port())
    );
    assert_eq!(
        room["wsUrl"],
        format!("ws://localhost:{}/v1/rooms/{id}/ws", server.addr.port())
    );
    let key = room["candidateUrl"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(key.len(), 22, "128 random bits, base64url");
    assert_eq!(
        room["candidateUrl"],
        format!("http://localhost:{}/join/{id}/{key}", server.addr.port())
    );
    assert_eq!(
        room["candidateWsUrl"],
        format!("ws://localhost:{}/v1/rooms/{id}/ws?key={key}", server.addr.port())
    );
    assert!(room["createdAt"].as_str().unwrap().ends_with('Z'));

    let (status, fetched) = server.get(&format!("/v1/rooms/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, room);

    let (status, list) = server.get("/v1/rooms").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["rooms"], json!([room]));
    assert_eq!(list["nextCursor"], Value::Null);

    let (status, body) = server.delete(&format!("/v1/rooms/{id}")).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = server.get(&format!("/v1/rooms/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "not_found");
    let (status, _) = server.delete(&format!("/v1/rooms/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    server.stop().await;
}

async fn every_language_can_be_created(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let store = db.store().await;
    for language in LANGUAGES {
        let (status, room) = server
            .post("/v1/rooms", &json!({ "language": language.id }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{room}");
        assert_eq!(room["title"], format!("{} interview", language.name));
        let stored = store
            .get_room(room["roomId"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.initial_code, language.starter,
            "{} starts from its template",
            language.id
        );
    }
    let code = "print('custom')\n";
    let (_, room) = server
        .post("/v1/rooms", &json!({ "language": "python", "template": code }))
        .await;
    let stored = store
        .get_room(room["roomId"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.initial_code, code);
    store.close().await;
    server.stop().await;
}

async fn listing_is_paginated_newest_first(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let mut created = Vec::new();
    for n in 0..7 {
        created.push(server.create_room("go", &format!("room {n}")).await["roomId"].clone());
    }

    let mut seen = Vec::new();
    let mut path = "/v1/rooms?limit=3".to_owned();
    loop {
        let (status, page) = server.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let rooms = page["rooms"].as_array().unwrap();
        assert!(rooms.len() <= 3);
        seen.extend(rooms.iter().cloned());
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/rooms?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let key = |room: &Value| {
        (
            room["createdAt"].as_str().unwrap().to_owned(),
            room["roomId"].as_str().unwrap().to_owned(),
        )
    };
    let mut newest_first = seen.clone();
    newest_first.sort_by_key(|room| std::cmp::Reverse(key(room)));
    assert_eq!(seen, newest_first, "newest first, ties broken by id");
    let mut seen_ids: Vec<_> = seen.iter().map(|room| room["roomId"].as_str().unwrap()).collect();
    let mut created_ids: Vec<_> = created.iter().map(|id| id.as_str().unwrap()).collect();
    seen_ids.sort_unstable();
    created_ids.sort_unstable();
    assert_eq!(seen_ids, created_ids, "every room appears exactly once");
    server.stop().await;
}

async fn bad_input_gets_json_errors_never_a_500(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let post_raw = |body: &'static str, content_type: &'static str| {
        server
            .client
            .post(server.url("/v1/rooms"))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };

    let (status, body) =
        common::json_of(post_raw("{\"language\": ", "application/json").await.unwrap()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "malformed_json")
    );

    let (status, body) =
        common::json_of(post_raw("{\"title\": \"x\"}", "application/json").await.unwrap()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains("language"),
        "{body}"
    );

    let (status, body) =
        common::json_of(post_raw("{\"language\": 7}", "application/json").await.unwrap()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );

    let (status, body) = common::json_of(post_raw("language=python", "text/plain").await.unwrap()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );

    let (status, body) = server.post("/v1/rooms", &json!({ "language": "cobol" })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "unknown_language")
    );
    let message = body["error"]["message"].as_str().unwrap();
    for language in LANGUAGES {
        assert!(message.contains(language.id), "{message} lists {}", language.id);
    }

    let cases = [
        (
            json!({ "language": "c", "title": "x".repeat(201) }),
            "title_too_long",
        ),
        (json!({ "language": "c", "title": "bell\u{7}" }), "invalid_text"),
        (
            json!({ "language": "c", "template": "nul\u{0}byte" }),
            "invalid_text",
        ),
        (
            json!({ "language": "c", "template": "x".repeat(256 * 1024 + 1) }),
            "template_too_large",
        ),
    ];
    for (input, code) in cases {
        let (status, body) = server.post("/v1/rooms", &input).await;
        assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, code));
    }

    for path in [
        "/v1/rooms/AAAAAAAAAAAAAAAAAAAAAA",
        "/v1/rooms/short",
        "/v1/rooms/%FF%FE",
        "/v1/rooms/..%2F..%2Fetc",
    ] {
        let (status, body) = server.get(path).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{path}: {status}"
        );
        error_code(&body);
    }

    for (path, code) in [
        ("/v1/rooms?limit=0", "invalid_limit"),
        ("/v1/rooms?limit=101", "invalid_limit"),
        ("/v1/rooms?limit=abc", "invalid_request"),
        ("/v1/rooms?cursor=garbage", "invalid_cursor"),
    ] {
        let (status, body) = server.get(path).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, code),
            "{path}"
        );
    }

    let (status, body) = server.get("/v1/nothing-here").await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"));

    let response = server.client.put(server.url("/v1/rooms")).send().await.unwrap();
    let (status, body) = common::json_of(response).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );

    let (status, _) = server.get("/readyz").await;
    assert_eq!(status, StatusCode::OK, "the server is unharmed");
    server.stop().await;
}

async fn oversized_bodies_get_413(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start_with(Config {
        max_request_bytes: 4096,
        ..db.config()
    })
    .await;
    let big = json!({ "language": "python", "title": "t", "template": "x".repeat(8192) });
    let (status, body) = server.post("/v1/rooms", &big).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    server.create_room("python", "still works").await;
    server.stop().await;
}

async fn links_use_the_public_url(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start_with(Config {
        public_url: Some("https://pair.example.com/interviews/".parse().unwrap()),
        ..db.config()
    })
    .await;
    let room = server.create_room("rust", "links").await;
    let id = room["roomId"].as_str().unwrap();
    assert_eq!(
        room["editorUrl"],
        format!("https://pair.example.com/interviews/r/{id}")
    );
    assert_eq!(
        room["wsUrl"],
        format!("wss://pair.example.com/interviews/v1/rooms/{id}/ws")
    );
    assert!(
        room["candidateUrl"]
            .as_str()
            .unwrap()
            .starts_with(&format!("https://pair.example.com/interviews/join/{id}/"))
    );
    server.stop().await;
}
