//! The run service: checks a run against the server's limits, materialises the room's
//! code, waits its turn in the queue, runs it in the sandbox, streams its events to the
//! room (and to an API caller), and stores it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::events::RunEvent;
use super::queue::{QueueFull, RunQueue};
use super::runs::{self, RunView};
use super::{Chunk, Executor, Limits, RunRequest, Stream, human_bytes, recipes};
use crate::clock::now_millis;
use crate::config::ExecConfig;
use crate::ids::random_url_token;
use crate::languages;
use crate::live::{Rooms, RunRequests, SocketRun};
use crate::protocol::ServerMessage;
use crate::store::{RunRecord, Store};

/// How long output is gathered before it is sent on: a program printing in a tight loop
/// becomes a few messages a second, not thousands.
const OUTPUT_BATCH: Duration = Duration::from_millis(30);
/// Most output bytes in one event.
const OUTPUT_EVENT_BYTES: usize = 32 * 1024;

/// What someone asks to run.
#[derive(Debug, Clone, Default)]
pub struct RunOrder {
    pub room_id: Arc<str>,
    pub started_by: String,
    pub user_id: String,
    /// Overrides the room's code.
    pub code: Option<String>,
    /// Overrides the room's language.
    pub language: Option<String>,
    pub stdin: String,
    pub wall_ms: Option<u64>,
    pub memory_mib: Option<u32>,
}

/// Why a run did not start. The messages are for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Off(String),
    #[error("The server is busy: {0} runs are already waiting. Try again in a moment.")]
    QueueFull(usize),
    #[error("{0}")]
    Language(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    InvalidLimit(String),
    #[error("The room is not available right now; try again.")]
    RoomUnavailable,
}

/// A run that was accepted: its id and its events, ending with `Finished`.
pub struct RunHandle {
    pub run_id: String,
    pub events: mpsc::UnboundedReceiver<RunEvent>,
}

/// Runs code for the rooms. Cheap to clone (shared parts).
#[derive(Clone)]
pub struct RunService {
    executor: Option<Arc<dyn Executor>>,
    /// Why code cannot run, when there is no executor.
    off: String,
    config: ExecConfig,
    queue: RunQueue,
    store: Arc<dyn Store>,
    rooms: Rooms,
    /// The runtimes the backends not in use would offer (for `GET /v1/languages`),
    /// learnt in the background after start.
    others: Arc<Mutex<OtherRuntimes>>,
}

/// Runtimes by language id, by backend name.
pub type OtherRuntimes = BTreeMap<&'static str, BTreeMap<&'static str, String>>;

impl RunService {
    /// A service running code with `executor`, or refusing every run with `off` as the
    /// reason when there is none.
    pub fn new(
        executor: Option<Arc<dyn Executor>>,
        off: String,
        config: ExecConfig,
        store: Arc<dyn Store>,
        rooms: Rooms,
    ) -> Self {
        let queue = RunQueue::new(config.concurrency, config.queue_size);
        Self {
            executor,
            off,
            config,
            queue,
            store,
            rooms,
            others: Arc::default(),
        }
    }

    /// Records what another backend would offer (see `GET /v1/languages`).
    pub fn set_other_runtimes(&self, backend: &'static str, runtimes: BTreeMap<&'static str, String>) {
        self.others
            .lock()
            .expect("runtimes lock")
            .insert(backend, runtimes);
    }

    pub fn other_runtimes(&self) -> OtherRuntimes {
        self.others.lock().expect("runtimes lock").clone()
    }

    pub fn executor(&self) -> Option<&Arc<dyn Executor>> {
        self.executor.as_ref()
    }

    pub fn config(&self) -> &ExecConfig {
        &self.config
    }

