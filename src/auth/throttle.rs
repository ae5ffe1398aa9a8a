//! Login throttling: after too many failed logins for one account, or from one address,
//! within a window, further attempts are refused until the window ends, before any
//! password is hashed (so a brute-force run costs the server nothing either).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed per account in [`WINDOW`].
pub const ACCOUNT_FAILURES: u32 = 5;
/// Failed logins allowed per address (an IPv6 /64 counts as one) in [`WINDOW`]: higher,
/// since an office may share one address.
pub const ADDRESS_FAILURES: u32 = 20;
/// How long failures count.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most keys remembered; beyond it the oldest are forgotten first.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

/// Counts failed logins per account and per address.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<Key, Failures>>,
}

impl LoginThrottle {
    /// `Err(wait)` if a login for `email` from `address` must be refused now; `wait` says
    /// when to try again.
    pub fn check(&self, email: &str, address: IpAddr, now: Instant) -> Result<(), Duration> {
        let failures = self.failures.lock().expect("throttle lock");
        let wait = |key: Key, limit: u32| {
            failures
                .get(&key)
                .filter(|entry| entry.count >= limit && now < entry.since + WINDOW)
                .map(|entry| entry.since + WINDOW - now)
        };
        match wait(account(email), ACCOUNT_FAILURES)
            .max(wait(Key::Address(network(address)), ADDRESS_FAILURES))
        {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Records a failed login.
    pub fn failed(&self, email: &str, address: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().expect("throttle lock");
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, entry| now < entry.since + WINDOW);
            if failures.len() >= MAX_KEYS {
                let oldest = failures.values().map(|entry| entry.since).min();
                failures.retain(|_, entry| Some(entry.since) != oldest);
            }
        }
        for key in [account(email), Key::Address(network(address))] {
            let entry = failures.entry(key).or_insert(Failures { count: 0, since: now });
            if now >= entry.since + WINDOW {
                *entry = Failures { count: 0, since: now };
            }
            entry.count += 1;
        }
    }

    /// A successful login clears its account's failures (not its address's).
    pub fn succeeded(&self, email: &str) {
        self.failures
            .lock()
            .expect("throttle lock")
            .remove(&account(email));
    }
}

fn account(email: &str) -> Key {
    Key::Account(email.trim().to_lowercase())
}

/// The address as throttled: IPv4 as is, IPv6 by its /64 (one subscriber's network).
fn network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_account_is_locked_after_its_failures_until_the_window_ends() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for n in 0..ACCOUNT_FAILURES {
            assert!(
                throttle.check("Ada@example.com", ip("10.0.0.1"), start).is_ok(),
                "attempt {n}"
            );
            throttle.failed("ada@example.com", ip(&format!("10.0.0.{}", n + 1)), start);
        }
        // Locked whatever the address and however the address is spelled.
        let wait = throttle
            .check("ADA@example.com ", ip("192.0.2.7"), start)
            .unwrap_err();
        assert_eq!(wait, WINDOW);
        assert!(throttle.check("bob@example.com", ip("10.0.0.1"), start).is_ok());
        assert!(
            throttle
                .check("ada@example.com", ip("10.0.0.1"), start + WINDOW)
                .is_ok()
        );
    }

    #[test]
    fn an_address_is_locked_after_its_failures_across_accounts() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for n in 0..ADDRESS_FAILURES {
            throttle.failed(&format!("user{n}@example.com"), ip("2001:db8::1"), now);
        }
        // The same /64 is the same address; another network is not.
        assert!(
            throttle
                .check("new@example.com", ip("2001:db8::ffff"), now)
                .is_err()
        );
        assert!(throttle.check("new@example.com", ip("2001:db9::1"), now).is_ok());
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..ACCOUNT_FAILURES {
            throttle.failed("ada@example.com", ip("10.0.0.1"), now);
        }
        throttle.succeeded("ada@example.com");
        assert!(throttle.check("ada@example.com", ip("10.0.0.2"), now).is_ok());
        for _ in ACCOUNT_FAILURES..ADDRESS_FAILURES {
            throttle.failed("bob@example.com", ip("10.0.0.1"), now);
        }
        assert!(throttle.check("ada@example.com", ip("10.0.0.1"), now).is_err());
    }
}
