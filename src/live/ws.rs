//! `GET /v1/rooms/{id}/ws`: the room's WebSocket (docs/protocol.md).

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use std::sync::Arc;

use super::{Access, OpenError};
use crate::app::AppState;
use crate::auth::caller::{Caller, same_origin};
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::rooms::{is_candidate_key, is_room_id};

/// Bytes read from the socket at a time. Keystroke messages are a few hundred bytes; the
/// transport's default (128 KiB, zero-filled before every read) cost more CPU than the
/// rest of relaying a keystroke, and memory per connection. Large messages still arrive
/// whole: the buffer grows to a message's length once its header is read.
pub const READ_BUFFER_BYTES: usize = 8 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/rooms/{id}/ws", get(upgrade))
}

/// The socket's query: a candidate's key (staff authenticate with their session cookie or
/// an API token instead).
#[derive(Debug, Deserialize)]
struct SocketQuery {
    key: Option<String>,
}

/// Opens the room's socket for staff, or for a candidate holding the room's key. A
/// browser's upgrade must come from one of our own pages (its `Origin`): the session
/// cookie rides along on any site's WebSocket.
async fn upgrade(
    State(state): State<AppState>,
    Path(room_id): Path<String>,
    ApiQuery(query): ApiQuery<SocketQuery>,
    headers: HeaderMap,
    caller: Caller,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !same_origin(&headers, &state.links) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            "the room's socket only accepts connections from this server's own pages",
        ));
    }
    if !is_room_id(&room_id) {
        return Err(no_such_room());
    }
    let room = state.rooms.handle(&room_id).map_err(open_error)?;
    let candidate_key = room.probe().await.map_err(open_error)?;
    let access = if let Some(staff) = caller.staff() {
        Access::Staff(Arc::from(staff.user.id.as_str()))
    } else {
        let Some(key) = query.key else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "open the room from its candidate link, or log in",
            ));
        };
        if !is_candidate_key(&candidate_key, &key) {
            return Err(no_such_room());
        }
        Access::Candidate
    };
    // The transport reads messages up to twice the limit, so that the connection can refuse
    // a somewhat oversized one with a clean close after reading it whole; beyond that the
    // transport gives up mid-message (the error still reaches the client, the close may not).
    let transport_limit = state.rooms.config().max_message_bytes.saturating_mul(2);
    let rooms = state.rooms.clone();
    Ok(upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(transport_limit)
        .max_frame_size(transport_limit)
        .on_failed_upgrade(|err| tracing::debug!(error = %err, "a WebSocket upgrade failed"))
        .on_upgrade(move |socket| super::connection::serve(socket, rooms, room_id, access))
        .into_response())
}

fn no_such_room() -> ApiError {
    ApiError::not_found("no room with that id (it may have been deleted or expired)")
}

fn open_error(err: OpenError) -> ApiError {
    match err {
        OpenError::NotFound => no_such_room(),
        OpenError::Unloading | OpenError::ShuttingDown => ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is restarting; try again in a moment",
        ),
        OpenError::Store => ApiError::internal("loading a room failed"),
    }
}
