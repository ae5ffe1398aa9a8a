//! The SQLite backend: the embedded default. A single-connection writer pool serialises
//! writes (SQLite allows one writer) while read-only connections serve queries in
//! parallel; WAL mode with `synchronous = FULL` makes every committed transaction durable.

use std::str::FromStr;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult, SqliteSynchronous,
};
use sqlx::{Pool, QueryBuilder, Sqlite};

use super::sql_store::{Dialect, SqlStore};
use super::{Backend, ChangeRecord, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// Changes written by one INSERT statement.
const ROWS_PER_INSERT: usize = 500;

impl Dialect for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn append_changes<'a>(
        pool: &'a Pool<Self>,
        changes: &'a [ChangeRecord],
    ) -> BoxFuture<'a, sqlx::Result<()>> {
        Box::pin(async move {
            let mut tx = pool.begin().await?;
            // Many rows per statement: far fewer round trips through SQLite's VM than one
            // INSERT per change (8 parameters a row, well under SQLite's limit).
            for chunk in changes.chunks(ROWS_PER_INSERT) {
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO changes (room_id, seq, hash, actor, actor_seq, deps, bytes, received_at) ",
                );
                insert.push_values(chunk, |mut row, change| {
                    row.push_bind(&change.room_id)
                        .push_bind(change.seq)
                        .push_bind(&change.hash)
                        .push_bind(&change.actor)
                        .push_bind(change.actor_seq)
                        .push_bind(&change.deps)
                        .push_bind(&change.bytes)
                        .push_bind(change.received_at);
                });
                insert.push(" ON CONFLICT DO NOTHING");
                insert.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        })
    }
}

/// Opens (creating if needed) the SQLite file `url` names, and its directory.
pub async fn connect(url: &str, max_connections: u32) -> Result<SqlStore<Sqlite>, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let dir = options
        .get_filename()
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty());
    if let Some(dir) = dir {
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
    Ok(SqlStore { writer, reader })
}
