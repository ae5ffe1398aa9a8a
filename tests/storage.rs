//! The `Store` trait's contract, on SQLite and on PostgreSQL.

mod common;

use common::{Backend, TestDb};
use pairline::clock::DAY_MILLIS;
use pairline::store::{ChangeRecord, RoomCursor, RoomQuery, RoomRecord, SnapshotRecord, Store, StoreError};

on_both_backends!(
    migrations_applied_twice_are_a_no_op,
    rooms_round_trip,
    a_duplicate_room_id_is_refused,
    listing_breaks_ties_by_id,
    activity_only_moves_forward,
    the_change_log_is_ordered_and_idempotent,
    the_latest_snapshot_wins,
    a_room_ends_once_and_keeps_its_access_fields,
    deleting_a_room_deletes_what_belongs_to_it,
    expired_rooms_are_purged_with_their_logs,
    a_room_has_one_notes_document_that_goes_with_it,
    an_invite_is_used_once_and_only_while_open,
);

fn room(id_seed: u8, created_at: i64) -> RoomRecord {
    RoomRecord {
        id: format!("{:A<22}", format!("room{id_seed}")),
        language: "python".to_owned(),
        title: format!("Room {id_seed} — ünïcode ✓"),
        initial_code: "print('hi')\n".to_owned(),
        created_at,
        last_active_at: created_at,
        owner_id: if id_seed.is_multiple_of(2) { "even" } else { "odd" }.to_owned(),
        candidate_key: format!("key{id_seed}"),
        ended_at: 0,
        parent_id: String::new(),
    }
}

