//! The client's own state and its `ClientHooks` impl: every request of every operation gets the
//! credentials and user agent, waits for the rate limiter, is retried as the [`RetryPolicy`]
//! says within the deadline, and is traced: a span for the call and a child span per attempt,
//! named and attributed as OpenTelemetry's HTTP client conventions say, so that
//! `tracing-opentelemetry` maps them as they are. With the `opentelemetry` feature each attempt
//! is also measured ([`metrics`](crate::metrics)).
//!
//! Nothing here costs more than a check of the tracing level when no subscriber listens: span
//! fields are only evaluated for an enabled span, and the clock is read no more often than the
//! retry loop itself needs (once before the call, once after each attempt).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Request, Response, StatusCode, Url};
use tokio::time::Instant;
use tracing::Instrument as _;
use tracing::field::Empty;
use tracing::level_filters::LevelFilter;

use crate::limiter::{Limiter, PastDeadline};
use crate::operation::{self, Operation, Report};
use crate::retry::{self, Retryable};
use crate::{Client, RateLimit, RetryPolicy};

const API_ID: HeaderName = HeaderName::from_static("asapp-api-id");
const API_SECRET: HeaderName = HeaderName::from_static("asapp-api-secret");

/// Stands in for an operation missing from the table, which `operations.rs`, generated from the
/// same description as the client, rules out.
static UNKNOWN: Operation = Operation {
    hook_id: "",
    id: "unknown",
    method: "_OTHER",
    path: "",
    span_name: "HTTP",
};

/// An operation by the name progenitor's hooks know it by, looked up in the table only when
/// something needs more (an enabled span, a measurement).
#[derive(Clone, Copy)]
struct Op(&'static str);

impl Op {
    fn get(self) -> &'static Operation {
        operation::lookup(self.0).unwrap_or(&UNKNOWN)
    }
}

/// The hand-written state inside every [`Client`]: credentials, timeouts, retry policy, rate
/// limiter and counts. Cloning a client shares it, so clones share one limiter and one set of
/// counts. It is made only by [`ClientConfig::build`](crate::ClientConfig::build); `Debug` never
/// shows the secret.
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
    /// The timeout the HTTP client applies to every request by itself: the attempt timeout when
    /// this crate built the HTTP client, `None` for a caller's. An attempt that needs no other
    /// timeout is sent without one of its own, which reqwest would keep in a map allocated in
    /// the request for it.
    pub(crate) http_timeout: Option<Duration>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) rate_limit: Option<RateLimit>,
    /// The instruments measurements go to.
    #[cfg(feature = "opentelemetry")]
    pub(crate) instruments: crate::metrics::Instruments,
}

struct Shared {
    settings: Settings,
    limiter: Option<Limiter>,
    counts: Counts,
}

/// What [`ClientStats`] reads. Only rare events are counted, so the common path touches none.
#[derive(Debug, Default)]
struct Counts {
    retries: AtomicU64,
    rate_limited: AtomicU64,
    limiter_wait_nanos: AtomicU64,
}

/// What a client (and all its clones) went through so far, from [`Client::stats`]: retries,
/// 429 answers, and time spent waiting for the client-side rate limiter. Counters only grow;
/// subtract two snapshots for what happened in between.
///
/// ```
/// # async fn run(client: asapp_conversations::Client) {
/// let before = client.stats();
/// // ... calls ...
/// let stats = client.stats();
/// println!(
///     "{} retries, {} answered 429, {:?} waiting for the rate limiter",
///     stats.retries - before.retries,
///     stats.rate_limited - before.rate_limited,
///     stats.limiter_wait - before.limiter_wait,
/// );
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStats {
    /// Requests sent again after a 429, a 5xx or a transport failure.
    pub retries: u64,
    /// Answers with status 429 (retried or not).
    pub rate_limited: u64,
    /// Time requests spent waiting for the client-side [`RateLimit`].
    pub limiter_wait: Duration,
}

