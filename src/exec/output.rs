//! The output of a run as it comes: kept up to the run's byte limit, streamed to whoever
//! watches, and cut with a visible marker beyond.

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;

/// Which stream a chunk belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A piece of output, in the order the program wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub stream: Stream,
    pub data: Bytes,
}

/// Collects a run's stdout and stderr, forwarding each chunk as it arrives.
pub struct OutputCollector {
    limit: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    watchers: mpsc::UnboundedSender<Chunk>,
    truncated: bool,
}

impl OutputCollector {
    /// Keeps at most `limit` bytes of both streams together.
    pub fn new(limit: usize, watchers: mpsc::UnboundedSender<Chunk>) -> Self {
        Self {
            limit,
            stdout: Vec::new(),
            stderr: Vec::new(),
            watchers,
            truncated: false,
        }
    }

    /// Adds a chunk; returns false once the limit is passed (the run should be stopped).
    pub fn push(&mut self, stream: Stream, data: &[u8]) -> bool {
        if self.truncated {
            return false;
        }
        let room = self.limit.saturating_sub(self.stdout.len() + self.stderr.len());
        let kept = &data[..data.len().min(room)];
        if !kept.is_empty() {
            self.buffer(stream).extend_from_slice(kept);
            let _ = self.watchers.send(Chunk {
                stream,
                data: Bytes::copy_from_slice(kept),
            });
        }
        if data.len() > room {
            self.truncated = true;
            let marker = truncation_marker(self.limit);
            self.buffer(stream).extend_from_slice(marker.as_bytes());
            let _ = self.watchers.send(Chunk {
                stream,
                data: Bytes::from(marker),
            });
            return false;
        }
        true
    }

    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Stdout and stderr as text (invalid UTF-8 replaced).
    pub fn finish(self) -> (String, String, bool) {
        (
            String::from_utf8_lossy(&self.stdout).into_owned(),
            String::from_utf8_lossy(&self.stderr).into_owned(),
            self.truncated,
        )
    }

    fn buffer(&mut self, stream: Stream) -> &mut Vec<u8> {
        match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }
}

/// The line that ends cut output.
pub fn truncation_marker(limit: usize) -> String {
    format!(
        "\n[output truncated: the program wrote more than {}]\n",
        super::human_bytes(limit)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_within_the_limit_is_kept_and_streamed_in_order() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut output = OutputCollector::new(100, tx);
        assert!(output.push(Stream::Stdout, b"hello "));
        assert!(output.push(Stream::Stderr, b"warning\n"));
        assert!(output.push(Stream::Stdout, b"world\n"));
        let streamed: Vec<Chunk> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(streamed.len(), 3);
        assert_eq!(streamed[1].stream, Stream::Stderr);
        assert_eq!(
            output.finish(),
            ("hello world\n".into(), "warning\n".into(), false)
        );
    }

    #[test]
    fn output_past_the_limit_is_cut_with_a_marker() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut output = OutputCollector::new(10, tx);
        assert!(output.push(Stream::Stdout, b"12345678"));
        assert!(!output.push(Stream::Stdout, b"abcdef"));
        assert!(
            !output.push(Stream::Stderr, b"more"),
            "nothing is kept after the cut"
        );
        let (stdout, stderr, truncated) = output.finish();
        assert!(truncated);
        assert_eq!(
            stdout,
            "12345678ab\n[output truncated: the program wrote more than 10 bytes]\n"
        );
        assert_eq!(stderr, "");
        let streamed: String = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|chunk| String::from_utf8(chunk.data.to_vec()).unwrap())
            .collect();
        assert_eq!(streamed, stdout, "watchers see what is kept, marker included");
    }
}
