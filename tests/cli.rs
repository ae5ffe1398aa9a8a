//! The `pairline` binary: help, configuration errors, `migrate`, and graceful shutdown
//! on SIGTERM and Ctrl-C (SIGINT).

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{Backend, TestDb};
use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_pairline");

/// The binary with a clean environment (no stray PAIRLINE_* settings) plus `vars`.
fn pairline(args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (key, value) in vars {
        command.env(key, value);
    }
    command.kill_on_drop(true);
    command
}

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

/// A server process started on a random port, and its log.
struct Process {
    child: Child,
    log: Lines<BufReader<ChildStderr>>,
    base: String,
}

impl Process {
    async fn start(args: &[&str], db: &TestDb) -> Self {
        let dir = db.dir.path().to_str().unwrap();
        let mut child = pairline(
            args,
            &[
                ("PAIRLINE_LISTEN", "127.0.0.1:0"),
                ("PAIRLINE_DATA_DIR", dir),
                ("PAIRLINE_DATABASE_URL", db.url.expose()),
            ],
        )
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
        let line = wait_for_line(&mut log, "listening on http://").await;
        let from = line.find("http://").unwrap();
        let base = line[from..].split_whitespace().next().unwrap().to_owned();
        Self { child, log, base }
    }

    /// Sends `signal` and waits for a clean exit, returning what the log said meanwhile.
    async fn stop_with(mut self, signal: &str) -> String {
        let pid = self.child.id().unwrap().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().await.unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the server exits after the signal")
            .unwrap();
        assert!(status.success(), "exit status {status}");
        let mut rest = String::new();
        while let Ok(Some(line)) = self.log.next_line().await {
            rest.push_str(&line);
            rest.push('\n');
        }
        rest
    }
}

async fn wait_for_line(log: &mut Lines<BufReader<ChildStderr>>, needle: &str) -> String {
    let wait = async {
        while let Some(line) = log.next_line().await.unwrap() {
            if line.contains(needle) {
                return line;
            }
        }
        panic!("the server exited before logging {needle:?}");
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the server starts")
}

async fn stops_gracefully_and_keeps_data(backend: Backend, args: &[&str], signal: &str) {
    let db = TestDb::new(backend).await;
    let server = Process::start(args, &db).await;
    let client = reqwest::Client::new();
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

    let server = Process::start(&["serve"], &db).await;
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
