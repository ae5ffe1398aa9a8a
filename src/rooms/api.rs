//! The rooms REST API: `POST/GET /v1/rooms`, `GET/DELETE /v1/rooms/{id}`, the room's
//! materialised document, ending it, and its private notes. Staff only: interviewers see
//! and manage the rooms they created, admins every room.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};

use super::{CreateRoomError, NewRoom, RoomInputError, is_room_id};
use crate::app::{AppState, Links};
use crate::auth::caller::{ApiStaff, Staff};
use crate::clock::{now_millis, rfc3339};
use crate::document::DocState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::store::{RoomCursor, RoomQuery, RoomRecord};

/// Rooms per page when the caller does not say.
const DEFAULT_PAGE: u32 = 20;
/// Most rooms per page.
const MAX_PAGE: u32 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/rooms", get(list_rooms).post(create_room))
        .route("/v1/rooms/{id}", get(get_room).delete(delete_room))
        .route("/v1/rooms/{id}/document", get(get_document))
        .route("/v1/rooms/{id}/end", post(end_room))
        .route("/v1/rooms/{id}/notes", get(get_notes))
}

/// The body of `POST /v1/rooms`.
#[derive(Debug, Deserialize)]
struct CreateRoomBody {
    language: String,
    title: Option<String>,
    template: Option<String>,
}

/// A room as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomView {
    room_id: String,
    /// The staff link (login required).
    editor_url: String,
    /// The room's socket for staff (session cookie or API token).
    ws_url: String,
    /// The link for the candidate (no account); null for rooms older than accounts.
    candidate_url: Option<String>,
    /// The room's socket for the candidate, carrying the candidate key.
    candidate_ws_url: Option<String>,
    language: String,
    title: String,
    created_at: String,
    last_active_at: String,
    /// When the interviewer ended the room (candidates can then only watch); null while
    /// it goes on.
    ended_at: Option<String>,
}

impl RoomView {
    pub fn new(room: &RoomRecord, links: &Links) -> Self {
        let candidate_key = (!room.candidate_key.is_empty()).then_some(room.candidate_key.as_str());
        Self {
            room_id: room.id.clone(),
            editor_url: links.room_page(&room.id).into(),
            ws_url: links.room_socket(&room.id).into(),
            candidate_url: candidate_key.map(|key| links.candidate_page(&room.id, key).into()),
            candidate_ws_url: candidate_key.map(|key| links.candidate_socket(&room.id, key).into()),
            language: room.language.clone(),
            title: room.title.clone(),
            created_at: rfc3339(room.created_at),
            last_active_at: rfc3339(room.last_active_at),
            ended_at: room.is_ended().then(|| rfc3339(room.ended_at)),
        }
    }
}

async fn create_room(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    ApiJson(body): ApiJson<CreateRoomBody>,
) -> Result<impl IntoResponse, ApiError> {
    let input = NewRoom {
        language: body.language,
        title: body.title,
        template: body.template,
        owner_id: staff.user.id.clone(),
    };
    let room = super::create(state.store.as_ref(), input, now_millis()).await?;
    Ok((StatusCode::CREATED, Json(RoomView::new(&room, &state.links))))
}

async fn get_room(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RoomView>, ApiError> {
    let room = find_room(&state, &staff, &id).await?;
    Ok(Json(RoomView::new(&room, &state.links)))
}

/// The room's document as the server has materialised it from the op log.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentView {
    /// The last change (sequence number) the state includes.
    seq: u64,
    code: String,
    language: String,
    title: String,
}

async fn get_document(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DocumentView>, ApiError> {
    find_room(&state, &staff, &id).await?;
    let (seq, document) = materialised(&state, &id).await?;
    Ok(Json(DocumentView {
        seq,
        code: document.code,
        language: document.language,
        title: document.title,
    }))
}

/// The live room's document with every accepted change applied: (seq, state).
async fn materialised(state: &AppState, id: &str) -> Result<(u64, DocState), ApiError> {
    let unavailable = || {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the room is restarting; try again",
        )
    };
    let room = state.rooms.handle(id).map_err(|_| unavailable())?;
    room.state().await.ok_or_else(unavailable)
}

