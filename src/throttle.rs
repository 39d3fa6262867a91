//! Rate limits per key (an email, a visitor's conversation, a client address), on governor's
//! keyed limiter: a burst of `n`, then one more every `60 / n` seconds.
//!
//! A limiter remembers every key it has seen until told to forget idle ones; a flood of new
//! keys (ever new emails, spoofed addresses) would grow it without bound, so past
//! [`MAX_KEYS`] keys the idle ones are forgotten on the next check. Limits are per node: with
//! several nodes behind a balancer, a client gets at most `nodes × n`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The most keys kept before idle ones are forgotten.
const MAX_KEYS: usize = 10_000;

/// The longest key kept; no email, id or address is longer, a longer one only costs memory.
const MAX_KEY_CHARS: usize = 320;

/// A keyed rate limit; `None` inside means no limit.
pub struct Throttle {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl Throttle {
    /// `n` a minute per key, in bursts of up to `n`; 0: no limit.
    pub fn per_minute(n: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(n).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
        }
    }

    /// `Ok` when one more is allowed now for `key` (and counts it), else how long until it
    /// would be.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > MAX_KEYS {
            limiter.retain_recent();
        }
        let key: String = key.chars().take(MAX_KEY_CHARS).collect();
        limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// A wait in whole seconds, rounded up, at least 1: what `Retry-After` and people are told.
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_n_then_a_wait_per_key() {
        let throttle = Throttle::per_minute(3);
        for _ in 0..3 {
            assert_eq!(throttle.check("a"), Ok(()));
        }
        let wait = throttle.check("a").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        // Another key has its own allowance.
        assert_eq!(throttle.check("b"), Ok(()));
        assert_eq!(whole_seconds(wait), wait.as_secs_f64().ceil() as u64);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(2_001)), 3);
    }

    #[test]
    fn zero_is_no_limit() {
        let throttle = Throttle::per_minute(0);
        for _ in 0..1_000 {
            assert_eq!(throttle.check("a"), Ok(()));
        }
    }

    #[test]
    fn long_keys_are_cut() {
        let throttle = Throttle::per_minute(1);
        let long = "x".repeat(10_000);
        assert_eq!(throttle.check(&long), Ok(()));
        // The same first 320 characters are the same key.
        assert!(throttle.check(&format!("{long}y")).is_err());
        assert_eq!(throttle.check(&"x".repeat(319)), Ok(()));
    }
}
