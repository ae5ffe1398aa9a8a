//! Shared by the integration tests: a fresh database per test on either backend, and the
//! real server started with `pairline::launch` on a random port.
#![allow(dead_code)]

pub mod exec;
pub mod pages;
pub mod process;
pub mod sync;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pairline::auth::Role;
use pairline::config::{Config, DatabaseUrl, ExecBackend, ExecConfig, MediaConfig};
use pairline::store::{Store, UserRecord};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The PostgreSQL server tests create their databases on when nothing else is set.
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which storage backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares `sqlite::NAME` and `postgres::NAME` tests for each `async fn NAME(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

/// A database of its own for one test: a file in a temporary directory, or a fresh
/// PostgreSQL database dropped when this value is.
pub struct TestDb {
    pub backend: Backend,
    pub url: DatabaseUrl,
    /// Holds the SQLite file (and serves as the server's data directory).
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        match backend {
            Backend::Sqlite => Self {
                backend,
                url: DatabaseUrl::sqlite_in(dir.path()),
                dir,
                postgres: None,
            },
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!(
                    "pairline_test_{}",
                    pairline::ids::random_url_token(9).to_lowercase()
                )
                .replace('-', "_");
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|err| {
                    panic!(
                        "PostgreSQL is not reachable at {admin}: {err}\n\
                         Run scripts/test (it finds or starts a server), or set PAIRLINE_TEST_POSTGRES \
                         to a server where tests may create databases."
                    )
                });
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut conn)
                    .await
                    .expect("create a test database");
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin).expect("a valid PostgreSQL URL");
                url.set_path(&name);
                Self {
                    backend,
                    url: DatabaseUrl::parse(url.as_str()).unwrap(),
                    dir,
                    postgres: Some((admin, name)),
                }
            }
        }
    }

    /// A server configuration using this database and directory, with code execution
    /// off (the tests of runs turn a sandbox on).
    pub fn config(&self) -> Config {
        Config {
            data_dir: self.dir.path().to_owned(),
            database_url: Some(self.url.clone()),
            database_max_connections: 5,
            exec: ExecConfig {
                backend: ExecBackend::Off,
                ..ExecConfig::default()
            },
            media: MediaConfig {
                udp_port: 0,
                tcp_port: 0,
                advertise_ip: Some([127, 0, 0, 1].into()),
                ..MediaConfig::default()
            },
            ..Config::default()
        }
    }

    /// A migrated store on this database, for looking behind the server's back.
    pub async fn store(&self) -> Arc<dyn Store> {
        let store = pairline::store::connect_url(&self.url, 2)
            .await
            .expect("open the store");
        store.migrate().await.expect("migrate");
        store
    }

    /// A staff account with an API token, made behind the server's back.
    pub async fn staff_account(&self, email: &str, role: Role) -> StaffAccount {
        let store = self.store().await;
        let account = StaffAccount::create(store.as_ref(), email, role).await;
        store.close().await;
        account
    }

    /// Drops this PostgreSQL database now (terminating its connections).
    pub async fn drop_postgres_database(&self) {
        if let Some((admin, name)) = &self.postgres {
            drop_database(admin, name).await;
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            // Drop cannot await: use a runtime of our own on another thread.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(drop_database(&admin, &name));
                }
            })
            .join();
        }
    }
}

async fn drop_database(admin: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
        let _ = conn.close().await;
    }
}

/// The PostgreSQL server URL for tests: `PAIRLINE_TEST_POSTGRES`, else `DATABASE_URL`,
/// else the local default.
/// Checks `check` until it passes (`Ok`) or `within` is up, then fails with the last
/// check's reason. For state that announces nothing to wait on (processes, containers):
/// everything else waits for its event.
pub async fn eventually<F, Fut>(within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = tokio::time::Instant::now() + within;
    let mut pause = Duration::from_millis(10);
    loop {
        match check().await {
            Ok(()) => return,
            Err(reason) => assert!(tokio::time::Instant::now() < deadline, "{reason}"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("PAIRLINE_TEST_POSTGRES")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
}

/// The password of every account tests make.
pub const PASSWORD: &str = "correct horse battery";

/// A staff account and an API token acting for it.
pub struct StaffAccount {
    pub user: UserRecord,
    pub token: String,
}

impl StaffAccount {
    /// Creates the account (or finds it, on a database used before) and a new token.
    pub async fn create(store: &dyn Store, email: &str, role: Role) -> Self {
        let now = pairline::clock::now_millis();
        let user = match store.user_by_email(email).await.expect("look up an account") {
            Some(user) => user,
            None => pairline::auth::create_account(store, email, role, PASSWORD.to_owned(), now)
                .await
                .expect("create a staff account"),
        };
        let (token, _) = pairline::auth::issue_api_token(store, &user, "tests", now)
            .await
            .expect("issue an API token");
        Self { user, token }
    }

    /// An HTTP client that sends this account's API token and follows no redirects.
    pub fn client(&self) -> reqwest::Client {
        bearer_client(&self.token)
    }
}

/// An HTTP client sending `token` as `Authorization: Bearer`, following no redirects.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An HTTP client without credentials that follows no redirects.
pub fn anonymous_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The real server, launched in this process on a random port, with an interviewer
/// account whose API token `client` sends.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    /// Sends the interviewer's API token.
    pub client: reqwest::Client,
    /// Sends no credentials.
    pub anonymous: reqwest::Client,
    pub interviewer: StaffAccount,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), pairline::LaunchError>>,
}

impl TestServer {
    /// Starts a server on `db` with default settings.
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with(db.config()).await
    }

    /// Starts a server with `config` (its `listen` is ignored: port 0 is used) and waits
    /// until `/readyz` answers 200.
    pub async fn start_with(config: Config) -> Self {
        let store = pairline::store::connect(&config).await.expect("open the store");
        store.migrate().await.expect("migrate");
        let interviewer =
            StaffAccount::create(store.as_ref(), "interviewer@example.com", Role::Interviewer).await;
        store.close().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(pairline::launch(config, listener, async {
            let _ = stopped.await;
        }));
        let server = Self {
            addr,
            base: format!("http://{addr}"),
            client: interviewer.client(),
            anonymous: anonymous_client(),
            interviewer,
            stop: Some(stop),
            task,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = self.anonymous.get(self.url("/readyz")).send().await
                && response.status() == StatusCode::OK
            {
                return;
            }
            assert!(!self.task.is_finished(), "the server stopped while starting");
            assert!(Instant::now() < deadline, "the server was not ready within 30 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Shuts the server down gracefully and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task)
            .await
            .expect("the server task")
            .expect("the server stops cleanly");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        json_of(self.client.get(self.url(path)).send().await.expect("GET")).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        json_of(
            self.client
                .post(self.url(path))
                .json(body)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        json_of(self.client.delete(self.url(path)).send().await.expect("DELETE")).await
    }

    /// Creates a room through the API and returns its JSON.
    pub async fn create_room(&self, language: &str, title: &str) -> Value {
        let (status, room) = self
            .post(
                "/v1/rooms",
                &serde_json::json!({ "language": language, "title": title }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{room}");
        room
    }
}

/// The status and JSON body of a response (`Value::Null` for an empty body).
pub async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = response.bytes().await.expect("read the body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(&bytes)))
    };
    (status, body)
}

/// The HTTP status a WebSocket upgrade with these headers gets (101 when accepted).
pub async fn upgrade_status(url: &str, headers: &[(&str, &str)]) -> u16 {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("the upgrade failed otherwise: {other}"),
    }
}

/// The body of a GET of `url` through `client`, as text (a page, metrics).
pub async fn text_of(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.expect("GET");
    response.text().await.expect("read the body")
}

/// Asserts the API's error shape and returns the error's code.
pub fn error_code(body: &Value) -> &str {
    let error = &body["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no error message in {body}"
    );
    error["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}
