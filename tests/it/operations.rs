//! Each operation of the generated client against a local server on 127.0.0.1.
//!
//! The operations, their parameters' values, request bodies, documented statuses and response
//! examples all come from the spec; only the typed call of each operation is written here
//! ([`call`]), and [`every_operation_has_a_call`] fails when the spec gains one without it.

use asapp_conversations::{ApiError, Client, ClientConfig, ErrorKind, RetryPolicy, types};
use asapp_conversations_spec::{METHODS, Spec};
use serde::de::DeserializeOwned;
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::conformance::first_difference;

/// The values an operation is called with.
#[derive(Debug, Clone, Default)]
struct Input {
    conversation_id: String,
    message_id: String,
    external_id: String,
    body: Value,
}

type Outcome = Result<Value, ApiError>;

const API_ID: &str = "test-api-id";
const API_SECRET: &str = "test-api-secret";

/// A client for a local server that makes one attempt per call: these tests are about what is
/// sent and how answers decode; the retries have their own tests in `client_layer`.
pub(crate) fn client(base_url: &str) -> Client {
    ClientConfig::new(API_ID, API_SECRET)
        .base_url(base_url)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("a valid configuration")
}

fn body<T: DeserializeOwned>(input: &Input) -> T {
    serde_json::from_value(input.body.clone())
        .expect("the spec's request example fits the body type")
}

fn json(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("generated types serialize")
}

/// Calls operation `operation_id` by awaiting its builder; the success value as JSON.
async fn call(client: &Client, operation_id: &str, input: &Input) -> Outcome {
    let conversation_id = input.conversation_id.as_str();
    match operation_id {
        "createOrUpdateConversation" => client
            .create_or_update_conversation()
            .body(body::<types::TimeBasedConversation>(input))
            .await
            .map(|r| json(r.into_inner())),
        "getConversations" => client
            .get_conversations()
            .external_id(input.external_id.as_str())
            .await
            .map(|r| json(r.into_inner())),
        "getConversation" => client
            .get_conversation()
            .conversation_id(conversation_id)
            .await
            .map(|r| json(r.into_inner())),
        "postAuthenticate" => client
            .post_authenticate()
            .conversation_id(conversation_id)
            .body(body::<types::AuthObject>(input))
            .await
            .map(|_| Value::Null),
        "createMessage" => client
            .create_message()
            .conversation_id(conversation_id)
            .body(body::<types::Message>(input))
            .await
            .map(|r| json(r.into_inner())),
        "createBatchMessages" => client
            .create_batch_messages()
            .conversation_id(conversation_id)
            .body(body::<types::BatchMessages>(input))
            .await
            .map(|r| json(r.into_inner())),
        "getMessages" => client
            .get_messages()
            .conversation_id(conversation_id)
            .await
            .map(|r| json(r.into_inner())),
        "getMessage" => client
            .get_message()
            .conversation_id(conversation_id)
            .message_id(input.message_id.as_str())
            .await
            .map(|r| json(r.into_inner())),
        "getMessagesByExternalId" => client
            .get_messages_by_external_id()
            .external_id(input.external_id.as_str())
            .await
            .map(|r| json(r.into_inner())),
        other => panic!("no call for operation `{other}`: add one to tests/it/operations.rs"),
    }
}

/// One operation as the spec describes it.
#[derive(Debug, Clone)]
struct Operation {
    id: String,
    method: String,
    /// The path with every parameter replaced by its example.
    path: String,
    /// The query string built from the query parameters' examples, if any.
    query: Option<String>,
    /// The input, with the first request body example.
    input: Input,
    /// Every request body example (none for an operation without a body).
    bodies: Vec<Value>,
    /// The documented success status and its example body (`None` for a status without one).
    success: (u16, Option<Value>),
    /// Each documented error status with its example body.
    errors: Vec<(u16, Value)>,
    /// The `default` response's example body.
    default_error: Value,
    /// Names of the path parameters.
    path_parameters: Vec<String>,
}

/// Every example of a response or request body's JSON media type, `example` first.
fn media_examples(spec: &Spec, owner: &Value) -> Vec<Value> {
    let Some(media) = spec
        .resolve(owner)
        .get("content")
        .and_then(|content| content.get("application/json"))
    else {
        return Vec::new();
    };
    let named = media
        .get("examples")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    media
        .get("example")
        .cloned()
        .into_iter()
        .chain(named.filter_map(|(_, example)| spec.resolve(example).get("value").cloned()))
        .collect()
}

