//! The Docker sandbox against a real Docker engine and the real runner image (built by
//! `scripts/build-images`, which `scripts/test` runs): every language's starter, and the
//! bad-input battery, each ending with the right status while other runs carry on.

mod common;

use std::time::Duration;

use bytes::Bytes;
use pairline::exec::docker::{DockerExecutor, DockerOptions, LABEL};
use pairline::exec::{Executor, Limits, RunRequest, RunResult, Status, recipes};
use tokio::sync::mpsc;

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

fn request(language: &str, code: &str, stdin: &[u8], limits: Limits) -> RunRequest {
    RunRequest {
        recipe: recipes::find(language).unwrap(),
        code: code.into(),
        stdin: Bytes::copy_from_slice(stdin),
        limits,
    }
}

/// Limits for the bad-input programs: short, so the suite stays quick.
fn tight() -> Limits {
    Limits {
        wall: Duration::from_secs(3),
        memory_mib: 128,
        processes: 32,
        output_bytes: 64 * 1024,
    }
}

async fn run(executor: &DockerExecutor, request: RunRequest) -> (RunResult, String) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let result = executor.run(request, tx).await;
    let mut streamed = String::new();
    while let Ok(chunk) = rx.try_recv() {
        streamed.push_str(&String::from_utf8_lossy(&chunk.data));
    }
    (result, streamed)
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

/// A bad program, the status it must end with, and what its output must show.
struct Hostile {
    name: &'static str,
    language: &'static str,
    code: String,
    stdin: Vec<u8>,
    expect: &'static [Status],
    check: fn(&RunResult) -> Result<(), String>,
}

