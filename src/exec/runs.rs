//! The code-execution API: `POST /v1/rooms/{id}/execute` (a JSON result, or server-sent
//! events with `Accept: text/event-stream`), a room's stored runs, and
//! `GET /v1/languages`. Staff only (a session or an API token), for rooms they manage;
//! candidates run code over the room socket.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::events::RunEvent;
use super::service::{RunError, RunOrder, RunService};
use crate::app::AppState;
use crate::auth::caller::ApiStaff;
use crate::clock::rfc3339;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::languages::LANGUAGES;
use crate::rooms::api::find_room;
use crate::store::RunRecord;

/// Runs listed when the caller does not say.
const DEFAULT_RUNS: u32 = 20;
const MAX_RUNS: u32 = 100;

pub fn router(service: &RunService) -> Router<AppState> {
    // An execute body carries the code and the stdin, each up to its limit, as JSON.
    let body_limit = (service.config().max_code_bytes + service.config().max_stdin_bytes) * 2 + 64 * 1024;
    Router::new()
        .route(
            "/v1/rooms/{id}/execute",
            post(execute).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route("/v1/rooms/{id}/runs", get(list_runs))
        .route("/v1/rooms/{id}/runs/{run_id}", get(get_run))
        .route("/v1/languages", get(list_languages))
}

/// The body of `POST /v1/rooms/{id}/execute`; everything is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExecuteBody {
    #[serde(default)]
    stdin: String,
    code: Option<String>,
    language: Option<String>,
    wall_time_ms: Option<u64>,
    memory_mb: Option<u32>,
}

/// Whether a run's view includes its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithCode {
    Yes,
    No,
}

/// A stored run as the API shows it: who, when, what ran, and the result's fields at the
/// top level (`stdout`, `stderr`, `exitCode`, `executionTimeMs`, `memoryUsageMb`, `status`,
/// `truncated`, `runtime`, `backend`, `message`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    run_id: String,
    started_by: String,
    created_at: String,
    finished_at: String,
    language: String,
    stdin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    /// The document's heads when it ran, and its position in the room's log.
    heads: Vec<String>,
    doc_seq: i64,
    #[serde(flatten)]
    result: serde_json::Map<String, serde_json::Value>,
}

impl RunView {
    pub fn from_record(record: &RunRecord, with_code: WithCode) -> Self {
        Self {
            run_id: record.id.clone(),
            started_by: record.started_by.clone(),
            created_at: rfc3339(record.created_at),
            finished_at: rfc3339(record.finished_at),
            language: record.language.clone(),
            stdin: record.stdin.clone(),
            code: (with_code == WithCode::Yes).then(|| record.code.clone()),
            heads: record
                .heads
                .split(',')
                .filter(|head| !head.is_empty())
                .map(str::to_owned)
                .collect(),
            doc_seq: record.doc_seq,
            result: serde_json::from_str(&record.result).unwrap_or_default(),
        }
    }
}

async fn execute(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ExecuteBody>,
) -> Result<Response, ApiError> {
    let room = find_room(&state, &staff, &id).await?;
    let order = RunOrder {
        room_id: room.id.into(),
        started_by: staff.user.email.clone(),
        user_id: staff.user.id.clone(),
        code: body.code,
        language: body.language,
        stdin: body.stdin,
        wall_ms: body.wall_time_ms,
        memory_mib: body.memory_mb,
    };
    let handle = state.runs.submit(order).await.map_err(refusal)?;
    let wants_events = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if wants_events {
        let events = futures::stream::unfold(handle.events, |mut events| async move {
            let event = events.recv().await?;
            let sse = Event::default().event(event.kind()).data(event.to_json());
            Some((Ok::<_, Infallible>(sse), events))
        });
        return Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response());
    }
    let mut events = handle.events;
    while let Some(event) = events.recv().await {
        if let RunEvent::Finished { run, .. } = event {
            return Ok(Json(run).into_response());
        }
    }
    Err(ApiError::internal("the run ended without a result"))
}

fn refusal(err: RunError) -> ApiError {
    let (status, code) = match &err {
        RunError::Off(_) => (StatusCode::SERVICE_UNAVAILABLE, "execution_off"),
        RunError::QueueFull(_) => (StatusCode::SERVICE_UNAVAILABLE, "queue_full"),
        RunError::Language(_) => (StatusCode::UNPROCESSABLE_ENTITY, "language_unavailable"),
        RunError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        RunError::InvalidLimit(_) => (StatusCode::BAD_REQUEST, "invalid_limit"),
        RunError::RoomUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    ApiError::new(status, code, err.to_string())
}

#[derive(Debug, Deserialize)]
struct RunsQuery {
    limit: Option<u32>,
}

#[derive(Debug, Serialize)]
struct RunList {
    runs: Vec<RunView>,
}

async fn list_runs(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<RunsQuery>,
) -> Result<Json<RunList>, ApiError> {
    let room = find_room(&state, &staff, &id).await?;
    let limit = query.limit.unwrap_or(DEFAULT_RUNS).clamp(1, MAX_RUNS);
    let records = state.store.room_runs(&room.id, limit).await?;
    Ok(Json(RunList {
        runs: records
            .iter()
            .map(|record| RunView::from_record(record, WithCode::No))
            .collect(),
    }))
}

async fn get_run(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    ApiPath((id, run_id)): ApiPath<(String, String)>,
) -> Result<Json<RunView>, ApiError> {
    let room = find_room(&state, &staff, &id).await?;
    let record = state
        .store
        .get_run(&room.id, &run_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no run with that id in this room"))?;
    Ok(Json(RunView::from_record(&record, WithCode::Yes)))
}

#[derive(Debug, Serialize)]
struct LanguagesView {
    /// The sandbox this server runs code in: `docker`, `local` or `off`.
    backend: &'static str,
    languages: Vec<LanguageView>,
}

#[derive(Debug, Serialize)]
struct LanguageView {
    id: &'static str,
    name: &'static str,
    /// The runtime each backend would run it with (null: that backend does not offer it
    /// here, or is not set up on this server).
    runtimes: BTreeMap<&'static str, Option<String>>,
    /// Whether code in this language can run on this server now.
    available: bool,
}

/// `GET /v1/languages`: every language, its runtime version on each backend, and whether
/// this server can run it. Open to anyone (it says nothing about rooms).
async fn list_languages(State(state): State<AppState>) -> Json<LanguagesView> {
    let active = state
        .runs
        .executor()
        .map(|executor| (executor.name(), executor.runtimes()));
    let others = state.runs.other_runtimes();
    let languages = LANGUAGES
        .iter()
        .map(|language| {
            let mut runtimes = BTreeMap::new();
            for backend in ["docker", "local"] {
                let offered = match &active {
                    Some((name, runtimes)) if *name == backend => runtimes.get(language.id).cloned(),
                    _ => others
                        .get(backend)
                        .and_then(|runtimes| runtimes.get(language.id).cloned()),
                };
                runtimes.insert(backend, offered);
            }
            let available = active
                .as_ref()
                .is_some_and(|(_, runtimes)| runtimes.contains_key(language.id));
            LanguageView {
                id: language.id,
                name: language.name,
                runtimes,
                available,
            }
        })
        .collect();
    Json(LanguagesView {
        backend: active.map_or("off", |(name, _)| name),
        languages,
    })
}
