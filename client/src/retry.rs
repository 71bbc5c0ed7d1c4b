//! When a failed request is sent again, and how long the client waits first.
//!
//! The default is the schedule of ASAPP's "API Rate Limits and Retry Logic": after a 429, wait
//! 1 s, 2 s, then 4 s; after a 5xx or a connection failure, wait 250 ms, 500 ms, then 1 s; never
//! retry any other 4xx. A `Retry-After` header replaces the scheduled wait, up to a maximum.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// When and how often a failed request is sent again.
///
/// Retries are counted across the whole call: the *n*-th retry waits the *n*-th entry of the
/// schedule for the failure that caused it (a 429 or a transient failure), and there is no
/// *n*-th retry when that schedule has no *n*-th entry. With ASAPP's schedules of three waits
/// each, a call makes at most four attempts.
///
/// ```
/// use std::time::Duration;
/// use asapp_conversations::RetryPolicy;
///
/// let asapp = RetryPolicy::default();
/// assert_eq!(asapp.max_attempts(), 4);
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
///
/// let patient = RetryPolicy::custom(
///     [Duration::from_secs(2), Duration::from_secs(8)],
///     [Duration::from_millis(100)],
/// )
/// .with_max_retry_after(Duration::from_secs(10));
/// assert_eq!(patient.max_attempts(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    rate_limited: Vec<Duration>,
    transient: Vec<Duration>,
    max_retry_after: Duration,
    /// After a 429, keep retrying on the schedule's last wait until the deadline.
    rate_limited_until_deadline: bool,
}

impl Default for RetryPolicy {
    /// ASAPP's schedule: [`RetryPolicy::asapp`].
    fn default() -> Self {
        Self::asapp()
    }
}

/// The longest `Retry-After` the default policies honour.
const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

impl RetryPolicy {
    /// ASAPP's prescribed schedule: 1 s, 2 s, 4 s after a 429; 250 ms, 500 ms, 1 s after a 5xx
    /// or a connection failure; `Retry-After` honoured up to 30 s.
    pub fn asapp() -> Self {
        Self {
            rate_limited: [1, 2, 4].map(Duration::from_secs).to_vec(),
            transient: [250, 500, 1000].map(Duration::from_millis).to_vec(),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            rate_limited_until_deadline: false,
        }
    }

    /// Never retry: every call makes exactly one attempt.
    pub fn none() -> Self {
        Self {
            rate_limited: Vec::new(),
            transient: Vec::new(),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            rate_limited_until_deadline: false,
        }
    }

    /// Custom schedules: the waits before successive retries after a 429 (`rate_limited`) and
    /// after a 5xx or a connection failure (`transient`).
    pub fn custom(
        rate_limited: impl IntoIterator<Item = Duration>,
        transient: impl IntoIterator<Item = Duration>,
    ) -> Self {
        Self {
            rate_limited: rate_limited.into_iter().collect(),
            transient: transient.into_iter().collect(),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            rate_limited_until_deadline: false,
        }
    }

