//! Shared by the benchmarks: a fresh database, the server as a separate process, and a
//! description of the machine the figures come from.
#![allow(dead_code)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A database for one benchmark run: an SQLite file in a temporary directory or a fresh
/// PostgreSQL database on `PAIRLINE_TEST_POSTGRES` (which scripts/bench sets).
pub struct BenchDb {
    pub backend: String,
    pub url: String,
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl BenchDb {
    pub async fn new(backend: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        if backend == "sqlite" {
            let url = format!("sqlite://{}/pairline.db", dir.path().display());
            return Self {
                backend: backend.to_owned(),
                url,
                dir,
                postgres: None,
            };
        }
        let admin = std::env::var("PAIRLINE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("pairline_bench_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|err| panic!("PostgreSQL at {admin}: {err} (scripts/bench finds or starts one)"));
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        Self {
            backend: backend.to_owned(),
            url: url.to_string(),
            dir,
            postgres: Some((admin, name)),
        }
    }

    pub async fn drop(self) {
        if let Some((admin, name)) = &self.postgres
            && let Ok(mut conn) = sqlx::PgConnection::connect(admin).await
        {
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
        }
    }
}

/// The server binary running as a child process on a random port.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    pub pid: u32,
    /// The binary and its database settings, for `pairline user add` / `token create`.
    command_env: (String, Vec<(String, String)>),
    token: std::sync::OnceLock<String>,
}

impl ServerProcess {
    /// Starts `binary` on `db` and returns once `/readyz` answers 200.
    pub async fn start(binary: &str, db: &BenchDb) -> Self {
        Self::start_with(binary, db, &[]).await
    }

    /// As [`ServerProcess::start`], with extra `PAIRLINE_*` settings.
    pub async fn start_with(binary: &str, db: &BenchDb, settings: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .env("PAIRLINE_LISTEN", "127.0.0.1:0")
            .env("PAIRLINE_DATA_DIR", db.dir.path())
            .env("PAIRLINE_DATABASE_URL", &db.url)
            .env("PAIRLINE_DATABASE_MAX_CONNECTIONS", "16")
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (key, value) in settings {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("start {binary}: {err}"));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let base = loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("the server exited before it listened");
            if let Some(from) = line.find("listening on http://") {
                let url = &line[from + "listening on ".len()..];
                break url.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep draining the log so that the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = client.get(format!("{base}/readyz")).send().await
                && response.status() == 200
            {
                break;
            }
            assert!(Instant::now() < deadline, "the server was not ready within 60 s");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let pid = child.id().unwrap();
        let env = vec![
            (
                "PAIRLINE_DATA_DIR".to_owned(),
                db.dir.path().display().to_string(),
            ),
            ("PAIRLINE_DATABASE_URL".to_owned(), db.url.clone()),
        ];
        Self {
            child,
            base,
            pid,
            command_env: (binary.to_owned(), env),
            token: std::sync::OnceLock::new(),
        }
    }

    /// Runs the binary's command `args` on the server's database with `input` on stdin.
    pub fn command(&self, args: &[&str], input: &str) -> std::process::Output {
        let (binary, env) = &self.command_env;
        let mut child = std::process::Command::new(binary)
            .args(args)
            .envs(env.iter().map(|(key, value)| (key, value)))
            .env("PAIRLINE_LOG_LEVEL", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("run {binary}: {err}"));
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Makes an interviewer account with `pairline user add`; whether it was made (false
    /// when the database already had it from an earlier start).
    pub fn add_interviewer(&self, email: &str, password: &str) -> bool {
        let args = ["user", "add", "--email", email, "--role", "interviewer"];
        self.command(&args, &format!("{password}\n")).status.success()
    }

    /// An HTTP client built from `builder` that acts as an interviewer: the account and
    /// an API token are made with the binary's own commands on first use.
    pub fn staff_client(&self, builder: reqwest::ClientBuilder) -> reqwest::Client {
        let token = self.token.get_or_init(|| {
            let email = "bench@example.com";
            self.add_interviewer(email, "bench password 1");
            let made = self.command(&["token", "create", "--email", email, "--name", "bench"], "");
            assert!(made.status.success(), "pairline token create failed");
            String::from_utf8(made.stdout).unwrap().trim().to_owned()
        });
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        builder.default_headers(headers).build().unwrap()
    }

    /// CPU time (user + system) the server has used so far, in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        process_cpu_seconds(&self.pid.to_string())
    }

    /// Resident memory of the server, in KiB.
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
    }
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Creates a python room titled `title` through the API with `http` (a staff client);
/// returns the room's JSON.
pub async fn create_room(http: &reqwest::Client, base: &str, title: &str) -> Value {
    create_room_with(http, base, json!({ "language": "python", "title": title })).await
}

/// Creates a room from `body` (as `POST /v1/rooms` takes it); returns the room's JSON.
pub async fn create_room_with(http: &reqwest::Client, base: &str, body: Value) -> Value {
    http.post(format!("{base}/v1/rooms"))
        .json(&body)
        .send()
        .await
        .expect("create a room")
        .json()
        .await
        .expect("the room's JSON")
}

/// The options every benchmark of the server takes (`#[command(flatten)]` them).
#[derive(Debug, clap::Args)]
pub struct ServerOptions {
    /// The pairline binary to benchmark (a release build).
    #[arg(long)]
    pub binary: String,
    /// sqlite, postgres or all.
    #[arg(long, default_value = "all")]
    pub backend: String,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

impl ServerOptions {
    /// The backends `--backend` names.
    pub fn backends(&self) -> Vec<&'static str> {
        backends(&self.backend)
    }
}

/// The backends named by a `--backend` argument: sqlite, postgres or all.
pub fn backends(arg: &str) -> Vec<&'static str> {
    match arg {
        "all" => vec!["sqlite", "postgres"],
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        other => panic!("unknown backend {other:?}: use sqlite, postgres or all"),
    }
}

/// One line naming the machine: CPU model, cores, memory, kernel.
pub fn machine_summary() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|value| value.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "Machine: {model}, {cores} cores, {memory_gib:.0} GiB RAM, Linux {}",
        kernel.trim()
    )
}

/// CPU time (user + system) used so far by process `pid` ("self" for this one), in seconds.
pub fn process_cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields
        .get(11..13)
        .map_or(0.0, |t| t.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
    ticks / clock_ticks_per_second()
}