    /// Checks `order`, reads the room's code, joins the queue and starts the run in the
    /// background. Its events go to everyone in the room and to the returned handle.
    pub async fn submit(&self, order: RunOrder) -> Result<RunHandle, RunError> {
        let executor = self
            .executor
            .clone()
            .ok_or_else(|| RunError::Off(self.off.clone()))?;
        let limits = self.limits(&order)?;
        check_size("The input", order.stdin.len(), self.config.max_stdin_bytes)?;
        if let Some(code) = &order.code {
            check_size("The code", code.len(), self.config.max_code_bytes)?;
        }
        let room = self
            .rooms
            .handle(&order.room_id)
            .map_err(|_| RunError::RoomUnavailable)?;
        let (doc_seq, state) = room.state().await.ok_or(RunError::RoomUnavailable)?;
        let language = order.language.clone().unwrap_or(state.language);
        let recipe = recipes::find(&language).ok_or_else(|| {
            RunError::Language(format!(
                "\"{language}\" is not a language Pairline runs (it runs {}).",
                languages::allowed_ids()
            ))
        })?;
        let Some(runtime) = executor.runtimes().get(recipe.language.id).cloned() else {
            return Err(RunError::Language(format!(
                "{} cannot run on this server: its {} sandbox has no {} toolchain.",
                recipe.language.name,
                executor.name(),
                recipe.language.name
            )));
        };
        let code = order.code.clone().unwrap_or(state.code);
        check_size("The code", code.len(), self.config.max_code_bytes)?;
        let ticket = self
            .queue
            .join(order.room_id.clone())
            .map_err(|QueueFull| RunError::QueueFull(self.config.queue_size))?;

        let run_id = random_url_token(12);
        let (events_tx, events) = mpsc::unbounded_channel();
        let run = Run {
            id: run_id.clone(),
            order,
            request: RunRequest {
                recipe,
                code,
                stdin: Bytes::new(),
                limits,
            },
            runtime,
            doc_seq,
            heads: state.heads,
            created_at: now_millis(),
            events: events_tx,
            rooms: self.rooms.clone(),
        };
        let store = self.store.clone();
        tokio::spawn(async move {
            let mut ticket = ticket;
            let slot = loop {
                let position = *ticket.position.borrow_and_update();
                if position > 0 {
                    run.emit(RunEvent::Queued {
                        run_id: run.id.clone(),
                        started_by: run.order.started_by.clone(),
                        language: run.request.recipe.language.id.to_owned(),
                        position,
                    });
                }
                tokio::select! {
                    slot = &mut ticket.turn => break slot,
                    changed = ticket.position.changed() => if changed.is_err() {
                        break (&mut ticket.turn).await;
                    },
                }
            };
            let Ok(_slot) = slot else { return };
            run.go(executor.as_ref(), store.as_ref()).await;
        });
        Ok(RunHandle { run_id, events })
    }

    /// The run's limits: the defaults, or what it asks for within the server's maxima.
    fn limits(&self, order: &RunOrder) -> Result<Limits, RunError> {
        let max_wall = self.config.max_wall.as_millis() as u64;
        let wall_ms = order
            .wall_ms
            .unwrap_or(self.config.default_wall.as_millis() as u64);
        if !(100..=max_wall).contains(&wall_ms) {
            return Err(RunError::InvalidLimit(format!(
                "The time limit must be between 100 ms and {max_wall} ms."
            )));
        }
        let memory_mib = order.memory_mib.unwrap_or(self.config.default_memory_mib);
        if !(32..=self.config.max_memory_mib).contains(&memory_mib) {
            return Err(RunError::InvalidLimit(format!(
                "The memory limit must be between 32 and {} MiB.",
                self.config.max_memory_mib
            )));
        }
        Ok(Limits {
            wall: Duration::from_millis(wall_ms),
            memory_mib,
            processes: self.config.max_processes,
            output_bytes: self.config.max_output_bytes,
        })
    }
}

fn check_size(what: &str, len: usize, max: usize) -> Result<(), RunError> {
    if len > max {
        return Err(RunError::TooLarge(format!(
            "{what} is {}; the limit is {}.",
            human_bytes(len),
            human_bytes(max)
        )));
    }
    Ok(())
}

impl RunRequests for RunService {
    fn submit(&self, run: SocketRun) {
        let order = RunOrder {
            room_id: run.room_id,
            started_by: run.started_by,
            user_id: run.user_id,
            stdin: run.stdin,
            ..RunOrder::default()
        };
        // Runs from sockets are followed through the room's broadcast only.
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(err) = this.submit(order).await {
                run.reply.refuse(err.to_string());
            }
        });
    }
}

/// One accepted run on its way.
struct Run {
    id: String,
    order: RunOrder,
    request: RunRequest,
    runtime: String,
    doc_seq: u64,
    heads: Vec<String>,
    created_at: i64,
    events: mpsc::UnboundedSender<RunEvent>,
    rooms: Rooms,
}

impl Run {
    /// Tells the room (if anyone is in it) and the API caller (if still listening).
    fn emit(&self, event: RunEvent) {
        if let Some(room) = self.rooms.if_loaded(&self.order.room_id) {
            room.broadcast(Bytes::from(ServerMessage::Run(event.to_json()).encode()));
        }
        let _ = self.events.send(event);
    }