/// The first example of a response or request body's JSON media type.
fn media_example(spec: &Spec, owner: &Value) -> Option<Value> {
    media_examples(spec, owner).into_iter().next()
}

impl Operation {
    /// One input per request body example (just the one input without a body).
    fn inputs(&self) -> Vec<Input> {
        if self.bodies.is_empty() {
            return vec![self.input.clone()];
        }
        let with = |body: &Value| Input {
            body: body.clone(),
            ..self.input.clone()
        };
        self.bodies.iter().map(with).collect()
    }
}

fn operations(spec: &Spec) -> Vec<Operation> {
    let document = spec.document();
    let mut out = Vec::new();
    for (path_template, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let mut input = Input::default();
            let mut path = path_template.clone();
            let mut query = Vec::new();
            let mut path_parameters = Vec::new();
            let parameters = item
                .get("parameters")
                .into_iter()
                .chain(operation.get("parameters"));
            for parameter in parameters.flat_map(|p| p.as_array().unwrap()) {
                let parameter = spec.resolve(parameter);
                let name = parameter["name"].as_str().unwrap();
                let example = parameter["example"]
                    .as_str()
                    .expect("every parameter has an example")
                    .to_owned();
                match (parameter["in"].as_str().unwrap(), name) {
                    ("path", _) => {
                        path = path.replace(&format!("{{{name}}}"), &example);
                        path_parameters.push(name.to_owned());
                    }
                    ("query", _) => query.push(format!("{name}={example}")),
                    (place, _) => panic!("parameters in {place} are not exercised yet"),
                }
                match name {
                    "conversationId" => input.conversation_id = example,
                    "messageId" => input.message_id = example,
                    "externalId" => input.external_id = example,
                    other => panic!("no input for parameter `{other}`"),
                }
            }
            let bodies = operation
                .get("requestBody")
                .map(|body| media_examples(spec, body))
                .unwrap_or_default();
            if operation.get("requestBody").is_some() {
                input.body = bodies
                    .first()
                    .cloned()
                    .expect("every request body has an example");
            }
            let responses = operation["responses"].as_object().unwrap();
            let mut success = None;
            let mut errors = Vec::new();
            for (status, response) in responses {
                let Ok(code) = status.parse::<u16>() else {
                    continue;
                };
                let example = media_example(spec, response);
                if code < 300 {
                    success = Some((code, example));
                } else {
                    errors.push((code, example.expect("every error response has an example")));
                }
            }
            out.push(Operation {
                id: operation["operationId"].as_str().unwrap().to_owned(),
                method: method.to_uppercase(),
                path,
                query: (!query.is_empty()).then(|| query.join("&")),
                input,
                bodies,
                success: success.expect("every operation documents a success"),
                errors,
                default_error: media_example(spec, &responses["default"])
                    .expect("default has an example"),
                path_parameters,
            });
        }
    }
    out
}

async fn answer(server: &MockServer, status: u16, body: Option<&str>) {
    server.reset().await;
    let mut template = ResponseTemplate::new(status);
    if let Some(body) = body {
        template = template.set_body_raw(body.as_bytes().to_vec(), "application/json");
    }
    Mock::given(any())
        .respond_with(template)
        .mount(server)
        .await;
}

fn error_envelope(outcome: Outcome, status: u16, context: &str) -> Value {
    match outcome {
        Err(error) => match error.kind() {
            ErrorKind::Status {
                status: received,
                details,
            } => {
                assert_eq!(received.as_u16(), status, "{context}");
                assert_eq!(error.attempts(), 1, "{context}");
                let mut envelope = types::ErrorResponse::default();
                envelope.error = details.clone();
                json(envelope)
            }
            other => panic!("{context}: expected the typed error envelope, got {other:?}"),
        },
        Ok(value) => panic!("{context}: expected the typed error envelope, got {value}"),
    }
}