/// What an attempt or a call failed with, as the conventions' `error.type`: the status code for
/// an error status, or a low-cardinality name.
#[derive(Clone, Copy, Debug)]
enum ErrorType {
    Status(StatusCode),
    Timeout,
    Connection,
    Transport,
    DeadlineExceeded,
}

impl ErrorType {
    /// The failure of one attempt, if it failed: a status of 400 or more, or no answer.
    fn of(outcome: &reqwest::Result<Response>) -> Option<Self> {
        match outcome {
            Ok(response) if response.status().as_u16() >= 400 => {
                Some(Self::Status(response.status()))
            }
            Ok(_) => None,
            Err(error) if error.is_timeout() => Some(Self::Timeout),
            Err(error) if error.is_connect() => Some(Self::Connection),
            Err(_) => Some(Self::Transport),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Self::Status(status) => status.as_str(),
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::Transport => "transport",
            Self::DeadlineExceeded => "deadline_exceeded",
        }
    }
}

/// A transport error's causes, without reqwest's own line, which holds the URL (with its ids
/// and query).
struct Causes<'a>(&'a reqwest::Error);

impl fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut source = std::error::Error::source(self.0);
        if source.is_none() {
            return f.write_str("no cause given");
        }
        let mut first = true;
        while let Some(cause) = source {
            if !first {
                f.write_str(": ")?;
            }
            write!(f, "{cause}")?;
            first = false;
            source = cause.source();
        }
        Ok(())
    }
}

/// A copy of `request` to send again, or `None` for a streamed body, which cannot be sent twice.
/// Without a body or a timeout (the one extension reqwest lets a request carry, and which the
/// generated requests do not), copied by hand: reqwest's own `try_clone` allocates a map of
/// extensions in the copy for its timeout, then drops it for the original's.
fn copy(request: &Request) -> Option<Request> {
    if request.body().is_some() || request.timeout().is_some() {
        return request.try_clone();
    }
    let mut copy = Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    Some(copy)
}

impl Runtime {
    pub(crate) fn new(settings: Settings) -> Self {
        let limiter = settings.rate_limit.and_then(Limiter::new);
        Self {
            shared: Arc::new(Shared {
                settings,
                limiter,
                counts: Counts::default(),
            }),
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

    /// What the client and its clones went through so far: see [`ClientStats`].
    pub fn stats(&self) -> ClientStats {
        let counts = &self.shared.counts;
        ClientStats {
            retries: counts.retries.load(Ordering::Relaxed),
            rate_limited: counts.rate_limited.load(Ordering::Relaxed),
            limiter_wait: Duration::from_nanos(counts.limiter_wait_nanos.load(Ordering::Relaxed)),
        }
    }

    /// Sends `request` for `info`'s operation until it succeeds, fails for good, or the policy
    /// or the deadline says stop; traced in the call's span.
    fn execute<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: Request,
        info: &OperationInfo,
    ) -> impl Future<Output = reqwest::Result<Response>> + 'a {
        let operation = Op(info.operation_id);
        let span = if LevelFilter::current() >= LevelFilter::INFO {
            let operation = operation.get();
            tracing::info_span!(
                "asapp_conversations",
                otel.name = operation.id,
                asapp.operation = operation.id,
                asapp.attempts = Empty,
                asapp.latency_ms = Empty,
                http.response.status_code = Empty,
                error.type = Empty,
                otel.status_code = Empty,
            )
        } else {
            tracing::Span::none()
        };
        self.attempts(http, request, operation).instrument(span)
    }

