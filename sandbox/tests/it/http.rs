//! Raw HTTP against a sandbox started in-process.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use asapp_conversations::reqwest::{self, Method, StatusCode, header::HeaderMap};
use asapp_conversations_sandbox::{DEFAULT_API_ID, DEFAULT_API_SECRET, Sandbox, SandboxConfig};
use asapp_conversations_spec::{METHODS, Spec};
use serde_json::{Value, json};

const CONVERSATION: &str = "01BX5ZZKBKACTAV9WEVGEMMVRZ";
const MESSAGE: &str = "01GMXE90AEV7H3J4DPBDKB1R79";
const BASE: &str = "/conversation/v1/conversations";

/// One operation of the description, with a concrete path and a valid body.
#[derive(Debug, Clone)]
struct Operation {
    id: String,
    method: Method,
    template: String,
    path: String,
    body: Option<Value>,
    statuses: BTreeSet<u16>,
}

fn operations() -> Vec<Operation> {
    let spec = Spec::load().unwrap();
    let mut out = Vec::new();
    for (_, method, template, operation) in spec.operations() {
        let mut path = template
            .replace("{conversationId}", CONVERSATION)
            .replace("{messageId}", MESSAGE);
        let has_query = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(
                spec.document()["paths"][template]["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten(),
            )
            .any(|p| spec.resolve(p)["in"] == "query");
        if has_query {
            path.push_str("?externalId=id-111");
        }
        let body = operation.get("requestBody").map(|body| {
            let media = &spec.resolve(body)["content"]["application/json"];
            media
                .get("example")
                .cloned()
                .or_else(|| {
                    media["examples"]
                        .as_object()
                        .and_then(|e| e.values().next())
                        .map(|e| spec.resolve(e)["value"].clone())
                })
                .expect("every request body has an example")
        });
        let statuses = operation["responses"]
            .as_object()
            .unwrap()
            .keys()
            .filter_map(|s| s.parse().ok())
            .collect();
        out.push(Operation {
            id: operation["operationId"].as_str().unwrap().to_owned(),
            method: Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
            template: template.to_owned(),
            path,
            body,
            statuses,
        });
    }
    assert_eq!(out.len(), 9);
    out
}

fn operation(id: &str) -> Operation {
    operations().into_iter().find(|o| o.id == id).unwrap()
}

/// An answer, read whole.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    /// ASAPP's error envelope: (code, message); checks its shape.
    fn error(&self) -> (String, String) {
        let error = &self.body["error"];
        let code = error["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no code in {self:?}"));
        let message = error["message"].as_str().unwrap().to_owned();
        let request_id = error["requestId"].as_str().unwrap();
        assert!(!request_id.is_empty());
        let (status, serial) = code.split_once('-').unwrap();
        assert_eq!(status, self.status.as_str(), "{self:?}");
        assert!(serial.len() == 2 && serial.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(self.headers["content-type"], "application/json", "{self:?}");
        (code.to_owned(), message)
    }
}

struct Harness {
    sandbox: Sandbox,
    http: reqwest::Client,
}

impl Harness {
    async fn start() -> Self {
        Self::with(SandboxConfig::default()).await
    }

