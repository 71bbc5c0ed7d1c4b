//! Seeded faults: each kind at rate 1 does what it says (read back through `Prefer: code=200`,
//! which is never faulted), the 409 on the retry of a lost answer with exactly one copy stored,
//! the same faults for the same seed in any order, nothing at rate 0, the bounded memory, what
//! the client sees and retries, the `--faults` syntax and the counts.

use std::collections::BTreeMap;
use std::future::IntoFuture;
use std::time::{Duration, Instant};

use asapp_conversations::chrono::{TimeZone, Utc};
use asapp_conversations::reqwest::{self, Method};
use asapp_conversations::{ErrorKind, RetryPolicy, types};
use asapp_conversations_sandbox::{FaultCounts, Faults, FaultsError, Sandbox, SandboxConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const CONVERSATION: &str = "01BX5ZZKBKACTAV9WEVGEMMVRZ";
const BASE: &str = "/conversation/v1/conversations";

/// The longest any wait in these tests may take.
const LIMIT: Duration = Duration::from_secs(60);

/// `future`'s output, or a panic after [`LIMIT`].
async fn bounded<F: IntoFuture>(future: F) -> F::Output {
    tokio::time::timeout(LIMIT, future)
        .await
        .expect("timed out")
}

fn messages_path() -> String {
    format!("{BASE}/{CONVERSATION}/messages")
}

fn message(text: &str) -> Value {
    json!({
        "text": text,
        "sender": {"role": "agent", "externalId": "agent-1"},
        "timestamp": "2024-01-01T00:00:00Z",
    })
}

fn conversation(external_id: &str, agent: &str) -> Value {
    json!({
        "externalId": external_id,
        "customer": {"externalId": "customer-1"},
        "agent": {"externalId": agent},
        "timestamp": "2024-01-01T00:00:00Z",
    })
}

/// What one request got.
#[derive(Debug)]
enum Outcome {
    Answer {
        status: u16,
        headers: reqwest::header::HeaderMap,
        body: Value,
    },
    /// No answer: the transport failed.
    Failed(reqwest::Error),
}

impl Outcome {
    fn status(&self) -> Option<u16> {
        match self {
            Self::Answer { status, .. } => Some(*status),
            Self::Failed(_) => None,
        }
    }

    /// ASAPP's error envelope: the code, after checking the requestId is there.
    fn code(&self) -> &str {
        let Self::Answer { body, .. } = self else {
            panic!("no answer: {self:?}");
        };
        assert!(
            !body["error"]["requestId"].as_str().unwrap().is_empty(),
            "{self:?}"
        );
        body["error"]["code"].as_str().unwrap()
    }

    fn request_id(&self) -> String {
        let Self::Answer { body, .. } = self else {
            panic!("no answer: {self:?}");
        };
        body["error"]["requestId"].as_str().unwrap().to_owned()
    }

    /// A short comparable form: the status (503s with the fault's name, from the sandbox's
    /// message), or `dropped`.
    fn summary(&self) -> String {
        match self {
            Self::Answer {
                status: 503, body, ..
            } => {
                let message = body["error"]["message"].as_str().unwrap();
                let kind = ["503-before", "503-after"]
                    .into_iter()
                    .find(|kind| message.contains(kind))
                    .unwrap_or_else(|| panic!("{message}"));
                kind.to_owned()
            }
            Self::Answer { status, .. } => status.to_string(),
            Self::Failed(error) => {
                assert!(error.is_request(), "{error:?}");
                "dropped".to_owned()
            }
        }
    }
}

struct Harness {
    sandbox: Sandbox,
    http: reqwest::Client,
}

impl Harness {
    async fn with(faults: Faults) -> Self {
        Self::config(SandboxConfig {
            faults: Some(faults),
            ..SandboxConfig::default()
        })
        .await
    }

    async fn config(config: SandboxConfig) -> Self {
        Self {
            sandbox: bounded(Sandbox::start_with(config)).await.unwrap(),
            http: reqwest::Client::builder().timeout(LIMIT).build().unwrap(),
        }
    }

    fn request(&self, method: Method, path: &str, body: Option<&Value>) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .header("asapp-api-id", self.sandbox.api_id())
            .header("asapp-api-secret", self.sandbox.api_secret());
        if let Some(body) = body {
            request = request.json(body);
        }
        request
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Outcome {
        match bounded(request.send()).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let bytes = bounded(response.bytes()).await.unwrap();
                let body = if bytes.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&bytes).unwrap()
                };
                Outcome::Answer {
                    status,
                    headers,
                    body,
                }
            }
            Err(error) => Outcome::Failed(error),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Outcome {
        self.send(self.request(method, path, body)).await
    }

    async fn post(&self, path: &str, body: &Value) -> Outcome {
        self.call(Method::POST, path, Some(body)).await
    }

    /// The truth, read with `Prefer: code=200`, which no fault touches.
    async fn truth(&self, path: &str) -> Value {
        let outcome = self
            .send(
                self.request(Method::GET, path, None)
                    .header("prefer", "code=200"),
            )
            .await;
        let Outcome::Answer {
            status: 200, body, ..
        } = outcome
        else {
            panic!("{path}: {outcome:?}");
        };
        body
    }

    /// The texts of the example conversation's messages, oldest first (the seeded one too).
    async fn texts(&self) -> Vec<String> {
        self.truth(&messages_path()).await["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect()
    }

    fn counts(&self) -> FaultCounts {
        self.sandbox.faults_injected()
    }
}

