//! Rooms: what a new room must look like, and creating one. Shared by the REST API and
//! the home page's form.

pub mod api;

use crate::ids::{ROOM_ID_BYTES, is_url_token, random_url_token};
use crate::languages::{self, Language};
use crate::store::{Millis, RoomRecord, Store, StoreError};

/// Random bytes in the secret of a candidate link: 128 bits.
pub const CANDIDATE_KEY_BYTES: usize = 16;
/// Longest room title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Largest starting code a room may be created with.
pub const MAX_TEMPLATE_BYTES: usize = 256 * 1024;

/// What a caller asks for when creating a room.
#[derive(Debug, Clone, Default)]
pub struct NewRoom {
    pub language: String,
    pub title: Option<String>,
    /// Starting code; the language's starter template when absent.
    pub template: Option<String>,
    /// The staff account creating it (its owner).
    pub owner_id: String,
}

/// Why a new room was refused; each message tells the person what to change.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RoomInputError {
    #[error("unknown language {given:?}; allowed: {allowed}", allowed = languages::allowed_ids())]
    UnknownLanguage { given: String },
    #[error("the title is longer than {MAX_TITLE_CHARS} characters")]
    TitleTooLong,
    #[error("the {field} contains control characters")]
    ControlCharacters { field: &'static str },
    #[error("the template is larger than {} KiB", MAX_TEMPLATE_BYTES / 1024)]
    TemplateTooLarge,
}

impl RoomInputError {
    /// A stable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownLanguage { .. } => "unknown_language",
            Self::TitleTooLong => "title_too_long",
            Self::ControlCharacters { .. } => "invalid_text",
            Self::TemplateTooLarge => "template_too_large",
        }
    }
}