/// One page of the newest-first listing.
async fn list(
    store: &dyn Store,
    owner_id: Option<&str>,
    after: Option<&RoomRecord>,
    limit: u32,
) -> Vec<String> {
    let cursor = after.map(RoomCursor::from);
    store
        .list_rooms(&RoomQuery {
            owner_id,
            after: cursor.as_ref(),
            limit,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|room| room.id)
        .collect()
}

fn change(room_id: &str, seq: i64) -> ChangeRecord {
    ChangeRecord {
        room_id: room_id.to_owned(),
        seq,
        hash: vec![seq as u8; 32],
        actor: vec![7; 16],
        actor_seq: seq,
        deps: if seq > 1 {
            vec![(seq - 1) as u8; 32]
        } else {
            Vec::new()
        },
        bytes: vec![0x85, 0x6f, 0x4a, 0x83, seq as u8],
        received_at: 1_000 + seq,
    }
}

fn snapshot(room_id: &str, covers_seq: i64) -> SnapshotRecord {
    SnapshotRecord {
        room_id: room_id.to_owned(),
        covers_seq,
        bytes: vec![covers_seq as u8; 100],
        created_at: 5_000 + covers_seq,
        code: format!("print({covers_seq})\n"),
        language: "python".to_owned(),
        title: "Snapshot ✓".to_owned(),
    }
}

async fn migrations_applied_twice_are_a_no_op(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = pairline::store::connect_url(&db.url, 2).await.unwrap();
    let first = store.migrate().await.unwrap();
    assert!(first.applied >= 1 && first.applied == first.known, "{first:?}");
    let second = store.migrate().await.unwrap();
    assert_eq!(second.applied, 0, "{second:?}");
    store.create_room(&room(1, 10)).await.unwrap();
    let third = store.migrate().await.unwrap();
    assert_eq!(third.applied, 0);
    assert!(
        store.get_room(&room(1, 10).id).await.unwrap().is_some(),
        "data survives"
    );
    store.close().await;
}

async fn rooms_round_trip(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let original = room(1, 1_700_000_000_000);
    store.create_room(&original).await.unwrap();
    assert_eq!(
        store.get_room(&original.id).await.unwrap(),
        Some(original.clone())
    );
    assert_eq!(store.get_room("AAAAAAAAAAAAAAAAAAAAAA").await.unwrap(), None);
    store.ping().await.unwrap();
    store.close().await;
}

async fn a_duplicate_room_id_is_refused(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    store.create_room(&room(1, 1)).await.unwrap();
    match store.create_room(&room(1, 2)).await {
        Err(StoreError::DuplicateRoom(id)) => assert_eq!(id, room(1, 1).id),
        other => panic!("expected a duplicate-room error, got {other:?}"),
    }
    store.close().await;
}

async fn listing_breaks_ties_by_id(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    for seed in 1..=5 {
        // Three rooms share one creation time.
        store
            .create_room(&room(seed, if seed <= 3 { 100 } else { 100 + i64::from(seed) }))
            .await
            .unwrap();
    }
    let store = store.as_ref();
    let first = list(store, None, None, 2).await;
    assert_eq!(first, vec![room(5, 0).id, room(4, 0).id]);
    let second = list(store, None, Some(&room(4, 104)), 2).await;
    assert_eq!(second, vec![room(3, 0).id, room(2, 0).id]);
    let third = list(store, None, Some(&room(2, 100)), 2).await;
    assert_eq!(third, vec![room(1, 0).id]);
    // One owner's rooms, paged the same way.
    let odd = list(store, Some("odd"), None, 2).await;
    assert_eq!(odd, vec![room(5, 0).id, room(3, 0).id]);
    assert_eq!(
        list(store, Some("odd"), Some(&room(3, 100)), 2).await,
        vec![room(1, 0).id]
    );
    assert!(list(store, Some("nobody"), None, 2).await.is_empty());
    store.close().await;
}

async fn a_room_ends_once_and_keeps_its_access_fields(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let created = room(2, 100);
    store.create_room(&created).await.unwrap();
    assert_eq!(store.get_room(&created.id).await.unwrap().unwrap(), created);
    assert!(store.end_room(&created.id, 700).await.unwrap());
    assert!(!store.end_room(&created.id, 900).await.unwrap(), "ended twice");
    assert!(
        !store.end_room(&room(9, 0).id, 900).await.unwrap(),
        "no such room"
    );
    let ended = store.get_room(&created.id).await.unwrap().unwrap();
    assert!(ended.is_ended());
    assert_eq!(
        ended,
        RoomRecord {
            ended_at: 700,
            parent_id: String::new(),
            ..created
        }
    );
    store.close().await;
}

async fn activity_only_moves_forward(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let id = room(1, 100).id;
    store.create_room(&room(1, 100)).await.unwrap();
    assert_eq!(store.touch_rooms(&[&id], 500).await.unwrap(), 1);
    assert_eq!(
        store
            .touch_rooms(&[&id, "AAAAAAAAAAAAAAAAAAAAAA"], 300)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.get_room(&id).await.unwrap().unwrap().last_active_at, 500);
    assert_eq!(
        store.touch_rooms(&["AAAAAAAAAAAAAAAAAAAAAA"], 1).await.unwrap(),
        0
    );
    store.close().await;
}

async fn the_change_log_is_ordered_and_idempotent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let id = room(1, 1).id;
    store.create_room(&room(1, 1)).await.unwrap();
    let batch: Vec<_> = (1..=50).map(|seq| change(&id, seq)).collect();
    store.append_changes(&batch[..30]).await.unwrap();
    // A retried batch overlapping what is stored is harmless.
    store.append_changes(&batch[20..]).await.unwrap();
    store.append_changes(&[]).await.unwrap();

    assert_eq!(store.changes_after(&id, 0, 1000).await.unwrap(), batch);
    assert_eq!(store.changes_after(&id, 45, 1000).await.unwrap(), batch[45..]);
    assert_eq!(store.changes_after(&id, 10, 5).await.unwrap(), batch[10..15]);
    assert!(store.changes_after(&id, 50, 10).await.unwrap().is_empty());

    let index = store.change_index(&id).await.unwrap();
    assert_eq!(index.len(), 50);
    assert_eq!(
        (index[9].seq, index[9].hash.clone(), index[9].actor_seq),
        (10, vec![10; 32], 10)
    );
    assert!(
        store
            .change_index("AAAAAAAAAAAAAAAAAAAAAA")
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await;
}

async fn the_latest_snapshot_wins(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let id = room(1, 1).id;
    store.create_room(&room(1, 1)).await.unwrap();
    assert_eq!(store.latest_snapshot(&id).await.unwrap(), None);
    store.put_snapshot(&snapshot(&id, 1000)).await.unwrap();
    store.put_snapshot(&snapshot(&id, 3000)).await.unwrap();
    store.put_snapshot(&snapshot(&id, 2000)).await.unwrap();
    assert_eq!(
        store.latest_snapshot(&id).await.unwrap(),
        Some(snapshot(&id, 3000))
    );
    store.close().await;
}

async fn deleting_a_room_deletes_what_belongs_to_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let (gone, kept) = (room(1, 1), room(2, 1));
    for r in [&gone, &kept] {
        store.create_room(r).await.unwrap();
        store
            .append_changes(&[change(&r.id, 1), change(&r.id, 2)])
            .await
            .unwrap();
        store.put_snapshot(&snapshot(&r.id, 2)).await.unwrap();
    }
    assert!(store.delete_room(&gone.id).await.unwrap());
    assert!(!store.delete_room(&gone.id).await.unwrap());
    assert!(store.changes_after(&gone.id, 0, 10).await.unwrap().is_empty());
    assert_eq!(store.latest_snapshot(&gone.id).await.unwrap(), None);
    assert_eq!(store.changes_after(&kept.id, 0, 10).await.unwrap().len(), 2);
    assert!(store.latest_snapshot(&kept.id).await.unwrap().is_some());
    store.close().await;
}