/// The seeded message's text.
const SEEDED: &str = "Hello, I would like to upgrade my internet plan to GOLD.";

#[tokio::test]
async fn unavailable_before_storing_answers_503_on_every_operation_and_stores_nothing() {
    let sandbox = Harness::with(Faults {
        unavailable_before_storing: 1.0,
        ..Faults::default()
    })
    .await;
    let batch = json!({"messages": [message("one"), message("two")]});
    let writes = [
        (messages_path(), message("one")),
        (format!("{}/batch", messages_path()), batch),
        (BASE.to_owned(), conversation("call-1", "agent-1")),
    ];
    let mut request_ids = Vec::new();
    for (path, body) in &writes {
        let outcome = sandbox.post(path, body).await;
        assert_eq!(outcome.status(), Some(503), "{path}: {outcome:?}");
        assert_eq!(outcome.code(), "503-01");
        request_ids.push(outcome.request_id());
        // The retry is not a 409: nothing was stored.
        let retry = sandbox.post(path, body).await;
        assert_eq!(retry.status(), Some(503), "{path}: {retry:?}");
        request_ids.push(retry.request_id());
    }
    let reads = [
        format!("{BASE}/{CONVERSATION}"),
        format!("{BASE}?externalId=id-111"),
        messages_path(),
    ];
    for path in &reads {
        let outcome = sandbox.call(Method::GET, path, None).await;
        assert_eq!(outcome.status(), Some(503), "{path}: {outcome:?}");
        assert_eq!(outcome.code(), "503-01");
        request_ids.push(outcome.request_id());
    }
    request_ids.sort();
    request_ids.dedup();
    assert_eq!(request_ids.len(), 9, "every requestId is fresh");

    assert_eq!(sandbox.texts().await, [SEEDED]);
    let listed = sandbox.truth(&format!("{BASE}?externalId=call-1")).await;
    // No conversation: no `items`, or none.
    assert!(
        listed["items"].as_array().is_none_or(Vec::is_empty),
        "{listed}"
    );
    let counts = sandbox.counts();
    assert_eq!(counts.unavailable_before_storing, 9);
    assert_eq!(counts.total(), 9);
    assert_eq!(counts.conflicts, 0);
}

#[tokio::test]
async fn rate_limited_answers_429_with_retry_after_and_stores_nothing() {
    let sandbox = Harness::with(Faults {
        rate_limited: 1.0,
        retry_after: 7,
        ..Faults::default()
    })
    .await;
    for outcome in [
        sandbox.post(&messages_path(), &message("one")).await,
        sandbox
            .call(Method::GET, &format!("{BASE}/{CONVERSATION}"), None)
            .await,
    ] {
        let Outcome::Answer {
            status, headers, ..
        } = &outcome
        else {
            panic!("{outcome:?}");
        };
        assert_eq!(*status, 429);
        assert_eq!(headers["retry-after"], "7");
        assert_eq!(outcome.code(), "429-01");
    }
    assert_eq!(sandbox.texts().await, [SEEDED]);
    assert_eq!(sandbox.counts().rate_limited, 2);
    assert_eq!(sandbox.counts().total(), 2);
}

