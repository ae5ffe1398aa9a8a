//! The account pages: changing one's password, API tokens in the UI, and an admin's
//! invites, disabling and re-enabling accounts. Through the pages, as a browser would use
//! them, on both backends.

mod common;

use common::pages::{BrowserSession, hidden_field, log_in, set_cookie};
use common::{Backend, PASSWORD, StaffAccount, TestDb, TestServer, bearer_client};
use pairline::auth::Role;
use pairline::client::{ClientError, Identity, SyncClient};
use pairline::clock::now_millis;
use pairline::protocol::ErrorCode;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};

on_both_backends!(
    a_password_change_needs_the_current_one_and_ends_other_sessions,
    api_tokens_are_made_shown_once_and_revoked_in_the_page,
    admins_invite_disable_and_re_enable_accounts
);

const NEW_PASSWORD: &str = "a much better password";

async fn a_password_change_needs_the_current_one_and_ends_other_sessions(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let email = server.interviewer.user.email.clone();
    let here = BrowserSession::log_in(&server, &email, PASSWORD).await;
    let elsewhere = BrowserSession::log_in(&server, &email, PASSWORD).await;

    let page = here.get(&server, "/account").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(&email) && html.contains("interviewer"));

    let (session, at) = (&here, &server);
    let change = |current: &'static str, new: &'static str, confirm: &'static str| async move {
        let fields = [("current", current), ("password", new), ("confirm", confirm)];
        session.post(at, "/account/password", &fields).await
    };
    let wrong = change("not my password", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("current password is not right")
    );
    let differ = change(PASSWORD, NEW_PASSWORD, "something else entirely").await;
    assert_eq!(differ.status(), StatusCode::BAD_REQUEST);
    let short = change(PASSWORD, "short", "short").await;
    assert!(short.text().await.unwrap().contains("at least 10"));
    let forged = here
        .post_raw(
            &server,
            "/account/password",
            &[
                ("current", PASSWORD),
                ("password", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "no CSRF token");

    let done = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("Your password was changed"));
    assert_eq!(
        here.get(&server, "/").await.status(),
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        elsewhere.get(&server, "/").await.status(),
        StatusCode::SEE_OTHER,
        "the other session was logged out"
    );
    assert_eq!(
        log_in(&server, &email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        log_in(&server, &email, NEW_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    // Guessing the current password through this form is throttled like logins.
    for _ in 0..pairline::auth::throttle::ACCOUNT_FAILURES {
        change(
            "guess guess guess",
            "another new password",
            "another new password",
        )
        .await;
    }
    let locked = change(NEW_PASSWORD, "another new password", "another new password").await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    server.stop().await;
}

async fn api_tokens_are_made_shown_once_and_revoked_in_the_page(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let store = db.store().await;
    let other = StaffAccount::create(store.as_ref(), "other@example.com", Role::Interviewer).await;
    let me = BrowserSession::log_in(&server, &server.interviewer.user.email, PASSWORD).await;

    let made = me
        .post(&server, "/account/tokens", &[("name", "<b>CI</b>")])
        .await;
    assert_eq!(made.status(), StatusCode::OK);
    let html = made.text().await.unwrap();
    let secret = secret_in(&html, "new-token");
    assert!(
        !html.contains("<b>CI</b>") && html.contains("CI"),
        "the name is escaped"
    );
    assert!(html.contains("will not be shown again"));
    let api = bearer_client(&secret);
    assert_eq!(
        api.get(server.url("/v1/rooms")).send().await.unwrap().status(),
        StatusCode::OK,
        "the new token works"
    );
    let again = me.get(&server, "/account").await.text().await.unwrap();
    assert!(!again.contains(&secret), "shown once only");
    let empty = me.post(&server, "/account/tokens", &[("name", "  ")]).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);

    // Someone else's token cannot be revoked from my page; my own can.
    let theirs = store.user_api_tokens(&other.user.id).await.unwrap()[0].id.clone();
    let refused = me
        .post(&server, &format!("/account/tokens/{theirs}/revoke"), &[])
        .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        other
            .client()
            .get(server.url("/v1/rooms"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let mine = store.user_api_tokens(&server.interviewer.user.id).await.unwrap();
    let made_id = &mine.iter().find(|t| t.name == "<b>CI</b>").unwrap().id;
    let forged = me
        .post_raw(&server, &format!("/account/tokens/{made_id}/revoke"), &[])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let revoked = me
        .post(&server, &format!("/account/tokens/{made_id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        api.get(server.url("/v1/rooms")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "a revoked token stops working at once"
    );
    store.close().await;
    server.stop().await;
}

/// Posts the admin page's invite form as `session`.
async fn invite(server: &TestServer, session: &BrowserSession, email: &str, role: &str) -> reqwest::Response {
    session
        .post(server, "/admin/invites", &[("email", email), ("role", role)])
        .await
}

/// The value of the read-only input with id `id` (a secret shown once).
fn secret_in(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\" type=\"text\" readonly value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} in the page"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

async fn admins_invite_disable_and_re_enable_accounts(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let store = db.store().await;
    let admin = StaffAccount::create(store.as_ref(), "admin@example.com", Role::Admin).await;
    let boss = BrowserSession::log_in(&server, &admin.user.email, PASSWORD).await;
    let interviewer = BrowserSession::log_in(&server, &server.interviewer.user.email, PASSWORD).await;

    // Only admins see the page; visitors are sent to log in.
    assert_eq!(boss.get(&server, "/admin/users").await.status(), StatusCode::OK);
    assert_eq!(
        interviewer.get(&server, "/admin/users").await.status(),
        StatusCode::FORBIDDEN
    );
    let visitor = server
        .anonymous
        .get(server.url("/admin/users"))
        .send()
        .await
        .unwrap();
    assert!(
        visitor.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let sneaky = invite(&server, &interviewer, "x@example.com", "admin").await;
    assert_eq!(sneaky.status(), StatusCode::FORBIDDEN);

    // An invite: refused for a taken address, made for a new one, its link works once.
    let taken = invite(&server, &boss, "Interviewer@example.com", "interviewer").await;
    assert_eq!(taken.status(), StatusCode::BAD_REQUEST);
    assert!(taken.text().await.unwrap().contains("already exists"));
    let forged = boss
        .post_raw(
            &server,
            "/admin/invites",
            &[("email", "new@example.com"), ("role", "interviewer")],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let made = invite(&server, &boss, "New@Example.com", "interviewer").await;
    assert_eq!(made.status(), StatusCode::OK);
    let link = secret_in(&made.text().await.unwrap(), "invite-link");
    assert!(link.contains("/invite/"), "{link}");
    let path = link[link.find("/invite/").unwrap()..].to_owned();
    let listed = boss.get(&server, "/admin/users").await.text().await.unwrap();
    assert!(
        listed.contains("new@example.com") && !listed.contains(&path),
        "listed, link not shown again"
    );

    let form = server.anonymous.get(server.url(&path)).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let (form_cookie, _) = set_cookie(&form, "pairline_form").expect("a form cookie");
    let form_token = hidden_field(&form.text().await.unwrap(), "form_token");
    let accept = |password: &'static str, token: String| {
        server
            .anonymous
            .post(server.url(&path))
            .header(COOKIE, &form_cookie)
            .form(&[
                ("password", password),
                ("confirm", password),
                ("form_token", &token),
            ])
            .send()
    };
    assert_eq!(
        accept(NEW_PASSWORD, "wrong".into()).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        accept("short", form_token.clone()).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let joined = accept(NEW_PASSWORD, form_token.clone()).await.unwrap();
    assert_eq!(
        joined.status(),
        StatusCode::SEE_OTHER,
        "the new account is logged in"
    );
    assert!(set_cookie(&joined, "pairline_session").is_some());
    let used = server.anonymous.get(server.url(&path)).send().await.unwrap();
    assert_eq!(used.status(), StatusCode::NOT_FOUND, "the link works once");
    assert!(used.text().await.unwrap().contains("has been used, has expired"));
    assert_eq!(
        accept(NEW_PASSWORD, form_token).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let newcomer = store.user_by_email("new@example.com").await.unwrap().unwrap();
    assert_eq!(newcomer.role, "interviewer");
    let unknown = server
        .anonymous
        .get(server.url("/invite/nonsense"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    // An expired invite's link is a clear page, not an error.
    let (token, invite) = pairline::auth::invites::invite(
        store.as_ref(),
        &admin.user,
        "late@example.com",
        Role::Admin,
        now_millis() - pairline::auth::invites::INVITE_LIFETIME_MILLIS - 1,
    )
    .await
    .unwrap();
    assert_eq!(invite.role, "admin");
    let expired = server
        .anonymous
        .get(server.url(&format!("/invite/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), StatusCode::NOT_FOUND);

    // Disabling ends the account's sessions, tokens and open sockets at once; re-enabling
    // lets it in again.
    let victim = &server.interviewer;
    let room = server.create_room("python", "live").await;
    let mut live = SyncClient::new(room["wsUrl"].as_str().unwrap(), Identity::editor("Victim"))
        .with_bearer(&victim.token);
    live.connect().await.unwrap();
    let disable = format!("/admin/users/{}/disable", victim.user.id);
    assert_eq!(
        interviewer.post(&server, &disable, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        boss.post_raw(&server, &disable, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        boss.post(&server, &disable, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let cut = tokio::time::timeout(common::sync::SETTLE, async {
        loop {
            if let Err(err) = live.next_event().await {
                return err;
            }
        }
    })
    .await
    .expect("the open socket is closed");
    assert!(
        matches!(
            cut,
            ClientError::Refused {
                code: ErrorCode::AccessRevoked,
                ..
            }
        ),
        "{cut}"
    );
    assert_eq!(
        interviewer.get(&server, "/").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        server
            .client
            .get(server.url("/v1/rooms"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        log_in(&server, &victim.user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let page = boss.get(&server, "/admin/users").await.text().await.unwrap();
    assert!(page.contains("disabled") && page.contains("Re-enable"));
    let enable = format!("/admin/users/{}/enable", victim.user.id);
    assert_eq!(
        boss.post(&server, &enable, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        log_in(&server, &victim.user.email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        server
            .client
            .get(server.url("/v1/rooms"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK,
        "the account's tokens work again"
    );

    // An admin cannot lock themselves out.
    let myself = format!("/admin/users/{}/disable", admin.user.id);
    assert_eq!(
        boss.post(&server, &myself, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(boss.get(&server, "/").await.status(), StatusCode::OK);
    store.close().await;
    server.stop().await;
}