    /// Caps the wait a server's `Retry-After` header can ask for (a longer one waits this long).
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Keeps retrying 429s once their schedule is spent, each time after its last wait (or what
    /// `Retry-After` asks), for as long as the call's deadline allows: for a client whose
    /// [`RateLimit`](crate::RateLimit) adapts, a 429 means "slower", not "failed". A policy
    /// without waits for 429s does not retry them at all.
    ///
    /// ```
    /// use std::time::Duration;
    /// use asapp_conversations::RetryPolicy;
    ///
    /// let patient = RetryPolicy::asapp().with_rate_limited_retries_until_deadline();
    /// assert_eq!(patient.max_attempts(), u32::MAX);
    /// ```
    pub fn with_rate_limited_retries_until_deadline(mut self) -> Self {
        self.rate_limited_until_deadline = true;
        self
    }

    /// Whether 429s are retried until the deadline
    /// ([`RetryPolicy::with_rate_limited_retries_until_deadline`]).
    pub fn retries_rate_limited_until_deadline(&self) -> bool {
        self.rate_limited_until_deadline && !self.rate_limited.is_empty()
    }

    /// The waits before successive retries after a 429.
    pub fn rate_limited_waits(&self) -> &[Duration] {
        &self.rate_limited
    }

    /// The waits before successive retries after a 5xx or a connection failure.
    pub fn transient_waits(&self) -> &[Duration] {
        &self.transient
    }

    /// The longest `Retry-After` that is honoured as given.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The most attempts one call can make (`u32::MAX` when 429s are retried until the deadline).
    pub fn max_attempts(&self) -> u32 {
        if self.retries_rate_limited_until_deadline() {
            return u32::MAX;
        }
        let retries = self.rate_limited.len().max(self.transient.len());
        u32::try_from(retries).map_or(u32::MAX, |r| r.saturating_add(1))
    }

    /// The wait before the next retry after `failure`, given the retries made so far, or `None`
    /// to give up. `retry_after` is the server's own request, if it made one.
    ///
    /// Retries are counted across the call (a 429 then a 503 wait the first then the second entry
    /// of their schedules), except that a policy retrying 429s until the deadline counts each kind
    /// on its own: a long run of 429s leaves the schedule for a 5xx whole. Once the 429 schedule is
    /// spent, such a policy waits its last entry, or longer if `Retry-After` asks.
    pub(crate) fn wait(
        &self,
        failure: Retryable,
        retries: Retries,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let until_deadline = self.retries_rate_limited_until_deadline();
        let (schedule, made) = match (failure, until_deadline) {
            (Retryable::RateLimited, false) => (&self.rate_limited, retries.total()),
            (Retryable::Transient, false) => (&self.transient, retries.total()),
            (Retryable::RateLimited, true) => (&self.rate_limited, retries.rate_limited),
            (Retryable::Transient, true) => (&self.transient, retries.transient),
        };
        let asked = retry_after.map(|asked| asked.min(self.max_retry_after));
        match schedule.get(usize::try_from(made).ok()?) {
            Some(scheduled) => Some(asked.unwrap_or(*scheduled)),
            None if failure == Retryable::RateLimited && until_deadline => {
                // Never faster than the schedule's last wait: a `Retry-After: 0` would spin.
                let last = *schedule.last()?;
                Some(asked.map_or(last, |asked| asked.max(last)))
            }
            None => None,
        }
    }
}

/// The retries a call made so far, by the kind of failure that caused them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Retries {
    pub(crate) rate_limited: u32,
    pub(crate) transient: u32,
}

impl Retries {
    fn total(self) -> u32 {
        self.rate_limited.saturating_add(self.transient)
    }

    /// One more retry after `failure`.
    pub(crate) fn count(&mut self, failure: Retryable) {
        match failure {
            Retryable::RateLimited => self.rate_limited = self.rate_limited.saturating_add(1),
            Retryable::Transient => self.transient = self.transient.saturating_add(1),
        }
    }

    #[cfg(test)]
    fn after(failures: &[Retryable]) -> Self {
        let mut retries = Self::default();
        failures.iter().for_each(|f| retries.count(*f));
        retries
    }
}

/// A failure that the policy may retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retryable {
    /// A 429.
    RateLimited,
    /// A 5xx, or the connection failed or timed out.
    Transient,
}

impl Retryable {
    /// The retryable failure a status means, if any: 429 and every 5xx. Other 4xx are final.
    pub(crate) fn of_status(status: StatusCode) -> Option<Self> {
        if status == StatusCode::TOO_MANY_REQUESTS {
            Some(Self::RateLimited)
        } else if status.is_server_error() {
            Some(Self::Transient)
        } else {
            None
        }
    }
}

