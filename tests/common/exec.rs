//! Shared by the sandbox tests of both backends: requests, the hostile-program battery
//! and how a run is driven.

use std::time::Duration;

use bytes::Bytes;
use pairline::exec::{Executor, Limits, RunRequest, RunResult, Status, recipes};
use tokio::sync::mpsc;

pub fn request(language: &str, code: &str, stdin: &[u8], limits: Limits) -> RunRequest {
    RunRequest {
        recipe: recipes::find(language).unwrap(),
        code: code.into(),
        stdin: Bytes::copy_from_slice(stdin),
        limits,
    }
}

/// Limits for the bad-input programs: short, so the suite stays quick.
pub fn tight() -> Limits {
    Limits {
        wall: Duration::from_secs(3),
        memory_mib: 128,
        processes: 32,
        output_bytes: 64 * 1024,
    }
}

pub async fn run(executor: &dyn Executor, request: RunRequest) -> (RunResult, String) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let result = executor.run(request, tx).await;
    let mut streamed = String::new();
    while let Ok(chunk) = rx.try_recv() {
        streamed.push_str(&String::from_utf8_lossy(&chunk.data));
    }
    (result, streamed)
}

/// A bad program, the status it must end with, and what its output must show.
pub struct Hostile {
    pub name: &'static str,
    pub language: &'static str,
    pub code: String,
    pub stdin: Vec<u8>,
    pub expect: &'static [Status],
    pub check: fn(&RunResult) -> Result<(), String>,
}

pub fn battery() -> Vec<Hostile> {
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
            language: "python",
            code: "import time\ntime.sleep(10 ** 6)".into(),
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

/// Runs the battery on `executor` beside a well-behaved neighbour; every case must end
/// as expected.
pub async fn run_battery(executor: &dyn Executor) {
    let hostile = battery().into_iter().map(|case| async move {
        let (result, _) = run(executor, request(case.language, &case.code, &case.stdin, tight())).await;
        eprintln!(
            "{}: {:?} in {} ms, {} MB: {}",
            case.name, result.status, result.execution_time_ms, result.memory_usage_mb, result.message
        );
        let verdict = if !case.expect.contains(&result.status) {
            Err(format!("status {:?}, expected {:?}", result.status, case.expect))
        } else {
            (case.check)(&result)
        };
        verdict.map_err(|why| format!("{}: {why}\n  {result:?}", case.name))
    });
    // A well-behaved run in another room, at the same time, is unaffected.
    let neighbour = async {
        for _ in 0..3 {
            let (result, _) = run(
                executor,
                request("python", "print(6 * 7)", b"", Limits::default()),
            )
            .await;
            assert_eq!(
                (result.status, result.stdout.as_str()),
                (Status::Ok, "42\n"),
                "{result:?}"
            );
        }
    };
    let (verdicts, ()) = tokio::join!(futures::future::join_all(hostile), neighbour);
    let failures: Vec<String> = verdicts.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