/// Why creating a room failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateRoomError {
    #[error(transparent)]
    Input(#[from] RoomInputError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validates `input` and turns it into the record of a new room created at `now`.
pub fn prepare(input: NewRoom, now: Millis) -> Result<RoomRecord, RoomInputError> {
    let language = languages::find(input.language.trim()).ok_or_else(|| RoomInputError::UnknownLanguage {
        given: input.language.clone(),
    })?;
    let title = clean_title(input.title.as_deref(), language)?;
    let initial_code = match input.template {
        Some(code) if code.len() > MAX_TEMPLATE_BYTES => return Err(RoomInputError::TemplateTooLarge),
        Some(code) if code.contains('\0') => {
            return Err(RoomInputError::ControlCharacters { field: "template" });
        }
        Some(code) => code,
        None => language.starter.to_owned(),
    };
    Ok(RoomRecord {
        id: random_url_token(ROOM_ID_BYTES),
        language: language.id.to_owned(),
        title,
        initial_code,
        created_at: now,
        last_active_at: now,
        owner_id: input.owner_id,
        candidate_key: random_url_token(CANDIDATE_KEY_BYTES),
        ended_at: 0,
        parent_id: String::new(),
    })
}

/// Validates `input` and stores the new room.
pub async fn create(store: &dyn Store, input: NewRoom, now: Millis) -> Result<RoomRecord, CreateRoomError> {
    let room = prepare(input, now)?;
    store.create_room(&room).await?;
    tracing::info!(room_id = %room.id, language = %room.language, "room created");
    Ok(room)
}

/// Whether `id` has the shape of a room id (so malformed ids never reach the database).
pub fn is_room_id(id: &str) -> bool {
    is_url_token(id, ROOM_ID_BYTES)
}

/// The interview room with `id`; `None` for an id of the wrong shape (without asking the
/// store) and for a notes document, which is reached only through its room.
pub async fn find(store: &dyn Store, id: &str) -> Result<Option<RoomRecord>, StoreError> {
    if !is_room_id(id) {
        return Ok(None);
    }
    Ok(store.get_room(id).await?.filter(|room| !room.is_notes()))
}

/// Ends `room` at `now` unless it already ended, and tells its live actor; returns the
/// room as it is now (its `ended_at` is the first end's). From then on its candidates can
/// only watch; staff go on as before.
pub async fn end(
    store: &dyn Store,
    live: &crate::live::Rooms,
    mut room: RoomRecord,
    now: Millis,
) -> Result<RoomRecord, StoreError> {
    if !room.is_ended() && store.end_room(&room.id, now).await? {
        room.ended_at = now;
        live.end(&room.id, now);
        tracing::info!(room_id = %room.id, "room ended");
    } else if !room.is_ended() {
        // Ended by someone else a moment ago: report their time.
        room = store.get_room(&room.id).await?.unwrap_or(room);
    }
    Ok(room)
}

/// The staff-only notes document of interview room `room`, created on first use. It is a
/// room of its own with no candidate link, so no candidate's socket can ever reach it.
pub async fn notes(store: &dyn Store, room: &RoomRecord, now: Millis) -> Result<RoomRecord, StoreError> {
    store
        .notes_room(&RoomRecord {
            id: random_url_token(ROOM_ID_BYTES),
            language: String::new(),
            title: format!("Notes: {}", room.title),
            initial_code: String::new(),
            created_at: now,
            last_active_at: now,
            owner_id: room.owner_id.clone(),
            candidate_key: String::new(),
            ended_at: 0,
            parent_id: room.id.clone(),
        })
        .await
}

/// Whether `given` is a room's candidate key `expected` (compared in constant time; a
/// room without a key, `expected` empty, has no candidate link).
pub fn is_candidate_key(expected: &str, given: &str) -> bool {
    !expected.is_empty() && crate::auth::tokens::constant_time_eq(expected.as_bytes(), given.as_bytes())
}

fn clean_title(title: Option<&str>, language: &Language) -> Result<String, RoomInputError> {
    let title = title.map(str::trim).unwrap_or_default();
    if title.chars().any(char::is_control) {
        return Err(RoomInputError::ControlCharacters { field: "title" });
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(RoomInputError::TitleTooLong);
    }
    Ok(if title.is_empty() {
        format!("{} interview", language.name)
    } else {
        title.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(language: &str, title: Option<&str>, template: Option<&str>) -> NewRoom {
        NewRoom {
            language: language.to_owned(),
            title: title.map(str::to_owned),
            template: template.map(str::to_owned),
            owner_id: "owner".to_owned(),
        }
    }

    #[test]
    fn a_new_room_gets_defaults_and_an_unguessable_id() {
        let room = prepare(input("go", None, None), 5).unwrap();
        assert!(is_room_id(&room.id));
        assert_eq!(room.title, "Go interview");
        assert_eq!(room.initial_code, languages::find("go").unwrap().starter);
        assert_eq!((room.created_at, room.last_active_at), (5, 5));
        assert_eq!((room.owner_id.as_str(), room.ended_at), ("owner", 0));
        assert!(is_candidate_key(&room.candidate_key, &room.candidate_key));
        assert!(!is_candidate_key(&room.candidate_key, "AAAAAAAAAAAAAAAAAAAAAA"));
        assert!(!is_candidate_key("", ""), "no key, no candidate link");
        assert_ne!(room.id, prepare(input("go", None, None), 5).unwrap().id);
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        let room = prepare(input("c", Some("  Graphs  "), Some("int main;")), 0).unwrap();
        assert_eq!(
            (room.title.as_str(), room.initial_code.as_str()),
            ("Graphs", "int main;")
        );
        let long = "é".repeat(MAX_TITLE_CHARS + 1);
        assert_eq!(
            prepare(input("c", Some(&long), None), 0),
            Err(RoomInputError::TitleTooLong)
        );
        assert_eq!(
            prepare(input("c", Some("a\u{7}b"), None), 0),
            Err(RoomInputError::ControlCharacters { field: "title" })
        );
    }

    #[test]
    fn bad_languages_and_templates_are_refused_with_the_allowed_list() {
        let err = prepare(input("cobol", None, None), 0).unwrap_err();
        assert_eq!(err.code(), "unknown_language");
        assert!(err.to_string().contains("python") && err.to_string().contains("cobol"));
        let huge = "x".repeat(MAX_TEMPLATE_BYTES + 1);
        assert_eq!(
            prepare(input("c", None, Some(&huge)), 0),
            Err(RoomInputError::TemplateTooLarge)
        );
        assert_eq!(
            prepare(input("c", None, Some("a\0b")), 0),
            Err(RoomInputError::ControlCharacters { field: "template" })
        );
    }
}
