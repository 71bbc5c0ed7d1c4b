//! The client-side rate limiter behind [`RateLimit`]: the generic cell rate algorithm (GCRA,
//! "virtual scheduling") on tokio's clock, shared by every clone of a client, at a fixed rate or
//! at one that adapts to ASAPP's 429s.
//!
//! GCRA keeps one instant, the theoretical arrival time of the next request: a request may go
//! when that time is no further ahead of now than the burst allows, and moves it on by the
//! interval between requests. Changing the rate only changes the interval, so the adaptive limit
//! lives in the same few lines (governor's limiter, used before, cannot change its quota).
//!
//! The adaptive limit is additive increase, multiplicative decrease, as TCP's congestion control
//! is: a 429 halves the rate, down to one request per second, unless its request left before the
//! last decrease (requests already in flight then answer for the old rate: one overload, one
//! decrease); every second without a 429 adds a fiftieth of the configured rate, up to it. Against a service that allows less than configured, the rate settles in a band below what
//! it allows; against one that allows as much, it stays at the configured rate.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::RateLimit;

/// The lowest rate an adaptive limit goes down to, in requests per second.
const FLOOR: f64 = 1.0;
/// What an adaptive limit keeps of its rate on a 429.
const DECREASE: f64 = 0.5;
/// What an adaptive limit adds per second without a 429, as a part of the configured rate.
const INCREASE: f64 = 1.0 / 50.0;

/// A rate limiter; see the module's documentation.
#[derive(Debug)]
pub(crate) struct Limiter {
    /// The configured rate, the most an adaptive one reaches.
    max_rate: f64,
    burst: f64,
    adaptive: bool,
    origin: Instant,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Requests per second now.
    rate: f64,
    /// The theoretical arrival time of the next request, since `origin`.
    next: Duration,
    /// The last decrease, and the last increase, since `origin`.
    decreased: Option<Duration>,
    increased: Duration,
}

/// Waiting for the limiter would go past the deadline, after waiting this long already.
#[derive(Debug)]
pub(crate) struct PastDeadline(pub(crate) Duration);

