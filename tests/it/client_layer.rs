//! The hand-written client layer against a scripted server on 127.0.0.1: retries on ASAPP's
//! schedule, `Retry-After`, timeouts and the deadline, the rate limiter, configuration errors,
//! tracing, and the secret never showing.
//!
//! The server runs in the test's own runtime with tokio's clock paused, so every wait (the
//! client's backoff, the limiter, the server's scripted delays) takes no wall time and the
//! arrival times the server records are exact.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asapp_conversations::{
    ApiError, Client, ClientConfig, ClientInfo as _, ConfigError, Environment, ErrorKind,
    RateLimit, RetryPolicy, types,
};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use tokio::time::Instant;

const API_ID: &str = "layer-api-id";
const API_SECRET: &str = "s3cr3t-VALUE-never-shown";
const CONVERSATION: &str = "01BX5ZZKBKACTAV9WEVGEMMVRZ";

/// One scripted answer.
#[derive(Clone, Debug)]
struct Reply {
    status: u16,
    body: String,
    retry_after: Option<&'static str>,
    delay: Duration,
}

impl Reply {
    fn ok() -> Self {
        Self::status(200).body(json!({
            "id": CONVERSATION,
            "externalId": "id-111",
            "customer": {"externalId": "customer-1"}
        }))
    }

    /// An error status with ASAPP's envelope.
    fn status(status: u16) -> Self {
        Self {
            status,
            body: json!({"error": {
                "requestId": format!("request-{status}"),
                "code": format!("{status}-01"),
                "message": format!("scripted {status}")
            }})
            .to_string(),
            retry_after: None,
            delay: Duration::ZERO,
        }
    }

    fn body(mut self, body: serde_json::Value) -> Self {
        self.body = body.to_string();
        self
    }

    /// A body that need not be JSON.
    fn raw(mut self, body: &str) -> Self {
        self.body = body.to_owned();
        self
    }

    fn retry_after(mut self, value: &'static str) -> Self {
        self.retry_after = Some(value);
        self
    }

    fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    at: Instant,
    path: String,
    headers: HeaderMap,
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    /// Answer once the script is used up.
    otherwise: Option<Reply>,
    seen: Vec<Seen>,
}

/// A server on 127.0.0.1 that answers from a script and records what it receives.
#[derive(Clone)]
struct Server {
    url: String,
    script: Arc<Mutex<Script>>,
}

impl Server {
    async fn start(replies: impl IntoIterator<Item = Reply>) -> Self {
        let script = Arc::new(Mutex::new(Script {
            replies: replies.into_iter().collect(),
            otherwise: Some(Reply::ok()),
            seen: Vec::new(),
        }));
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, script }
    }

    /// Answers every request with `reply` once the script is used up.
    fn otherwise(&self, reply: Reply) {
        self.script.lock().unwrap().otherwise = Some(reply);
    }

    fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }

    /// The time between successive requests.
    fn gaps(&self) -> Vec<Duration> {
        let seen = self.seen();
        seen.windows(2).map(|w| w[1].at - w[0].at).collect()
    }

    fn config(&self) -> ClientConfig {
        ClientConfig::new(API_ID, API_SECRET).base_url(&self.url)
    }

    fn client(&self) -> Client {
        self.config().build().unwrap()
    }
}

async fn answer(State(script): State<Arc<Mutex<Script>>>, request: Request) -> Response {
    let reply = {
        let mut script = script.lock().unwrap();
        script.seen.push(Seen {
            at: Instant::now(),
            path: request.uri().path().to_owned(),
            headers: request.headers().clone(),
        });
        let next = script.replies.pop_front();
        next.or_else(|| script.otherwise.clone())
            .unwrap_or_else(Reply::ok)
    };
    tokio::time::sleep(reply.delay).await;
    let mut response = Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap())
        .header("content-type", "application/json");
    if let Some(value) = reply.retry_after {
        response = response.header("retry-after", value);
    }
    response.body(Body::from(reply.body)).unwrap()
}