#[tokio::test]
async fn unavailable_after_storing_stores_once_and_the_retry_gets_409() {
    let sandbox = Harness::with(Faults {
        unavailable_after_storing: 1.0,
        ..Faults::default()
    })
    .await;
    let body = message("stored once");
    let first = sandbox.post(&messages_path(), &body).await;
    assert_eq!(first.status(), Some(503), "{first:?}");
    assert_eq!(first.code(), "503-01");
    assert_eq!(sandbox.texts().await, [SEEDED, "stored once"]);

    let retry = sandbox.post(&messages_path(), &body).await;
    assert_eq!(retry.status(), Some(409), "{retry:?}");
    assert_eq!(retry.code(), "409-01");
    assert_eq!(sandbox.texts().await, [SEEDED, "stored once"]);

    // A batch: all of it stored once.
    let path = format!("{}/batch", messages_path());
    let batch = json!({"messages": [message("b1"), message("b2"), message("b3")]});
    assert_eq!(sandbox.post(&path, &batch).await.status(), Some(503));
    assert_eq!(sandbox.post(&path, &batch).await.status(), Some(409));
    assert_eq!(
        sandbox.texts().await,
        [SEEDED, "stored once", "b1", "b2", "b3"]
    );

    // Reads never lose an answer.
    let read = sandbox
        .call(Method::GET, &format!("{BASE}/{CONVERSATION}"), None)
        .await;
    assert_eq!(read.status(), Some(200));

    let counts = sandbox.counts();
    assert_eq!(counts.unavailable_after_storing, 2);
    assert_eq!(counts.conflicts, 2);
    assert_eq!(counts.total(), 2);
}

#[tokio::test]
async fn a_dropped_connection_after_storing_sends_no_byte_and_the_retry_gets_409() {
    let sandbox = Harness::with(Faults {
        drop_after_storing: 1.0,
        ..Faults::default()
    })
    .await;

    // On the wire: the request is read whole, then the connection ends with nothing written.
    let body = serde_json::to_vec(&message("by hand")).unwrap();
    let mut request = format!(
        "POST {} HTTP/1.1\r\nhost: {}\r\nasapp-api-id: {}\r\nasapp-api-secret: {}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        messages_path(),
        sandbox.sandbox.addr(),
        sandbox.sandbox.api_id(),
        sandbox.sandbox.api_secret(),
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let mut stream = bounded(tokio::net::TcpStream::connect(sandbox.sandbox.addr()))
        .await
        .unwrap();
    bounded(stream.write_all(&request)).await.unwrap();
    let mut answer = Vec::new();
    match bounded(stream.read_to_end(&mut answer)).await {
        Ok(_) => {}
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
    }
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
    assert_eq!(sandbox.texts().await, [SEEDED, "by hand"]);

    // Through reqwest 0.13: a request error, not a connect, body, decode or timeout error.
    let body = message("through reqwest");
    let outcome = sandbox.post(&messages_path(), &body).await;
    let Outcome::Failed(error) = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(error.is_request(), "{error:?}");
    assert!(!error.is_connect(), "{error:?}");
    assert!(!error.is_body(), "{error:?}");
    assert!(!error.is_decode(), "{error:?}");
    assert!(!error.is_timeout(), "{error:?}");
    assert!(error.status().is_none(), "{error:?}");
    let cause = std::error::Error::source(error)
        .and_then(std::error::Error::source)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        cause.contains("connection closed before message completed"),
        "{cause}"
    );
    assert_eq!(
        sandbox.texts().await,
        [SEEDED, "by hand", "through reqwest"]
    );

    let retry = sandbox.post(&messages_path(), &body).await;
    assert_eq!(retry.status(), Some(409), "{retry:?}");
    assert_eq!(retry.code(), "409-01");
    assert_eq!(
        sandbox.texts().await,
        [SEEDED, "by hand", "through reqwest"]
    );

    let counts = sandbox.counts();
    assert_eq!(counts.dropped_after_storing, 2);
    assert_eq!(counts.conflicts, 1);
}