    async fn with(config: SandboxConfig) -> Self {
        Self {
            sandbox: Sandbox::start_with(config).await.unwrap(),
            http: reqwest::Client::new(),
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.sandbox.base_url()))
    }

    fn authed(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.request(method, path)
            .header("asapp-api-id", self.sandbox.api_id())
            .header("asapp-api-secret", self.sandbox.api_secret())
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {bytes:?}"))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Sends `body` as JSON to `operation`'s path, authenticated; checks the status is documented.
    async fn call(&self, operation: &Operation, body: Option<&Value>) -> Answer {
        let mut request = self.authed(operation.method.clone(), &operation.path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = self.send(request).await;
        assert!(
            operation.statuses.contains(&answer.status.as_u16()),
            "{}: {} is not documented: {answer:?}",
            operation.id,
            answer.status
        );
        answer
    }
}

#[tokio::test]
async fn the_seeded_conversation_answers_the_seeds_request() {
    let sandbox = Harness::start().await;
    let answer = sandbox.call(&operation("getConversation"), None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["id"], CONVERSATION);
    assert_eq!(answer.body["externalId"], "id-111");
    let answer = sandbox.call(&operation("getMessage"), None).await;
    assert_eq!(answer.body["messageId"], MESSAGE);
}

#[tokio::test]
async fn every_operation_with_its_example_succeeds() {
    let sandbox = Harness::start().await;
    for operation in operations() {
        let answer = sandbox.call(&operation, operation.body.as_ref()).await;
        assert!(answer.status.is_success(), "{}: {answer:?}", operation.id);
    }
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_401_on_every_operation() {
    let sandbox = Harness::start().await;
    for operation in operations() {
        let cases = [
            (None, None, "asapp-api-id is missing"),
            (Some(DEFAULT_API_ID), None, "asapp-api-secret is missing"),
            (Some(DEFAULT_API_ID), Some("wrong"), "do not match"),
            (Some("wrong"), Some(DEFAULT_API_SECRET), "do not match"),
        ];
        for (id, secret, expected) in cases {
            let mut request = sandbox.request(operation.method.clone(), &operation.path);
            if let Some(id) = id {
                request = request.header("asapp-api-id", id);
            }
            if let Some(secret) = secret {
                request = request.header("asapp-api-secret", secret);
            }
            if let Some(body) = &operation.body {
                request = request.json(body);
            }
            let answer = sandbox.send(request).await;
            assert_eq!(answer.status, 401, "{}: {answer:?}", operation.id);
            let (code, message) = answer.error();
            assert_eq!(code, "401-01");
            assert!(message.contains(expected), "{message}");
        }
    }
}

#[tokio::test]
async fn prefer_injects_each_documented_status_and_refuses_others() {
    let sandbox = Harness::start().await;
    let mut request_ids = BTreeSet::new();
    for operation in operations() {
        for status in operation.statuses.iter().filter(|s| **s >= 400) {
            let request = sandbox
                .authed(operation.method.clone(), &operation.path)
                .header("prefer", format!("code={status}"));
            let answer = sandbox.send(request).await;
            assert_eq!(answer.status.as_u16(), *status, "{}", operation.id);
            answer.error();
            assert!(request_ids.insert(answer.body["error"]["requestId"].to_string()));
            if *status == 429 {
                assert_eq!(answer.headers["retry-after"], "1");
            }
        }
        let request = sandbox
            .authed(operation.method.clone(), &operation.path)
            .header("prefer", "code=418");
        let answer = sandbox.send(request).await;
        assert_eq!(answer.status, 400, "{}", operation.id);
        assert!(answer.error().1.contains("code=418"), "{answer:?}");
    }
}

#[tokio::test]
async fn unknown_paths_are_404_and_other_methods_405_with_allow() {
    let sandbox = Harness::start().await;
    for path in [
        "/",
        "/conversation",
        "/conversation/v2/conversations",
        &format!("{BASE}/{CONVERSATION}/nothing"),
    ] {
        let answer = sandbox.send(sandbox.authed(Method::GET, path)).await;
        assert_eq!(answer.status, 404, "{path}");
        answer.error();
    }
    let mut declared: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for operation in operations() {
        let entry = declared
            .entry(operation.template.clone())
            .or_insert_with(|| (operation.path.clone(), BTreeSet::new()));
        entry.1.insert(operation.method.to_string());
    }
    for (template, (path, methods)) in declared {
        let mut allowed = methods.clone();
        if allowed.contains("GET") {
            allowed.insert("HEAD".to_owned());
        }
        for method in METHODS.iter().map(|m| m.to_uppercase()) {
            if allowed.contains(&method) {
                continue;
            }
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let answer = sandbox.send(sandbox.authed(method.clone(), &path)).await;
            assert_eq!(answer.status, 405, "{method} {template}");
            let allow: BTreeSet<String> = answer.headers["allow"]
                .to_str()
                .unwrap()
                .split(", ")
                .map(str::to_owned)
                .collect();
            assert_eq!(allow, allowed, "{method} {template}");
            // A HEAD answer has no body.
            if method != Method::HEAD {
                answer.error();
            }
        }
    }
}

#[tokio::test]
async fn bad_requests_are_400_naming_the_field() {
    let sandbox = Harness::start().await;
    let message = |text: Value, role: Value, timestamp: Value| json!({"text": text, "sender": {"role": role, "externalId": "c-1"}, "timestamp": timestamp});
    let good = || {
        message(
            json!("hi"),
            json!("customer"),
            json!("2024-01-23T11:42:42Z"),
        )
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "createMessage",
            message(json!(""), json!("customer"), json!("2024-01-23T11:42:42Z")),
            "/text",
        ),
        (
            "createMessage",
            message(json!("hi"), json!("bot"), json!("2024-01-23T11:42:42Z")),
            "/sender/role",
        ),
        (
            "createMessage",
            message(json!("hi"), json!("agent"), json!("yesterday")),
            "/timestamp",
        ),
        (
            "createMessage",
            message(json!("hi"), json!("agent"), json!("2024-01-23 11:42")),
            "/timestamp",
        ),
        (
            "createMessage",
            message(json!(7), json!("agent"), json!("2024-01-23T11:42:42Z")),
            "/text",
        ),
        (
            "createMessage",
            json!({"text": "hi", "timestamp": "2024-01-23T11:42:42Z"}),
            "sender",
        ),
        ("createMessage", json!([]), "/"),
        ("createBatchMessages", json!({"messages": []}), "/messages"),
        (
            "createBatchMessages",
            json!({"messages": vec![good(); 301]}),
            "/messages",
        ),
        (
            "createBatchMessages",
            json!({"messages": [good(), message(json!(""), json!("agent"), json!("2024-01-23T11:42:42Z"))]}),
            "/messages/1/text",
        ),
        ("createBatchMessages", json!({}), "messages"),
        (
            "createOrUpdateConversation",
            json!({"externalId": "x", "customer": "c", "timestamp": "2024-01-23T11:42:42Z"}),
            "/customer",
        ),
        (
            "createOrUpdateConversation",
            json!({"externalId": "x", "customer": {"externalId": "c"}}),
            "timestamp",
        ),
        (
            "createOrUpdateConversation",
            json!({"externalId": "x", "customer": {"externalId": "c"}, "timestamp": "2024-01-23T11:42:42Z", "metadata": {"a": 1}}),
            "/metadata/a",
        ),
        (
            "postAuthenticate",
            json!({"customerExternalId": "c", "auth": {}}),
            "/auth",
        ),
        (
            "postAuthenticate",
            json!({"customerExternalId": "c", "auth": {"body": "x"}}),
            "/auth/body",
        ),
    ];
    for (id, body, field) in cases {
        let answer = sandbox.call(&operation(id), Some(&body)).await;
        assert_eq!(answer.status, 400, "{id} {body}: {answer:?}");
        let (code, message) = answer.error();
        assert_eq!(code, "400-01", "{message}");
        assert!(
            message.contains(field),
            "{id}: `{field}` not named in: {message}"
        );
    }

    // Not JSON at all, and not declared as JSON.
    let create = operation("createMessage");
    let answer = sandbox
        .send(
            sandbox
                .authed(Method::POST, &create.path)
                .header("content-type", "application/json")
                .body("{\"text\": "),
        )
        .await;
    assert_eq!(answer.status, 400);
    let (code, message) = answer.error();
    assert_eq!(code, "400-02");
    assert!(
        message.contains("not valid JSON") && message.contains("column"),
        "{message}"
    );
    let answer = sandbox
        .send(
            sandbox
                .authed(Method::POST, &create.path)
                .body(good().to_string()),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert!(answer.error().1.contains("content-type application/json"));

    // Path parameters that do not match the pattern.
    for (template, value) in [
        ("getConversation", "abc"),
        ("getConversation", "A%2FB"),
        ("getMessage", "a.b"),
    ] {
        let operation = operation(template);
        let path = if template == "getMessage" {
            operation.path.replace(MESSAGE, value)
        } else {
            operation.path.replace(CONVERSATION, value)
        };
        let answer = sandbox.send(sandbox.authed(Method::GET, &path)).await;
        assert_eq!(answer.status, 400, "{path}: {answer:?}");
        assert!(answer.error().1.contains("^[A-Z0-9]+$"));
    }
    // A required query parameter missing.
    let answer = sandbox.send(sandbox.authed(Method::GET, BASE)).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer
            .error()
            .1
            .contains("query parameter externalId is required")
    );
}

#[tokio::test]
async fn oversize_bodies_are_413_where_documented_and_400_elsewhere() {
    let sandbox = Harness::with(SandboxConfig {
        max_body_bytes: 1024,
        ..SandboxConfig::default()
    })
    .await;
    let big = "x".repeat(2000);
    let body = json!({"text": big, "sender": {"role": "agent", "externalId": "a"}, "timestamp": "2024-01-23T11:42:42Z"});
    let answer = sandbox.call(&operation("createMessage"), Some(&body)).await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.error().0, "413-01");
    let body = json!({"customerExternalId": big, "auth": {"token": "t"}});
    let answer = sandbox
        .call(&operation("postAuthenticate"), Some(&body))
        .await;
    assert_eq!(answer.status, 400);
    assert!(answer.error().1.contains("larger than"));
}