async fn get(client: &Client) -> Result<types::Conversation, ApiError> {
    client
        .get_conversation()
        .conversation_id(CONVERSATION)
        .await
        .map(|r| r.into_inner())
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[tokio::test(start_paused = true)]
async fn rate_limited_twice_then_ok_waits_one_then_two_seconds() {
    let server = Server::start([Reply::status(429), Reply::status(429)]).await;
    let client = server.client();
    let conversation = get(&client).await.unwrap();
    assert_eq!(conversation.external_id, "id-111");
    assert_eq!(server.gaps(), [secs(1), secs(2)]);
    let stats = client.stats();
    assert_eq!((stats.retries, stats.rate_limited), (2, 2));
    assert_eq!(stats.limiter_wait, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn server_errors_give_up_after_three_retries() {
    let server = Server::start([]).await;
    server.otherwise(Reply::status(503));
    let error = get(&server.client()).await.unwrap_err();
    assert_eq!(server.gaps(), [millis(250), millis(500), millis(1000)]);
    assert_eq!(error.attempts(), 4);
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(error.code(), Some("503-01"));
    assert_eq!(error.request_id(), Some("request-503"));
    assert!(error.is_retryable());
    assert_eq!(
        error.to_string(),
        "getConversation failed: 503 Service Unavailable, code 503-01: scripted 503, \
         requestId request-503 (4 attempts)"
    );
}

#[tokio::test(start_paused = true)]
async fn mixed_failures_share_one_retry_count() {
    // A 429, then a 500, then a 429: the n-th retry waits the n-th entry of its own schedule.
    let server = Server::start([Reply::status(429), Reply::status(500), Reply::status(429)]).await;
    let client = server.client();
    get(&client).await.unwrap();
    assert_eq!(server.gaps(), [secs(1), millis(500), secs(4)]);
    let stats = client.stats();
    assert_eq!((stats.retries, stats.rate_limited), (3, 2));
}

#[tokio::test(start_paused = true)]
async fn retry_after_replaces_the_wait_up_to_the_cap() {
    let server = Server::start([
        Reply::status(429).retry_after("3"),
        Reply::status(503).retry_after("3600"),
        Reply::status(429).retry_after("soon"),
    ])
    .await;
    let client = server
        .config()
        .retry_policy(RetryPolicy::asapp().with_max_retry_after(secs(10)))
        .build()
        .unwrap();
    get(&client).await.unwrap();
    // Asked 3 s; asked an hour, capped at 10 s; unreadable, so the schedule's third wait.
    assert_eq!(server.gaps(), [secs(3), secs(10), secs(4)]);
}

#[tokio::test(start_paused = true)]
async fn other_client_errors_are_not_retried() {
    for status in [400, 401, 403, 404, 409, 413, 422] {
        let server = Server::start([Reply::status(status)]).await;
        let error = get(&server.client()).await.unwrap_err();
        assert_eq!(server.seen().len(), 1, "{status}");
        assert_eq!(error.attempts(), 1, "{status}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert!(!error.is_retryable(), "{status}");
        assert!(matches!(error.kind(), ErrorKind::Status { .. }), "{status}");
        assert_eq!(error.is_not_found(), status == 404);
        assert_eq!(error.is_unauthorized(), status == 401);
        assert_eq!(error.is_forbidden(), status == 403);
        assert_eq!(error.is_already_persisted(), status == 409);
    }
}

fn message() -> types::builder::Message {
    types::Message::builder()
        .text("Hello")
        .sender(
            types::Participant::builder()
                .role(types::ParticipantRole::Customer)
                .external_id("customer-1"),
        )
        .timestamp(chrono::Utc::now())
}

/// How a `createMessage` ends that the server answers with `replies`.
async fn create_message_failing(replies: impl IntoIterator<Item = Reply>) -> ApiError {
    let server = Server::start(replies).await;
    server
        .client()
        .create_message()
        .conversation_id(CONVERSATION)
        .body(message())
        .await
        .unwrap_err()
}

#[tokio::test(start_paused = true)]
async fn a_conflict_answering_a_retried_create_means_already_persisted() {
    let error = create_message_failing([Reply::status(503), Reply::status(409)]).await;
    assert!(
        matches!(error.kind(), ErrorKind::AlreadyPersisted { .. }),
        "{error:?}"
    );
    assert!(error.is_already_persisted());
    assert_eq!(error.attempts(), 2);
    assert!(
        error
            .to_string()
            .contains("already persisted by an earlier attempt"),
        "{error}"
    );

    // After only 429s, which ASAPP answers without storing, a 409 is the server's plain answer:
    // no earlier attempt may have stored the message.
    let error = create_message_failing([Reply::status(429), Reply::status(409)]).await;
    assert!(
        matches!(error.kind(), ErrorKind::Status { .. }),
        "{error:?}"
    );
    assert_eq!(error.attempts(), 2);

    // The same for a batch; but a 409 on the first attempt is the server's plain answer.
    let server = Server::start([Reply::status(500), Reply::status(409)]).await;
    let batch: types::BatchMessages = types::BatchMessages::builder()
        .messages(vec![message().try_into().unwrap()])
        .try_into()
        .unwrap();
    let error = server
        .client()
        .create_batch_messages()
        .conversation_id(CONVERSATION)
        .body(batch.clone())
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::AlreadyPersisted { .. }));
    let server = Server::start([Reply::status(409)]).await;
    let error = server
        .client()
        .create_batch_messages()
        .conversation_id(CONVERSATION)
        .body(batch)
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Status { .. }));
    assert!(error.is_already_persisted());
}

