//! The server's life: probes, metrics, restarts and the retention job, on both backends.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestDb, TestServer};
use pairline::clock::{DAY_MILLIS, now_millis};
use pairline::config::Config;
use pairline::store::{ChangeRecord, RoomRecord, SnapshotRecord};
use reqwest::StatusCode;

on_both_backends!(
    probes_answer,
    a_restart_keeps_the_data,
    the_retention_job_deletes_expired_rooms,
    metrics_count_requests_by_route_and_status,
);

async fn probes_answer(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let (status, body) = server.get("/healthz").await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, body) = server.get("/readyz").await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ready")));
    let expected = if backend == Backend::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(body["database"], expected);
    server.stop().await;
}

async fn a_restart_keeps_the_data(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let room = server.create_room("java", "before the restart").await;
    server.stop().await;

    let server = TestServer::start(&db).await;
    let (status, fetched) = server
        .get(&format!("/v1/rooms/{}", room["roomId"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["title"], "before the restart");
    assert_eq!(fetched["createdAt"], room["createdAt"]);
    server.stop().await;
}

async fn the_retention_job_deletes_expired_rooms(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let expired_at = now_millis() - 8 * DAY_MILLIS;
    let expired = RoomRecord {
        id: pairline::ids::random_url_token(16),
        language: "c".to_owned(),
        title: "last touched a week ago".to_owned(),
        initial_code: String::new(),
        created_at: expired_at,
        last_active_at: expired_at,
        owner_id: String::new(),
        candidate_key: String::new(),
        ended_at: 0,
        parent_id: String::new(),
    };
    store.create_room(&expired).await.unwrap();
    let change = ChangeRecord {
        room_id: expired.id.clone(),
        seq: 1,
        hash: vec![1; 32],
        actor: vec![2; 16],
        actor_seq: 1,
        deps: Vec::new(),
        bytes: vec![3; 10],
        received_at: expired_at,
    };
    store.append_changes(&[change]).await.unwrap();
    let snapshot = SnapshotRecord {
        room_id: expired.id.clone(),
        covers_seq: 1,
        bytes: vec![4; 10],
        created_at: expired_at,
        code: String::new(),
        language: "c".to_owned(),
        title: String::new(),
    };
    store.put_snapshot(&snapshot).await.unwrap();

    let server = TestServer::start_with(Config {
        retention_days: 7,
        retention_sweep_interval: Duration::from_millis(20),
        ..db.config()
    })
    .await;
    let fresh = server.create_room("c", "fresh").await;

    let deadline = Instant::now() + Duration::from_secs(20);
    // (The API cannot tell: a room without an owner is a 404 to an interviewer anyway.)
    while store.get_room(&expired.id).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "the expired room was not purged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(store.changes_after(&expired.id, 0, 10).await.unwrap().is_empty());
    assert!(store.latest_snapshot(&expired.id).await.unwrap().is_none());
    let (status, _) = server
        .get(&format!("/v1/rooms/{}", fresh["roomId"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK, "a recent room stays");
    store.close().await;
    server.stop().await;
}

async fn metrics_count_requests_by_route_and_status(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    server.create_room("ruby", "metrics").await;
    server.get("/v1/rooms/AAAAAAAAAAAAAAAAAAAAAA").await;
    let text = common::text_of(&server.client, &server.url("/metrics")).await;
    for line in [
        r#"pairline_http_requests_total{method="POST",route="/v1/rooms",status="201"} 1"#,
        r#"pairline_http_requests_total{method="GET",route="/v1/rooms/{id}",status="404"} 1"#,
        r#"pairline_http_request_duration_seconds_count{method="POST",route="/v1/rooms"} 1"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_when_the_database_goes_away() {
    let db = TestDb::new(Backend::Postgres).await;
    let server = TestServer::start(&db).await;
    db.drop_postgres_database().await;
    let (status, body) = server.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["reason"], "the database is unreachable");
    let (status, _) = server.get("/healthz").await;
    assert_eq!(status, StatusCode::OK, "still alive, only not ready");
    let (status, body) = server.get("/v1/rooms").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(common::error_code(&body), "internal");
    assert!(
        !body.to_string().contains("pairline_test_"),
        "internals are not leaked: {body}"
    );
}

#[tokio::test]
async fn rooms_are_kept_forever_when_retention_is_off() {
    let db = TestDb::new(Backend::Sqlite).await;
    let store = db.store().await;
    let job = pairline::retention::spawn(
        store.clone(),
        0,
        Duration::from_millis(1),
        tokio_util::sync::CancellationToken::new(),
    );
    assert!(job.is_none(), "no retention job runs with retention_days = 0");
}
