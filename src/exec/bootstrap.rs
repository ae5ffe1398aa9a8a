//! What runs first inside a sandbox, for both backends: a fixed bash program that reads
//! everything it needs from its standard input (so that nothing has to be copied into a
//! read-only container), compiles, reports, runs the program and reports again.
//!
//! The input is framed as one header line, `<nonce> <script bytes> <code bytes> <file>`,
//! then the script (the recipe's commands), then the code, then the program's stdin.
//! Reports are lines on stderr that start with a marker holding the run's random nonce;
//! [`SignalFilter`] takes them out of the output. The compile reports come before the
//! program starts, so it cannot forge them; it never sees the nonce in any file, argument
//! or environment variable.

use std::fmt::Write as _;

use super::RunRequest;

/// The program the sandbox starts (`bash -c BOOTSTRAP`). Works in `$PAIRLINE_WORK`
/// (default `/work`).
pub const BOOTSTRAP: &str = r#"IFS=' ' read -r nonce script_len code_len file || exit 90
cd "${PAIRLINE_WORK:-/work}" || exit 91
mkdir -p .tmp
script=$(dd bs="$script_len" count=1 iflag=fullblock status=none)
if [ "$code_len" -gt 0 ]; then dd of="$file" bs="$code_len" count=1 iflag=fullblock status=none; else : > "$file"; fi
eval "$script""#;

/// The start of every report line after its leading newline.
const MARKER_PREFIX: &str = "@@pairline-";

/// A fresh random nonce for one run.
pub fn nonce() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    data_encoding::HEXLOWER.encode(&bytes)
}

/// The script the bootstrap evaluates: compile (its output goes to stderr), report, run,
/// report how the program ended with its time, peak memory and out-of-memory kills.
pub fn script(request: &RunRequest) -> String {
    let mut script = String::from("mark() { printf '\\n@@pairline-%s %s\\n' \"$nonce\" \"$*\" >&2; }\n");
    script.push_str("export HOME=\"$PWD\" TMPDIR=\"$PWD/.tmp\"\n");
    if let Some(compile) = request.recipe.compile {
        let _ = writeln!(
            script,
            "if ! {{ {compile} ; }} </dev/null 1>&2; then mark compile-failed; exit 0; fi"
        );
    }
    script.push_str("mark compiled\n");
    // In the background (stdin passed on explicitly) and waited for with the shell's own
    // stderr silenced, so that bash writes no job notice such as "Killed" into the
    // program's stderr.
    let _ = writeln!(
        script,
        "start=$EPOCHREALTIME\n( {} ) <&0 &\n{{ wait $!; }} 2>/dev/null\ncode=$?",
        request.recipe.run
    );
    script.push_str(
        "end=$EPOCHREALTIME\n\
         peak=0; read -r peak 2>/dev/null < /sys/fs/cgroup/memory.peak || read -r peak 2>/dev/null < /sys/fs/cgroup/memory/memory.max_usage_in_bytes\n\
         oom=0; for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do [ -r \"$f\" ] && while read -r k v; do [ \"$k\" = oom_kill ] && oom=$v; done < \"$f\"; done\n\
         mark done \"$code\" \"$start\" \"$end\" \"${peak:-0}\" \"${oom:-0}\"\n\
         exit \"$code\"\n",
    );
    script
}

/// Everything the bootstrap reads, in order: header, script, code, stdin.
pub fn framed_input(request: &RunRequest, nonce: &str) -> Vec<u8> {
    let script = script(request);
    let header = format!(
        "{nonce} {} {} {}\n",
        script.len(),
        request.code.len(),
        request.recipe.language.file_name
    );
    let mut input =
        Vec::with_capacity(header.len() + script.len() + request.code.len() + request.stdin.len());
    input.extend_from_slice(header.as_bytes());
    input.extend_from_slice(script.as_bytes());
    input.extend_from_slice(request.code.as_bytes());
    input.extend_from_slice(&request.stdin);
    input
}

/// What the bootstrap reported.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// Compiling succeeded (or there was nothing to compile): the program starts now.
    Compiled,
    CompileFailed,
    /// The program ended: its exit status (128 + signal if killed), its wall time, the
    /// peak memory of the sandbox (0 if unknown) and out-of-memory kills seen.
    Done {
        exit_code: i32,
        wall_ms: u64,
        peak_bytes: u64,
        oom_kills: u64,
    },
}

/// Takes the bootstrap's report lines out of a stderr stream, whatever the chunking.
pub struct SignalFilter {
    marker: Vec<u8>,
    pending: Vec<u8>,
}

impl SignalFilter {
    pub fn new(nonce: &str) -> Self {
        Self {
            marker: format!("\n{MARKER_PREFIX}{nonce} ").into_bytes(),
            pending: Vec::new(),
        }
    }

    /// Feeds stderr bytes; returns the program's output among them (some may be held
    /// back until it is clear they are not the start of a report) and the reports.
    pub fn feed(&mut self, data: &[u8]) -> (Vec<u8>, Vec<Signal>) {
        self.pending.extend_from_slice(data);
        let mut output = Vec::new();
        let mut signals = Vec::new();
        loop {
            if let Some(at) = find(&self.pending, &self.marker) {
                let line_start = at + self.marker.len();
                let Some(end) = self.pending[line_start..].iter().position(|b| *b == b'\n') else {
                    output.extend_from_slice(&self.pending[..at]);
                    self.pending.drain(..at);
                    return (output, signals);
                };
                output.extend_from_slice(&self.pending[..at]);
                let line = String::from_utf8_lossy(&self.pending[line_start..line_start + end]).into_owned();
                self.pending.drain(..line_start + end + 1);
                if let Some(signal) = parse(&line) {
                    signals.push(signal);
                }
                continue;
            }
            let keep = held_back(&self.pending, &self.marker);
            let emit = self.pending.len() - keep;
            output.extend(self.pending.drain(..emit));
            return (output, signals);
        }
    }

    /// The bytes still held back when the stream ends: program output after all.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pending)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// How many trailing bytes of `data` could be the start of `marker`.
fn held_back(data: &[u8], marker: &[u8]) -> usize {
    (1..marker.len().min(data.len() + 1))
        .rev()
        .find(|&n| data.ends_with(&marker[..n]))
        .unwrap_or(0)
}

fn parse(line: &str) -> Option<Signal> {
    let mut words = line.split(' ');
    match words.next()? {
        "compiled" => Some(Signal::Compiled),
        "compile-failed" => Some(Signal::CompileFailed),
        "done" => {
            let exit_code = words.next()?.parse().ok()?;
            let start: f64 = words.next()?.replace(',', ".").parse().ok()?;
            let end: f64 = words.next()?.replace(',', ".").parse().ok()?;
            let peak_bytes = words.next()?.parse().unwrap_or(0);
            let oom_kills = words.next()?.parse().unwrap_or(0);
            Some(Signal::Done {
                exit_code,
                wall_ms: ((end - start).max(0.0) * 1000.0).round() as u64,
                peak_bytes,
                oom_kills,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
