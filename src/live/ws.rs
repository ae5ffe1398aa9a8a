//! `GET /v1/rooms/{id}/ws`: the room's WebSocket (docs/protocol.md).

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::OpenError;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::rooms::is_room_id;

/// Bytes read from the socket at a time. Keystroke messages are a few hundred bytes; the
/// transport's default (128 KiB, zero-filled before every read) cost more CPU than the
/// rest of relaying a keystroke, and memory per connection. Large messages still arrive
/// whole: the buffer grows to a message's length once its header is read.
pub const READ_BUFFER_BYTES: usize = 8 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/rooms/{id}/ws", get(upgrade))
}

async fn upgrade(
    State(state): State<AppState>,
    Path(room_id): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !is_room_id(&room_id) {
        return Err(no_such_room());
    }
    let room = state.rooms.handle(&room_id).map_err(open_error)?;
    room.probe().await.map_err(open_error)?;
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
        .on_upgrade(move |socket| super::connection::serve(socket, rooms, room_id))
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
