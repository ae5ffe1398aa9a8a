//! The `pairline` binary as a separate process, for tests of signals and crashes.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use super::TestDb;

pub const BINARY: &str = env!("CARGO_BIN_EXE_pairline");

/// The binary with a clean environment (no stray PAIRLINE_* settings) plus `vars`.
pub fn pairline(args: &[&str], vars: &[(&str, &str)]) -> Command {
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

/// A free port on 127.0.0.1 (for a server that must come back on the same address).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server process and everything it has logged.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    log: Arc<Mutex<String>>,
    reader: JoinHandle<()>,
}

impl ServerProcess {
    /// Starts the binary with `args` on `db`, listening on `listen` (e.g. `127.0.0.1:0`),
    /// and returns once it logs the address it listens on.
    pub async fn start(args: &[&str], db: &TestDb, listen: &str) -> Self {
        let dir = db.dir.path().to_str().unwrap();
        let mut child = pairline(
            args,
            &[
                ("PAIRLINE_LISTEN", listen),
                ("PAIRLINE_DATA_DIR", dir),
                ("PAIRLINE_DATABASE_URL", db.url.expose()),
                // Media ports are per server: tests run many side by side.
                ("PAIRLINE_MEDIA_UDP_PORT", "0"),
                ("PAIRLINE_MEDIA_TCP_PORT", "0"),
                ("PAIRLINE_MEDIA_ADVERTISE_IP", "127.0.0.1"),
            ],
        )
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let (listening_tx, listening_rx) = tokio::sync::oneshot::channel();
        let sink = log.clone();
        let reader = tokio::spawn(async move {
            let mut listening = Some(listening_tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(from) = line.find("listening on http://")
                    && let Some(tx) = listening.take()
                {
                    let url = line[from + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default();
                    let _ = tx.send(url.to_owned());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let base = tokio::time::timeout(Duration::from_secs(30), listening_rx)
            .await
            .expect("the server starts within 30 s")
            .unwrap_or_else(|_| panic!("the server exited before listening:\n{}", log.lock().unwrap()));
        Self {
            child,
            base,
            log,
            reader,
        }
    }

    /// Sends `signal` (e.g. `-TERM`), waits for a clean exit and returns the whole log.
    pub async fn stop_with(mut self, signal: &str) -> String {
        let pid = self.child.id().unwrap().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().await.unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the server exits after the signal")
            .unwrap();
        assert!(status.success(), "exit status {status}");
        let _ = self.reader.await;
        self.log.lock().unwrap().clone()
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL the server");
        let _ = self.reader.await;
    }
}
