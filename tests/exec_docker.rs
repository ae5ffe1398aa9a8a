//! The Docker sandbox against a real Docker engine and the real runner image (built by
//! `scripts/build-images`, which `scripts/test` runs): every language's starter, and the
//! bad-input battery, each ending with the right status while other runs carry on.

mod common;

use std::time::Duration;

use common::exec::{request, run, run_battery};
use pairline::exec::docker::{DockerExecutor, DockerOptions, LABEL};
use pairline::exec::{Executor, Limits, Status};

fn image() -> String {
    std::env::var("PAIRLINE_RUNNER_IMAGE").unwrap_or_else(|_| "pairline-runner:latest".into())
}

async fn executor() -> DockerExecutor {
    let options = DockerOptions {
        image: image(),
        pool_size: 2,
        pooled_limits: Limits::default(),
    };
    DockerExecutor::connect(options)
        .await
        .expect("the Docker engine and the runner image (scripts/test sets both up)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_language_runs_its_starter_with_stdin() {
    let executor = executor().await;
    let runtimes = executor.runtimes();
    assert_eq!(runtimes.len(), 9, "every toolchain is in the image: {runtimes:?}");
    assert!(runtimes["python"].starts_with("Python 3."), "{runtimes:?}");
    let runs = pairline::languages::LANGUAGES.iter().map(|language| {
        let executor = &executor;
        async move {
            let request = request(language.id, language.starter, b"Ada\nGrace\n", Limits::default());
            (language.id, run(executor, request).await)
        }
    });
    let mut failures = Vec::new();
    for (id, (result, streamed)) in futures::future::join_all(runs).await {
        if result.status != Status::Ok || result.stdout != "Hello, Ada!\nHello, Grace!\n" {
            failures.push(format!("{id}: {result:?}"));
            continue;
        }
        assert_eq!(
            streamed, result.stdout,
            "{id}: the output was streamed as it came"
        );
        assert_eq!(result.runtime, runtimes[id]);
        assert_eq!(result.exit_code, Some(0));
        assert!(result.memory_usage_mb > 0.0, "{id}: {result:?}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compile_errors_and_runtime_errors_are_told_apart() {
    let executor = executor().await;
    let (result, _) = run(
        &executor,
        request("c", "int main( { return 0; }", b"", Limits::default()),
    )
    .await;
    assert_eq!(result.status, Status::CompileError, "{result:?}");
    assert!(result.stderr.contains("error"), "{result:?}");
    assert_eq!(result.exit_code, None);
    assert!(result.message.starts_with("Compile error"));

    let code = "fn main() { let v: Vec<u8> = Vec::new(); println!(\"{}\", v[3]); }";
    let (result, _) = run(&executor, request("rust", code, b"", Limits::default())).await;
    assert_eq!(result.status, Status::RuntimeError, "{result:?}");
    assert_eq!(result.exit_code, Some(101));
    assert!(result.stderr.contains("index out of bounds"), "{result:?}");

    let (result, _) = run(
        &executor,
        request("python", "import sys\nsys.exit(7)", b"", Limits::default()),
    )
    .await;
    assert_eq!((result.status, result.exit_code), (Status::RuntimeError, Some(7)));
    assert_eq!(result.message, "The program exited with status 7.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_programs_end_with_the_right_status_while_other_runs_carry_on() {
    let executor = executor().await;
    run_battery(&executor).await;

    // No container (and so no process) of any run survives it: once the executor is
    // dropped (its pool of started, idle containers removed too), none of its containers
    // is left at all.
    let instance = executor.instance().to_owned();
    drop(executor);
    let docker = bollard::Docker::connect_with_local_defaults().unwrap();
    common::eventually(Duration::from_secs(20), || async {
        match sandbox_containers(&docker, &instance).await {
            0 => Ok(()),
            left => Err(format!("{left} sandbox containers are left after their runs")),
        }
    })
    .await;
}

/// This executor's sandbox containers, in any state.
async fn sandbox_containers(docker: &bollard::Docker, instance: &str) -> usize {
    use std::collections::HashMap;
    let filters = HashMap::from([("label".to_owned(), vec![format!("{LABEL}={instance}")])]);
    let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    docker.list_containers(Some(options)).await.unwrap().len()
}
