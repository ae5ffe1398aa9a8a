//! The home page (new-room form and the account's rooms) and the room page, opened by
//! staff from the staff link (with the private notes panel, and for the room's owner the
//! button that ends it) or by a candidate from the candidate link.

use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{CsrfForm, Layout, PageError, PageStaff, check_form, render};
use crate::app::{AppState, Links};
use crate::auth::caller::Staff;
use crate::clock::{now_millis, rfc3339};
use crate::languages::{self, LANGUAGES, Language};
use crate::rooms::{self, CreateRoomError, MAX_TITLE_CHARS, NewRoom, is_candidate_key};
use crate::store::{RoomQuery, RoomRecord};

/// Rooms listed on the home page.
const RECENT_ROOMS: u32 = 20;
/// How long a room page waits for the room's exact current text before showing the last
/// materialised one.
const CURRENT_TEXT_WAIT: Duration = Duration::from_millis(250);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/rooms", post(create_room))
        .route("/r/{id}", get(staff_room))
        .route("/r/{id}/end", post(end_room))
        .route("/join/{id}/{key}", get(candidate_room))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    layout: Layout,
    languages: &'static [Language],
    selected_language: &'a str,
    title: &'a str,
    max_title: usize,
    create_action: String,
    csrf: String,
    error: Option<String>,
    rooms: Vec<RoomLine>,
}

/// A room in the home page's list.
struct RoomLine {
    title: String,
    language: &'static str,
    created_at: String,
    href: String,
}

#[derive(Template)]
#[template(path = "room.html")]
struct RoomPage {
    layout: Layout,
    room: RoomRecord,
    language_name: &'static str,
    /// The links staff hand out; none on a candidate's page.
    share: Option<ShareLinks>,
    /// The private notes panel; staff only.
    notes: Option<NotesPanel>,
    /// The form that ends the room, for its owner (or an admin) while it goes on.
    end_form: Option<EndForm>,
    /// What the page says once the room has ended.
    ended_text: &'static str,
    ws_url: String,
    /// The room's current code as the server materialised it, shown until the editor has
    /// loaded.
    code: String,
    /// The room's current language (the document's, which anyone in the room may change).
    language: String,
}

struct ShareLinks {
    candidate: Option<String>,
    staff: String,
}

/// The staff-only notes document: its own room id and socket, and its current text.
struct NotesPanel {
    room_id: String,
    ws_url: String,
    text: String,
}

struct EndForm {
    action: String,
    csrf: String,
}

/// What staff read once the room has ended.
const ENDED_FOR_STAFF: &str =
    "This interview has ended: the candidate can only watch now. Staff can still edit and take notes.";
/// What a candidate reads once the room has ended.
const ENDED_FOR_CANDIDATE: &str = "The interviewer ended this interview. The code is read-only now.";

/// The home page: the new-room form and the account's latest rooms. Visitors without an
/// account are sent to the login page.
async fn home(State(state): State<AppState>, PageStaff(staff): PageStaff) -> Result<Html<String>, PageError> {
    let page = home_page(&state, &staff, "python", "", None).await?;
    render(&state.links, page)
}

async fn home_page<'a>(
    state: &AppState,
    staff: &Staff,
    language: &'a str,
    title: &'a str,
    error: Option<String>,
) -> Result<HomePage<'a>, PageError> {
    let rooms = state
        .store
        .list_rooms(&RoomQuery {
            owner_id: Some(&staff.user.id),
            after: None,
            limit: RECENT_ROOMS,
        })
        .await
        .map_err(|err| PageError::internal(&state.links, err))?;
    let rooms = rooms
        .into_iter()
        .map(|room| RoomLine {
            language: languages::find(&room.language).map_or("", |language| language.name),
            created_at: rfc3339(room.created_at),
            href: state.links.path(&format!("r/{}", room.id)),
            title: room.title,
        })
        .collect();
    Ok(HomePage {
        layout: Layout::for_staff(&state.links, Some(staff)),
        languages: LANGUAGES,
        selected_language: language,
        title,
        max_title: MAX_TITLE_CHARS,
        create_action: state.links.path("rooms"),
        csrf: staff.csrf_token().unwrap_or_default().to_owned(),
        error,
        rooms,
    })
}

#[derive(Debug, Deserialize)]
struct CreateRoomForm {
    language: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    csrf: String,
}

/// The home page's form: create the room and go to it, or show the form again with
/// the problem spelled out.
async fn create_room(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: HeaderMap,
    form: Result<Form<CreateRoomForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(form)) = form else {
        let page = home_page(
            &state,
            &staff,
            "python",
            "",
            Some("Pick a language for the room.".to_owned()),
        )
        .await?;
        return Ok((StatusCode::BAD_REQUEST, render(&state.links, page)?).into_response());
    };
    check_form(&state, &staff, &headers, &form.csrf)?;
    let input = NewRoom {
        language: form.language.clone(),
        title: Some(form.title.clone()),
        template: None,
        owner_id: staff.user.id.clone(),
    };
    match rooms::create(state.store.as_ref(), input, now_millis()).await {
        Ok(room) => Ok(Redirect::to(&state.links.path(&format!("r/{}", room.id))).into_response()),
        Err(CreateRoomError::Input(err)) => {
            let page = home_page(&state, &staff, &form.language, &form.title, Some(err.to_string())).await?;
            Ok((StatusCode::BAD_REQUEST, render(&state.links, page)?).into_response())
        }
        Err(CreateRoomError::Store(err)) => Err(PageError::internal(&state.links, err)),
    }
}