#[tokio::test]
async fn a_lost_upsert_answer_is_applied_again_by_default_or_409_with_upsert_409() {
    for (conflict_on_upsert, retried) in [(false, 200), (true, 409)] {
        let sandbox = Harness::with(Faults {
            unavailable_after_storing: 1.0,
            conflict_on_upsert,
            ..Faults::default()
        })
        .await;
        let body = conversation("call-1", "agent-1");
        assert_eq!(sandbox.post(BASE, &body).await.status(), Some(503));
        let listed = sandbox.truth(&format!("{BASE}?externalId=call-1")).await;
        let id = listed["items"][0]["id"].as_str().unwrap().to_owned();

        // With the rate still 1, the retry of the lost answer gets no fault.
        let retry = sandbox.post(BASE, &body).await;
        assert_eq!(retry.status(), Some(retried), "{retry:?}");
        match &retry {
            Outcome::Answer { body, .. } if retried == 200 => assert_eq!(body["id"], id),
            _ => assert_eq!(retry.code(), "409-01"),
        }
        let listed = sandbox.truth(&format!("{BASE}?externalId=call-1")).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        assert_eq!(listed["items"][0]["id"], id);
        let counts = sandbox.counts();
        assert_eq!(counts.unavailable_after_storing, 1);
        assert_eq!(counts.conflicts, u64::from(conflict_on_upsert));
    }
}

#[tokio::test]
async fn faults_touch_only_requests_that_would_otherwise_succeed() {
    let sandbox = Harness::with(Faults {
        unavailable_before_storing: 0.5,
        drop_after_storing: 0.5,
        jitter: Duration::from_secs(3600),
        ..Faults::default()
    })
    .await;
    let wrong_secret = sandbox
        .http
        .post(format!("{}{}", sandbox.sandbox.base_url(), messages_path()))
        .header("asapp-api-id", sandbox.sandbox.api_id())
        .header("asapp-api-secret", "wrong")
        .json(&message("x"));
    assert_eq!(sandbox.send(wrong_secret).await.status(), Some(401));
    let invalid = json!({"text": "", "sender": {"role": "agent", "externalId": "a"}});
    assert_eq!(
        sandbox.post(&messages_path(), &invalid).await.status(),
        Some(400)
    );
    let missing = format!("{BASE}/NOSUCHCONVERSATION/messages");
    for _ in 0..3 {
        assert_eq!(
            sandbox.post(&missing, &message("x")).await.status(),
            Some(404)
        );
        assert_eq!(
            sandbox
                .call(Method::GET, &format!("{BASE}/NOSUCHCONVERSATION"), None)
                .await
                .status(),
            Some(404)
        );
    }
    assert_eq!(
        sandbox.call(Method::GET, "/nowhere", None).await.status(),
        Some(404)
    );
    // Prefer: code= picks the answer, faults or not.
    for (code, expected) in [("422", 422), ("200", 200)] {
        let request = sandbox
            .request(Method::POST, &messages_path(), Some(&message(code)))
            .header("prefer", format!("code={code}"));
        assert_eq!(sandbox.send(request).await.status(), Some(expected));
    }
    assert_eq!(sandbox.texts().await, [SEEDED, "200"]);
    assert_eq!(sandbox.counts(), FaultCounts::default());
}

#[tokio::test]
async fn jitter_delays_each_request_by_its_seeded_share_of_the_maximum() {
    const REQUESTS: u32 = 8;
    let jitter = Duration::from_millis(40);
    let run = |seed| async move {
        let sandbox = Harness::with(Faults {
            jitter,
            seed,
            ..Faults::default()
        })
        .await;
        let mut elapsed = Duration::ZERO;
        for n in 0..REQUESTS {
            let started = Instant::now();
            let outcome = sandbox
                .post(&messages_path(), &message(&n.to_string()))
                .await;
            elapsed += started.elapsed();
            assert_eq!(outcome.status(), Some(200));
        }
        let counts = sandbox.counts();
        assert_eq!(counts.total(), 0);
        assert_eq!(counts.delayed, u64::from(REQUESTS));
        assert!(counts.delay <= jitter * REQUESTS, "{counts:?}");
        assert!(elapsed >= counts.delay, "{elapsed:?} < {counts:?}");
        counts.delay
    };
    let first = run(1).await;
    assert_eq!(run(1).await, first, "the same seed, the same delays");
    assert_ne!(run(2).await, first, "another seed, other delays");
}

