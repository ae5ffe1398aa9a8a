//! Password hashing with argon2id, always off the async threads, and never on every core
//! at once.

use std::sync::LazyLock;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

/// Memory per hash, in KiB. With [`TIME_COST`] these aim at 50-100 ms per hash on the
/// 2-core machines the figures in docs/benchmarks.md come from.
pub const MEMORY_KIB: u32 = 32 * 1024;
/// Passes over that memory.
pub const TIME_COST: u32 = 3;
/// Lanes (one: concurrent logins already use every core).
pub const PARALLELISM: u32 = 1;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted: argon2 takes any length, but a megabyte "password" is an
/// attack, not a secret.
pub const MAX_PASSWORD_CHARS: usize = 200;

/// A hash of a password nobody knows: checking a login for an unknown address against it
/// takes as long as for a real account, so timing does not tell which addresses exist.
static DECOY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now(&crate::ids::random_url_token(32)).expect("hashing a random password"));

/// Hashes computed at once: every core but one (at least one). A burst of logins then
/// queues for its turn instead of taking every core from the pages and the rooms (twenty
/// concurrent logins stalled page loads by 150 ms on 2 cores before this limit).
static HASH_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Semaphore::new(cores.saturating_sub(1).max(1))
});

/// Runs a hash computation on the blocking pool once a slot is free.
async fn in_hash_slot<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _slot = HASH_SLOTS.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, TIME_COST, PARALLELISM, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why a new password is not acceptable, in words for the person choosing it.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "Choose a password of at least {MIN_PASSWORD_CHARS} characters."
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "Choose a password of at most {MAX_PASSWORD_CHARS} characters."
        ));
    }
    Ok(())
}

/// The argon2id hash of `password` in PHC string form, computed on the blocking pool.
pub async fn hash(password: String) -> Result<String, String> {
    in_hash_slot(move || hash_now(&password))
        .await
        .unwrap_or_else(|| Err("hashing the password failed".to_owned()))
}

/// Whether `password` matches `stored` (a PHC string), computed on the blocking pool.
/// `None` checks against a decoy and answers false, taking as long as a real check.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    in_hash_slot(move || match stored {
        Some(stored) => verify_now(&password, &stored),
        None => {
            verify_now(&password, &DECOY_HASH);
            false
        }
    })
    .await
    .unwrap_or(false)
}

fn hash_now(password: &str) -> Result<String, String> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| format!("cannot hash the password: {err}"))
}

fn verify_now(password: &str, stored: &str) -> bool {
    // The stored string names its own parameters, so hashes made with older settings
    // still verify.
    hasher().verify_password(password.as_bytes(), stored).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=32768,t=3,p=1$"), "{stored}");
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await);
        assert!(!verify("correct horse batterY".into(), Some(stored.clone())).await);
        assert!(!verify("correct horse battery".into(), None).await);
        assert!(!verify("anything".into(), Some("not a hash".into())).await);
        let again = hash("correct horse battery".into()).await.unwrap();
        assert_ne!(stored, again, "each hash has its own salt");
    }

    #[test]
    fn short_and_huge_passwords_are_refused_in_words() {
        assert!(check_new_password("short").unwrap_err().contains("at least 10"));
        assert!(
            check_new_password(&"x".repeat(201))
                .unwrap_err()
                .contains("at most 200")
        );
        assert!(check_new_password("long enough pass").is_ok());
    }
}
