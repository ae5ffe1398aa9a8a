//! The browser client, bundled by `build.rs` and embedded in the binary. Files are
//! served under content-hashed names with a year-long immutable cache, and under their
//! plain names (for source maps) with revalidation.

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::AppState;

/// One bundled file.
#[derive(Debug)]
pub struct BundledAsset {
    /// Name as esbuild wrote it, e.g. `main.js`.
    pub name: &'static str,
    /// Name with a content hash, e.g. `main.1a2b3c4d5e.js`.
    pub hashed_name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{name}", get(serve))
        .route("/sw.js", get(service_worker))
}

/// The URL path of a bundled file (by its plain name) that changes when its content does.
pub fn href(name: &str) -> String {
    let asset = BUNDLED
        .iter()
        .find(|asset| asset.name == name)
        .unwrap_or_else(|| panic!("no bundled asset named {name}"));
    format!("assets/{}", asset.hashed_name)
}

/// The service worker, at the root so that its scope covers the room pages; always
/// revalidated, so that a new release's worker takes over.
async fn service_worker(headers: HeaderMap) -> Response {
    serve(Path("sw.js".to_owned()), headers).await
}

async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = BUNDLED.iter().find(|a| a.hashed_name == name || a.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag = format!("\"{}\"", asset.hashed_name);
    let cache = if asset.hashed_name == name {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let not_modified = headers
        .get(IF_NONE_MATCH)
        .is_some_and(|value| value.as_bytes() == etag.as_bytes());
    let response_headers = [
        (CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
        (CACHE_CONTROL, HeaderValue::from_static(cache)),
        (
            ETAG,
            HeaderValue::from_str(&etag).expect("hashed names are header-safe"),
        ),
    ];
    if not_modified {
        (StatusCode::NOT_MODIFIED, response_headers).into_response()
    } else {
        (response_headers, asset.bytes).into_response()
    }
}