fn battery() -> Vec<Hostile> {
    let ok = |_: &RunResult| Ok(());
    vec![
        Hostile {
            name: "fork bomb",
            language: "c",
            code: "#include <unistd.h>\nint main(){ for(;;) fork(); }".into(),
            stdin: vec![],
            expect: &[Status::Timeout],
            check: ok,
        },
        Hostile {
            name: "memory bomb",
            language: "python",
            code: "chunks = []\nwhile True:\n    chunks.append(bytearray(8 * 1024 * 1024))\n".into(),
            stdin: vec![],
            expect: &[Status::MemoryLimit],
            check: |r| {
                (r.message.contains("128 MiB") && r.stderr.is_empty())
                    .then_some(())
                    .ok_or("the message names the limit, and no shell notice is added".into())
            },
        },
        Hostile {
            name: "infinite loop",
            language: "javascript",
            code: "for (;;) {}".into(),
            stdin: vec![],
            expect: &[Status::Timeout],
            check: |r| {
                (r.message.contains("3 s") && r.execution_time_ms >= 2900)
                    .then_some(())
                    .ok_or("the time limit is named and was reached".into())
            },
        },
        Hostile {
            name: "endless output",
            language: "python",
            code: "while True:\n    print('x' * 1000)\n".into(),
            stdin: vec![],
            expect: &[Status::OutputLimit],
            check: |r| {
                (r.truncated && r.stdout.ends_with("[output truncated: the program wrote more than 64 KiB]\n"))
                    .then_some(())
                    .ok_or("the output is cut with a marker".into())
            },
        },
        Hostile {
            name: "network connection",
            language: "python",
            code: "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)\nprint('connected')".into(),
            stdin: vec![],
            expect: &[Status::RuntimeError],
            check: |r| (!r.stdout.contains("connected")).then_some(()).ok_or("it connected".into()),
        },
        Hostile {
            name: "name resolution",
            language: "python",
            code: "import socket\nprint(socket.getaddrinfo('example.com', 80))".into(),
            stdin: vec![],
            expect: &[Status::RuntimeError],
            check: |r| (r.stderr.contains("gaierror")).then_some(()).ok_or("it resolved".into()),
        },
        Hostile {
            name: "write outside the work dir",
            language: "python",
            code: "for path in ['/etc/evil', '/tmp/evil', '/usr/bin/evil']:\n    try:\n        open(path, 'w').write('x')\n        print('wrote', path)\n    except OSError as e:\n        print('refused', path)\n".into(),
            stdin: vec![],
            expect: &[Status::Ok],
            check: |r| (!r.stdout.contains("wrote")).then_some(()).ok_or("a write got through".into()),
        },
        Hostile {
            name: "read the server's files and environment",
            language: "python",
            code: "import os\nprint(sorted(os.environ))\nfor path in ['/work/main/Cargo.toml', '/root/.cargo', '/etc/shadow']:\n    print(path, os.path.exists(path) and os.access(path, os.R_OK))\n".into(),
            stdin: vec![],
            expect: &[Status::Ok],
            check: |r| {
                let leaked = r.stdout.contains("True") || r.stdout.contains("CARGO") || r.stdout.contains("DATABASE");
                (!leaked).then_some(()).ok_or("the server's files or environment are visible".into())
            },
        },
        Hostile {
            name: "background process left behind",
            language: "python",
            code: "import subprocess\nsubprocess.Popen(['sleep', '1000'])\nprint('left a sleeper')".into(),
            stdin: vec![],
            expect: &[Status::Ok],
            check: ok,
        },
        Hostile {
            name: "sleeps forever",
            language: "ruby",
            code: "sleep".into(),
            stdin: vec![],
            expect: &[Status::Timeout],
            check: ok,
        },
        Hostile {
            name: "reads an endless stdin",
            language: "python",
            code: "import sys\nprint(len(sys.stdin.buffer.read()))".into(),
            stdin: vec![b'a'; 1024 * 1024],
            expect: &[Status::Ok],
            check: |r| (r.stdout == "1048576\n").then_some(()).ok_or("stdin arrives whole, then ends".into()),
        },
        Hostile {
            name: "huge source file",
            language: "python",
            code: format!("{}print('still fine')\n", "# padding padding padding\n".repeat(40_000)),
            stdin: vec![],
            expect: &[Status::Ok],
            check: |r| (r.stdout == "still fine\n").then_some(()).ok_or("it ran".into()),
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_programs_end_with_the_right_status_while_other_runs_carry_on() {
    let executor = executor().await;
    let hostile = battery().into_iter().map(|case| {
        let executor = &executor;
        async move {
            let (result, _) = run(executor, request(case.language, &case.code, &case.stdin, tight())).await;
            eprintln!(
                "{}: {:?} {:?} {} ms {} MB exit {:?} out={:?} err={:?}",
                case.name,
                result.status,
                result.message,
                result.execution_time_ms,
                result.memory_usage_mb,
                result.exit_code,
                result.stdout.chars().take(80).collect::<String>(),
                result
                    .stderr
                    .chars()
                    .rev()
                    .take(120)
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect::<String>()
            );
            let verdict = if !case.expect.contains(&result.status) {
                Err(format!("status {:?}, expected {:?}", result.status, case.expect))
            } else {
                (case.check)(&result)
            };
            verdict.map_err(|why| format!("{}: {why}\n  {result:?}", case.name))
        }
    });
    // A well-behaved run in another room, at the same time, is unaffected.
    let neighbour = async {
        let mut slowest = Duration::ZERO;
        for _ in 0..3 {
            let (result, _) = run(
                &executor,
                request("python", "print(6 * 7)", b"", Limits::default()),
            )
            .await;
            assert_eq!(
                (result.status, result.stdout.as_str()),
                (Status::Ok, "42\n"),
                "{result:?}"
            );
            slowest = slowest.max(Duration::from_millis(result.execution_time_ms));
        }
        slowest
    };
    let (verdicts, slowest) = tokio::join!(futures::future::join_all(hostile), neighbour);
    let failures: Vec<String> = verdicts.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("the neighbour's slowest run took {slowest:?} of program time");

    // No container (and so no process) of any run survives it: once the executor is
    // dropped (its pool of started, idle containers removed too), none of its containers
    // is left at all.
    let instance = executor.instance().to_owned();
    drop(executor);
    let docker = bollard::Docker::connect_with_local_defaults().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = sandbox_containers(&docker, &instance).await;
        if left == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{left} sandbox containers are left after their runs"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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