/// One request sent until it is answered without a fault (at most 4 times, as the client's
/// schedule does): each attempt's outcome.
async fn chain(sandbox: &Harness, method: Method, path: &str, body: Option<&Value>) -> Vec<String> {
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        let outcome = sandbox.call(method.clone(), path, body).await.summary();
        let done = outcome == "200" || outcome == "409";
        outcomes.push(outcome);
        if done {
            break;
        }
    }
    outcomes
}

/// The requests of the determinism test: creates, batches, and reads, each distinct.
fn requests() -> Vec<(Method, String, Option<Value>)> {
    let mut out = Vec::new();
    for n in 0..24 {
        out.push((
            Method::POST,
            messages_path(),
            Some(message(&format!("m{n}"))),
        ));
    }
    for n in 0..8 {
        let batch = json!({"messages": [message(&format!("b{n}a")), message(&format!("b{n}b"))]});
        out.push((
            Method::POST,
            format!("{}/batch", messages_path()),
            Some(batch),
        ));
    }
    for n in 0..8 {
        out.push((Method::GET, format!("{BASE}?externalId=x{n}"), None));
    }
    out
}

/// Every request's chain, all sent at once in `order`; and the messages stored, sorted.
async fn run_all(
    seed: u64,
    order: &[usize],
) -> (BTreeMap<usize, Vec<String>>, Vec<String>, FaultCounts) {
    let sandbox = std::sync::Arc::new(
        Harness::with(Faults {
            unavailable_before_storing: 0.15,
            rate_limited: 0.15,
            unavailable_after_storing: 0.15,
            drop_after_storing: 0.15,
            jitter: Duration::from_millis(5),
            seed,
            ..Faults::default()
        })
        .await,
    );
    let requests = requests();
    let mut tasks = tokio::task::JoinSet::new();
    for &index in order {
        let (method, path, body) = requests[index].clone();
        let sandbox = sandbox.clone();
        tasks.spawn(async move { (index, chain(&sandbox, method, &path, body.as_ref()).await) });
    }
    let mut outcomes = BTreeMap::new();
    while let Some(done) = bounded(tasks.join_next()).await {
        let (index, chain) = done.unwrap();
        outcomes.insert(index, chain);
    }
    let mut texts = sandbox.texts().await;
    texts.sort();
    (outcomes, texts, sandbox.counts())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_faults_in_any_order() {
    let forward: Vec<usize> = (0..requests().len()).collect();
    // Interleaved from both ends: every request starts beside other neighbours.
    let mut mixed = Vec::new();
    let (mut low, mut high) = (0, forward.len());
    while low < high {
        high -= 1;
        mixed.push(high);
        if low < high {
            mixed.push(low);
        }
        low += 1;
    }
    let (outcomes, texts, counts) = run_all(42, &forward).await;
    let (again, texts_again, counts_again) = run_all(42, &mixed).await;
    assert_eq!(outcomes, again);
    assert_eq!(texts, texts_again);
    assert_eq!(counts, counts_again);

    // Every kind happened; every write is stored once for each of its attempts answered 200
    // or stored with the answer lost, which is at most once: the retry of a lost answer is a 409.
    let all: Vec<&String> = outcomes.values().flatten().collect();
    for kind in ["503-before", "503-after", "429", "dropped", "409", "200"] {
        assert!(all.iter().any(|o| *o == kind), "no {kind} in {outcomes:?}");
    }
    let requests = requests();
    let mut expected = vec![SEEDED.to_owned()];
    for (index, chain) in &outcomes {
        let (_, _, Some(body)) = &requests[*index] else {
            continue;
        };
        let stored = chain
            .iter()
            .filter(|o| matches!(o.as_str(), "200" | "503-after" | "dropped"))
            .count();
        assert!(stored <= 1, "{chain:?}");
        if chain.last().is_some_and(|o| o == "409") {
            assert_eq!(stored, 1, "{chain:?}");
        }
        let texts: Vec<String> = match body.get("messages") {
            Some(batch) => batch
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["text"].as_str().unwrap().to_owned())
                .collect(),
            None => vec![body["text"].as_str().unwrap().to_owned()],
        };
        for _ in 0..stored {
            expected.extend(texts.iter().cloned());
        }
    }
    expected.sort();
    assert_eq!(texts, expected);

    let (other, _, _) = run_all(7, &forward).await;
    assert_ne!(outcomes, other, "another seed, other faults");
}

