//! The SQLite backend: the embedded default. A single-connection writer pool serialises
//! writes (SQLite allows one writer) while a reader pool serves queries concurrently;
//! WAL mode with `synchronous = FULL` makes every committed transaction durable.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{Backend, Millis};
use super::{
    ChangeRecord, MigrationReport, RoomCursor, RoomRecord, SnapshotRecord, Store, StoreError, count_new,
    known_migrations, sql,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// Pairline's store on an SQLite file.
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file `url` names, and its directory.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(dir) = options
            .get_filename()
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> Result<MigrationReport, StoreError> {
        let applied: Vec<i64> = sqlx::query_scalar(sql::APPLIED_MIGRATIONS)
            .fetch_all(&self.writer)
            .await
            .unwrap_or_default();
        MIGRATOR.run(&self.writer).await?;
        Ok(MigrationReport {
            applied: count_new(&MIGRATOR, &applied),
            known: known_migrations(&MIGRATOR),
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(sql::PING).execute(&self.reader).await?;
        Ok(())
    }

    async fn create_room(&self, room: &RoomRecord) -> Result<(), StoreError> {
        sql::Bound::<Sqlite>::insert_room(room)
            .execute(&self.writer)
            .await
            .map_err(|err| super::duplicate_room_or(err, &room.id))?;
        Ok(())
    }

    async fn get_room(&self, id: &str) -> Result<Option<RoomRecord>, StoreError> {
        Ok(sqlx::query_as(sql::GET_ROOM)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn list_rooms(
        &self,
        after: Option<&RoomCursor>,
        limit: u32,
    ) -> Result<Vec<RoomRecord>, StoreError> {
        Ok(sql::Bound::<Sqlite>::list_rooms(after, limit)
            .fetch_all(&self.reader)
            .await?)
    }

    async fn delete_room(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::DELETE_ROOM)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn touch_room(&self, id: &str, at: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::TOUCH_ROOM)
            .bind(id)
            .bind(at)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_rooms_inactive_before(&self, cutoff: Millis) -> Result<u64, StoreError> {
        super::delete_in_batches(|| async {
            let done = sql::Bound::<Sqlite>::delete_inactive_batch(cutoff)
                .execute(&self.writer)
                .await?;
            Ok(done.rows_affected())
        })
        .await
    }

    async fn append_changes(&self, changes: &[ChangeRecord]) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        for change in changes {
            sql::Bound::<Sqlite>::insert_change(change)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn changes_after(
        &self,
        room_id: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        Ok(sqlx::query_as(sql::CHANGES_AFTER)
            .bind(room_id)
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?)
    }

    async fn put_snapshot(&self, snapshot: &SnapshotRecord) -> Result<(), StoreError> {
        sql::Bound::<Sqlite>::insert_snapshot(snapshot)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn latest_snapshot(&self, room_id: &str) -> Result<Option<SnapshotRecord>, StoreError> {
        Ok(sqlx::query_as(sql::LATEST_SNAPSHOT)
            .bind(room_id)
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}
