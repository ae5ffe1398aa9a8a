//! The one-time set-up link: a server started with no accounts prints a link to its log
//! that creates the first admin. It works once, and not at all once any account exists.

use std::sync::Mutex;

use super::tokens;
use crate::app::Links;
use crate::store::{Store, StoreError};

/// The secret of the set-up link, while it is on offer (only its hash is kept).
#[derive(Debug, Default)]
pub struct SetupLink {
    token_hash: Mutex<Option<Vec<u8>>>,
}

impl SetupLink {
    /// If the store has no accounts, makes a link and logs it.
    pub async fn offer(store: &dyn Store, links: &Links) -> Result<Self, StoreError> {
        let link = Self::default();
        if store.count_users().await? == 0 {
            let token = tokens::new_token();
            *link.token_hash.lock().expect("setup lock") = Some(tokens::token_hash(&token));
            tracing::warn!(
                "no accounts yet: open {} to create the first admin (the link works once; \
                 `pairline user add` works too)",
                links.setup_page(&token)
            );
        }
        Ok(link)
    }

    /// Whether `token` is the link's secret and the link is still on offer.
    pub fn matches(&self, token: &str) -> bool {
        offered_as(&self.token_hash.lock().expect("setup lock"), token)
    }

    /// Takes the link off offer if `token` is its secret; true if it was.
    pub fn take(&self, token: &str) -> bool {
        let mut offered = self.token_hash.lock().expect("setup lock");
        let matches = offered_as(&offered, token);
        if matches {
            *offered = None;
        }
        matches
    }

    /// Takes the link off offer whatever its secret (an account was made another way).
    pub fn withdraw(&self) {
        *self.token_hash.lock().expect("setup lock") = None;
    }
}

fn offered_as(offered: &Option<Vec<u8>>, token: &str) -> bool {
    offered
        .as_deref()
        .is_some_and(|hash| tokens::constant_time_eq(hash, &tokens::token_hash(token)))
}
