//! The room document's schema (docs/protocol.md): `code` (text), `language` and
//! `meta.title` (scalar strings). Creating a room's first change and reading a document's
//! state, with text indexed in UTF-16 code units as in the browser.

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, AutomergeError, ObjId, ObjType, ROOT, ReadDoc, TextEncoding, Value};
use bytes::Bytes;

pub const CODE: &str = "code";
pub const LANGUAGE: &str = "language";
pub const META: &str = "meta";
pub const TITLE: &str = "title";

/// What a room's document says, materialised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocState {
    pub code: String,
    pub language: String,
    pub title: String,
    /// The document's heads (hex change hashes) when it was read; empty where unknown.
    pub heads: Vec<String>,
}

/// An empty document indexing text in UTF-16 code units.
pub fn empty() -> Automerge {
    Automerge::new_with_encoding(TextEncoding::Utf16CodeUnit)
}

/// Loads a saved document, indexing text in UTF-16 code units.
pub fn load(saved: &[u8]) -> Result<Automerge, AutomergeError> {
    Automerge::load_with_options(
        saved,
        automerge::LoadOptions::new().text_encoding(TextEncoding::Utf16CodeUnit),
    )
}

/// The first change of a room: its code, language and title, made by a fresh actor.
pub fn initial_change(state: &DocState, time: i64) -> Bytes {
    let mut doc = empty().with_actor(ActorId::random());
    let mut tx = doc.transaction();
    let code = tx
        .put_object(ROOT, CODE, ObjType::Text)
        .expect("a fresh document takes a text");
    tx.splice_text(&code, 0, 0, &state.code)
        .expect("text goes into an empty text");
    tx.put(ROOT, LANGUAGE, state.language.as_str())
        .expect("a scalar at the root");
    let meta = tx
        .put_object(ROOT, META, ObjType::Map)
        .expect("a map at the root");
    tx.put(&meta, TITLE, state.title.as_str())
        .expect("a scalar in a map");
    tx.commit_with(automerge::transaction::CommitOptions::default().with_time(time));
    Bytes::copy_from_slice(doc.get_last_local_change().expect("just committed").raw_bytes())
}

/// The `code` text object, if the document has one.
pub fn code_object(doc: &impl ReadDoc) -> Option<ObjId> {
    match doc.get(ROOT, CODE) {
        Ok(Some((Value::Object(ObjType::Text), id))) => Some(id),
        _ => None,
    }
}

/// Reads the document's code, language and title (empty where a field is missing).
pub fn read_state(doc: &impl ReadDoc) -> DocState {
    let code = code_object(doc)
        .and_then(|id| doc.text(&id).ok())
        .unwrap_or_default();
    let title = match doc.get(ROOT, META) {
        Ok(Some((Value::Object(ObjType::Map), meta))) => read_string(doc, &meta, TITLE),
        _ => String::new(),
    };
    DocState {
        code,
        language: read_string(doc, &ROOT, LANGUAGE),
        title,
        heads: Vec::new(),
    }
}

/// The document's heads as hex change hashes.
pub fn heads(doc: &automerge::Automerge) -> Vec<String> {
    doc.get_heads().iter().map(|hash| hash.to_string()).collect()
}

/// A string field written either as a scalar or as text.
fn read_string(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> String {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(scalar), _))) => scalar.as_str().unwrap_or_default().to_owned(),
        Ok(Some((Value::Object(ObjType::Text), id))) => doc.text(&id).unwrap_or_default(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use automerge::Change;

    use super::*;

    #[test]
    fn the_initial_change_holds_the_room_state() {
        let state = DocState {
            code: "print('héllo 🌍')\n".to_owned(),
            language: "python".to_owned(),
            title: "Round 1".to_owned(),
            heads: Vec::new(),
        };
        let change = Change::try_from(&initial_change(&state, 1_700_000_000_000)[..]).unwrap();
        assert!(change.deps().is_empty());
        let mut doc = empty();
        doc.apply_changes([change]).unwrap();
        assert_eq!(read_state(&doc), state);
        let code = code_object(&doc).unwrap();
        assert_eq!(
            doc.length(&code),
            "print('héllo 🌍')\n".encode_utf16().count(),
            "UTF-16 units"
        );
        assert_eq!(read_state(&load(&doc.save()).unwrap()), state);
    }

    #[test]
    fn strings_written_as_text_are_read_too() {
        let mut doc = empty();
        let mut tx = doc.transaction();
        let language = tx.put_object(ROOT, LANGUAGE, ObjType::Text).unwrap();
        tx.splice_text(&language, 0, 0, "rust").unwrap();
        tx.commit();
        assert_eq!(read_state(&doc).language, "rust");
        assert_eq!(read_state(&doc).code, "");
    }
}
