//! `scripts/bench login`: what a login costs, and whether a burst of logins stalls other
//! requests, on SQLite and on PostgreSQL. The server runs as its own process (the release
//! binary); this process drives it over real HTTP on loopback:
//! - the argon2id hash alone, timed in this process with the server's parameters;
//! - logins one after another through the login form, as a browser sends them;
//! - room page loads (candidate links) at a steady rate with no logins going on, then
//!   while bursts of concurrent logins run back to back.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use pairline::auth::{cookies, password};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use support::{BenchDb, ServerOptions, ServerProcess, create_room, machine_summary};
use tokio::task::JoinSet;

/// The password of every account the benchmark logs in to.
const PASSWORD: &str = "bench login password";
/// Rooms whose pages are loaded in turn.
const ROOMS: usize = 10;

#[derive(Debug, Parser)]
#[command(about = "Login latency, and room page loads during bursts of concurrent logins")]
struct Args {
    #[command(flatten)]
    server: ServerOptions,
    /// Password hashes timed in this process.
    #[arg(long, default_value_t = 20)]
    hashes: usize,
    /// Logins one after another.
    #[arg(long, default_value_t = 30)]
    logins: usize,
    /// Logins at once in each burst, each to its own account.
    #[arg(long, default_value_t = 20)]
    concurrency: usize,
    /// Room page loads started per second (each on its own, whether or not the last one
    /// has answered).
    #[arg(long, default_value_t = 50.0)]
    page_rate: f64,
    /// Seconds of page loads per phase (without logins, then during bursts of logins).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let backends = args.server.backends();
    let concurrency = args.concurrency.max(1);
    println!("# Login benchmark\n\n{}\n", machine_summary());
    let (memory, passes, lanes) = (password::MEMORY_KIB, password::TIME_COST, password::PARALLELISM);
    println!(
        "Passwords: argon2id with {} MiB, {passes} passes, {lanes} lane (src/auth/password.rs); \
         the goal is 50-100 ms per hash on this machine.\n",
        memory / 1024
    );
    let hashes = time_hashes(args.hashes.max(1)).await;
    let median = hashes[hashes.len() / 2];
    println!("| argon2id hash, in this process | hashes | median ms | min ms | max ms | goal 50-100 ms |");
    println!("| --- | ---: | ---: | ---: | ---: | --- |");
    println!(
        "| m={memory} KiB, t={passes}, p={lanes} | {} | {median:.1} | {:.1} | {:.1} | {} |\n",
        hashes.len(),
        hashes[0],
        hashes[hashes.len() - 1],
        if (50.0..=100.0).contains(&median) {
            "met"
        } else {
            "missed"
        },
    );
    println!(
        "A login is what a browser sends: GET /login (the form token and its cookie), then \
         POST /login, which must answer 303 with a session cookie; login times are of the POST. \
         {concurrency} accounts, made with `pairline user add`. Room page loads: the candidate \
         links of {ROOMS} rooms in turn, {} a second, {} s per phase. Load generator and server \
         on the same machine.\n",
        args.page_rate, args.seconds
    );

