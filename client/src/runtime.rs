//! The client's own state and its `ClientHooks` impl: every request of every operation gets the
//! credentials and user agent, waits for the rate limiter, is retried as the [`RetryPolicy`]
//! says within the deadline, and is traced in one span.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Request, Response, Url};
use tokio::time::Instant;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::call::{self, Report};
use crate::retry::{self, Failure};
use crate::{Client, RateLimit, RetryPolicy};

const API_ID: HeaderName = HeaderName::from_static("asapp-api-id");
const API_SECRET: HeaderName = HeaderName::from_static("asapp-api-secret");

/// The hand-written state inside every [`Client`]: credentials, timeouts, retry policy and rate
/// limiter. Cloning a client shares it, so clones share one limiter. It is made only by
/// [`ClientConfig::build`](crate::ClientConfig::build); `Debug` never shows the secret.
#[derive(Clone)]
pub struct Runtime {
    shared: Arc<Shared>,
}

/// What [`ClientConfig::build`](crate::ClientConfig::build) checked and hands over.
pub(crate) struct Settings {
    pub(crate) api_id: HeaderValue,
    /// Marked sensitive.
    pub(crate) api_secret: HeaderValue,
    pub(crate) user_agent: HeaderValue,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) rate_limit: Option<RateLimit>,
}

struct Shared {
    settings: Settings,
    limiter: Option<Limiter>,
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;

/// The limiter's clock: tokio's, so that it follows paused time in tests like every other wait.
#[derive(Clone, Debug)]
struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

impl Runtime {
    pub(crate) fn new(settings: Settings) -> Self {
        let limiter = settings.rate_limit.and_then(|limit| {
            let per_second = NonZeroU32::new(limit.requests_per_second())?;
            let burst = NonZeroU32::new(limit.burst())?;
            let quota = Quota::per_second(per_second).allow_burst(burst);
            let clock = TokioClock {
                origin: Instant::now(),
            };
            Some(RateLimiter::direct_with_clock(quota, clock))
        });
        Self {
            shared: Arc::new(Shared { settings, limiter }),
        }
    }

    fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.settings().retry
    }

    /// The client-side rate limit, if any.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.settings().rate_limit
    }

    /// The timeout of one attempt, if any.
    pub fn attempt_timeout(&self) -> Option<Duration> {
        self.settings().attempt_timeout
    }

    /// The deadline of a whole call, if any.
    pub fn deadline(&self) -> Option<Duration> {
        self.settings().deadline
    }

    /// Sends `request` for `info`'s operation until it succeeds, fails for good, or the policy
    /// or the deadline says stop; traced in one span.
    fn execute<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: Request,
        info: &OperationInfo,
    ) -> impl Future<Output = reqwest::Result<Response>> + 'a {
        let operation = call::operation(info.operation_id);
        let span = tracing::info_span!(
            "asapp_conversations",
            operation = operation.map_or(info.operation_id, |o| o.id),
            method = operation.map_or(request.method().as_str(), |o| o.method),
            path = operation.map_or("?", |o| o.path),
            status = Empty,
            attempts = Empty,
            latency_ms = Empty,
        );
        self.attempts(http, request).instrument(span)
    }

    async fn attempts(
        &self,
        http: &reqwest::Client,
        mut request: Request,
    ) -> reqwest::Result<Response> {
        let settings = self.settings();
        let started = Instant::now();
        let deadline = settings.deadline.map(|d| started + d);
        let mut report = Report::default();
        let max_attempts = settings.retry.max_attempts();
        let outcome = loop {
            if let Some(limiter) = &self.shared.limiter
                && let Err(stopped) = Box::pin(wait_for_limiter(limiter, deadline)).await
            {
                report.deadline_reached = true;
                report.deadline_cut_attempt = true;
                break Box::pin(stopped.outcome(http)).await;
            }
            // Cloned before sending, since sending consumes the request; `None` for a streamed
            // body, which cannot be sent twice, and when the policy allows no more attempts. The
            // copy is taken before the client's own headers go in: fewer to copy.
            let retry = if report.attempts < max_attempts {
                request.try_clone()
            } else {
                None
            };
            let headers = request.headers_mut();
            headers.insert(API_ID, settings.api_id.clone());
            headers.insert(API_SECRET, settings.api_secret.clone());
            headers.insert(USER_AGENT, settings.user_agent.clone());
            // Without a limiter, the first attempt starts when the call does: no need to read the
            // clock again.
            let now = if report.attempts == 0 && self.shared.limiter.is_none() {
                started
            } else {
                Instant::now()
            };
            let remaining = deadline.map(|d| d.saturating_duration_since(now));
            let cut_by_deadline =
                remaining.is_some_and(|r| settings.attempt_timeout.is_none_or(|t| r < t));
            *request.timeout_mut() = match (settings.attempt_timeout, remaining) {
                (Some(timeout), Some(remaining)) => Some(timeout.min(remaining)),
                (timeout, remaining) => timeout.or(remaining),
            };
            report.attempts += 1;
            let outcome = http.execute(request).await;
            let (failure, retry_after) = match &outcome {
                Ok(response) => {
                    report.status = Some(response.status());
                    let failure = Failure::of_status(response.status());
                    let retry_after = failure
                        .and_then(|_| retry::retry_after(response.headers(), SystemTime::now()));
                    (failure, retry_after)
                }
                Err(error) => {
                    report.status = None;
                    if error.is_timeout() && cut_by_deadline {
                        report.deadline_reached = true;
                        report.deadline_cut_attempt = true;
                        break outcome;
                    }
                    let transient = error.is_connect() || error.is_timeout() || error.is_request();
                    (transient.then_some(Failure::Transient), None)
                }
            };
            let wait = failure.and_then(|f| settings.retry.wait(f, report.attempts, retry_after));
            let (Some(wait), Some(next)) = (wait, retry) else {
                break outcome;
            };
            if deadline.is_some_and(|d| Instant::now() + wait >= d) {
                report.deadline_reached = true;
                break outcome;
            }
            match &outcome {
                Ok(response) => tracing::debug!(
                    attempt = report.attempts,
                    status = response.status().as_u16(),
                    wait_ms = millis(wait),
                    "retrying"
                ),
                Err(error) => tracing::debug!(
                    attempt = report.attempts,
                    error = %error,
                    wait_ms = millis(wait),
                    "retrying"
                ),
            }
            // Let go of the failed response (and its connection) before waiting.
            drop(outcome);
            Box::pin(tokio::time::sleep(wait)).await;
            request = next;
        };

        report.elapsed = started.elapsed();
        let span = tracing::Span::current();
        span.record("attempts", report.attempts);
        span.record("latency_ms", millis(report.elapsed));
        if let Some(status) = report.status {
            span.record("status", status.as_u16());
        }
        match &outcome {
            Ok(response) if response.status().is_success() => {
                tracing::debug!("succeeded");
            }
            Ok(response) => tracing::info!(status = response.status().as_u16(), "failed"),
            Err(error) => tracing::info!(error = %error, "failed"),
        }
        call::record(report);
        outcome
    }
}

