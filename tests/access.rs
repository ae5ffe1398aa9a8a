//! Who may do what: anonymous visitors, candidates (the candidate link), interviewers
//! (their own rooms and others'), admins, disabled accounts, revoked tokens, expired
//! sessions; login, logout, CSRF, throttling and the security headers. On both backends.

mod common;

use common::pages::{hidden_field, log_in, set_cookie};
use common::{Backend, StaffAccount, TestDb, TestServer, anonymous_client, bearer_client, upgrade_status};
use pairline::auth::Role;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    anonymous_callers_reach_no_room_without_the_candidate_link,
    interviewers_manage_their_own_rooms_and_admins_every_room,
    disabled_accounts_and_revoked_tokens_lose_access_at_once,
    a_login_session_needs_csrf_tokens_and_ends_at_logout
);

/// The API routes of one room, with their methods.
fn room_routes(id: &str) -> Vec<(Method, String)> {
    vec![
        (Method::GET, format!("/v1/rooms/{id}")),
        (Method::GET, format!("/v1/rooms/{id}/document")),
        (Method::DELETE, format!("/v1/rooms/{id}")),
    ]
}

async fn status_of(client: &reqwest::Client, method: Method, url: String) -> StatusCode {
    client.request(method, url).send().await.unwrap().status()
}