    let (mut sequential, mut pages, mut bursts) = (Vec::new(), Vec::new(), Vec::new());
    for backend in backends {
        let db = BenchDb::new(backend).await;
        let server = ServerProcess::start(&args.server.binary, &db).await;
        let emails: Vec<String> = (0..concurrency)
            .map(|n| format!("login{n}@example.com"))
            .collect();
        for email in &emails {
            assert!(
                server.add_interviewer(email, PASSWORD),
                "pairline user add {email} failed"
            );
        }
        let staff = server.staff_client(reqwest::Client::builder());
        let mut rooms = Vec::new();
        for n in 0..ROOMS {
            let room = create_room(&staff, &server.base, &format!("login bench {n}")).await;
            rooms.push(
                room["candidateUrl"]
                    .as_str()
                    .expect("a candidate link")
                    .to_owned(),
            );
        }
        let rooms: Arc<[String]> = rooms.into();
        let logins = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let pages_http = reqwest::Client::new();

        let mut one_by_one = Histogram::<u64>::new(3).unwrap();
        let mut errors = 0;
        for n in 0..args.logins {
            match log_in(&logins, &server.base, &emails[n % emails.len()]).await {
                Ok(took) => one_by_one.record(micros(took)).unwrap(),
                Err(err) => {
                    eprintln!("login failed: {err}");
                    errors += 1;
                }
            }
        }
        sequential.push(format!(
            "| {backend} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {errors} |",
            one_by_one.len(),
            ms(one_by_one.value_at_quantile(0.5)),
            ms(one_by_one.value_at_quantile(0.95)),
            ms(one_by_one.value_at_quantile(0.99)),
            ms(one_by_one.max()),
        ));

        let phase = Duration::from_secs(args.seconds);
        warm_up(&pages_http, &rooms).await;
        let cpu = CpuClock::start(&server);
        let quiet = load_pages(
            pages_http.clone(),
            rooms.clone(),
            args.page_rate,
            Instant::now() + phase,
        )
        .await;
        pages.push(quiet.row(backend, "no logins", cpu.percent(&server)));

        warm_up(&pages_http, &rooms).await;
        let cpu = CpuClock::start(&server);
        let until = Instant::now() + phase;
        let loader = tokio::spawn(load_pages(
            pages_http.clone(),
            rooms.clone(),
            args.page_rate,
            until,
        ));
        let burst = login_bursts(&logins, &server.base, &emails, until).await;
        let busy = loader.await.unwrap();
        let cpu = cpu.percent(&server);
        let during = format!("during bursts of {concurrency} concurrent logins");
        pages.push(busy.row(backend, &during, cpu));
        bursts.push(burst.row(backend, cpu));

        server.stop().await;
        db.drop().await;
    }
    println!("| backend | logins one after another | p50 ms | p95 ms | p99 ms | max ms | errors |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!("{}\n", sequential.join("\n"));
    println!("| backend | room page loads | loads | p50 ms | p99 ms | max ms | errors | server CPU |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!("{}\n", pages.join("\n"));
    println!(
        "| backend | bursts of {concurrency} logins | logins | burst p50 ms | burst max ms | logins/s | \
         login p50 ms | login p99 ms | errors | server CPU |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!("{}", bursts.join("\n"));
}

fn micros(duration: Duration) -> u64 {
    duration.as_micros() as u64
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Hashes a password `count` times with the server's own function; the times in
/// milliseconds, sorted.
async fn time_hashes(count: usize) -> Vec<f64> {
    let mut times = Vec::new();
    for _ in 0..count {
        let started = Instant::now();
        password::hash(PASSWORD.to_owned()).await.expect("hash");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times
}

/// The `name=value` pair of the cookie `name` that `response` sets.
fn cookie_pair<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok()?.split(';').next())
        .find(|pair| pair.strip_prefix(name).is_some_and(|rest| rest.starts_with('=')))
}

/// Logs in to `email`'s account through the login form, as a browser does; returns how
/// long the POST took.
async fn log_in(http: &reqwest::Client, base: &str, email: &str) -> Result<Duration, String> {
    let form = http
        .get(format!("{base}/login"))
        .send()
        .await
        .map_err(|err| format!("GET /login: {err}"))?;
    let cookie = cookie_pair(&form, cookies::FORM)
        .ok_or("GET /login set no form cookie")?
        .to_owned();
    let html = form.text().await.map_err(|err| format!("GET /login: {err}"))?;
    let token = html
        .split_once(r#"name="form_token" value=""#)
        .and_then(|(_, rest)| rest.split('"').next())
        .ok_or("the login page has no form token")?;
    let started = Instant::now();
    let done = http
        .post(format!("{base}/login"))
        .header(COOKIE, cookie)
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("next", "/"),
            ("form_token", token),
        ])
        .send()
        .await
        .map_err(|err| format!("POST /login: {err}"))?;
    let took = started.elapsed();
    if done.status() != StatusCode::SEE_OTHER || cookie_pair(&done, cookies::SESSION).is_none() {
        return Err(format!(
            "POST /login answered {} without a session",
            done.status()
        ));
    }
    Ok(took)
}

/// Server CPU over a phase.
struct CpuClock {
    cpu: f64,
    started: Instant,
}

impl CpuClock {
    fn start(server: &ServerProcess) -> Self {
        Self {
            cpu: server.cpu_seconds(),
            started: Instant::now(),
        }
    }

    /// The server's CPU use since the start, in percent of one core.
    fn percent(&self, server: &ServerProcess) -> f64 {
        (server.cpu_seconds() - self.cpu) / self.started.elapsed().as_secs_f64() * 100.0
    }
}

/// Loads every room's page once, so that the measured loads find the rooms open.
async fn warm_up(http: &reqwest::Client, rooms: &[String]) {
    for url in rooms {
        let page = http.get(url).send().await.expect("a room page");
        assert_eq!(page.status(), StatusCode::OK, "{url}");
        page.bytes().await.unwrap();
    }
}

struct PageLoads {
    latencies: Histogram<u64>,
    errors: u64,
}

impl PageLoads {
    fn row(&self, backend: &str, phase: &str, cpu: f64) -> String {
        format!(
            "| {backend} | {phase} | {} | {:.2} | {:.2} | {:.1} | {} | {cpu:.0}% |",
            self.latencies.len(),
            ms(self.latencies.value_at_quantile(0.5)),
            ms(self.latencies.value_at_quantile(0.99)),
            ms(self.latencies.max()),
            self.errors,
        )
    }
}

/// Starts a load of the next room's page `rate` times a second until `until`, each in its
/// own task so that a slow answer does not hold back the next load.
async fn load_pages(http: reqwest::Client, rooms: Arc<[String]>, rate: f64, until: Instant) -> PageLoads {
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut loads = JoinSet::new();
    for url in rooms.iter().cycle() {
        ticks.tick().await;
        if Instant::now() >= until {
            break;
        }
        let (http, url) = (http.clone(), url.clone());
        loads.spawn(async move {
            let started = Instant::now();
            let ok = match http.get(&url).send().await {
                Ok(page) if page.status() == StatusCode::OK => page.bytes().await.is_ok(),
                _ => false,
            };
            (started.elapsed(), ok)
        });
    }
    let mut result = PageLoads {
        latencies: Histogram::new(3).unwrap(),
        errors: 0,
    };
    while let Some(load) = loads.join_next().await {
        let (took, ok) = load.unwrap();
        result.latencies.record(micros(took)).unwrap();
        result.errors += u64::from(!ok);
    }
    result
}

struct Bursts {
    durations: Histogram<u64>,
    logins: Histogram<u64>,
    busy: Duration,
    errors: u64,
}

impl Bursts {
    fn row(&self, backend: &str, cpu: f64) -> String {
        format!(
            "| {backend} | {} | {} | {:.0} | {:.0} | {:.1} | {:.0} | {:.0} | {} | {cpu:.0}% |",
            self.durations.len(),
            self.logins.len(),
            ms(self.durations.value_at_quantile(0.5)),
            ms(self.durations.max()),
            self.logins.len() as f64 / self.busy.as_secs_f64(),
            ms(self.logins.value_at_quantile(0.5)),
            ms(self.logins.value_at_quantile(0.99)),
            self.errors,
        )
    }
}

/// Logs in to every account in `emails` at once, and again as soon as all are in, until
/// `until`.
async fn login_bursts(http: &reqwest::Client, base: &str, emails: &[String], until: Instant) -> Bursts {
    let mut result = Bursts {
        durations: Histogram::new(3).unwrap(),
        logins: Histogram::new(3).unwrap(),
        busy: Duration::ZERO,
        errors: 0,
    };
    while Instant::now() < until {
        let started = Instant::now();
        let mut burst = JoinSet::new();
        for email in emails {
            let (http, base, email) = (http.clone(), base.to_owned(), email.clone());
            burst.spawn(async move { log_in(&http, &base, &email).await });
        }
        while let Some(login) = burst.join_next().await {
            match login.unwrap() {
                Ok(took) => result.logins.record(micros(took)).unwrap(),
                Err(err) => {
                    eprintln!("login failed: {err}");
                    result.errors += 1;
                }
            }
        }
        let took = started.elapsed();
        result.durations.record(micros(took)).unwrap();
        result.busy += took;
    }
    result
}