#[tokio::test(start_paused = true)]
async fn the_attempt_timeout_fires_and_timeouts_are_retried() {
    let server = Server::start([]).await;
    server.otherwise(Reply::ok().after(secs(60)));
    let started = Instant::now();
    let error = server
        .config()
        .attempt_timeout(secs(1))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = get(&error).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Timeout { .. }),
        "{error:?}"
    );
    assert!(error.is_timeout() && error.is_retryable());
    assert_eq!((error.attempts(), started.elapsed()), (1, secs(1)));

    let server = Server::start([Reply::ok().after(secs(60))]).await;
    let client = server.config().attempt_timeout(secs(1)).build().unwrap();
    get(&client).await.unwrap();
    assert_eq!(server.gaps(), [secs(1) + millis(250)]);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_cuts_off_the_last_attempt() {
    let server = Server::start([]).await;
    server.otherwise(Reply::ok().after(secs(60)));
    let client = server
        .config()
        .attempt_timeout(secs(2))
        .deadline(secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = get(&client).await.unwrap_err();
    // 2 s, wait 250 ms, 2 s, wait 500 ms, and the deadline 250 ms into the third attempt.
    assert_eq!(started.elapsed(), secs(5));
    assert_eq!(error.attempts(), 3);
    assert_eq!(error.elapsed(), secs(5));
    assert!(error.deadline_reached());
    assert!(
        matches!(error.kind(), ErrorKind::DeadlineExceeded { .. }),
        "{error:?}"
    );
    assert!(error.is_timeout());
}

#[tokio::test(start_paused = true)]
async fn the_deadline_stops_retries_that_could_not_finish() {
    let server = Server::start([]).await;
    server.otherwise(Reply::status(503));
    let client = server.config().deadline(secs(1)).build().unwrap();
    let error = get(&client).await.unwrap_err();
    // Waits of 250 ms and 500 ms fit; the third wait of 1 s would end past the deadline.
    assert_eq!(server.gaps(), [millis(250), millis(500)]);
    assert_eq!(error.attempts(), 3);
    assert!(error.deadline_reached());
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert!(
        error
            .to_string()
            .ends_with("(3 attempts, deadline reached)"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn connection_refused_is_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = ClientConfig::new(API_ID, API_SECRET)
        .base_url(url)
        .build()
        .unwrap();
    let started = Instant::now();
    let error = get(&client).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Connection { .. }),
        "{error:?}"
    );
    assert_eq!(error.attempts(), 4);
    assert_eq!(started.elapsed(), millis(250 + 500 + 1000));
    let text = error.to_string();
    assert!(
        text.starts_with("getConversation failed: cannot connect: "),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert!(text.ends_with("(4 attempts)"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn the_rate_limiter_holds_a_burst_to_the_rate_across_clones() {
    let server = Server::start([]).await;
    let client = server
        .config()
        .rate_limit(RateLimit::per_second(5).with_burst(2))
        .build()
        .unwrap();
    let clone = client.clone();
    let calls = (0..12).map(|i| {
        let client = if i % 2 == 0 {
            client.clone()
        } else {
            clone.clone()
        };
        tokio::spawn(async move { get(&client).await })
    });
    let started = Instant::now();
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    let seen = server.seen();
    assert_eq!(seen.len(), 12);
    // Two at once, then one every 200 ms: request n (from 0) no earlier than (n - 1) * 200 ms.
    for (n, request) in seen.iter().enumerate() {
        let earliest = millis(200) * u32::try_from(n.saturating_sub(1)).unwrap();
        assert!(
            request.at - started >= earliest,
            "request {n} at {:?}",
            request.at - started
        );
    }
    assert_eq!(seen[11].at - started, millis(2000));
    // Each request waited for its turn: 0, 0, 200 ms, 400 ms, ... 2 s, counted across clones.
    let stats = clone.stats();
    assert_eq!(stats.limiter_wait, millis(200 * (1..=10).sum::<u64>()));
    assert_eq!((stats.retries, stats.rate_limited), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn the_limiter_does_not_wait_past_the_deadline() {
    let server = Server::start([]).await;
    let client = server
        .config()
        .rate_limit(RateLimit::per_second(1))
        .deadline(millis(500))
        .build()
        .unwrap();
    get(&client).await.unwrap();
    let error = get(&client).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::DeadlineExceeded { .. }),
        "{error:?}"
    );
    assert_eq!(error.attempts(), 0);
    assert_eq!(server.seen().len(), 1, "the held request was not sent");
}

#[tokio::test(start_paused = true)]
async fn send_runs_through_the_same_layer() {
    let server = Server::start([Reply::status(429)]).await;
    let client = server.client();
    let conversation = client
        .get_conversation()
        .conversation_id(CONVERSATION)
        .send()
        .await
        .unwrap();
    assert_eq!(conversation.external_id, "id-111");
    assert_eq!(server.gaps(), [secs(1)]);
    for seen in server.seen() {
        assert_eq!(seen.headers["asapp-api-id"], API_ID);
        assert_eq!(seen.headers["asapp-api-secret"], API_SECRET);
        assert_eq!(seen.headers["user-agent"], asapp_conversations::USER_AGENT);
        assert_eq!(
            seen.path,
            format!("/conversation/v1/conversations/{CONVERSATION}")
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_user_agent_can_be_extended_and_a_callers_http_client_used() {
    let server = Server::start([]).await;
    let http = asapp_conversations::reqwest::Client::builder()
        .build()
        .unwrap();
    let client = server
        .config()
        .user_agent_suffix("billing-sync/2.3")
        .http_client(http)
        .build()
        .unwrap();
    get(&client).await.unwrap();
    let seen = &server.seen()[0];
    assert_eq!(
        seen.headers["user-agent"],
        format!("{} billing-sync/2.3", asapp_conversations::USER_AGENT)
    );
    assert_eq!(seen.headers["asapp-api-secret"], API_SECRET);
}

fn vars(pairs: &[(&str, &str)]) -> impl FnMut(&str) -> Option<OsString> {
    let pairs: Vec<(String, OsString)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).into()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

#[test]
fn configuration_from_the_environment() {
    let id = ("ASAPP_API_ID", "env-id");
    let secret = ("ASAPP_API_SECRET", API_SECRET);
    let read = |pairs: &[(&str, &str)]| ClientConfig::from_vars(vars(pairs));

    let config = read(&[id, secret]).unwrap();
    assert_eq!(config.api_id(), "env-id");
    assert_eq!(config.target(), &Environment::Sandbox);
    let config = read(&[id, secret, ("ASAPP_ENVIRONMENT", "production")]).unwrap();
    assert_eq!(config.target(), &Environment::Production);
    let config = read(&[id, secret, ("ASAPP_BASE_URL", "http://127.0.0.1:8080")]).unwrap();
    assert_eq!(config.target().base_url(), "http://127.0.0.1:8080");
    config.build().unwrap();

    let error = |pairs: &[(&str, &str)]| read(pairs).unwrap_err().to_string();
    assert_eq!(
        error(&[secret]),
        "environment variable ASAPP_API_ID is not set"
    );
    assert_eq!(
        error(&[id]),
        "environment variable ASAPP_API_SECRET is not set"
    );
    assert_eq!(
        error(&[id, ("ASAPP_API_SECRET", "")]),
        "environment variable ASAPP_API_SECRET is invalid: it is empty"
    );
    assert_eq!(
        error(&[id, secret, ("ASAPP_ENVIRONMENT", "staging")]),
        "environment variable ASAPP_ENVIRONMENT is invalid: unknown environment `staging`: \
         expected `sandbox` or `production`"
    );
    assert_eq!(
        error(&[
            id,
            secret,
            ("ASAPP_ENVIRONMENT", "sandbox"),
            ("ASAPP_BASE_URL", "https://example.com")
        ]),
        "environment variables ASAPP_BASE_URL and ASAPP_ENVIRONMENT are both set; set one"
    );
    let insecure = error(&[id, secret, ("ASAPP_BASE_URL", "http://api.example.com")]);
    assert!(
        insecure.starts_with("environment variable ASAPP_BASE_URL is invalid: base URL"),
        "{insecure}"
    );
    assert!(insecure.contains("clear text"), "{insecure}");
    let bad = error(&[id, secret, ("ASAPP_BASE_URL", "not a url")]);
    assert!(bad.contains("ASAPP_BASE_URL"), "{bad}");

    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        let error = ClientConfig::from_vars(|name| match name {
            "ASAPP_API_ID" => Some(OsString::from_vec(vec![0xff, 0xfe])),
            _ => Some("x".into()),
        })
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "environment variable ASAPP_API_ID is invalid: it is not valid UTF-8"
        );
    }
}

#[test]
fn invalid_configuration_fails_at_build_time() {
    let build = |config: ClientConfig| config.build().map(drop).unwrap_err();
    let base = || ClientConfig::new("id", API_SECRET);
    let cases: Vec<(ConfigError, &str)> = vec![
        (
            build(ClientConfig::new("", API_SECRET)),
            "the API id is empty",
        ),
        (
            build(ClientConfig::new("id", " ")),
            "the API secret is empty",
        ),
        (
            build(ClientConfig::new("id", "line\nbreak")),
            "the API secret contains characters that cannot be sent in an HTTP header",
        ),
        (
            build(base().base_url("http://10.0.0.8:8080")),
            "base URL `http://10.0.0.8:8080` uses http: only https is allowed (or http to a \
             loopback host), because the API secret would travel in clear text",
        ),
        (
            build(base().base_url("ftp://example.com")),
            "base URL `ftp://example.com` uses ftp: only https is allowed (or http to a \
             loopback host), because the API secret would travel in clear text",
        ),
        (
            build(base().base_url("https://user:pw@example.com")),
            "the base URL must not contain a user name or password",
        ),
        (
            build(base().base_url("https://example.com/?a=b")),
            "base URL `https://example.com/?…` is invalid: it has a query or fragment",
        ),
        (
            // A URL that does not parse is shown without what could be a credential.
            build(base().base_url("https://user:pw@example.com:99999/v1#key")),
            "base URL `https://…@example.com:99999/v1#…` is invalid: invalid port number",
        ),
        (
            build(base().base_url("example.com")),
            "base URL `example.com` is invalid: relative URL without a base",
        ),
        (
            build(base().attempt_timeout(Duration::ZERO)),
            "the attempt timeout must be longer than zero",
        ),
        (
            build(base().deadline(Duration::ZERO)),
            "the deadline must be longer than zero",
        ),
        (
            build(base().rate_limit(RateLimit::per_second(0))),
            "the rate limit must allow at least one request per second and a burst of one",
        ),
        (
            build(base().user_agent_suffix("bad\r\nagent")),
            "the user agent suffix contains characters that cannot be sent in an HTTP header",
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(error.to_string(), expected);
        assert!(!format!("{error:?}").contains(API_SECRET));
    }
    for loopback in [
        "http://127.0.0.1:1",
        "http://127.1.2.3",
        "http://[::1]:8080/",
        "http://localhost:3000/base/",
        "https://api.example.com/stem",
    ] {
        let client = base().base_url(loopback).build().unwrap();
        assert!(
            !client.baseurl().ends_with('/'),
            "{loopback}: {}",
            client.baseurl()
        );
    }
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Keeps a second subscriber registered for the rest of the test binary. While exactly one is
/// registered, tracing works out the interest of a callsite first reached on another thread from
/// that thread's default alone (none, in a test without a subscriber) and caches "never", so a
/// test's own subscriber would miss that callsite; with two, it asks both.
pub(crate) fn share_interest() {
    static KEEP: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    KEEP.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
}

pub(crate) fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    share_interest();
    use tracing_subscriber::fmt::format::FmtSpan;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let captured = Captured::default();
    let writer = captured.clone();
    let guard = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .set_default();
    (captured, guard)
}

/// The span close lines of `text`: the calls' and the attempts' (an attempt's line shows its own
/// fields from `attempt{` on, after its call's).
pub(crate) fn closed_spans(text: &str) -> (Vec<&str>, Vec<&str>) {
    let closes = text.lines().filter(|l| l.contains(": close "));
    let (attempts, calls): (Vec<&str>, Vec<&str>) = closes.partition(|l| l.contains(":attempt{"));
    let attempts = attempts
        .into_iter()
        .map(|l| &l[l.find(":attempt{").unwrap()..])
        .collect();
    (calls, attempts)
}

#[tokio::test(start_paused = true)]
async fn a_span_per_call_and_per_attempt_with_the_conventions_fields_and_no_secret() {
    let (captured, _guard) = capture();
    let server = Server::start([Reply::status(503)]).await;
    let client = server.client();
    get(&client).await.unwrap();
    server.otherwise(Reply::status(404));
    get(&client).await.unwrap_err();
    let text = captured.text();
    let (calls, attempts) = closed_spans(&text);
    assert_eq!(calls.len(), 2, "{text}");
    for (line, status, attempts) in [(calls[0], 200, 2), (calls[1], 404, 1)] {
        for field in [
            "asapp_conversations{".to_owned(),
            "otel.name=\"getConversation\"".to_owned(),
            "asapp.operation=\"getConversation\"".to_owned(),
            format!("http.response.status_code={status}"),
            format!("asapp.attempts={attempts}"),
            "asapp.latency_ms=".to_owned(),
        ] {
            assert!(line.contains(&field), "{field} missing from {line}");
        }
        assert_eq!(
            line.contains("otel.status_code=\"ERROR\""),
            status == 404,
            "{line}"
        );
    }
    assert!(calls[1].contains("error.type=\"404\""), "{}", calls[1]);
    assert_eq!(attempts.len(), 3, "{text}");
    let port = server.url.rsplit(':').next().unwrap();
    for (line, status, resend) in [
        (attempts[0], 503, None),
        (attempts[1], 200, Some(1)),
        (attempts[2], 404, None),
    ] {
        for field in [
            "otel.name=\"GET /conversation/v1/conversations/{conversationId}\"".to_owned(),
            "otel.kind=\"client\"".to_owned(),
            "http.request.method=\"GET\"".to_owned(),
            "url.template=\"/conversation/v1/conversations/{conversationId}\"".to_owned(),
            "server.address=\"127.0.0.1\"".to_owned(),
            format!("server.port={port}"),
            format!("http.response.status_code={status}"),
        ] {
            assert!(line.contains(&field), "{field} missing from {line}");
        }
        assert_eq!(
            line.contains("http.request.resend_count"),
            resend.is_some(),
            "{line}"
        );
        if let Some(resend) = resend {
            assert!(
                line.contains(&format!("http.request.resend_count={resend}")),
                "{line}"
            );
        }
        let failed = status >= 400;
        assert_eq!(
            line.contains(&format!("error.type=\"{status}\"")),
            failed,
            "{line}"
        );
        assert_eq!(
            line.contains("otel.status_code=\"ERROR\""),
            failed,
            "{line}"
        );
    }
    assert!(text.contains("retrying"), "{text}");
    assert!(!text.contains(API_SECRET), "{text}");
    assert!(
        !text.contains(CONVERSATION),
        "no path with its ids in traces: {text}"
    );
    assert!(
        !text.contains("scripted"),
        "no response body in traces: {text}"
    );
}

#[tokio::test(start_paused = true)]
async fn transport_failures_are_typed_in_the_attempt_spans() {
    let (captured, _guard) = capture();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = ClientConfig::new(API_ID, API_SECRET)
        .base_url(&url)
        .retry_policy(RetryPolicy::custom([], [millis(1)]))
        .build()
        .unwrap();
    get(&client).await.unwrap_err();
    let server = Server::start([]).await;
    server.otherwise(Reply::ok().after(secs(60)));
    let client = server
        .config()
        .attempt_timeout(secs(1))
        .deadline(secs(3))
        .build()
        .unwrap();
    get(&client).await.unwrap_err();
    let text = captured.text();
    let (calls, attempts) = closed_spans(&text);
    assert_eq!(calls.len(), 2, "{text}");
    assert!(
        calls[0].contains("error.type=\"connection\""),
        "{}",
        calls[0]
    );
    assert!(
        calls[1].contains("error.type=\"deadline_exceeded\""),
        "{}",
        calls[1]
    );
    // Two refused connections; then 1 s, 250 ms, 1 s, 500 ms and the deadline 250 ms into the
    // third attempt.
    let types: Vec<&str> = attempts
        .iter()
        .map(|l| {
            let at = l.find("error.type=\"").unwrap() + "error.type=\"".len();
            &l[at..at + l[at..].find('"').unwrap()]
        })
        .collect();
    assert_eq!(
        types,
        ["connection", "connection", "timeout", "timeout", "timeout"],
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("retrying") && l.contains("refused")),
        "the cause of a retry is told: {text}"
    );
    assert!(!text.contains("for url"), "no URL in traces: {text}");
}

#[tokio::test(start_paused = true)]
async fn the_secret_is_in_no_rendering() {
    let (captured, _guard) = capture();
    let config = ClientConfig::new(API_ID, API_SECRET);
    let server = Server::start([Reply::status(401)]).await;
    let client = server.config().build().unwrap();
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        ClientConfig::new(API_ID, API_SECRET)
            .base_url(url)
            .build()
            .unwrap()
    };
    let mut renderings = vec![
        format!("{config:?}"),
        format!("{config:#?}"),
        config.to_string(),
        format!("{client:?}"),
        format!("{client:#?}"),
        client.to_string(),
        format!("{:?}", client.inner()),
    ];
    let unauthorized = get(&client).await.unwrap_err();
    let unreachable = get(&refused).await.unwrap_err();
    let invalid = client
        .get_conversation()
        .conversation_id("../x")
        .await
        .unwrap_err();
    for error in [&unauthorized, &unreachable, &invalid] {
        renderings.push(error.to_string());
        renderings.push(format!("{error:?}"));
    }
    assert!(unauthorized.is_unauthorized());
    renderings.push(captured.text());
    for rendering in renderings {
        assert!(!rendering.contains(API_SECRET), "{rendering}");
    }
    assert!(client.to_string().contains(API_ID));
}

/// `client/examples/quickstart.rs`, compiled into this binary so that its `run` can be called.
#[allow(dead_code)]
#[path = "../../client/examples/quickstart.rs"]
mod quickstart;

#[tokio::test(start_paused = true)]
async fn the_quickstart_creates_adds_and_reads_back() {
    let message = |role: &str, text: &str| {
        json!({
            "text": text,
            "sender": {"role": role, "externalId": format!("{role}-0001")},
            "messageId": "01GMXE90AEV7H3J4DPBDKB1R79",
            "createdTimestamp": "2024-01-23T11:42:42Z",
            "clientTimestamp": "2024-01-23T11:42:42Z"
        })
    };
    let server = Server::start([
        Reply::ok().body(json!({"id": CONVERSATION})),
        Reply::ok().body(json!({"id": "01GMXE90AEV7H3J4DPBDKB1R79"})),
        Reply::ok().body(json!({})),
        Reply::ok().body(json!({"items": [
            message("customer", "Hello"),
            message("agent", "Of course."),
            message("customer", "Thanks"),
        ]})),
    ])
    .await;
    let transcript = quickstart::run(&server.client(), "quickstart-test")
        .await
        .unwrap();
    assert_eq!(
        transcript,
        ["customer: Hello", "agent: Of course.", "customer: Thanks"]
    );
    let base = format!("/conversation/v1/conversations/{CONVERSATION}");
    let paths: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(
        paths,
        [
            "/conversation/v1/conversations".to_owned(),
            format!("{base}/messages"),
            format!("{base}/messages/batch"),
            format!("{base}/messages"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn customer_text_is_in_no_rendering_of_an_answer_that_does_not_decode() {
    // The marker stands for a customer's words: in the part of the answer that breaks the
    // description, beside it, or where the body is cut short.
    const MARKER: &str = "MARKER-my-card-number-is-4111";
    let (captured, _guard) = capture();
    let cut_after = |text: &str, marker: &str| {
        let end = text.find(marker).unwrap() + marker.len();
        text[..end].to_owned()
    };
    let listing = |field: &str, value: serde_json::Value| {
        let mut message = json!({
            "text": MARKER,
            "sender": {"role": "customer", "externalId": "c"},
            "messageId": "01GMXE90AEV7H3J4DPBDKB1R79",
            "createdTimestamp": "2021-11-23T12:13:16.853Z",
            "clientTimestamp": "2021-11-23T12:13:14.555Z",
        });
        message[field] = value;
        json!({"items": [message]}).to_string()
    };
    let cases = [
        (
            Reply::ok().raw(&listing("sender", MARKER.into())),
            "items[0].sender",
        ),
        (
            Reply::ok().raw(&listing("createdTimestamp", MARKER.into())),
            "items[0].createdTimestamp",
        ),
        (
            Reply::ok().raw(&listing("clientTimestamp", 7.into())),
            "items[0].clientTimestamp",
        ),
        (
            Reply::ok().raw(&listing("text", json!({MARKER: [MARKER]}))),
            "items[0].text",
        ),
        (
            Reply::ok().raw(&cut_after(&listing("text", MARKER.into()), MARKER)),
            "items[0]",
        ),
        (
            Reply::status(400)
                .raw(&json!({"error": {"requestId": 7, "message": MARKER}}).to_string()),
            "error.requestId",
        ),
    ];
    let mut renderings = Vec::new();
    for (reply, path) in cases {
        let server = Server::start([reply]).await;
        let error = server
            .client()
            .get_messages()
            .conversation_id(CONVERSATION)
            .await
            .unwrap_err();
        let ErrorKind::InvalidResponse(invalid) = error.kind() else {
            panic!("expected an invalid response, got {error:?}");
        };
        assert!(invalid.error().path().starts_with(path), "{error}");
        // The body stays reachable for who needs it.
        assert!(String::from_utf8_lossy(invalid.body()).contains(MARKER));
        assert!(
            error
                .to_string()
                .contains(&format!("does not match the description at {path}")),
            "{error}"
        );
        renderings.extend([
            error.to_string(),
            format!("{error:?}"),
            format!("{error:#?}"),
            invalid.to_string(),
            format!("{invalid:?}"),
            invalid.error().to_string(),
        ]);
    }
    renderings.push(captured.text());
    for rendering in &renderings {
        assert!(!rendering.contains("MARKER"), "{rendering}");
    }
    assert!(
        renderings[0].contains("bytes not shown"),
        "{}",
        renderings[0]
    );
}

#[tokio::test(start_paused = true)]
async fn an_adaptive_limit_slows_down_on_429s_and_429s_are_retried_until_the_deadline() {
    // Five 429s in a row, each to a request sent after the limit last came down: the rate halves
    // each time; the call goes on past ASAPP's three retries, within its deadline.
    let server = Server::start(std::iter::repeat_n(Reply::status(429), 5)).await;
    let client = server
        .config()
        .rate_limit(RateLimit::per_second(80).adaptive())
        .retry_policy(RetryPolicy::asapp().with_rate_limited_retries_until_deadline())
        .build()
        .unwrap();
    assert_eq!(client.rate_limit_now(), Some(80.0));
    get(&client).await.unwrap();
    // Halved five times, to 2.5; then the answer after the last 4 s wait earned 4 × 1.6.
    let rate = client.rate_limit_now().unwrap();
    assert!((rate - 8.9).abs() < 1e-9, "{rate}");
    let seen = server.seen();
    assert_eq!(seen.len(), 6);
    let waits: Vec<Duration> = seen.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert_eq!(
        waits[3..],
        [secs(4), secs(4)],
        "the last wait of the schedule, again"
    );
    // Answers that are not 429 earn the rate back: a fiftieth of 80 per second.
    tokio::time::advance(secs(10)).await;
    get(&client).await.unwrap();
    let rate = client.rate_limit_now().unwrap();
    assert!((rate - (8.9 + 16.0)).abs() < 1e-9, "{rate}");
    // Without `adaptive`, the limit stays where it was set.
    let server = Server::start([Reply::status(429)]).await;
    let fixed = server
        .config()
        .rate_limit(RateLimit::per_second(80))
        .build()
        .unwrap();
    get(&fixed).await.unwrap();
    assert_eq!(fixed.rate_limit_now(), Some(80.0));
}
