//! The `pairline` binary: help, configuration errors, `migrate`, and graceful shutdown
//! on SIGTERM and Ctrl-C (SIGINT).

mod common;

use common::process::{ServerProcess, pairline};
use common::{Backend, TestDb};
use pairline::auth::Role;
use reqwest::StatusCode;

#[tokio::test]
async fn help_explains_serve_and_migrate() {
    let output = pairline(&["--help"], &[]).output().await.unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for word in ["serve", "migrate", "--config", "PAIRLINE_"] {
        assert!(help.contains(word), "help lacks {word}:\n{help}");
    }
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_with_a_clear_message() {
    let output = pairline(&["serve"], &[("PAIRLINE_RETENTION_DAYS", "a month")])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8(output.stderr).unwrap();
    assert!(
        message.contains("`retention_days`") && message.contains("PAIRLINE_RETENTION_DAYS"),
        "{message}"
    );
    assert!(message.contains("from 0 to 36500"), "{message}");

    let output = pairline(&["--config", "/nonexistent.toml"], &[])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent.toml"));
}

#[tokio::test]
async fn a_busy_port_is_reported_with_the_setting_to_change() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = db.dir.path().to_str().unwrap();
    let output = pairline(
        &["serve"],
        &[("PAIRLINE_LISTEN", &address), ("PAIRLINE_DATA_DIR", dir)],
    )
    .output()
    .await
    .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains(&address) && message.contains("PAIRLINE_LISTEN"),
        "{message}"
    );
}

#[tokio::test]
async fn migrate_twice_is_a_no_op_on_both_backends() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDb::new(backend).await;
        let url = db.url.expose().to_owned();
        for first in [true, false] {
            let output = pairline(&["migrate"], &[("PAIRLINE_DATABASE_URL", &url)])
                .output()
                .await
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "{backend:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(
                !stdout.contains("applied 0 new migration"),
                first,
                "{backend:?}: {stdout}"
            );
        }
    }
}

async fn stops_gracefully_and_keeps_data(backend: Backend, args: &[&str], signal: &str) {
    let db = TestDb::new(backend).await;
    let client = db
        .staff_account("ada@example.com", Role::Interviewer)
        .await
        .client();
    let server = ServerProcess::start(args, &db, "127.0.0.1:0").await;
    let created = client
        .post(format!("{}/v1/rooms", server.base))
        .json(&serde_json::json!({ "language": "cpp", "title": "survives" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let room: serde_json::Value = created.json().await.unwrap();

    let log = server.stop_with(signal).await;
    assert!(log.contains("shut down"), "{log}");

    let server = ServerProcess::start(&["serve"], &db, "127.0.0.1:0").await;
    let url = format!("{}/v1/rooms/{}", server.base, room["roomId"].as_str().unwrap());
    let fetched: serde_json::Value = client.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(fetched["title"], "survives");
    server.stop_with("-TERM").await;
}

#[tokio::test]
async fn sigterm_stops_the_default_command_gracefully_on_sqlite() {
    stops_gracefully_and_keeps_data(Backend::Sqlite, &[], "-TERM").await;
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully_on_postgres() {
    stops_gracefully_and_keeps_data(Backend::Postgres, &["serve"], "-TERM").await;
}

#[tokio::test]
async fn ctrl_c_stops_the_server_gracefully() {
    stops_gracefully_and_keeps_data(Backend::Sqlite, &["serve"], "-INT").await;
}

#[tokio::test]
async fn a_signal_right_after_startup_still_stops_the_server_gracefully() {
    // The signal handlers are in place before the server says it is listening, so a
    // supervisor's SIGTERM at that moment is a clean stop, not a kill.
    let db = TestDb::new(Backend::Sqlite).await;
    for _ in 0..10 {
        let server = ServerProcess::start(&["serve"], &db, "127.0.0.1:0").await;
        let log = server.stop_with("-TERM").await;
        assert!(log.contains("shut down"), "{log}");
    }
}