/// The staff link: any logged-in staff member may open it (it is how an interviewer
/// brings in a colleague); the page offers both links to hand out.
async fn staff_room(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let room = find_room(&state, &id).await?;
    let share = ShareLinks {
        candidate: (!room.candidate_key.is_empty())
            .then(|| state.links.candidate_page(&room.id, &room.candidate_key).into()),
        staff: state.links.room_page(&room.id).into(),
    };
    let notes = rooms::notes(state.store.as_ref(), &room, now_millis())
        .await
        .map_err(|err| PageError::internal(&state.links, err))?;
    let notes = NotesPanel {
        ws_url: socket_path(&state.links, &notes.id, None),
        text: current_text(&state, &notes).await.0,
        room_id: notes.id,
    };
    let end_form = (staff.manages(&room) && !room.is_ended()).then(|| EndForm {
        action: state.links.path(&format!("r/{}/end", room.id)),
        csrf: staff.csrf_token().unwrap_or_default().to_owned(),
    });
    let page = RoomPage {
        layout: Layout::for_staff(&state.links, Some(&staff)),
        share: Some(share),
        notes: Some(notes),
        end_form,
        ended_text: ENDED_FOR_STAFF,
        ws_url: socket_path(&state.links, &room.id, None),
        ..room_page(&state, room).await
    };
    render(&state.links, page)
}

/// The staff page's "End interview" button: the room's owner (or an admin) ends it, and
/// everyone connected is told at once.
async fn end_room(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, PageError> {
    check_form(&state, &staff, &headers, &form.csrf)?;
    let room = find_room(&state, &id).await?;
    if !staff.manages(&room) {
        return Err(PageError::forbidden(
            &state.links,
            "Only the interviewer who created this room, or an admin, can end it.",
        ));
    }
    rooms::end(state.store.as_ref(), &state.rooms, room, now_millis())
        .await
        .map_err(|err| PageError::internal(&state.links, err))?;
    Ok(Redirect::to(&state.links.path(&format!("r/{id}"))))
}

/// The candidate link: no account, the room's key in the path.
async fn candidate_room(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
) -> Result<Html<String>, PageError> {
    let room = find_room(&state, &id).await?;
    if !is_candidate_key(&room.candidate_key, &key) {
        return Err(missing_room(&state));
    }
    let page = RoomPage {
        ws_url: socket_path(&state.links, &room.id, Some(&key)),
        ..room_page(&state, room).await
    };
    render(&state.links, page)
}

/// The room's socket as a path: the page connects to the origin it was loaded from, so
/// its `Origin` always matches (whatever name the server was reached by).
fn socket_path(links: &Links, room_id: &str, key: Option<&str>) -> String {
    let path = links.path(&format!("v1/rooms/{room_id}/ws"));
    match key {
        Some(key) => format!("{path}?key={key}"),
        None => path,
    }
}

async fn find_room(state: &AppState, id: &str) -> Result<RoomRecord, PageError> {
    rooms::find(state.store.as_ref(), id)
        .await
        .map_err(|err| PageError::internal(&state.links, err))?
        .ok_or_else(|| missing_room(state))
}

fn missing_room(state: &AppState) -> PageError {
    PageError::not_found(
        &state.links,
        "This room does not exist. It may have been deleted or expired, or the link is incomplete.",
    )
}

/// The room page as a candidate sees it: the room's current code and language, no staff
/// parts.
async fn room_page(state: &AppState, room: RoomRecord) -> RoomPage {
    let (code, language) = current_text(state, &room).await;
    let language_name = languages::find(&language).map_or("Unknown language", |language| language.name);
    RoomPage {
        layout: Layout::new(&state.links),
        code,
        language,
        share: None,
        notes: None,
        end_form: None,
        ended_text: ENDED_FOR_CANDIDATE,
        ws_url: String::new(),
        language_name,
        room,
    }
}

/// A room's current (code, language), so that the page shows the text at once however
/// long the room's history. If bringing the live room up to date takes too long, the state
/// as last materialised (a few seconds old at most) will do; the editor catches up as it
/// syncs. A room that cannot be opened just now shows its starter.
async fn current_text(state: &AppState, room: &RoomRecord) -> (String, String) {
    let current = match state.rooms.handle(&room.id) {
        Ok(live) => match tokio::time::timeout(CURRENT_TEXT_WAIT, live.state()).await {
            Ok(Some((seq, doc))) => Some((seq, doc.code, doc.language)),
            _ => live
                .preview()
                .await
                .map(|preview| (preview.seq, preview.code, preview.language)),
        },
        Err(_) => None,
    };
    match current {
        Some((seq, code, language)) if seq > 0 => (code, language),
        _ => (room.initial_code.clone(), room.language.clone()),
    }
}