#[tokio::test(start_paused = true)]
async fn latency_delays_every_answer() {
    let sandbox = Harness::with(SandboxConfig {
        latency: Duration::from_secs(2),
        ..SandboxConfig::default()
    })
    .await;
    let started = tokio::time::Instant::now();
    let answer = sandbox.call(&operation("getConversation"), None).await;
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() >= Duration::from_secs(2));
}

#[tokio::test]
async fn past_the_rate_limit_answers_429_with_retry_after() {
    let sandbox = Harness::with(SandboxConfig {
        rate_limit: Some(2),
        ..SandboxConfig::default()
    })
    .await;
    let get = operation("getConversation");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let answer = sandbox.call(&get, None).await;
        if answer.status == 429 {
            assert_eq!(answer.error().0, "429-01");
            let wait: u64 = answer.headers["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(wait >= 1);
        }
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(&statuses[..2], [200, 200]);
    assert!(statuses[2..].contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn the_store_is_capped_and_a_batch_is_all_or_nothing() {
    let sandbox = Harness::with(SandboxConfig {
        max_messages: 3,
        ..SandboxConfig::default()
    })
    .await;
    let message = json!({"text": "hi", "sender": {"role": "agent", "externalId": "a"}, "timestamp": "2024-01-23T11:42:42Z"});
    let create = operation("createMessage");
    assert_eq!(sandbox.call(&create, Some(&message)).await.status, 200);
    let batch = json!({"messages": [message, message]});
    let answer = sandbox
        .call(&operation("createBatchMessages"), Some(&batch))
        .await;
    assert_eq!(answer.status, 422);
    let (code, text) = answer.error();
    assert_eq!(code, "422-02");
    assert!(text.contains("at most 3 messages"), "{text}");
    let listed = sandbox.call(&operation("getMessages"), None).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(sandbox.call(&create, Some(&message)).await.status, 200);
    assert_eq!(sandbox.call(&create, Some(&message)).await.status, 422);
}

#[tokio::test]
async fn empty_starts_blank_and_shutdown_stops_listening() {
    let sandbox = Harness::with(SandboxConfig {
        seed: false,
        ..SandboxConfig::default()
    })
    .await;
    let answer = sandbox.call(&operation("getConversation"), None).await;
    assert_eq!(answer.status, 404);
    assert!(answer.error().1.contains(CONVERSATION));
    let addr = sandbox.sandbox.addr();
    sandbox.sandbox.shutdown().await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn hostile_requests_get_documented_refusals_never_5xx() {
    let sandbox = Harness::start().await;
    let bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"null".to_vec(),
        b"\xff\xfe\x00".to_vec(),
        b"{\"messages\": [".repeat(200),
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]".to_vec(),
        "{\"text\": \"\u{0}\u{feff}\", \"sender\": {\"role\": \"agent\", \"externalId\": \"\"}, \"timestamp\": \"9999-99-99T99:99:99Z\"}".as_bytes().to_vec(),
        b"{\"externalId\": 1e999}".to_vec(),
    ];
    for operation in operations().iter().filter(|o| o.body.is_some()) {
        for body in &bodies {
            let answer = sandbox
                .send(
                    sandbox
                        .authed(operation.method.clone(), &operation.path)
                        .header("content-type", "application/json")
                        .body(body.clone()),
                )
                .await;
            assert!(
                operation.statuses.contains(&answer.status.as_u16())
                    && answer.status.is_client_error(),
                "{} with {:?}: {answer:?}",
                operation.id,
                String::from_utf8_lossy(body)
            );
            answer.error();
        }
    }
    for path in [
        "/conversation/v1/conversations/%FF%FE",
        "/conversation/v1/conversations/%",
        "/conversation/v1/conversations//messages",
        "/conversation/v1/conversations/A/messages/%2e%2e",
        "/conversation/v1/conversation/messages?externalId=%FF",
    ] {
        let answer = sandbox.send(sandbox.authed(Method::GET, path)).await;
        assert!(answer.status.is_client_error(), "{path}: {answer:?}");
        answer.error();
    }
}
