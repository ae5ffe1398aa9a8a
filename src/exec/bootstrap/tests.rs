use std::io::Write;
use std::process::{Command, Stdio};

use bytes::Bytes;

use super::*;
use crate::exec::{Limits, recipes};

fn request(language: &str, code: &str, stdin: &str) -> RunRequest {
    RunRequest {
        recipe: recipes::find(language).unwrap(),
        code: code.into(),
        stdin: Bytes::copy_from_slice(stdin.as_bytes()),
        limits: Limits::default(),
    }
}

/// Runs the bootstrap with plain bash in a temporary work dir (no sandbox): what the
/// sandboxes run, minus the isolation. Returns (stdout, filtered stderr, signals, status).
fn bootstrap(request: &RunRequest) -> (String, String, Vec<Signal>, i32) {
    let work = tempfile::tempdir().unwrap();
    let nonce = nonce();
    let mut child = Command::new("bash")
        .args(["-c", BOOTSTRAP])
        .env("PAIRLINE_WORK", work.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = framed_input(request, &nonce);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let mut filter = SignalFilter::new(&nonce);
    // Byte by byte: the filter must not depend on how the stream is cut.
    let mut stderr = Vec::new();
    let mut signals = Vec::new();
    for byte in &output.stderr {
        let (out, found) = filter.feed(std::slice::from_ref(byte));
        stderr.extend(out);
        signals.extend(found);
    }
    stderr.extend(filter.finish());
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
        signals,
        output.status.code().unwrap_or(-1),
    )
}

#[test]
fn a_program_gets_its_code_and_its_stdin_and_reports_how_it_ended() {
    let code = "import sys\ndata = sys.stdin.read()\nprint(data.upper(), end='')\nprint('warn', file=sys.stderr)\nsys.exit(3)\n";
    let (stdout, stderr, signals, status) = bootstrap(&request("python", code, "hello\nworld\n"));
    assert_eq!(stdout, "HELLO\nWORLD\n");
    assert_eq!(stderr, "warn\n", "the reports are taken out of stderr");
    assert_eq!(signals[0], Signal::Compiled);
    assert!(
        matches!(signals[1], Signal::Done { exit_code: 3, .. }),
        "{signals:?}"
    );
    assert_eq!(status, 3);
}

#[test]
fn a_compile_error_is_reported_with_the_compiler_messages_and_nothing_runs() {
    let (stdout, stderr, signals, _) = bootstrap(&request("c", "int main( { return 0; }", ""));
    assert_eq!(stdout, "");
    assert!(stderr.contains("error"), "{stderr}");
    assert_eq!(signals, vec![Signal::CompileFailed]);
}

#[test]
fn empty_code_and_binary_stdin_are_carried_exactly() {
    let (stdout, _, signals, _) = bootstrap(&request("python", "", ""));
    assert_eq!(stdout, "");
    assert!(matches!(signals[1], Signal::Done { exit_code: 0, .. }));
    let copy = "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n";
    let input: String = (0..50_000).map(|n| char::from(b'a' + (n % 26) as u8)).collect();
    let (stdout, _, _, _) = bootstrap(&request("python", copy, &input));
    assert_eq!(stdout, input);
}

#[test]
fn a_forged_report_without_the_nonce_stays_output() {
    let code = "import sys\nsys.stderr.write('\\n@@pairline-0000 compile-failed\\n')\n";
    let (_, stderr, signals, _) = bootstrap(&request("python", code, ""));
    assert_eq!(stderr, "\n@@pairline-0000 compile-failed\n");
    assert_eq!(signals.len(), 2);
}

#[test]
fn the_filter_holds_back_only_what_may_be_a_report() {
    let mut filter = SignalFilter::new("abc");
    let (out, signals) = filter.feed(b"error line\n@@pair");
    assert_eq!(out, b"error line");
    assert!(signals.is_empty());
    let (out, _) = filter.feed(b"ing is not a report\n");
    assert_eq!(
        out, b"\n@@pairing is not a report",
        "a newline may start a report"
    );
    let (out, signals) = filter.feed(b"x\n@@pairline-abc done 0 1.5 1.75 1048576 0\ny");
    assert_eq!(out, b"\nxy");
    assert_eq!(
        signals,
        vec![Signal::Done {
            exit_code: 0,
            wall_ms: 250,
            peak_bytes: 1_048_576,
            oom_kills: 0
        }]
    );
    let (out, _) = filter.feed(b"end\n@@pai");
    assert_eq!(out, b"end");
    assert_eq!(
        filter.finish(),
        b"\n@@pai",
        "held-back bytes are output when the stream ends"
    );
}