async fn anonymous_callers_reach_no_room_without_the_candidate_link(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let room = server.create_room("python", "access").await;
    let id = room["roomId"].as_str().unwrap();
    let anonymous = &server.anonymous;

    for (method, path) in room_routes(id) {
        let status = status_of(anonymous, method.clone(), server.url(&path)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let (status, body) = common::json_of(anonymous.get(server.url("/v1/rooms")).send().await.unwrap()).await;
    assert_eq!(
        (status, common::error_code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let created = anonymous
        .post(server.url("/v1/rooms"))
        .json(&json!({ "language": "python" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::UNAUTHORIZED);

    // Pages for staff send visitors to the login page, which brings them back.
    for (path, back) in [
        ("/", "%2F"),
        (&format!("/r/{id}") as &str, &format!("%2Fr%2F{id}") as &str),
    ] {
        let response = anonymous.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            response.headers()[LOCATION],
            format!("/login?next={back}").as_str()
        );
    }
    let form = anonymous
        .post(server.url("/rooms"))
        .form(&[("language", "python")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        form.status(),
        StatusCode::SEE_OTHER,
        "creating a room needs a login"
    );

    // The candidate link, and only the right one, opens the room and its socket.
    let candidate_url = room["candidateUrl"].as_str().unwrap();
    assert_eq!(
        anonymous.get(candidate_url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let wrong_key = format!("{}/join/{id}/AAAAAAAAAAAAAAAAAAAAAA", server.base);
    assert_eq!(
        anonymous.get(&wrong_key).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let socket = room["wsUrl"].as_str().unwrap();
    assert_eq!(upgrade_status(socket, &[]).await, 401, "no key, no login");
    assert_eq!(
        upgrade_status(&format!("{socket}?key=AAAAAAAAAAAAAAAAAAAAAA"), &[]).await,
        404
    );
    let candidate_socket = room["candidateWsUrl"].as_str().unwrap();
    assert_eq!(upgrade_status(candidate_socket, &[]).await, 101);
    // A page elsewhere cannot open the socket in a visitor's name.
    let evil = [("origin", "https://evil.example")];
    assert_eq!(upgrade_status(candidate_socket, &evil).await, 403);
    let public_origin = format!("http://localhost:{}", server.addr.port());
    let own = [("origin", public_origin.as_str())];
    assert_eq!(upgrade_status(candidate_socket, &own).await, 101);
    server.stop().await;
}

async fn interviewers_manage_their_own_rooms_and_admins_every_room(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let store = db.store().await;
    let other = StaffAccount::create(store.as_ref(), "other@example.com", Role::Interviewer).await;
    let admin = StaffAccount::create(store.as_ref(), "admin@example.com", Role::Admin).await;
    let room = server.create_room("go", "mine").await;
    let id = room["roomId"].as_str().unwrap();

    // Someone else's room is not told apart from a missing one.
    for (method, path) in room_routes(id)
        .into_iter()
        .filter(|(method, _)| method != Method::DELETE)
    {
        assert_eq!(
            status_of(&other.client(), method.clone(), server.url(&path)).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(
            status_of(&admin.client(), method, server.url(&path)).await,
            StatusCode::OK,
            "admin {path}"
        );
    }
    let listed = |client: reqwest::Client| {
        let url = server.url("/v1/rooms");
        async move {
            let (_, list) = common::json_of(client.get(url).send().await.unwrap()).await;
            list["rooms"].as_array().unwrap().len()
        }
    };
    assert_eq!(listed(other.client()).await, 0);
    assert_eq!(listed(server.client.clone()).await, 1);
    assert_eq!(listed(admin.client()).await, 1);
    let theirs = bearer_client(&other.token)
        .post(server.url("/v1/rooms"))
        .json(&json!({ "language": "c" }))
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::CREATED);
    assert_eq!(listed(server.client.clone()).await, 1, "still only my room");
    assert_eq!(listed(admin.client()).await, 2);

    // The staff link lets any colleague with an account into the room itself.
    let page = other
        .client()
        .get(room["editorUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let bearer = format!("Bearer {}", other.token);
    let socket = room["wsUrl"].as_str().unwrap();
    assert_eq!(upgrade_status(socket, &[("authorization", &bearer)]).await, 101);

    let path = format!("/v1/rooms/{id}");
    assert_eq!(
        status_of(&other.client(), Method::DELETE, server.url(&path)).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status_of(&admin.client(), Method::DELETE, server.url(&path)).await,
        StatusCode::NO_CONTENT
    );
    store.close().await;
    server.stop().await;
}

async fn disabled_accounts_and_revoked_tokens_lose_access_at_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let store = db.store().await;
    let revoked = StaffAccount::create(store.as_ref(), "revoked@example.com", Role::Interviewer).await;
    let disabled = StaffAccount::create(store.as_ref(), "disabled@example.com", Role::Admin).await;
    for account in [&revoked, &disabled] {
        assert_eq!(
            status_of(&account.client(), Method::GET, server.url("/v1/rooms")).await,
            StatusCode::OK
        );
    }
    let tokens = store.user_api_tokens(&revoked.user.id).await.unwrap();
    assert!(
        store
            .delete_api_token(&revoked.user.id, &tokens[0].id)
            .await
            .unwrap()
    );
    assert!(store.set_disabled_at(&disabled.user.id, 1).await.unwrap());
    for account in [&revoked, &disabled] {
        let (status, body) = common::json_of(
            account
                .client()
                .get(server.url("/v1/rooms"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}", account.user.email);
        assert!(error_message(&body).contains("not valid"), "{body}");
    }
    // A malformed Authorization header is refused, not ignored.
    let garbage = anonymous_client()
        .get(server.url("/v1/rooms"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
    store.close().await;
    server.stop().await;
}

fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

async fn a_login_session_needs_csrf_tokens_and_ends_at_logout(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let email = server.interviewer.user.email.clone();
    let client = &server.anonymous;

    let wrong = log_in(&server, &email, "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("do not match"));
    // The login form itself needs its token.
    let forged = client
        .post(server.url("/login"))
        .form(&[("email", email.as_str()), ("password", common::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let done = log_in(&server, &email, common::PASSWORD).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[LOCATION], "/");
    let (session, header) = set_cookie(&done, "pairline_session").expect("a session cookie");
    assert!(header.contains("HttpOnly") && header.contains("SameSite=Lax") && header.contains("Path=/"));
    assert!(!header.contains("Secure"), "plain http: {header}");

    let home = client
        .get(server.url("/"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let csp = home.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self' 'wasm-unsafe-eval';"));
    assert_eq!(home.headers()["x-content-type-options"], "nosniff");
    assert_eq!(home.headers()["referrer-policy"], "same-origin");
    let html = home.text().await.unwrap();
    assert!(html.contains(&email), "the account is shown");
    let csrf = hidden_field(&html, "csrf");

    // Forms and cookie-authenticated API calls without the session's token are refused.
    let create = |token: &str| {
        client
            .post(server.url("/rooms"))
            .header(COOKIE, &session)
            .form(&[("language", "python"), ("csrf", token)])
            .send()
    };
    assert_eq!(create("").await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(create(&csrf).await.unwrap().status(), StatusCode::SEE_OTHER);
    let cross_site = client
        .post(server.url("/rooms"))
        .header(COOKIE, &session)
        .header(ORIGIN, "https://evil.example")
        .form(&[("language", "python"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let api = |token: Option<&str>| {
        let request = client
            .post(server.url("/v1/rooms"))
            .header(COOKIE, &session)
            .json(&json!({ "language": "python" }));
        match token {
            Some(token) => request.header("x-csrf-token", token),
            None => request,
        }
        .send()
    };
    assert_eq!(api(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(api(Some(&csrf)).await.unwrap().status(), StatusCode::CREATED);
    let listed = client
        .get(server.url("/v1/rooms"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK, "safe API calls need no token");

    let out = client
        .post(server.url("/logout"))
        .header(COOKIE, &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let (cleared, _) = set_cookie(&out, "pairline_session").unwrap();
    assert_eq!(cleared, "pairline_session=");
    let after = client
        .get(server.url("/"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "the old cookie no longer works"
    );
    server.stop().await;
}

#[tokio::test]
async fn logins_are_throttled_per_account() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let email = server.interviewer.user.email.clone();
    for _ in 0..pairline::auth::throttle::ACCOUNT_FAILURES {
        assert_eq!(
            log_in(&server, &email, "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused now, before it is checked.
    let locked = log_in(&server, &email, common::PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        locked
            .text()
            .await
            .unwrap()
            .contains("Too many failed logins. Try again in 15 minutes.")
    );
    server.stop().await;
}

#[tokio::test]
async fn an_expired_session_is_a_visitor_again() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let store = db.store().await;
    let token = pairline::auth::tokens::new_token();
    let now = pairline::clock::now_millis();
    let session = pairline::store::SessionRecord {
        token_hash: pairline::auth::tokens::token_hash(&token),
        user_id: server.interviewer.user.id.clone(),
        csrf_token: "csrf".to_owned(),
        created_at: now - 13 * 3_600_000,
        expires_at: now - 3_600_000,
    };
    store.create_session(&session).await.unwrap();
    let cookie = format!("pairline_session={token}");
    let home = server
        .anonymous
        .get(server.url("/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    let api = server
        .anonymous
        .get(server.url("/v1/rooms"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    store.close().await;
    server.stop().await;
}
