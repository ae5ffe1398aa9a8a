//! The local sandbox (bubblewrap namespaces and cgroups on this machine, which
//! `scripts/test` sets up): the host's toolchains only, the starters that the host can
//! run, and the bad-input battery, each ending with the right status while other runs
//! carry on, with no process of any run left behind.

mod common;

use std::time::Duration;

use common::exec::{request, run, run_battery};
use common::{TestDb, TestServer};
use pairline::config::ExecBackend;
use pairline::exec::local::LocalExecutor;
use pairline::exec::{Executor, Limits, Status};

async fn executor() -> LocalExecutor {
    LocalExecutor::start()
        .await
        .expect("bubblewrap (scripts/test installs it)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_toolchains_run_their_starters() {
    let executor = executor().await;
    let runtimes = executor.runtimes();
    for needed in ["python", "c"] {
        assert!(
            runtimes.contains_key(needed),
            "the host has {needed}: {runtimes:?}"
        );
    }
    for language in pairline::languages::LANGUAGES {
        let Some(runtime) = runtimes.get(language.id) else {
            eprintln!("{}: not on this host, not offered", language.id);
            continue;
        };
        let (result, streamed) = run(
            &executor,
            request(language.id, language.starter, b"Ada\n", Limits::default()),
        )
        .await;
        assert_eq!(
            (result.status, result.stdout.as_str()),
            (Status::Ok, "Hello, Ada!\n"),
            "{}: {result:?}",
            language.id
        );
        assert_eq!(streamed, result.stdout);
        assert_eq!(&result.runtime, runtime);
        assert_eq!(result.backend, "local");
        assert!(result.memory_usage_mb > 0.0, "{result:?}");
    }
    let (result, _) = run(&executor, request("c", "int main( {", b"", Limits::default())).await;
    assert_eq!(result.status, Status::CompileError, "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_programs_end_with_the_right_status_and_leave_nothing_behind() {
    let executor = executor().await;
    run_battery(&executor).await;
    // The battery's background `sleep 1000` (and every fork-bomb child) is gone.
    common::eventually(Duration::from_secs(10), || async {
        let survivors = std::process::Command::new("pgrep")
            .args(["-f", "sleep 1000"])
            .output()
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
            .unwrap_or_default();
        if survivors.is_empty() {
            Ok(())
        } else {
            Err(format!("processes survived their run: {survivors}"))
        }
    })
    .await;
}

/// The local sandbox is the server's default: a run through the API uses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_code_in_the_local_sandbox_by_default() {
    let db = TestDb::new(common::Backend::Sqlite).await;
    let mut config = db.config();
    config.exec.backend = pairline::config::ExecConfig::default().backend;
    assert_eq!(config.exec.backend, ExecBackend::Local);
    let server = TestServer::start_with(config).await;
    let room = server.create_room("python", "local").await;
    let id = room["roomId"].as_str().unwrap();
    let (status, run) = server
        .post(
            &format!("/v1/rooms/{id}/execute"),
            &serde_json::json!({ "stdin": "Ada\n" }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{run}");
    assert_eq!(
        (run["backend"].as_str(), run["stdout"].as_str()),
        (Some("local"), Some("Hello, Ada!\n"))
    );
    let (_, languages) = server.get("/v1/languages").await;
    assert_eq!(languages["backend"], "local");
    server.stop().await;
}
