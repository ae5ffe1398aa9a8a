//! The one implementation of [`Store`] for both SQL backends. What differs between them
//! (connecting, migrations, bulk inserts) sits behind [`Dialect`]; everything else is the
//! same SQL run on a writer pool and a reader pool.

use futures::future::BoxFuture;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, QueryBuilder, Type,
};

use super::sql;
use super::{
    Backend, ChangeIndexRow, ChangeRecord, MigrationReport, Millis, RoomQuery, RoomRecord, SnapshotRecord,
    Store, StoreError,
};

/// What differs between SQLite and PostgreSQL.
pub trait Dialect: Database {
    const BACKEND: Backend;

    /// This backend's migrations, embedded in the binary.
    fn migrator() -> &'static Migrator;

    /// Rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Appends a batch of changes in one transaction, skipping those already stored.
    fn append_changes<'a>(
        pool: &'a Pool<Self>,
        changes: &'a [ChangeRecord],
    ) -> BoxFuture<'a, sqlx::Result<()>>;
}

/// An insert's outcome, with a unique-constraint violation reported as `duplicate()`.
pub(super) fn refuse_duplicate<T>(
    done: sqlx::Result<T>,
    duplicate: impl FnOnce() -> StoreError,
) -> Result<(), StoreError> {
    match done {
        Err(sqlx::Error::Database(err)) if err.is_unique_violation() => Err(duplicate()),
        other => other.map(drop).map_err(StoreError::from),
    }
}

/// A store on an SQL database: writes go through `writer`, reads through `reader` (the
/// same pool on PostgreSQL; on SQLite a single writer connection and read-only readers).
pub struct SqlStore<DB: Database> {
    pub(super) writer: Pool<DB>,
    pub(super) reader: Pool<DB>,
}