    async fn go(mut self, executor: &dyn Executor, store: &dyn Store) {
        self.emit(RunEvent::Started {
            run_id: self.id.clone(),
            started_by: self.order.started_by.clone(),
            language: self.request.recipe.language.id.to_owned(),
            runtime: self.runtime.clone(),
        });
        self.request.stdin = Bytes::from(std::mem::take(&mut self.order.stdin).into_bytes());
        let stdin = String::from_utf8_lossy(&self.request.stdin).into_owned();
        let (chunks_tx, chunks) = mpsc::unbounded_channel();
        let run = executor.run(self.request.clone(), chunks_tx);
        let forward = self.forward_output(chunks);
        let (result, ()) = tokio::join!(run, forward);
        let record = RunRecord {
            id: self.id.clone(),
            room_id: self.order.room_id.to_string(),
            started_by: self.order.started_by.clone(),
            user_id: self.order.user_id.clone(),
            created_at: self.created_at,
            finished_at: now_millis(),
            heads: self.heads.join(","),
            doc_seq: self.doc_seq as i64,
            language: self.request.recipe.language.id.to_owned(),
            code: self.request.code.clone(),
            stdin,
            status: serde_json::to_value(result.status)
                .ok()
                .and_then(|status| status.as_str().map(str::to_owned))
                .unwrap_or_default(),
            result: serde_json::to_string(&result).expect("results serialise"),
        };
        if let Err(err) = store.put_run(&record).await {
            tracing::warn!(run_id = %self.id, room_id = %self.order.room_id, error = %err, "cannot store a run");
        }
        self.emit(RunEvent::Finished {
            run_id: self.id.clone(),
            run: serde_json::to_value(RunView::from_record(&record, runs::WithCode::No))
                .expect("runs serialise"),
        });
    }

    /// Sends output on in batches as it comes, until the run's output ends.
    async fn forward_output(&self, mut chunks: mpsc::UnboundedReceiver<Chunk>) {
        let mut pending: Vec<(Stream, Vec<u8>)> = Vec::new();
        let mut carry = Carry::default();
        let mut flush_at: Option<Instant> = None;
        loop {
            let next = match flush_at {
                Some(at) => tokio::select! {
                    chunk = chunks.recv() => chunk.map(Some),
                    () = tokio::time::sleep_until(at) => Some(None),
                },
                None => chunks.recv().await.map(Some),
            };
            match next {
                Some(Some(chunk)) => {
                    match pending.last_mut() {
                        Some((stream, data))
                            if *stream == chunk.stream && data.len() < OUTPUT_EVENT_BYTES =>
                        {
                            data.extend_from_slice(&chunk.data)
                        }
                        _ => pending.push((chunk.stream, chunk.data.to_vec())),
                    }
                    flush_at.get_or_insert_with(|| Instant::now() + OUTPUT_BATCH);
                }
                Some(None) => {
                    self.flush(&mut pending, &mut carry);
                    flush_at = None;
                }
                None => {
                    self.flush(&mut pending, &mut carry);
                    for (stream, rest) in carry.take_all() {
                        self.emit_output(stream, String::from_utf8_lossy(&rest).into_owned());
                    }
                    return;
                }
            }
        }
    }

    fn flush(&self, pending: &mut Vec<(Stream, Vec<u8>)>, carry: &mut Carry) {
        for (stream, data) in pending.drain(..) {
            let text = carry.complete(stream, data);
            if !text.is_empty() {
                self.emit_output(stream, text);
            }
        }
    }

    fn emit_output(&self, stream: Stream, data: String) {
        self.emit(RunEvent::Output {
            run_id: self.id.clone(),
            stream,
            data,
        });
    }
}

/// The bytes of a character cut between two batches, per stream, kept for the next one.
#[derive(Default)]
struct Carry {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Carry {
    /// `data` after what was carried, as text up to its last whole character.
    fn complete(&mut self, stream: Stream, data: Vec<u8>) -> String {
        let carried = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        let mut bytes = std::mem::take(carried);
        bytes.extend_from_slice(&data);
        if let Err(err) = std::str::from_utf8(&bytes)
            && err.error_len().is_none()
        {
            *carried = bytes.split_off(err.valid_up_to());
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn take_all(&mut self) -> Vec<(Stream, Vec<u8>)> {
        [
            (Stream::Stdout, &mut self.stdout),
            (Stream::Stderr, &mut self.stderr),
        ]
        .into_iter()
        .filter(|(_, rest)| !rest.is_empty())
        .map(|(stream, rest)| (stream, std::mem::take(rest)))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_cut_between_batches_arrives_whole() {
        let mut carry = Carry::default();
        let text = "héllo 🌍".as_bytes();
        let (first, second) = text.split_at(8);
        assert_eq!(carry.complete(Stream::Stdout, first.to_vec()), "héllo ");
        assert_eq!(
            carry.complete(Stream::Stderr, b"x".to_vec()),
            "x",
            "streams are apart"
        );
        assert_eq!(carry.complete(Stream::Stdout, second.to_vec()), "🌍");
        assert!(carry.take_all().is_empty());
    }
}
