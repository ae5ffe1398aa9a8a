//! Runs of code: the [`Runs`] part of the store, the same SQL on both backends.

use async_trait::async_trait;
use sqlx::{Decode, Encode, Executor, FromRow, IntoArguments, Type};

use super::sql_store::{Dialect, SqlStore};
use super::{RunRecord, StoreError};

macro_rules! run_columns {
    () => {
        "id, room_id, started_by, user_id, created_at, finished_at, heads, doc_seq, language, code, stdin, status, result"
    };
}

const INSERT_RUN: &str = concat!(
    "INSERT INTO runs (",
    run_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
);
const ROOM_RUNS: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs WHERE room_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
);
const RUN_BY_ID: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs WHERE room_id = $1 AND id = $2"
);

/// The runs of code in each room.
#[async_trait]
pub trait Runs {
    /// Stores a finished run. Fails (as a missing room) if its room was deleted meanwhile.
    async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError>;

    /// The room's newest `limit` runs, newest first.
    async fn room_runs(&self, room_id: &str, limit: u32) -> Result<Vec<RunRecord>, StoreError>;

    /// One run of a room.
    async fn get_run(&self, room_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError>;
}

#[async_trait]
impl<DB> Runs for SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'r> RunRecord: FromRow<'r, DB::Row>,
{
    async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        sqlx::query(INSERT_RUN)
            .bind(run.id.clone())
            .bind(run.room_id.clone())
            .bind(run.started_by.clone())
            .bind(run.user_id.clone())
            .bind(run.created_at)
            .bind(run.finished_at)
            .bind(run.heads.clone())
            .bind(run.doc_seq)
            .bind(run.language.clone())
            .bind(run.code.clone())
            .bind(run.stdin.clone())
            .bind(run.status.clone())
            .bind(run.result.clone())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn room_runs(&self, room_id: &str, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        Ok(sqlx::query_as(ROOM_RUNS)
            .bind(room_id.to_owned())
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?)
    }

    async fn get_run(&self, room_id: &str, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(sqlx::query_as(RUN_BY_ID)
            .bind(room_id.to_owned())
            .bind(run_id.to_owned())
            .fetch_optional(&self.reader)
            .await?)
    }
}