    /// The retry loop. A plain function returning an `async move` block, not an `async fn`: an
    /// `async fn` moves its arguments into locals, and its future keeps room for both.
    fn attempts<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: Request,
        operation: Op,
    ) -> impl Future<Output = reqwest::Result<Response>> + 'a {
        let mut request = Some(request);
        async move {
            let settings = self.settings();
            let started = Instant::now();
            let deadline = settings.deadline.map(|d| started + d);
            // The time a call took is read only when something needs it: an enabled span, or
            // the error the awaiting call makes of a failure.
            let mut report = Report {
                started: Some(started),
                ..Report::default()
            };
            let max_attempts = settings.retry.max_attempts();
            let (outcome, error_type) = loop {
                if let Some(limiter) = &self.shared.limiter {
                    let waited = Box::pin(limiter.wait(deadline)).await;
                    let (Ok(wait) | Err(PastDeadline(wait))) = waited;
                    self.waited_for_limiter(operation, wait);
                    if waited.is_err() {
                        report.deadline_reached = true;
                        report.deadline_cut_attempt = true;
                        let outcome = Box::pin(limiter_past_deadline(http)).await;
                        break (outcome, Some(ErrorType::DeadlineExceeded));
                    }
                }
                // Sending consumes the request, so a copy stays behind while a retry is still
                // possible; `None` for a streamed body, which cannot be sent twice, and for the
                // last attempt the policy allows. The copy is taken before the client's own
                // headers go in (fewer to copy), and the original is sent: reqwest built its
                // headers with room for ours.
                let Some(sending) = request.take() else {
                    unreachable!("a request is left while the loop goes on");
                };
                if report.attempts + 1 < max_attempts {
                    request = copy(&sending);
                }
                // One attempt, in a block of its own: what it leaves behind (the answer, the
                // attempt's span) is gone before the wait, and takes no room in this future then.
                let wait = {
                    // Without a limiter, the first attempt starts when the call does: no need to
                    // read the clock again.
                    let now = if report.attempts == 0 && self.shared.limiter.is_none() {
                        started
                    } else {
                        Instant::now()
                    };
                    let remaining = deadline.map(|d| d.saturating_duration_since(now));
                    let cut_by_deadline =
                        remaining.is_some_and(|r| settings.attempt_timeout.is_none_or(|t| r < t));
                    let timeout = match (settings.attempt_timeout, remaining) {
                        (Some(timeout), Some(remaining)) => Some(timeout.min(remaining)),
                        (timeout, remaining) => timeout.or(remaining),
                    };
                    report.attempts += 1;
                    let (outcome, error_type) = {
                        let mut attempt = std::pin::pin!(self.send(
                            http,
                            sending,
                            operation,
                            report.attempts,
                            timeout
                        ));
                        let outcome = attempt.as_mut().await;
                        let error_type = ErrorType::of(&outcome);
                        self.attempted(operation, attempt.span(), &outcome, error_type, now);
                        (outcome, error_type)
                    };
                    let (failure, retry_after) = match &outcome {
                        Ok(response) => {
                            report.status = Some(response.status());
                            if let Some(limiter) = &self.shared.limiter {
                                if response.status() == StatusCode::TOO_MANY_REQUESTS {
                                    limiter.rate_limited(now);
                                } else {
                                    limiter.answered();
                                }
                            }
                            let failure = Retryable::of_status(response.status());
                            let retry_after = failure.and_then(|_| {
                                retry::retry_after(response.headers(), SystemTime::now())
                            });
                            (failure, retry_after)
                        }
                        Err(error) => {
                            report.status = None;
                            if error.is_timeout() && cut_by_deadline {
                                report.deadline_reached = true;
                                report.deadline_cut_attempt = true;
                                break (outcome, Some(ErrorType::DeadlineExceeded));
                            }
                            let transient =
                                error.is_connect() || error.is_timeout() || error.is_request();
                            (transient.then_some(Retryable::Transient), None)
                        }
                    };
                    let wait =
                        failure.and_then(|f| settings.retry.wait(f, report.retries, retry_after));
                    if let Some(failure) = failure {
                        report.retries.count(failure);
                        report.maybe_applied |= failure == Retryable::Transient;
                    }
                    let (Some(wait), true) = (wait, request.is_some()) else {
                        break (outcome, error_type);
                    };
                    if deadline.is_some_and(|d| Instant::now() + wait >= d) {
                        report.deadline_reached = true;
                        break (outcome, error_type);
                    }
                    self.retrying(operation, &outcome, error_type, report.attempts, wait);
                    wait
                };
                Box::pin(tokio::time::sleep(wait)).await;
            };

            // Looking the span up costs more than a check of the level when nothing listens.
            if LevelFilter::current() >= LevelFilter::INFO
                && let span = tracing::Span::current()
                && !span.is_disabled()
            {
                span.record("asapp.attempts", i64::from(report.attempts));
                span.record("asapp.latency_ms", millis(started.elapsed()));
                if let Some(status) = report.status {
                    span.record("http.response.status_code", i64::from(status.as_u16()));
                }
                if let Some(error_type) = &error_type {
                    span.record("error.type", error_type.as_str());
                    span.record("otel.status_code", "ERROR");
                }
            }
            match (&outcome, error_type) {
                (Ok(_), None) => {
                    tracing::debug!(asapp.attempts = i64::from(report.attempts), "succeeded")
                }
                (Ok(response), Some(error_type)) => tracing::info!(
                    asapp.attempts = i64::from(report.attempts),
                    http.response.status_code = i64::from(response.status().as_u16()),
                    error.type = error_type.as_str(),
                    "failed"
                ),
                (Err(error), error_type) => tracing::info!(
                    asapp.attempts = i64::from(report.attempts),
                    error.type = error_type.as_ref().map_or("transport", ErrorType::as_str),
                    error = %Causes(error),
                    "failed"
                ),
            }
            operation::record(report);
            outcome
        }
    }

    /// Sends `request` as attempt number `attempt` of `operation`, in the attempt's span: with
    /// the client's headers, and with `timeout` unless the HTTP client applies that one itself.
    /// A function of its own, so that the request is not kept in the retry loop's future while
    /// the attempt runs.
    fn send(
        &self,
        http: &reqwest::Client,
        mut request: Request,
        operation: Op,
        attempt: u32,
        timeout: Option<Duration>,
    ) -> tracing::instrument::Instrumented<impl Future<Output = reqwest::Result<Response>>> {
        let settings = self.settings();
        let headers = request.headers_mut();
        headers.insert(API_ID, settings.api_id.clone());
        headers.insert(API_SECRET, settings.api_secret.clone());
        headers.insert(USER_AGENT, settings.user_agent.clone());
        if timeout != settings.http_timeout {
            *request.timeout_mut() = timeout;
        }
        let span = attempt_span(operation, &request, attempt);
        http.execute(request).instrument(span)
    }

    /// Records what one attempt of `operation`, begun at `began`, came to: on its `span`, in the
    /// counts and in the metrics.
    fn attempted(
        &self,
        operation: Op,
        span: &tracing::Span,
        outcome: &reqwest::Result<Response>,
        error_type: Option<ErrorType>,
        began: Instant,
    ) {
        let status = outcome.as_ref().ok().map(Response::status);
        if status == Some(StatusCode::TOO_MANY_REQUESTS) {
            self.shared
                .counts
                .rate_limited
                .fetch_add(1, Ordering::Relaxed);
        }
        if !span.is_disabled() {
            if let Some(status) = status {
                span.record("http.response.status_code", i64::from(status.as_u16()));
            }
            if let Some(error_type) = &error_type {
                span.record("error.type", error_type.as_str());
                span.record("otel.status_code", "ERROR");
            }
        }
        #[cfg(feature = "opentelemetry")]
        self.settings().instruments.attempt(
            operation.get(),
            (Instant::now() - began).as_secs_f64(),
            status.map(|s| s.as_u16()),
            error_type.as_ref().map(ErrorType::as_str),
        );
        #[cfg(not(feature = "opentelemetry"))]
        let _ = (operation, began);
    }

    /// Counts and reports a retry of `operation` after `attempt` failed with `outcome`, in
    /// `wait`.
    fn retrying(
        &self,
        operation: Op,
        outcome: &reqwest::Result<Response>,
        error_type: Option<ErrorType>,
        attempt: u32,
        wait: Duration,
    ) {
        self.shared.counts.retries.fetch_add(1, Ordering::Relaxed);
        let error_type = error_type.as_ref().map_or("transport", ErrorType::as_str);
        #[cfg(feature = "opentelemetry")]
        self.settings()
            .instruments
            .retry(operation.get(), error_type);
        #[cfg(not(feature = "opentelemetry"))]
        let _ = operation;
        match outcome {
            Ok(response) => tracing::info!(
                asapp.attempt = i64::from(attempt),
                http.response.status_code = i64::from(response.status().as_u16()),
                error.type = error_type,
                asapp.wait_ms = millis(wait),
                "retrying"
            ),
            Err(error) => tracing::info!(
                asapp.attempt = i64::from(attempt),
                error.type = error_type,
                error = %Causes(error),
                asapp.wait_ms = millis(wait),
                "retrying"
            ),
        }
    }

    /// Counts a wait for the rate limiter.
    fn waited_for_limiter(&self, operation: Op, wait: Duration) {
        if wait.is_zero() {
            return;
        }
        let nanos = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
        self.shared
            .counts
            .limiter_wait_nanos
            .fetch_add(nanos, Ordering::Relaxed);
        #[cfg(feature = "opentelemetry")]
        self.settings()
            .instruments
            .limiter_wait(operation.get(), wait.as_secs_f64());
        #[cfg(not(feature = "opentelemetry"))]
        let _ = operation;
    }
}