#[tokio::test]
async fn rate_zero_injects_nothing() {
    // The jitter turns the injector on, so that every request below is drawn against the rates,
    // all 0: with no fault at all there is no injector, and nothing is drawn.
    let sandbox = Harness::with(Faults {
        jitter: Duration::from_millis(1),
        seed: 99,
        ..Faults::default()
    })
    .await;
    for n in 0..20 {
        let body = message(&format!("m{n}"));
        assert_eq!(
            sandbox.post(&messages_path(), &body).await.status(),
            Some(200)
        );
        // The same body again: a second message, not a 409.
        assert_eq!(
            sandbox.post(&messages_path(), &body).await.status(),
            Some(200)
        );
        let read = sandbox.call(Method::GET, &messages_path(), None).await;
        assert_eq!(read.status(), Some(200));
    }
    assert_eq!(sandbox.texts().await.len(), 41);
    let counts = sandbox.counts();
    assert_eq!(counts.total(), 0, "{counts:?}");
    assert_eq!(counts.conflicts, 0, "{counts:?}");
    assert_eq!(counts.skipped, 0, "{counts:?}");
    // The 60 requests went through the injector (not the reads of the texts, with `Prefer`).
    assert_eq!(counts.delayed, 60, "{counts:?}");
}

#[tokio::test]
async fn the_memory_of_faulted_requests_is_bounded_and_never_forgets_a_lost_answer() {
    let sandbox = Harness::with(Faults {
        unavailable_after_storing: 1.0,
        memory: 2,
        ..Faults::default()
    })
    .await;
    let post = |text: &str| {
        let body = message(text);
        let sandbox = &sandbox;
        async move { sandbox.post(&messages_path(), &body).await.status() }
    };
    assert_eq!(post("a").await, Some(503));
    assert_eq!(post("b").await, Some(503));
    // Full: no fault for a request it does not remember.
    assert_eq!(post("c").await, Some(200));
    assert_eq!(sandbox.counts().skipped, 1);
    // The 409 ends "a"'s story and frees its place.
    assert_eq!(post("a").await, Some(409));
    assert_eq!(post("d").await, Some(503));
    assert_eq!(post("b").await, Some(409));
    assert_eq!(post("d").await, Some(409));
    assert_eq!(sandbox.texts().await, [SEEDED, "a", "b", "c", "d"]);
    let counts = sandbox.counts();
    assert_eq!(counts.unavailable_after_storing, 3);
    assert_eq!(counts.conflicts, 3);
    assert_eq!(counts.skipped, 1);
}

fn client_message(text: &str) -> types::Message {
    types::Message::builder()
        .text(text)
        .sender(
            types::Participant::builder()
                .role(types::ParticipantRole::Agent)
                .external_id("agent-1"),
        )
        .timestamp(Utc.timestamp_opt(1_700_000_000, 0).unwrap())
        .try_into()
        .unwrap()
}

/// Retries after 1 ms, so that the tests do not wait ASAPP's schedule.
fn quick() -> RetryPolicy {
    RetryPolicy::custom([Duration::from_millis(1); 3], [Duration::from_millis(1); 3])
        .with_max_retry_after(Duration::from_millis(1))
}

#[tokio::test]
async fn the_client_retries_a_dropped_connection_and_reports_the_409_as_already_persisted() {
    for (faults, kind) in [
        (
            Faults {
                drop_after_storing: 1.0,
                ..Faults::default()
            },
            "dropped",
        ),
        (
            Faults {
                unavailable_after_storing: 1.0,
                ..Faults::default()
            },
            "503",
        ),
    ] {
        let sandbox = Harness::with(faults).await;
        let client = sandbox
            .sandbox
            .client_config()
            .retry_policy(quick())
            .build()
            .unwrap();
        let error = bounded(
            client
                .create_message()
                .conversation_id(CONVERSATION)
                .body(client_message("once")),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::AlreadyPersisted { .. }),
            "{kind}: {error}"
        );
        assert_eq!(error.attempts(), 2, "{kind}: {error}");
        let batch: types::BatchMessages = types::BatchMessages::builder()
            .messages(vec![client_message("batch 1"), client_message("batch 2")])
            .try_into()
            .unwrap();
        let error = bounded(
            client
                .create_batch_messages()
                .conversation_id(CONVERSATION)
                .body(batch),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::AlreadyPersisted { .. }),
            "{kind}: {error}"
        );
        assert_eq!(error.attempts(), 2);
        assert_eq!(
            sandbox.texts().await,
            [SEEDED, "once", "batch 1", "batch 2"]
        );
    }
}