#[tokio::test]
async fn every_operation_has_a_call() {
    let spec = Spec::load().unwrap();
    let client = client("http://127.0.0.1:9");
    let mut ids = Vec::new();
    for (_, _, _, operation) in spec.operations() {
        ids.push(operation["operationId"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 9, "{ids:?}");
    // Nothing listens on the discard port: a call that exists fails to connect, a missing one
    // panics with its name.
    for id in ids {
        let input = operations(&spec)
            .into_iter()
            .find(|o| o.id == id)
            .unwrap()
            .input;
        let outcome = call(&client, &id, &input).await;
        assert!(
            matches!(
                outcome.as_ref().map_err(ApiError::kind),
                Err(ErrorKind::Connection { .. })
            ),
            "{id}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn requests_carry_the_right_method_path_query_and_body() {
    let spec = Spec::load().unwrap();
    let server = MockServer::start().await;
    let client = client(&server.uri());
    let mut calls = 0;
    for (operation, input) in operations(&spec).into_iter().flat_map(|operation| {
        operation
            .inputs()
            .into_iter()
            .map(move |input| (operation.clone(), input))
    }) {
        calls += 1;
        let (status, example) = &operation.success;
        let body = example.as_ref().map(Value::to_string);
        answer(&server, *status, body.as_deref()).await;
        let value = call(&client, &operation.id, &input)
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", operation.id));

        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 1, "{}", operation.id);
        let request = &requests[0];
        assert_eq!(
            request.method.as_str(),
            operation.method,
            "{}",
            operation.id
        );
        assert_eq!(request.url.path(), operation.path, "{}", operation.id);
        assert_eq!(
            request.url.query(),
            operation.query.as_deref(),
            "{}",
            operation.id
        );
        for (header, value) in [
            ("api-version", "0.1"),
            ("asapp-api-id", API_ID),
            ("asapp-api-secret", API_SECRET),
            ("user-agent", asapp_conversations::USER_AGENT),
        ] {
            assert_eq!(
                request.headers.get(header).map(|v| v.to_str().unwrap()),
                Some(value),
                "{}: {header}",
                operation.id
            );
        }
        if input.body.is_null() {
            assert!(request.body.is_empty(), "{}", operation.id);
        } else {
            assert_eq!(
                request.headers.get("content-type").unwrap(),
                "application/json",
                "{}",
                operation.id
            );
            let sent: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(
                first_difference(&input.body, &sent, String::new()),
                None,
                "{}",
                operation.id
            );
        }

        match example {
            Some(example) => assert_eq!(
                first_difference(example, &value, String::new()),
                None,
                "{}",
                operation.id
            ),
            None => assert_eq!(
                value,
                Value::Null,
                "{}: a 204 is an empty success",
                operation.id
            ),
        }
    }
    // Every request example was sent: count them from the spec, not from the loop.
    let expected: usize = operations(&spec).iter().map(|o| o.inputs().len()).sum();
    assert_eq!(calls, expected);
    assert!(calls > 9, "some request bodies have several examples");
}

#[tokio::test]
async fn error_statuses_decode_to_the_error_envelope() {
    let spec = Spec::load().unwrap();
    let server = MockServer::start().await;
    let client = client(&server.uri());
    for operation in operations(&spec) {
        // Every documented error status with its own example, then statuses covered only by
        // `default`: an undocumented 4xx and an undocumented 5xx.
        let undocumented = [418, 502].map(|s| (s, operation.default_error.clone()));
        for (status, example) in operation.errors.iter().cloned().chain(undocumented) {
            answer(&server, status, Some(&example.to_string())).await;
            let context = format!("{} answering {status}", operation.id);
            let envelope = error_envelope(
                call(&client, &operation.id, &operation.input).await,
                status,
                &context,
            );
            assert_eq!(
                first_difference(&example, &envelope, String::new()),
                None,
                "{context}"
            );
            for field in ["code", "message", "requestId"] {
                assert!(envelope["error"][field].is_string(), "{context}: {field}");
            }
        }
    }
}

#[tokio::test]
async fn other_statuses_are_unexpected_responses() {
    let spec = Spec::load().unwrap();
    let server = MockServer::start().await;
    let client = client(&server.uri());
    for operation in operations(&spec) {
        for status in [200, 201, 202, 204, 304]
            .into_iter()
            .filter(|s| *s != operation.success.0)
        {
            answer(&server, status, Some("{}")).await;
            match call(&client, &operation.id, &operation.input)
                .await
                .as_ref()
                .map_err(ApiError::kind)
            {
                Err(ErrorKind::UnexpectedStatus { status: received }) => {
                    assert_eq!(received.as_u16(), status)
                }
                other => panic!(
                    "{} answering {status}: expected an unexpected response, got {other:?}",
                    operation.id
                ),
            }
        }
    }
}

#[tokio::test]
async fn malformed_bodies_are_decode_errors() {
    let spec = Spec::load().unwrap();
    let server = MockServer::start().await;
    let client = client(&server.uri());
    for operation in operations(&spec) {
        let mut cases = vec![
            (400, "{\"error\": {\"requestId\": 7}}"),
            (503, "<html>busy</html>"),
        ];
        if operation.success.1.is_some() {
            cases.extend([
                (operation.success.0, "not json"),
                (operation.success.0, "[1, 2]"),
                (operation.success.0, ""),
            ]);
        }
        for (status, body) in cases {
            answer(&server, status, Some(body)).await;
            match call(&client, &operation.id, &operation.input)
                .await
                .as_ref()
                .map_err(ApiError::kind)
            {
                Err(ErrorKind::InvalidResponse(invalid)) => {
                    assert_eq!(invalid.status().map(|s| s.as_u16()), Some(status));
                    assert_eq!(invalid.body(), body.as_bytes());
                }
                other => panic!(
                    "{} answering {status} {body:?}: expected a decode error, got {other:?}",
                    operation.id
                ),
            }
        }
    }
}

#[tokio::test]
async fn hostile_path_parameters_are_refused_before_sending() {
    let spec = Spec::load().unwrap();
    let server = MockServer::start().await;
    answer(&server, 200, Some("{}")).await;
    let client = client(&server.uri());
    let hostile = [
        "", ".", "..", "A/B", "../B", "A?B", "A#B", "A%2FB", "%", "A B", " A", "ÉCOLE", "Ａ",
        "abc", "A\nB", "A\0B", "A;B", "A&B=C",
    ];
    let mut attempts = 0;
    for operation in operations(&spec) {
        for parameter in &operation.path_parameters {
            for value in hostile {
                let mut input = operation.input.clone();
                match parameter.as_str() {
                    "conversationId" => input.conversation_id = value.to_owned(),
                    "messageId" => input.message_id = value.to_owned(),
                    other => panic!("no input for path parameter `{other}`"),
                }
                let context = format!("{} with {parameter} = {value:?}", operation.id);
                match call(&client, &operation.id, &input).await {
                    Err(error) => match error.kind() {
                        ErrorKind::InvalidRequest { reason } => {
                            assert!(
                                reason.contains(&heck_snake(parameter))
                                    && reason.contains("^[A-Z0-9]+$")
                                    && ["`ConversationId`", "`MessageId`"]
                                        .iter()
                                        .any(|name| reason.contains(name)),
                                "{context}: {reason}"
                            );
                            assert_eq!(error.attempts(), 0, "{context}");
                        }
                        other => panic!("{context}: expected InvalidRequest, got {other:?}"),
                    },
                    Ok(value) => panic!("{context}: expected InvalidRequest, got {value}"),
                }
                attempts += 1;
            }
        }
    }
    assert_eq!(attempts, 7 * hostile.len());
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "a hostile value reached the server"
    );
}

/// `conversationId` → `conversation_id`, as the builders name their setters.
fn heck_snake(name: &str) -> String {
    name.chars().fold(String::new(), |mut out, c| {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
        out
    })
}

#[tokio::test]
async fn every_operation_is_traced_with_its_template() {
    let (captured, _guard) = super::client_layer::capture();
    let spec = Spec::load().unwrap();
    let server = MockServer::start().await;
    let client = client(&server.uri());
    for (_, method, template, operation) in spec.operations() {
        let id = operation["operationId"].as_str().unwrap();
        let described = operations(&spec).into_iter().find(|o| o.id == id).unwrap();
        let (status, example) = &described.success;
        answer(
            &server,
            *status,
            example.as_ref().map(Value::to_string).as_deref(),
        )
        .await;
        call(&client, id, &described.input).await.unwrap();
        let text = captured.text();
        let (calls, attempts) = super::client_layer::closed_spans(&text);
        let call = calls
            .last()
            .unwrap_or_else(|| panic!("{id}: no call span closed in {text}"));
        for field in [
            format!("otel.name=\"{id}\""),
            format!("asapp.operation=\"{id}\""),
            format!("http.response.status_code={status}"),
            "asapp.attempts=1".to_owned(),
        ] {
            assert!(call.contains(&field), "{id}: {field} missing from {call}");
        }
        let attempt = attempts
            .last()
            .unwrap_or_else(|| panic!("{id}: no attempt span closed in {text}"));
        let method = method.to_uppercase();
        for field in [
            format!("otel.name=\"{method} {template}\""),
            format!("http.request.method=\"{method}\""),
            format!("url.template=\"{template}\""),
            format!("http.response.status_code={status}"),
        ] {
            assert!(
                attempt.contains(&field),
                "{id}: {field} missing from {attempt}"
            );
        }
    }
}

#[test]
fn a_valid_identifier_passes_the_pattern() {
    for id in ["01BX5ZZKBKACTAV9WEVGEMMVRZ", "5544332211", "A"] {
        assert!(id.parse::<types::ConversationId>().is_ok(), "{id}");
        assert!(id.parse::<types::MessageId>().is_ok(), "{id}");
    }
}
