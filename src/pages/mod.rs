//! Server-rendered pages (askama): the home page with the new-room form, the room page
//! the editor mounts into, and friendly error pages.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::app::{AppState, Links};
use crate::clock::now_millis;
use crate::http::assets;
use crate::http::error::ErrorReport;
use crate::languages::{self, LANGUAGES, Language};
use crate::rooms::{self, CreateRoomError, MAX_TITLE_CHARS, NewRoom, is_room_id};
use crate::store::RoomRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/rooms", post(create_room))
        .route("/r/{id}", get(room))
}

/// What every page's frame links to.
pub struct Layout {
    home: String,
    css: String,
    js: String,
    favicon: String,
    /// The service worker that keeps room pages for offline reloads.
    service_worker: String,
}

impl Layout {
    fn new(links: &Links) -> Self {
        Self {
            home: links.path(""),
            css: links.path(&assets::href("app.css")),
            js: links.path(&assets::href("main.js")),
            favicon: links.path(&assets::href("favicon.svg")),
            service_worker: links.path("sw.js"),
        }
    }
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
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "room.html")]
struct RoomPage {
    layout: Layout,
    room: RoomRecord,
    language_name: &'static str,
    share_url: String,
    ws_url: String,
    /// The room's current code as the server materialised it, shown until the editor has
    /// loaded.
    code: String,
    /// The room's current language (the document's, which anyone in the room may change).
    language: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    heading: &'a str,
    message: &'a str,
}

/// A page that could not be shown, rendered as a friendly error page.
pub struct PageError {
    links: Arc<Links>,
    status: StatusCode,
    heading: &'static str,
    message: String,
    internal: Option<String>,
}

impl PageError {
    pub fn not_found(links: &Arc<Links>, message: impl Into<String>) -> Self {
        Self {
            links: links.clone(),
            status: StatusCode::NOT_FOUND,
            heading: "Nothing here",
            message: message.into(),
            internal: None,
        }
    }

    pub fn internal(links: &Arc<Links>, cause: impl std::fmt::Display) -> Self {
        Self {
            links: links.clone(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
            heading: "Something went wrong",
            message: "The server hit a problem and logged it. Please try again in a moment.".to_owned(),
            internal: Some(cause.to_string()),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            layout: Layout::new(&self.links),
            status: self.status.as_u16(),
            heading: self.heading,
            message: &self.message,
        };
        let body = page.render().unwrap_or_else(|_| self.message.clone());
        let mut response = (self.status, Html(body)).into_response();
        if let Some(cause) = self.internal {
            response.extensions_mut().insert(ErrorReport(cause));
        }
        response
    }
}

fn render(links: &Arc<Links>, page: impl Template) -> Result<Html<String>, PageError> {
    page.render()
        .map(Html)
        .map_err(|err| PageError::internal(links, err))
}

async fn home(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    render(&state.links, home_page(&state.links, "python", "", None))
}

fn home_page<'a>(links: &Links, language: &'a str, title: &'a str, error: Option<String>) -> HomePage<'a> {
    HomePage {
        layout: Layout::new(links),
        languages: LANGUAGES,
        selected_language: language,
        title,
        max_title: MAX_TITLE_CHARS,
        create_action: links.path("rooms"),
        error,
    }
}

#[derive(Debug, Deserialize)]
struct CreateRoomForm {
    language: String,
    #[serde(default)]
    title: String,
}

/// The home page's form: create the room and go to it, or show the form again with
/// the problem spelled out.
async fn create_room(
    State(state): State<AppState>,
    form: Result<Form<CreateRoomForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Ok(Form(form)) = form else {
        let page = home_page(
            &state.links,
            "python",
            "",
            Some("Pick a language for the room.".to_owned()),
        );
        return Ok((StatusCode::BAD_REQUEST, render(&state.links, page)?).into_response());
    };
    let input = NewRoom {
        language: form.language.clone(),
        title: Some(form.title.clone()),
        template: None,
    };
    match rooms::create(state.store.as_ref(), input, now_millis()).await {
        Ok(room) => Ok(Redirect::to(&state.links.path(&format!("r/{}", room.id))).into_response()),
        Err(CreateRoomError::Input(err)) => {
            let page = home_page(&state.links, &form.language, &form.title, Some(err.to_string()));
            Ok((StatusCode::BAD_REQUEST, render(&state.links, page)?).into_response())
        }
        Err(CreateRoomError::Store(err)) => Err(PageError::internal(&state.links, err)),
    }
}

/// How long a room page waits for the room's exact current text before showing the last
/// materialised one.
const CURRENT_TEXT_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

async fn room(State(state): State<AppState>, Path(id): Path<String>) -> Result<Html<String>, PageError> {
    let missing = || {
        PageError::not_found(
            &state.links,
            "This room does not exist. It may have been deleted or expired.",
        )
    };
    if !is_room_id(&id) {
        return Err(missing());
    }
    let room = state
        .store
        .get_room(&id)
        .await
        .map_err(|err| PageError::internal(&state.links, err))?
        .ok_or_else(missing)?;
    // The live room's materialised state: the page shows the current text at once, however
    // long the room's history. If bringing it up to date takes too long, the state as last
    // materialised (a few seconds old at most) will do; the editor catches up as it syncs.
    // A room that cannot be opened just now shows its starter.
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
    let (code, language) = match current {
        Some((seq, code, language)) if seq > 0 => (code, language),
        _ => (room.initial_code.clone(), room.language.clone()),
    };
    let language_name = languages::find(&language).map_or("Unknown language", |language| language.name);
    let page = RoomPage {
        code,
        language,
        layout: Layout::new(&state.links),
        share_url: state.links.room_page(&room.id).into(),
        ws_url: state.links.room_socket(&room.id).into(),
        language_name,
        room,
    };
    render(&state.links, page)
}

/// For any URL no route matches: a friendly page.
pub async fn not_found(State(state): State<AppState>) -> PageError {
    PageError::not_found(&state.links, "There is no page at this address.")
}