#[tokio::test]
async fn without_retries_the_client_reports_a_dropped_connection_as_a_transport_failure() {
    let sandbox = Harness::with(Faults {
        drop_after_storing: 1.0,
        ..Faults::default()
    })
    .await;
    let client = sandbox
        .sandbox
        .client_config()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = bounded(
        client
            .create_message()
            .conversation_id(CONVERSATION)
            .body(client_message("once")),
    )
    .await
    .unwrap_err();
    let ErrorKind::Transport { error: cause } = error.kind() else {
        panic!("{error}");
    };
    assert!(cause.is_request() && !cause.is_connect() && !cause.is_body());
    assert_eq!(error.attempts(), 1);
    assert_eq!(error.status(), None);
    assert!(error.is_retryable());
    assert!(
        error
            .to_string()
            .contains("connection closed before message completed"),
        "{error}"
    );
    assert_eq!(sandbox.texts().await, [SEEDED, "once"]);
}

#[tokio::test]
async fn the_client_retries_503_and_429_before_storing_then_reports_the_status() {
    for (faults, status) in [
        (
            Faults {
                unavailable_before_storing: 1.0,
                ..Faults::default()
            },
            503,
        ),
        (
            Faults {
                rate_limited: 1.0,
                ..Faults::default()
            },
            429,
        ),
    ] {
        let sandbox = Harness::with(faults).await;
        let client = sandbox
            .sandbox
            .client_config()
            .retry_policy(quick())
            .build()
            .unwrap();
        let error = bounded(
            client
                .create_message()
                .conversation_id(CONVERSATION)
                .body(client_message("never")),
        )
        .await
        .unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Status { .. }), "{error}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.attempts(), 4);
        assert_eq!(sandbox.texts().await, [SEEDED]);
        assert_eq!(sandbox.counts().total(), 4);
    }
}

#[tokio::test]
async fn the_client_sees_a_lost_upsert_answer_as_200_by_default_and_409_with_upsert_409() {
    for conflict_on_upsert in [false, true] {
        let sandbox = Harness::with(Faults {
            drop_after_storing: 1.0,
            conflict_on_upsert,
            ..Faults::default()
        })
        .await;
        let client = sandbox
            .sandbox
            .client_config()
            .retry_policy(quick())
            .build()
            .unwrap();
        let body: types::TimeBasedConversation =
            serde_json::from_value(conversation("call-1", "agent-1")).unwrap();
        let answer = bounded(client.create_or_update_conversation().body(body)).await;
        let listed = sandbox.truth(&format!("{BASE}?externalId=call-1")).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        if conflict_on_upsert {
            let error = answer.unwrap_err();
            // The client's AlreadyPersisted is for message creates: an upsert's 409 is a status.
            assert!(matches!(error.kind(), ErrorKind::Status { .. }), "{error}");
            assert_eq!(error.status().map(|s| s.as_u16()), Some(409));
            assert_eq!(error.attempts(), 2);
        } else {
            let id = answer.unwrap().into_inner().id.unwrap();
            assert_eq!(listed["items"][0]["id"], id);
        }
        assert_eq!(sandbox.counts().dropped_after_storing, 1);
    }
}

#[test]
fn the_faults_syntax_takes_every_name_and_writes_itself_back() {
    let faults: Faults = "503-before=0.05, 503-after=0.05,drop-after=0.05,429=0.05,jitter=20ms"
        .parse()
        .unwrap();
    assert_eq!(
        faults,
        Faults {
            unavailable_before_storing: 0.05,
            unavailable_after_storing: 0.05,
            drop_after_storing: 0.05,
            rate_limited: 0.05,
            jitter: Duration::from_millis(20),
            ..Faults::default()
        }
    );
    let everything: Faults = "429=1,retry-after=3,upsert=409,memory=10,jitter=1.5s"
        .parse()
        .unwrap();
    assert_eq!(everything.rate_limited, 1.0);
    assert_eq!(everything.retry_after, 3);
    assert!(everything.conflict_on_upsert);
    assert_eq!(everything.memory, 10);
    assert_eq!(everything.jitter, Duration::from_millis(1500));
    for faults in [faults, everything] {
        assert_eq!(faults.to_string().parse::<Faults>().unwrap(), faults);
    }
    // Rates of decimal fractions that add up to 1.
    assert!(
        "503-before=0.7,429=0.2,drop-after=0.1"
            .parse::<Faults>()
            .is_ok()
    );
}