impl Limiter {
    /// The limiter for `limit`; `None` for a rate or burst of 0 (no limit).
    pub(crate) fn new(limit: RateLimit) -> Option<Self> {
        let rate = f64::from(limit.requests_per_second());
        let burst = f64::from(limit.burst());
        if rate == 0.0 || burst == 0.0 {
            return None;
        }
        Some(Self {
            max_rate: rate,
            burst,
            adaptive: limit.is_adaptive(),
            origin: Instant::now(),
            state: Mutex::new(State {
                rate,
                next: Duration::ZERO,
                decreased: None,
                increased: Duration::ZERO,
            }),
        })
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Lets a request go now, or says how long until one may.
    fn check(&self) -> Result<(), Duration> {
        let now = self.now();
        let mut state = self.state();
        let interval = Duration::from_secs_f64(1.0 / state.rate);
        // The burst shrinks with an adaptive rate, so that a lowered limit is not spent at once.
        let burst = (self.burst * state.rate / self.max_rate).max(1.0);
        let tolerance = interval.mul_f64(burst - 1.0);
        let earliest = state.next.saturating_sub(tolerance);
        if earliest > now {
            return Err(earliest - now);
        }
        state.next = state.next.max(now) + interval;
        Ok(())
    }

    /// Waits until a request may go, unless that would pass `deadline`; says how long it waited.
    /// The clock is read only when there is a wait.
    pub(crate) async fn wait(&self, deadline: Option<Instant>) -> Result<Duration, PastDeadline> {
        let mut began = None;
        loop {
            let Err(wait) = self.check() else {
                return Ok(began.map_or(Duration::ZERO, |b: Instant| b.elapsed()));
            };
            let now = Instant::now();
            let began = *began.get_or_insert(now);
            if deadline.is_some_and(|d| now + wait > d) {
                return Err(PastDeadline(now - began));
            }
            tracing::debug!(
                asapp.wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX),
                "waiting for the rate limiter"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// ASAPP answered 429 to a request sent at `sent`: an adaptive limit halves its rate,
    /// unless the request left before the last decrease.
    pub(crate) fn rate_limited(&self, sent: Instant) {
        if !self.adaptive {
            return;
        }
        let now = self.now();
        let sent = sent.saturating_duration_since(self.origin);
        let mut state = self.state();
        if state.decreased.is_some_and(|at| sent <= at) {
            return;
        }
        state.rate = (state.rate * DECREASE).max(FLOOR.min(self.max_rate));
        state.decreased = Some(now);
        state.increased = now;
        tracing::debug!(
            asapp.rate_limit = state.rate,
            "lowering the rate limit after a 429"
        );
    }

    /// ASAPP answered with another status: an adaptive limit raises its rate by what the time
    /// since the last raise earns.
    pub(crate) fn answered(&self) {
        if !self.adaptive {
            return;
        }
        let now = self.now();
        let mut state = self.state();
        if state.rate >= self.max_rate {
            state.increased = now;
            return;
        }
        let earned = now.saturating_sub(state.increased).as_secs_f64() * INCREASE * self.max_rate;
        state.rate = (state.rate + earned).min(self.max_rate);
        state.increased = now;
    }

    /// The rate now, in requests per second.
    pub(crate) fn rate(&self) -> f64 {
        self.state().rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_fixed_limit_keeps_its_rate_over_many_waits() {
        let limiter = std::sync::Arc::new(Limiter::new(RateLimit::per_second(100)).unwrap());
        let started = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    for _ in 0..100 {
                        assert!(limiter.wait(None).await.is_ok());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        // 800 requests at 100 per second with a burst of 100: 7 seconds.
        let elapsed = started.elapsed();
        assert!(
            (Duration::from_millis(6_900)..=Duration::from_millis(7_100)).contains(&elapsed),
            "{elapsed:?}"
        );
        limiter.rate_limited(Instant::now());
        assert_eq!(limiter.rate(), 100.0, "a fixed limit does not adapt");
    }

    #[tokio::test(start_paused = true)]
    async fn an_adaptive_limit_settles_below_what_the_service_allows() {
        // A service that answers 429 past 10 requests in any second, against a limit of 100.
        let limiter = Limiter::new(RateLimit::per_second(100).adaptive()).unwrap();
        let mut accepted: std::collections::VecDeque<Instant> = Default::default();
        let started = Instant::now();
        let mut refused = 0;
        let mut served = 0;
        while started.elapsed() < Duration::from_secs(120) {
            limiter.wait(None).await.unwrap();
            let now = Instant::now();
            while accepted
                .front()
                .is_some_and(|t| now - *t >= Duration::from_secs(1))
            {
                accepted.pop_front();
            }
            if accepted.len() < 10 {
                accepted.push_back(now);
                served += 1;
                limiter.answered();
            } else {
                refused += 1;
                limiter.rate_limited(now);
            }
        }
        let rate = limiter.rate();
        assert!((2.0..=12.0).contains(&rate), "settled at {rate}");
        // Most requests go through: the limit comes down instead of collecting 429s.
        assert!(refused * 10 < served, "{refused} refused, {served} served");
        assert!(served > 120 * 5, "{served} served in 120 s");
    }

    #[tokio::test(start_paused = true)]
    async fn an_adaptive_limit_climbs_back_and_stops_at_its_rate() {
        let limiter = Limiter::new(RateLimit::per_second(100).adaptive()).unwrap();
        let sent = Instant::now();
        tokio::time::advance(Duration::from_millis(10)).await;
        limiter.rate_limited(sent);
        limiter.rate_limited(sent);
        assert_eq!(
            limiter.rate(),
            50.0,
            "requests in flight at a decrease answer for the old rate"
        );
        tokio::time::advance(Duration::from_secs(10)).await;
        limiter.answered();
        assert_eq!(limiter.rate(), 70.0, "2 per second for every second");
        tokio::time::advance(Duration::from_secs(60)).await;
        limiter.answered();
        assert_eq!(limiter.rate(), 100.0);
        for _ in 0..20 {
            tokio::time::advance(Duration::from_millis(10)).await;
            limiter.rate_limited(Instant::now());
        }
        assert_eq!(limiter.rate(), 1.0, "never below one request a second");
    }
}