/// `POST /v1/rooms/{id}/end`: candidates can no longer edit (or run code); staff still
/// can. Ending an ended room changes nothing and answers the same.
async fn end_room(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RoomView>, ApiError> {
    let room = find_room(&state, &staff, &id).await?;
    let room = super::end(state.store.as_ref(), &state.rooms, room, now_millis()).await?;
    Ok(Json(RoomView::new(&room, &state.links)))
}

/// The room's private notes as the API shows them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NotesView {
    seq: u64,
    text: String,
    /// The notes document's socket (staff only), for a client that edits them live.
    ws_url: String,
}

/// `GET /v1/rooms/{id}/notes`: the staff's private notes on the room.
async fn get_notes(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<NotesView>, ApiError> {
    let room = find_room(&state, &staff, &id).await?;
    let notes = super::notes(state.store.as_ref(), &room, now_millis()).await?;
    let (seq, document) = materialised(&state, &notes.id).await?;
    Ok(Json(NotesView {
        seq,
        text: document.code,
        ws_url: state.links.room_socket(&notes.id).into(),
    }))
}

async fn delete_room(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    find_room(&state, &staff, &id).await?;
    if state.store.delete_room(&id).await? {
        state.rooms.close(&id);
        tracing::info!(room_id = %id, by = %staff.user.email, "room deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_such_room())
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RoomList {
    rooms: Vec<RoomView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    next_cursor: Option<String>,
}

async fn list_rooms(
    State(state): State<AppState>,
    ApiStaff(staff): ApiStaff,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<RoomList>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be from 1 to {MAX_PAGE}"),
        ));
    }
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    // One extra row tells whether another page follows.
    let mut rooms = state
        .store
        .list_rooms(&RoomQuery {
            owner_id: (!staff.is_admin()).then_some(staff.user.id.as_str()),
            after: after.as_ref(),
            limit: limit + 1,
        })
        .await?;
    let more = rooms.len() > limit as usize;
    rooms.truncate(limit as usize);
    let next_cursor = more.then(|| encode_cursor(&RoomCursor::from(rooms.last().expect("a full page"))));
    Ok(Json(RoomList {
        rooms: rooms
            .iter()
            .map(|room| RoomView::new(room, &state.links))
            .collect(),
        next_cursor,
    }))
}

/// The room with `id` if `staff` manages it, or the API's 404 (someone else's room is
/// not told apart from a missing one).
pub async fn find_room(state: &AppState, staff: &Staff, id: &str) -> Result<RoomRecord, ApiError> {
    super::find(state.store.as_ref(), id)
        .await?
        .filter(|room| staff.manages(room))
        .ok_or_else(no_such_room)
}

fn no_such_room() -> ApiError {
    ApiError::not_found("no room with that id (it may have been deleted or expired)")
}

fn encode_cursor(cursor: &RoomCursor) -> String {
    BASE64URL_NOPAD.encode(format!("{}.{}", cursor.created_at, cursor.id).as_bytes())
}

fn decode_cursor(text: &str) -> Result<RoomCursor, ApiError> {
    BASE64URL_NOPAD
        .decode(text.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let (created_at, id) = text.split_once('.')?;
            Some(RoomCursor {
                created_at: created_at.parse().ok()?,
                id: id.to_owned(),
            })
        })
        .filter(|cursor| is_room_id(&cursor.id))
        .ok_or_else(|| ApiError::bad_request("invalid_cursor", "cursor is not one this API handed out"))
}

impl From<CreateRoomError> for ApiError {
    fn from(err: CreateRoomError) -> Self {
        match err {
            CreateRoomError::Input(input) => input.into(),
            CreateRoomError::Store(store) => store.into(),
        }
    }
}

impl From<RoomInputError> for ApiError {
    fn from(err: RoomInputError) -> Self {
        ApiError::bad_request(err.code(), err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = RoomCursor {
            created_at: 1_700_000_000_123,
            id: crate::ids::random_url_token(crate::ids::ROOM_ID_BYTES),
        };
        assert_eq!(decode_cursor(&encode_cursor(&cursor)).unwrap(), cursor);
        for garbage in ["", "!!!", "bm9wZQ", &BASE64URL_NOPAD.encode(b"12.not-an-id")] {
            assert_eq!(decode_cursor(garbage).unwrap_err().code, "invalid_cursor");
        }
    }
}
