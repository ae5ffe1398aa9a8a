//! The PostgreSQL backend, for production deployments.

use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPoolOptions, PgQueryResult};
use sqlx::{Pool, Postgres};

use super::sql_store::{Dialect, SqlStore};
use super::{Backend, ChangeRecord, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Appends a whole batch in one statement: one round trip however many changes.
const INSERT_CHANGES_UNNEST: &str = "INSERT INTO changes (room_id, seq, hash, actor, actor_seq, deps, bytes, received_at) \
     SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bytea[], $4::bytea[], $5::bigint[], $6::bytea[], \
     $7::bytea[], $8::bigint[]) ON CONFLICT DO NOTHING";

impl Dialect for Postgres {
    const BACKEND: Backend = Backend::Postgres;

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn append_changes<'a>(
        pool: &'a Pool<Self>,
        changes: &'a [ChangeRecord],
    ) -> BoxFuture<'a, sqlx::Result<()>> {
        let bytes =
            |field: fn(&ChangeRecord) -> &Vec<u8>| changes.iter().map(field).cloned().collect::<Vec<_>>();
        let query = sqlx::query(INSERT_CHANGES_UNNEST)
            .bind(changes.iter().map(|c| c.room_id.clone()).collect::<Vec<_>>())
            .bind(changes.iter().map(|c| c.seq).collect::<Vec<_>>())
            .bind(bytes(|c| &c.hash))
            .bind(bytes(|c| &c.actor))
            .bind(changes.iter().map(|c| c.actor_seq).collect::<Vec<_>>())
            .bind(bytes(|c| &c.deps))
            .bind(bytes(|c| &c.bytes))
            .bind(changes.iter().map(|c| c.received_at).collect::<Vec<_>>());
        Box::pin(async move { query.execute(pool).await.map(drop) })
    }
}

/// Connects to the PostgreSQL database `url` names.
pub async fn connect(url: &str, max_connections: u32) -> Result<SqlStore<Postgres>, StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?;
    Ok(SqlStore {
        writer: pool.clone(),
        reader: pool,
    })
}