#[test]
fn the_faults_syntax_refuses_bad_input_naming_the_part() {
    let cases = [
        ("", "no faults given"),
        ("503-before", "`503-before`: expected NAME=VALUE"),
        (
            "503-befor=0.1",
            "`503-befor=0.1`: unknown fault `503-befor`",
        ),
        ("429=1.5", "`429=1.5`: a rate is a probability"),
        ("429=-0.1", "`429=-0.1`: a rate is a probability"),
        ("429=NaN", "`429=NaN`: a rate is a probability"),
        (
            "drop-after=often",
            "`drop-after=often`: a rate is a probability",
        ),
        ("429=0.1,429=0.2", "`429=0.2`: `429` is given twice"),
        ("jitter=fast", "`jitter=fast`: the jitter is a duration"),
        (
            "retry-after=1.5",
            "`retry-after=1.5`: retry-after is a whole number",
        ),
        ("upsert=201", "`upsert=201`: upsert is 200 or 409"),
        ("memory=0", "`memory=0`: memory is a number of requests"),
        (
            "503-before=0.6,503-after=0.6",
            "the fault rates add up to 1.2",
        ),
    ];
    for (text, expected) in cases {
        let error = text.parse::<Faults>().unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with(expected), "{text}: {message}");
        assert!(!message.ends_with('.'), "{message}");
    }
}

#[tokio::test]
async fn a_sandbox_with_invalid_faults_does_not_start() {
    let config = SandboxConfig {
        faults: Some(Faults {
            drop_after_storing: 2.0,
            ..Faults::default()
        }),
        ..SandboxConfig::default()
    };
    let error = Sandbox::start_with(config).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid faults: the rate of drop-after is 2; a rate is a probability, a number from 0 to 1"
    );
    assert!(matches!(
        std::error::Error::source(&error).and_then(|e| e.downcast_ref::<FaultsError>()),
        Some(FaultsError::RateOutOfRange { .. })
    ));
}

/// The binary, run with `args`: its exit status and its stderr, or a timeout.
async fn sandbox_binary(args: &[&str]) -> std::process::Output {
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_asapp-sandbox"))
        .args(args)
        .kill_on_drop(true)
        .output();
    bounded(command).await.unwrap()
}

#[tokio::test]
async fn the_binary_refuses_bad_faults_with_a_clear_message_and_documents_them() {
    let output = sandbox_binary(&["--faults", "503-before=0.1,jitter=soon"]).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("`jitter=soon`: the jitter is a duration such as 20ms or 1s"),
        "{stderr}"
    );
    let output = sandbox_binary(&["--fault-seed", "3"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("--faults")
    );

    let output = sandbox_binary(&["--help"]).await;
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for part in [
        "--faults",
        "--fault-seed",
        "503-before",
        "drop-after",
        "upsert=200|409",
    ] {
        assert!(help.contains(part), "{part} not in {help}");
    }
}

#[tokio::test]
async fn the_binary_starts_with_faults_and_says_which() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_asapp-sandbox"))
        .args([
            "--port",
            "0",
            "--faults",
            "drop-after=0.25,jitter=5ms",
            "--fault-seed",
            "42",
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout);
    let mut text = String::new();
    for _ in 0..2 {
        bounded(tokio::io::AsyncBufReadExt::read_line(&mut lines, &mut text))
            .await
            .unwrap();
    }
    assert!(
        text.starts_with("asapp-sandbox listening on http://127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.contains(
            "injecting faults 503-before=0,503-after=0,drop-after=0.25,429=0,jitter=5ms,\
             retry-after=1,upsert=200,memory=100000 with seed 42"
        ),
        "{text}"
    );
    child.start_kill().unwrap();
    bounded(child.wait()).await.unwrap();
}