/// The wait a `Retry-After` header asks for: delay-seconds or an HTTP date (a date in the past
/// means no wait). `None` when the header is absent or unreadable.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Delay-seconds too large for u64 are a very long wait, not an unreadable header.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// `n` retries, all after `failure`.
    fn made(failure: Retryable, n: u32) -> Retries {
        Retries::after(&vec![failure; n as usize])
    }

    #[test]
    fn asapp_schedule_is_the_documented_one() {
        let policy = RetryPolicy::asapp();
        let waits = |failure| {
            (1..=4)
                .map(|retry| policy.wait(failure, made(failure, retry - 1), None))
                .collect::<Vec<_>>()
        };
        let secs = |s| Some(Duration::from_secs(s));
        let millis = |ms| Some(Duration::from_millis(ms));
        assert_eq!(
            waits(Retryable::RateLimited),
            [secs(1), secs(2), secs(4), None]
        );
        assert_eq!(
            waits(Retryable::Transient),
            [millis(250), millis(500), millis(1000), None]
        );
    }

    #[test]
    fn retry_after_replaces_the_wait_up_to_the_cap_but_grants_no_extra_retry() {
        let policy = RetryPolicy::asapp().with_max_retry_after(Duration::from_secs(10));
        let asked = |s| Some(Duration::from_secs(s));
        let none = Retries::default();
        assert_eq!(
            policy.wait(Retryable::RateLimited, none, asked(3)),
            asked(3)
        );
        let one = made(Retryable::Transient, 1);
        assert_eq!(
            policy.wait(Retryable::Transient, one, asked(3600)),
            asked(10)
        );
        let three = made(Retryable::RateLimited, 3);
        assert_eq!(policy.wait(Retryable::RateLimited, three, asked(1)), None);
        assert_eq!(
            RetryPolicy::none().wait(Retryable::Transient, none, None),
            None
        );
        // Counted across the call: a 429 then a 503 wait 1 s, then the second 5xx wait.
        let mixed = Retries::after(&[Retryable::RateLimited]);
        assert_eq!(
            policy.wait(Retryable::Transient, mixed, None),
            Some(Duration::from_millis(500))
        );
    }

    #[test]
    fn until_the_deadline_429s_keep_the_last_wait_and_other_failures_their_schedule() {
        let policy = RetryPolicy::asapp().with_rate_limited_retries_until_deadline();
        let secs = |s| Some(Duration::from_secs(s));
        let waits: Vec<_> = (1..=6)
            .map(|retry| {
                policy.wait(
                    Retryable::RateLimited,
                    made(Retryable::RateLimited, retry - 1),
                    None,
                )
            })
            .collect();
        assert_eq!(
            waits,
            [secs(1), secs(2), secs(4), secs(4), secs(4), secs(4)]
        );
        let many = made(Retryable::RateLimited, 8);
        assert_eq!(policy.wait(Retryable::RateLimited, many, secs(7)), secs(7));
        // `Retry-After: 0` past the schedule waits its last entry, not nothing.
        assert_eq!(policy.wait(Retryable::RateLimited, many, secs(0)), secs(4));
        // Each kind counted on its own: a 503 after many 429s gets the first transient wait.
        assert_eq!(
            policy.wait(Retryable::Transient, many, None),
            Some(Duration::from_millis(250))
        );
        let spent = Retries::after(&[Retryable::Transient; 3]);
        assert_eq!(policy.wait(Retryable::Transient, spent, None), None);
        let never = RetryPolicy::custom([], [Duration::from_millis(5)])
            .with_rate_limited_retries_until_deadline();
        assert_eq!(
            never.wait(Retryable::RateLimited, Retries::default(), None),
            None
        );
        assert_eq!(never.max_attempts(), 2);
    }

    #[test]
    fn only_429_and_5xx_are_retryable_statuses() {
        for code in 100..600 {
            let status = StatusCode::from_u16(code).expect("valid status");
            let expected = match code {
                429 => Some(Retryable::RateLimited),
                500..=599 => Some(Retryable::Transient),
                _ => None,
            };
            assert_eq!(Retryable::of_status(status), expected, "{code}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let read = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, HeaderValue::from_str(value).expect("header"));
            retry_after(&headers, now)
        };
        assert_eq!(read("7"), Some(Duration::from_secs(7)));
        assert_eq!(read(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            read("99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(read(&later), Some(Duration::from_secs(90)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(read(&earlier), Some(Duration::ZERO));
        assert_eq!(read("soon"), None);
        assert_eq!(read("-5"), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
