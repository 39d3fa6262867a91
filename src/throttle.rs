//! Rate limits per key (an email, a visitor's conversation, a client address), on governor's
//! keyed limiter: a burst of `n`, then one more every `60 / n` seconds; and a limit on failures
//! alone (wrong passwords), over the last minute.
//!
//! A limiter remembers every key it has seen until told to forget idle ones; a flood of new
//! keys (ever new emails, spoofed addresses) would grow it without bound, so past
//! [`MAX_KEYS`] keys the idle ones are forgotten on the next check. Limits are per node: with
//! several nodes behind a balancer, a client gets at most `nodes × n`.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

    /// One per `period` per key, no bursts; a zero period: no limit.
    pub fn every(period: Duration) -> Self {
        Self {
            limiter: Quota::with_period(period).map(RateLimiter::keyed),
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
        limiter
            .check_key(&cut(key))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// A limit on *failures* per key: `n` in any minute. Once a key has failed `n` times in the
/// last minute, every attempt is refused — a right password too, so guessing learns nothing —
/// until the oldest of those failures is a minute old. Successes cost nothing, so a client that
/// logs in often with the right password is never held up. An attempt counts as a failure from
/// the moment it is let through until it is known to have succeeded, so many attempts sent at
/// once are held to `n` as well.
pub struct FailureLimit {
    n: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl FailureLimit {
    /// `n` failures a minute per key; 0: no limit.
    pub fn per_minute(n: u32) -> Self {
        Self {
            n: n as usize,
            failures: Mutex::default(),
        }
    }

    /// `Ok` when an attempt for `key` may be made now — it counts as a failure until
    /// [`FailureLimit::succeeded`] — else how long until one may.
    pub fn attempt(&self, key: &str) -> Result<(), Duration> {
        self.attempt_at(key, Instant::now())
    }

    /// The attempt let through for `key` succeeded: it does not count.
    pub fn succeeded(&self, key: &str) {
        if let Some(times) = self.lock().get_mut(cut(key).as_str()) {
            times.pop_back();
        }
    }

    fn attempt_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.n == 0 {
            return Ok(());
        }
        let mut failures = self.lock();
        if failures.len() > MAX_KEYS {
            failures.retain(|_, times| {
                forget_before(times, now);
                !times.is_empty()
            });
        }
        let times = failures.entry(cut(key)).or_default();
        forget_before(times, now);
        match times.front() {
            Some(oldest) if times.len() >= self.n => Err(*oldest + WINDOW - now),
            _ => {
                times.push_back(now);
                Ok(())
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // A poisoned map is still a map of failures.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Drops the failures that are a minute old or more.
fn forget_before(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

fn cut(key: &str) -> String {
    key.chars().take(MAX_KEY_CHARS).collect()
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
    fn only_failures_count_and_past_n_every_attempt_waits_for_the_oldest_to_age() {
        let limit = FailureLimit::per_minute(3);
        let start = Instant::now();
        // Successes are never counted: any number of attempts that succeed pass.
        for _ in 0..100 {
            assert_eq!(limit.attempt_at("a", start), Ok(()));
            limit.succeeded("a");
        }
        let second = Duration::from_secs(1);
        for i in 0..3 {
            assert_eq!(limit.attempt_at("a", start + i * second), Ok(()));
        }
        // Three failures in the minute: refused until the first is a minute old.
        let now = start + 10 * second;
        assert_eq!(limit.attempt_at("a", now), Err(50 * second));
        assert_eq!(limit.attempt_at("b", now), Ok(()), "another key is free");
        // One more then fills the window again, until the second one ages.
        assert_eq!(limit.attempt_at("a", start + 60 * second), Ok(()));
        assert_eq!(limit.attempt_at("a", start + 60 * second), Err(second));
        assert_eq!(limit.attempt_at("a", start + 61 * second), Ok(()));
        // Attempts still being checked count: three at once use up the minute.
        let burst = start + 200 * second;
        for _ in 0..3 {
            assert_eq!(limit.attempt_at("c", burst), Ok(()));
        }
        assert!(limit.attempt_at("c", burst).is_err());
        // 0 is no limit.
        let none = FailureLimit::per_minute(0);
        for _ in 0..10 {
            assert_eq!(none.attempt_at("a", start), Ok(()));
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
