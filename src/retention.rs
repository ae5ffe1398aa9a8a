//! The retention job: deletes rooms whose last activity is older than the configured
//! number of days, with everything that belongs to them.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::clock::{DAY_MILLIS, Millis, now_millis};
use crate::store::{Store, StoreError};

/// Deletes every room inactive for more than `days` days as of `now`; returns how many.
pub async fn purge(store: &dyn Store, days: u32, now: Millis) -> Result<u64, StoreError> {
    let cutoff = now - Millis::from(days) * DAY_MILLIS;
    store.delete_rooms_inactive_before(cutoff).await
}

/// Starts the job: a sweep at once and then every `interval`, until `stop` is
/// cancelled. With `days == 0` rooms are kept forever and no job runs.
pub fn spawn(
    store: Arc<dyn Store>,
    days: u32,
    interval: Duration,
    stop: CancellationToken,
) -> Option<JoinHandle<()>> {
    if days == 0 {
        tracing::info!("retention is off (retention_days = 0): rooms are kept forever");
        return None;
    }
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            match purge(store.as_ref(), days, now_millis()).await {
                Ok(0) => tracing::debug!("retention sweep: nothing expired"),
                Ok(deleted) => tracing::info!(deleted, days, "retention sweep deleted expired rooms"),
                Err(err) => {
                    tracing::warn!(error = %err, "retention sweep failed; will retry at the next interval")
                }
            }
        }
    }))
}