/// The span of one attempt, a child of the call's, under the HTTP client conventions. Its fields
/// are only evaluated when it is enabled.
fn attempt_span(operation: Op, request: &Request, attempt: u32) -> tracing::Span {
    if LevelFilter::current() < LevelFilter::INFO {
        return tracing::Span::none();
    }
    let operation = operation.get();
    tracing::info_span!(
        "attempt",
        otel.name = operation.span_name,
        otel.kind = "client",
        http.request.method = operation.method,
        url.template = operation.path,
        server.address = request.url().host_str().unwrap_or_default(),
        server.port = request.url().port_or_known_default().map(i64::from),
        http.request.resend_count = attempt.checked_sub(1).filter(|n| *n > 0).map(i64::from),
        http.response.status_code = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    )
}

/// The outcome of a call that the limiter would hold past its deadline. `exec` can only fail
/// with a `reqwest::Error`, which only reqwest can make: ask it for one without any I/O, with a
/// URL whose scheme it refuses before connecting. The URL says why.
async fn limiter_past_deadline(http: &reqwest::Client) -> reqwest::Result<Response> {
    let url = Url::parse("asapp-deadline-exceeded:waiting-for-rate-limit")
        .expect("a constant, valid URL");
    http.execute(Request::new(reqwest::Method::GET, url)).await
}

/// Milliseconds as an `i64`: `tracing-opentelemetry` records other integers as text.
fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Client {
    /// The rate the client-side limit allows now, in requests per second: the configured one,
    /// or where an adaptive limit ([`RateLimit::adaptive`]) stands after ASAPP's 429s. `None`
    /// without a limit.
    pub fn rate_limit_now(&self) -> Option<f64> {
        self.inner.shared.limiter.as_ref().map(Limiter::rate)
    }

    /// What this client and its clones went through so far: retries, 429 answers, and time spent
    /// waiting for the rate limiter ([`ClientStats`]). Reading it costs three atomic loads.
    pub fn stats(&self) -> ClientStats {
        self.inner.stats()
    }
}

impl ClientHooks<Runtime> for Client {
    // A plain function returning the future, rather than an `async fn`: an `async fn` would keep
    // its own copy of `request` beside the retry loop's for the whole call.
    fn exec(
        &self,
        request: Request,
        info: &OperationInfo,
    ) -> impl Future<Output = reqwest::Result<Response>> {
        self.inner.execute(&self.client, request, info)
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
