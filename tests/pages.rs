//! The server-rendered pages and the embedded browser assets.

mod common;

use common::{Backend, TestDb, TestServer};
use pairline::languages::LANGUAGES;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};

on_both_backends!(
    the_form_creates_a_room_and_opens_it,
    the_room_page_shows_the_code_as_edited_not_the_starter
);

async fn page(server: &TestServer, path: &str) -> (StatusCode, String, String) {
    let response = server.client.get(server.url(path)).send().await.unwrap();
    let status = response.status();
    let content_type = response.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    (status, content_type, response.text().await.unwrap())
}

/// The value of the first `attr="..."` after `marker` in `html`.
fn attribute_after<'a>(html: &'a str, marker: &str, attr: &str) -> &'a str {
    let from = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in page"));
    let rest = &html[from..];
    let start = rest.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    let end = start + rest[start..].find('"').unwrap();
    &rest[start..end]
}

async fn the_form_creates_a_room_and_opens_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;

    let (status, content_type, home) = page(&server, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"));
    for language in LANGUAGES {
        assert!(
            home.contains(&format!("value=\"{}\"", language.id)),
            "picker offers {}",
            language.id
        );
    }

    let title = "<script>alert('x')</script> & friends";
    let response = server
        .client
        .post(server.url("/rooms"))
        .form(&[("language", "rust"), ("title", title)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/r/"), "{location}");

    let (status, _, room) = page(&server, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!room.contains("<script>alert"), "titles are escaped");
    assert!(room.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; friends"));
    assert!(room.contains(">Rust<"), "the language is shown");
    let id = location.trim_start_matches("/r/");
    let candidate = attribute_after(&room, "id=\"share-link\"", "value");
    let prefix = format!("http://localhost:{}/join/{id}/", server.addr.port());
    assert!(candidate.starts_with(&prefix), "the candidate link: {candidate}");
    let staff = attribute_after(&room, "id=\"staff-link\"", "value");
    assert_eq!(staff, format!("http://localhost:{}/r/{id}", server.addr.port()));
    assert!(room.contains("data-copy-target=\"share-link\""), "a copy button");

    // The candidate link opens the same room without an account, with no links to hand out.
    let response = server.anonymous.get(candidate).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let candidate_page = response.text().await.unwrap();
    assert!(candidate_page.contains("fn main()"));
    assert!(!candidate_page.contains("share-link") && !candidate_page.contains("staff-link"));
    let socket = attribute_after(&candidate_page, "id=\"editor\"", "data-ws-url");
    assert!(
        socket.contains("?key="),
        "the candidate's socket carries the key: {socket}"
    );
    assert!(
        room.contains("fn main()"),
        "the starter code is shown until the editor mounts"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_bad_form_shows_the_form_again_with_the_problem() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let response = server
        .client
        .post(server.url("/rooms"))
        .form(&[("language", "brainfuck"), ("title", "kept")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("unknown language") && html.contains("python"),
        "{html}"
    );
    assert!(html.contains("value=\"kept\""), "what was typed is kept");

    let response = server.client.post(server.url("/rooms")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn unknown_pages_and_rooms_get_a_friendly_404() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    for path in ["/r/AAAAAAAAAAAAAAAAAAAAAA", "/r/not-a-room", "/no/such/page"] {
        let (status, content_type, html) = page(&server, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(content_type.starts_with("text/html"), "{path}");
        assert!(html.contains("Start a new room"), "{path} links home");
    }
    server.stop().await;
}

#[tokio::test]
async fn assets_are_embedded_with_cache_headers() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let (_, _, home) = page(&server, "/").await;

    for (marker, attr, kind) in [
        ("rel=\"stylesheet\"", "href", "text/css"),
        ("type=\"module\"", "src", "text/javascript"),
    ] {
        let href = attribute_after(&home, marker, attr).to_owned();
        let response = server.client.get(server.url(&href)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{href}");
        assert!(
            response.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        assert_eq!(
            response.headers()[CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let etag = response.headers()[ETAG].clone();
        assert!(!response.bytes().await.unwrap().is_empty());

        let again = server
            .client
            .get(server.url(&href))
            .header(IF_NONE_MATCH, etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }
    let response = server
        .client
        .get(server.url("/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The service worker lives at the root (its scope covers the room pages), named by
    // every page, and is always revalidated so that a new release's worker takes over.
    assert_eq!(
        attribute_after(&home, "name=\"pairline-sw\"", "content"),
        "/sw.js"
    );
    let worker = server.client.get(server.url("/sw.js")).send().await.unwrap();
    assert_eq!(worker.status(), StatusCode::OK);
    assert!(
        worker.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(worker.headers()[CACHE_CONTROL], "no-cache");
    assert!(worker.text().await.unwrap().contains("fetch"));
    server.stop().await;
}

async fn the_room_page_shows_the_code_as_edited_not_the_starter(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let room = server.create_room("python", "edited").await;
    let mut client = common::sync::connected(&room, "writer").await;
    client.edit(0, 0, "# <b>edited</b> by writer\n").await.unwrap();
    let path = format!("/r/{}", room["roomId"].as_str().unwrap());

    // The page shows what the room's materialiser has applied, a moment after the edit.
    let deadline = std::time::Instant::now() + common::sync::SETTLE;
    loop {
        let (status, _, html) = page(&server, &path).await;
        assert_eq!(status, StatusCode::OK);
        if html.contains("# &#60;b&#62;edited&#60;/b&#62; by writer") {
            break;
        }
        assert!(!html.contains("<b>edited"), "the code is escaped");
        assert!(
            std::time::Instant::now() < deadline,
            "the page never showed the edit"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
