//! Staff accounts and login sessions, on SQLite and on PostgreSQL: the store, the
//! password checks and `pairline user add`.

mod common;

use std::process::Stdio;

use common::{Backend, TestDb, process};
use pairline::auth::{self, AccountError, Role, SESSION_LIFETIME_MILLIS};
use pairline::store::{Store, UserRecord};
use tokio::io::AsyncWriteExt;

on_both_backends!(
    an_account_round_trips_and_its_address_is_unique,
    only_the_right_password_opens_a_session,
    a_session_ends_by_logout_expiry_or_disabling,
    a_password_change_keeps_only_the_new_password,
    the_command_line_creates_an_account,
);

const PASSWORD: &str = "correct horse battery";

/// The account most tests log in to: ada@example.com with `PASSWORD`.
async fn ada(store: &dyn Store, role: Role) -> UserRecord {
    auth::create_account(store, "ada@example.com", role, PASSWORD.into(), 0)
        .await
        .unwrap()
}

async fn an_account_round_trips_and_its_address_is_unique(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    assert_eq!(store.count_users().await.unwrap(), 0);
    let user = auth::create_account(
        store.as_ref(),
        " Ada@Example.com",
        Role::Admin,
        PASSWORD.into(),
        1_000,
    )
    .await
    .unwrap();
    assert_eq!(user.email, "ada@example.com");
    assert!(user.password_hash.starts_with("$argon2id$"));
    assert!(!user.password_hash.contains(PASSWORD));
    assert_eq!(
        store.user_by_email("ada@example.com").await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(store.user_by_id(&user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(store.count_users().await.unwrap(), 1);

    let again = auth::create_account(
        store.as_ref(),
        "ADA@example.com",
        Role::Interviewer,
        PASSWORD.into(),
        2,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(again, AccountError::Taken(ref email) if email == "ada@example.com"),
        "{again}"
    );
    let short = auth::create_account(
        store.as_ref(),
        "bob@example.com",
        Role::Interviewer,
        "short".into(),
        2,
    )
    .await
    .unwrap_err();
    assert!(short.to_string().contains("at least 10 characters"), "{short}");
    let bad = auth::create_account(store.as_ref(), "bob", Role::Interviewer, PASSWORD.into(), 2)
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("not an e-mail address"), "{bad}");
    assert_eq!(store.count_users().await.unwrap(), 1);
    store.close().await;
}

async fn only_the_right_password_opens_a_session(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let user = ada(store.as_ref(), Role::Interviewer).await;
    for (email, password) in [
        ("ada@example.com", "correct horse batterY"),
        ("nobody@example.com", PASSWORD),
        ("not an address", PASSWORD),
    ] {
        let refused = auth::log_in(store.as_ref(), email, password.into(), 10)
            .await
            .unwrap();
        assert!(refused.is_none(), "{email} / {password} let in");
    }
    let (who, session) = auth::log_in(store.as_ref(), "ADA@example.com ", PASSWORD.into(), 10)
        .await
        .unwrap()
        .expect("the right password");
    assert_eq!(who.id, user.id);
    assert_eq!(session.record.expires_at, 10 + SESSION_LIFETIME_MILLIS);
    assert_ne!(
        session.record.token_hash,
        session.token.as_bytes(),
        "only a hash is stored"
    );
    let (found, record) = auth::session_user(store.as_ref(), &session.token, 20)
        .await
        .unwrap()
        .expect("the session is live");
    assert_eq!(found.id, user.id);
    assert_eq!(record.csrf_token, session.record.csrf_token);
    assert!(
        auth::session_user(store.as_ref(), "not-a-token", 20)
            .await
            .unwrap()
            .is_none()
    );
    store.close().await;
}

async fn a_session_ends_by_logout_expiry_or_disabling(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let user = ada(store.as_ref(), Role::Interviewer).await;
    let open = || async {
        auth::log_in(store.as_ref(), "ada@example.com", PASSWORD.into(), 0)
            .await
            .unwrap()
            .expect("logged in")
            .1
    };
    let live = |token: String, now| {
        let store = store.clone();
        async move {
            auth::session_user(store.as_ref(), &token, now)
                .await
                .unwrap()
                .is_some()
        }
    };

    let session = open().await;
    assert!(live(session.token.clone(), SESSION_LIFETIME_MILLIS - 1).await);
    assert!(
        !live(session.token.clone(), SESSION_LIFETIME_MILLIS).await,
        "expired"
    );
    store.delete_session(&session.record.token_hash).await.unwrap();
    assert!(!live(session.token.clone(), 1).await, "logged out");

    let session = open().await;
    assert!(store.set_disabled_at(&user.id, 5).await.unwrap());
    assert!(
        !live(session.token.clone(), 6).await,
        "a disabled account's session is dead"
    );
    let refused = auth::log_in(store.as_ref(), "ada@example.com", PASSWORD.into(), 6)
        .await
        .unwrap();
    assert!(refused.is_none(), "a disabled account cannot log in");
    assert!(store.set_disabled_at(&user.id, 0).await.unwrap());
    assert!(live(session.token.clone(), 7).await, "enabled again");
    assert_eq!(store.delete_user_sessions(&user.id).await.unwrap(), 1);
    assert!(!live(session.token, 7).await);
    assert!(!store.set_disabled_at("no-such-user", 1).await.unwrap());
    store.close().await;
}

async fn a_password_change_keeps_only_the_new_password(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let user = ada(store.as_ref(), Role::Admin).await;
    let new_hash = auth::password::hash("a brand new passphrase".into())
        .await
        .unwrap();
    assert!(store.set_password_hash(&user.id, &new_hash).await.unwrap());
    let old = auth::log_in(store.as_ref(), "ada@example.com", PASSWORD.into(), 1)
        .await
        .unwrap();
    assert!(old.is_none());
    let new = auth::log_in(
        store.as_ref(),
        "ada@example.com",
        "a brand new passphrase".into(),
        1,
    )
    .await
    .unwrap();
    assert!(new.is_some());
    assert!(!store.set_password_hash("no-such-user", &new_hash).await.unwrap());
    store.close().await;
}

async fn the_command_line_creates_an_account(backend: Backend) {
    let db = TestDb::new(backend).await;
    let url = db.url.expose().to_owned();
    let vars = [("PAIRLINE_DATABASE_URL", url.as_str())];
    let add = |email: &'static str, role: &'static str, password: &'static str| {
        let mut command = process::pairline(&["user", "add", "--email", email, "--role", role], &vars);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        async move {
            let mut child = command.spawn().expect("start pairline");
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(format!("{password}\n").as_bytes()).await.unwrap();
            drop(stdin);
            let output = child.wait_with_output().await.unwrap();
            let text = String::from_utf8_lossy(&output.stdout).to_string()
                + &String::from_utf8_lossy(&output.stderr);
            (output.status.success(), text)
        }
    };
    let (ok, text) = add("Grace@Example.com", "interviewer", PASSWORD).await;
    assert!(ok, "{text}");
    assert!(
        text.contains("created the interviewer account grace@example.com"),
        "{text}"
    );
    let (ok, text) = add("grace@example.com", "admin", PASSWORD).await;
    assert!(!ok && text.contains("already exists"), "{text}");
    let (ok, text) = add("root@example.com", "root", PASSWORD).await;
    assert!(!ok && text.contains("use admin or interviewer"), "{text}");
    let (ok, text) = add("short@example.com", "admin", "short").await;
    assert!(!ok && text.contains("at least 10 characters"), "{text}");

    let store = db.store().await;
    assert_eq!(store.count_users().await.unwrap(), 1);
    let logged_in = auth::log_in(store.as_ref(), "grace@example.com", PASSWORD.into(), 1)
        .await
        .unwrap();
    assert_eq!(
        logged_in.expect("the password from stdin works").0.role,
        "interviewer"
    );
    store.close().await;
}
