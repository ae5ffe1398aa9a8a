//! The PostgreSQL backend, for production deployments.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Postgres;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::{Backend, Millis};
use super::{
    ChangeRecord, MigrationReport, RoomCursor, RoomRecord, SnapshotRecord, Store, StoreError, count_new,
    known_migrations, sql,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Appends a whole batch in one statement: one round trip however many changes.
const INSERT_CHANGES_UNNEST: &str = "INSERT INTO changes (room_id, seq, hash, actor, deps, bytes, received_at) \
     SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[], $7::bigint[]) \
     ON CONFLICT DO NOTHING";

/// Pairline's store on a PostgreSQL database.
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database `url` names.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> Result<MigrationReport, StoreError> {
        let applied: Vec<i64> = sqlx::query_scalar(sql::APPLIED_MIGRATIONS)
            .fetch_all(&self.pool)
            .await
            .unwrap_or_default();
        MIGRATOR.run(&self.pool).await?;
        Ok(MigrationReport {
            applied: count_new(&MIGRATOR, &applied),
            known: known_migrations(&MIGRATOR),
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(sql::PING).execute(&self.pool).await?;
        Ok(())
    }

    async fn create_room(&self, room: &RoomRecord) -> Result<(), StoreError> {
        sql::Bound::<Postgres>::insert_room(room)
            .execute(&self.pool)
            .await
            .map_err(|err| super::duplicate_room_or(err, &room.id))?;
        Ok(())
    }

    async fn get_room(&self, id: &str) -> Result<Option<RoomRecord>, StoreError> {
        Ok(sqlx::query_as(sql::GET_ROOM)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn list_rooms(
        &self,
        after: Option<&RoomCursor>,
        limit: u32,
    ) -> Result<Vec<RoomRecord>, StoreError> {
        Ok(sql::Bound::<Postgres>::list_rooms(after, limit)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn delete_room(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::DELETE_ROOM).bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn touch_room(&self, id: &str, at: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::TOUCH_ROOM)
            .bind(id)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_rooms_inactive_before(&self, cutoff: Millis) -> Result<u64, StoreError> {
        super::delete_in_batches(|| async {
            let done = sql::Bound::<Postgres>::delete_inactive_batch(cutoff)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected())
        })
        .await
    }

    async fn append_changes(&self, changes: &[ChangeRecord]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let column = |get: fn(&ChangeRecord) -> Vec<u8>| changes.iter().map(get).collect::<Vec<_>>();
        sqlx::query(INSERT_CHANGES_UNNEST)
            .bind(changes.iter().map(|c| c.room_id.clone()).collect::<Vec<_>>())
            .bind(changes.iter().map(|c| c.seq).collect::<Vec<_>>())
            .bind(column(|c| c.hash.clone()))
            .bind(column(|c| c.actor.clone()))
            .bind(column(|c| c.deps.clone()))
            .bind(column(|c| c.bytes.clone()))
            .bind(changes.iter().map(|c| c.received_at).collect::<Vec<_>>())
            .execute(&self.pool)
            .await?;
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
            .fetch_all(&self.pool)
            .await?)
    }

    async fn put_snapshot(&self, snapshot: &SnapshotRecord) -> Result<(), StoreError> {
        sql::Bound::<Postgres>::insert_snapshot(snapshot)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn latest_snapshot(&self, room_id: &str) -> Result<Option<SnapshotRecord>, StoreError> {
        Ok(sqlx::query_as(sql::LATEST_SNAPSHOT)
            .bind(room_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