#[async_trait::async_trait]
impl<DB> Store for SqlStore<DB>
where
    DB: Dialect,
    DB::Connection: Migrate,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    for<'r> RoomRecord: FromRow<'r, DB::Row>,
    for<'r> ChangeRecord: FromRow<'r, DB::Row>,
    for<'r> SnapshotRecord: FromRow<'r, DB::Row>,
    for<'r> ChangeIndexRow: FromRow<'r, DB::Row>,
    usize: ColumnIndex<DB::Row>,
    SqlStore<DB>: super::Accounts + super::Runs,
{
    fn backend(&self) -> Backend {
        DB::BACKEND
    }

    async fn migrate(&self) -> Result<MigrationReport, StoreError> {
        let migrator = DB::migrator();
        // Before the first migration the bookkeeping table does not exist: nothing applied.
        let applied: Vec<i64> = sqlx::query_scalar(sql::APPLIED_MIGRATIONS)
            .fetch_all(&self.writer)
            .await
            .unwrap_or_default();
        migrator.run(&self.writer).await?;
        let up = || migrator.iter().filter(|m| m.migration_type.is_up_migration());
        Ok(MigrationReport {
            applied: up().filter(|m| !applied.contains(&m.version)).count(),
            known: up().count(),
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(sql::PING).execute(&self.reader).await?;
        Ok(())
    }

    async fn create_room(&self, room: &RoomRecord) -> Result<(), StoreError> {
        let done = sqlx::query(sql::INSERT_ROOM)
            .bind(room.id.clone())
            .bind(room.language.clone())
            .bind(room.title.clone())
            .bind(room.initial_code.clone())
            .bind(room.created_at)
            .bind(room.last_active_at)
            .bind(room.owner_id.clone())
            .bind(room.candidate_key.clone())
            .bind(room.ended_at)
            .bind(room.parent_id.clone())
            .execute(&self.writer)
            .await;
        refuse_duplicate(done, || StoreError::DuplicateRoom(room.id.clone()))
    }

    async fn notes_room(&self, new: &RoomRecord) -> Result<RoomRecord, StoreError> {
        let existing = || {
            sqlx::query_as(sql::GET_NOTES)
                .bind(new.parent_id.clone())
                .fetch_optional(&self.writer)
        };
        if let Some(notes) = existing().await? {
            return Ok(notes);
        }
        // A concurrent first use may win the race (the unique index on `parent_id`):
        // whoever inserted first, the one notes document is there now.
        match self.create_room(new).await {
            Ok(()) | Err(StoreError::DuplicateRoom(_)) => {}
            Err(err) => return Err(err),
        }
        existing()
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    async fn get_room(&self, id: &str) -> Result<Option<RoomRecord>, StoreError> {
        Ok(sqlx::query_as(sql::GET_ROOM)
            .bind(id.to_owned())
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn list_rooms(&self, query: &RoomQuery<'_>) -> Result<Vec<RoomRecord>, StoreError> {
        let owner = query.owner_id.unwrap_or_default().to_owned();
        let limit = i64::from(query.limit);
        let query = match query.after {
            None => sqlx::query_as(sql::LIST_ROOMS_FIRST).bind(owner).bind(limit),
            Some(cursor) => sqlx::query_as(sql::LIST_ROOMS_AFTER)
                .bind(owner)
                .bind(cursor.created_at)
                .bind(cursor.id.clone())
                .bind(limit),
        };
        Ok(query.fetch_all(&self.reader).await?)
    }

    async fn delete_room(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::DELETE_ROOM)
            .bind(id.to_owned())
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) > 0)
    }

    async fn end_room(&self, id: &str, at: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::END_ROOM)
            .bind(id.to_owned())
            .bind(at)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) > 0)
    }

    async fn touch_rooms(&self, ids: &[&str], at: Millis) -> Result<u64, StoreError> {
        let mut touched = 0;
        for chunk in ids.chunks(sql::TOUCH_BATCH) {
            let mut update = QueryBuilder::<DB>::new(sql::TOUCH_ROOMS);
            update
                .push_bind(at)
                .push(" THEN last_active_at ELSE ")
                .push_bind(at);
            update.push(" END WHERE id IN (");
            let mut list = update.separated(", ");
            for id in chunk {
                list.push_bind(id.to_string());
            }
            update.push(")");
            touched += DB::rows_affected(&update.build().execute(&self.writer).await?);
        }
        Ok(touched)
    }

    async fn delete_rooms_inactive_before(&self, cutoff: Millis) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            let done = sqlx::query(sql::DELETE_INACTIVE_ROOMS)
                .bind(cutoff)
                .bind(sql::DELETE_BATCH)
                .execute(&self.writer)
                .await?;
            let batch = DB::rows_affected(&done);
            deleted += batch;
            if batch < sql::DELETE_BATCH as u64 {
                break;
            }
        }
        // The notes documents of the rooms that went (not counted: they are not rooms).
        loop {
            let done = sqlx::query(sql::DELETE_ORPHAN_NOTES)
                .bind(sql::DELETE_BATCH)
                .execute(&self.writer)
                .await?;
            if DB::rows_affected(&done) < sql::DELETE_BATCH as u64 {
                return Ok(deleted);
            }
        }
    }

    async fn append_changes(&self, changes: &[ChangeRecord]) -> Result<(), StoreError> {
        if !changes.is_empty() {
            DB::append_changes(&self.writer, changes).await?;
        }
        Ok(())
    }

    async fn changes_after(
        &self,
        room_id: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        Ok(sqlx::query_as(sql::CHANGES_AFTER)
            .bind(room_id.to_owned())
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?)
    }

    async fn change_index(&self, room_id: &str) -> Result<Vec<ChangeIndexRow>, StoreError> {
        Ok(sqlx::query_as(sql::CHANGE_INDEX)
            .bind(room_id.to_owned())
            .fetch_all(&self.reader)
            .await?)
    }

    async fn put_snapshot(&self, snapshot: &SnapshotRecord) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_SNAPSHOT)
            .bind(snapshot.room_id.clone())
            .bind(snapshot.covers_seq)
            .bind(snapshot.bytes.clone())
            .bind(snapshot.created_at)
            .bind(snapshot.code.clone())
            .bind(snapshot.language.clone())
            .bind(snapshot.title.clone())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn latest_snapshot(&self, room_id: &str) -> Result<Option<SnapshotRecord>, StoreError> {
        Ok(sqlx::query_as(sql::LATEST_SNAPSHOT)
            .bind(room_id.to_owned())
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}