/// Waiting for the limiter would go past the deadline.
struct LimiterPastDeadline;

impl LimiterPastDeadline {
    /// The outcome to report. `exec` can only fail with a `reqwest::Error`, which only reqwest
    /// can make: ask it for one without any I/O, with a URL whose scheme it refuses before
    /// connecting. The URL says why.
    async fn outcome(self, http: &reqwest::Client) -> reqwest::Result<Response> {
        let url = Url::parse("asapp-deadline-exceeded:waiting-for-rate-limit")
            .expect("a constant, valid URL");
        http.execute(Request::new(reqwest::Method::GET, url)).await
    }
}

/// Waits until the limiter lets one request through, unless that would pass `deadline`.
async fn wait_for_limiter(
    limiter: &Limiter,
    deadline: Option<Instant>,
) -> Result<(), LimiterPastDeadline> {
    loop {
        let Err(not_until) = limiter.check() else {
            return Ok(());
        };
        let wait = not_until.wait_time_from(limiter_now(limiter));
        if deadline.is_some_and(|d| Instant::now() + wait > d) {
            return Err(LimiterPastDeadline);
        }
        tokio::time::sleep(wait).await;
    }
}

fn limiter_now(limiter: &Limiter) -> Duration {
    limiter.clock().now()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl ClientHooks<Runtime> for Client {
    // A plain function returning the future, rather than an `async fn`: an `async fn` would keep
    // its own copy of `request` beside the retry loop's for the whole call.
    fn exec(
        &self,
        request: Request,
        info: &OperationInfo,
    ) -> impl Future<Output = reqwest::Result<Response>> {
        Box::pin(self.inner.execute(&self.client, request, info))
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = self.settings();
        f.debug_struct("Runtime")
            .field("api_id", &settings.api_id)
            .field("api_secret", &"<redacted>")
            .field("user_agent", &settings.user_agent)
            .field("attempt_timeout", &settings.attempt_timeout)
            .field("deadline", &settings.deadline)
            .field("retry", &settings.retry)
            .field("rate_limit", &settings.rate_limit)
            .finish()
    }
}

impl fmt::Display for Client {
    /// The target and API id; never the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let api_id = self
            .inner
            .settings()
            .api_id
            .to_str()
            .unwrap_or("<non-ASCII>");
        write!(
            f,
            "ASAPP Conversations API at {} as API id {api_id}",
            self.baseurl
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_limiter_keeps_its_rate_over_many_waits() {
        let runtime = Runtime::new(Settings {
            api_id: HeaderValue::from_static("id"),
            api_secret: HeaderValue::from_static("secret"),
            user_agent: HeaderValue::from_static("ua"),
            attempt_timeout: None,
            deadline: None,
            retry: RetryPolicy::none(),
            rate_limit: Some(RateLimit::per_second(100)),
        });
        let started = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let runtime = runtime.clone();
                tokio::spawn(async move {
                    let limiter = runtime.shared.limiter.as_ref().unwrap();
                    for _ in 0..100 {
                        assert!(wait_for_limiter(limiter, None).await.is_ok());
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
    }
}