async fn expired_rooms_are_purged_with_their_logs(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let now = 1_800_000_000_000;
    // 250 expired rooms (more than one deletion batch) and two recent ones.
    for seed in 0..250u8 {
        let mut old = room(seed, now - 40 * DAY_MILLIS);
        old.id = format!("old{seed:0>19}");
        store.create_room(&old).await.unwrap();
        store.append_changes(&[change(&old.id, 1)]).await.unwrap();
        store.put_snapshot(&snapshot(&old.id, 1)).await.unwrap();
    }
    let mut recent = room(1, now - 40 * DAY_MILLIS);
    recent.id = "recentlyactive00000000".to_owned();
    store.create_room(&recent).await.unwrap();
    store.touch_rooms(&[&recent.id], now - DAY_MILLIS).await.unwrap();
    let mut fresh = room(2, now);
    fresh.id = "brandnew00000000000000".to_owned();
    store.create_room(&fresh).await.unwrap();

    let deleted = pairline::retention::purge(store.as_ref(), 30, now).await.unwrap();
    assert_eq!(deleted, 250);
    assert_eq!(
        pairline::retention::purge(store.as_ref(), 30, now).await.unwrap(),
        0
    );
    let left: Vec<_> = list(store.as_ref(), None, None, 100).await.into_iter().collect();
    assert_eq!(left, vec![fresh.id.clone(), recent.id.clone()]);
    let old_id = format!("old{:0>19}", 7);
    assert!(store.changes_after(&old_id, 0, 10).await.unwrap().is_empty());
    assert_eq!(store.latest_snapshot(&old_id).await.unwrap(), None);
    store.close().await;
}

/// A notes document for `parent`, as `rooms::notes` makes one.
fn notes_of(parent: &RoomRecord, id_seed: u8) -> RoomRecord {
    RoomRecord {
        id: format!("{:N<22}", format!("notes{id_seed}")),
        language: String::new(),
        initial_code: String::new(),
        candidate_key: String::new(),
        parent_id: parent.id.clone(),
        ..parent.clone()
    }
}

async fn a_room_has_one_notes_document_that_goes_with_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let now = 1_800_000_000_000;
    let (interview, expired) = (room(1, now), room(2, now - 40 * DAY_MILLIS));
    for r in [&interview, &expired] {
        store.create_room(r).await.unwrap();
    }
    // Concurrent first uses all get the same document.
    let attempts = (0..4).map(|seed| {
        let store = store.clone();
        let new = notes_of(&interview, seed);
        async move { store.notes_room(&new).await.unwrap() }
    });
    let made = futures::future::join_all(attempts).await;
    assert!(made.iter().all(|notes| notes == &made[0]), "{made:?}");
    assert!(made[0].is_notes() && made[0].parent_id == interview.id);
    let expired_notes = store.notes_room(&notes_of(&expired, 9)).await.unwrap();
    store
        .append_changes(&[change(&expired_notes.id, 1)])
        .await
        .unwrap();

    // Notes are never listed as rooms; they go when their room goes, however fresh.
    assert_eq!(list(store.as_ref(), None, None, 10).await.len(), 2);
    store.touch_rooms(&[&expired_notes.id], now).await.unwrap();
    assert_eq!(
        pairline::retention::purge(store.as_ref(), 30, now).await.unwrap(),
        1
    );
    assert_eq!(store.get_room(&expired_notes.id).await.unwrap(), None);
    assert!(
        store
            .changes_after(&expired_notes.id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.delete_room(&interview.id).await.unwrap());
    assert_eq!(store.get_room(&made[0].id).await.unwrap(), None);
    store.close().await;
}

async fn an_invite_is_used_once_and_only_while_open(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let admin = db
        .staff_account("admin@example.com", pairline::auth::Role::Admin)
        .await;
    let now = 1_800_000_000_000;
    let invite = |id: &str, expires_at| pairline::store::InviteRecord {
        id: id.to_owned(),
        email: format!("{id}@example.com"),
        role: "interviewer".to_owned(),
        token_hash: id.as_bytes().to_vec(),
        created_by: admin.user.id.clone(),
        created_at: now - 10,
        expires_at,
        used_at: 0,
    };
    let (open, expired, withdrawn) = (
        invite("open", now + 1),
        invite("expired", now),
        invite("gone", now + 1),
    );
    for record in [&open, &expired, &withdrawn] {
        store.create_invite(record).await.unwrap();
    }
    assert_eq!(store.invite_by_hash(b"open").await.unwrap(), Some(open.clone()));
    assert!(store.delete_invite("gone").await.unwrap());
    let listed: Vec<_> = store
        .open_invites(now)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, vec!["open"]);
    assert!(!store.use_invite("expired", now).await.unwrap(), "expired");
    assert!(store.use_invite("open", now).await.unwrap());
    assert!(!store.use_invite("open", now).await.unwrap(), "used once");
    assert_eq!(store.invite_by_hash(b"open").await.unwrap().unwrap().used_at, now);
    assert!(store.open_invites(now).await.unwrap().is_empty());
    store.close().await;
}
