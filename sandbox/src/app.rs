//! Answering one request: rate limit, routing, credentials, `Prefer: code=`, validation against
//! the description, the configured faults, then the operation against the store.

use std::collections::BTreeMap;
use std::error::Error as _;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use asapp_conversations::types;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error_answer::{ErrorAnswer, request_id};
use crate::faults::{Class, Fault, Injector};
use crate::model::{Kind, Model, Operation, Route};
use crate::store::{NewMessage, Refusal, Store};

/// The most messages listing by `externalId` returns, as ASAPP documents.
pub(crate) const TRANSCRIPT_LIMIT: usize = 1_000;

/// Everything a request handler needs, shared by all of them.
pub(crate) struct App {
    pub(crate) model: Model,
    pub(crate) store: RwLock<Store>,
    pub(crate) api_id: String,
    pub(crate) api_secret: String,
    pub(crate) latency: Duration,
    pub(crate) limiter: Option<DefaultDirectRateLimiter>,
    pub(crate) max_body_bytes: usize,
    /// The faults to inject; `None` when they are off.
    pub(crate) faults: Option<Arc<Injector>>,
}

impl App {
    pub(crate) fn limiter(per_second: u32) -> Option<DefaultDirectRateLimiter> {
        let rate = std::num::NonZeroU32::new(per_second)?;
        Some(governor::RateLimiter::direct(Quota::per_second(rate)))
    }
}

/// The one handler: every request of every path comes through here.
pub(crate) async fn dispatch(State(app): State<Arc<App>>, request: Request) -> Response {
    let response = app.handle(request).await;
    if !app.latency.is_zero() {
        tokio::time::sleep(app.latency).await;
    }
    response
}

type Answer = Result<Response, ErrorAnswer>;

impl App {
    async fn handle(&self, request: Request) -> Response {
        if let Some(limiter) = &self.limiter
            && let Err(not_until) = limiter.check()
        {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return ErrorAnswer::rate_limited(
                seconds.max(1),
                "too many requests: the sandbox's rate limit is reached",
            )
            .into_response();
        }
        let (parts, body) = request.into_parts();
        let (operation, parameters) = match self.model.route(&parts.method, parts.uri.path()) {
            Route::Found {
                operation,
                parameters,
            } => (operation, parameters),
            Route::MethodNotAllowed(allow) => {
                return ErrorAnswer::method_not_allowed(
                    allow.clone(),
                    format!(
                        "method {} is not allowed on {}; allowed: {allow}",
                        parts.method,
                        parts.uri.path()
                    ),
                )
                .into_response();
            }
            Route::NotFound => {
                return ErrorAnswer::not_found(format!("no such path: {}", parts.uri.path()))
                    .into_response();
            }
        };
        if let Err(failure) = self.authenticate(&parts.headers) {
            return failure.into_response();
        }
        let prefer = prefer_code(&parts.headers);
        if let Some(code) = prefer {
            match self.preferred(code, operation) {
                Ok(Some(response)) => return response,
                Ok(None) => {}
                Err(failure) => return failure.into_response(),
            }
        }
        let query = query(parts.uri.query());
        let (call, body) = match self
            .validate(operation, &parameters, &query, &parts, body)
            .await
        {
            Ok(validated) => validated,
            Err(failure) => return failure.into_response(),
        };
        match &self.faults {
            // Never in a request that asks for its answer with `Prefer: code=`.
            Some(faults) if prefer.is_none() => {
                self.with_faults(faults, operation, &parts, call, &body)
                    .await
            }
            _ => self
                .execute(call)
                .unwrap_or_else(IntoResponse::into_response),
        }
    }

    /// Answers `call` with the fault its plan draws, if any, and its jitter.
    async fn with_faults(
        &self,
        faults: &Injector,
        operation: &Operation,
        parts: &Parts,
        call: Call<'_>,
        body: &[u8],
    ) -> Response {
        let target = parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), PathAndQuery::as_str);
        let plan = faults.plan(&operation.id, target, body, call.class());
        // Whether the request would succeed: a refused one is answered as without faults.
        let (answered, response) = match plan.fault {
            None => match self.execute(call) {
                Ok(response) => (true, response),
                Err(failure) => (false, failure.into_response()),
            },
            // Stored before: not stored again.
            Some(Fault::Conflict) => (true, faults.answer(Fault::Conflict)),
            Some(fault) if fault.before_storing() => match self.check(call) {
                Ok(()) => (true, faults.answer(fault)),
                Err(failure) => (false, failure.into_response()),
            },
            Some(fault) => match self.execute(call) {
                Ok(_) => (true, faults.answer(fault)),
                Err(failure) => (false, failure.into_response()),
            },
        };
        let jitter = faults.settle(&plan, answered);
        if !jitter.is_zero() {
            tokio::time::sleep(jitter).await;
        }
        response
    }

    /// Both credentials must be present and match.
    fn authenticate(&self, headers: &HeaderMap) -> Result<(), ErrorAnswer> {
        let header = |name: &str| headers.get(name).map(HeaderValue::as_bytes);
        match (header("asapp-api-id"), header("asapp-api-secret")) {
            (None, _) => Err(ErrorAnswer::unauthorized("header asapp-api-id is missing")),
            (_, None) => Err(ErrorAnswer::unauthorized(
                "header asapp-api-secret is missing",
            )),
            (Some(id), Some(secret))
                if id == self.api_id.as_bytes() && secret == self.api_secret.as_bytes() =>
            {
                Ok(())
            }
            _ => Err(ErrorAnswer::unauthorized(
                "the asapp-api-id and asapp-api-secret headers do not match the sandbox's credentials",
            )),
        }
    }

    /// Prism's `Prefer: code=NNN`: answer with documented status NNN of the operation (`None`
    /// for its success status, which is answered as usual).
    fn preferred(
        &self,
        code: &str,
        operation: &Operation,
    ) -> Result<Option<Response>, ErrorAnswer> {
        let documented = || {
            operation
                .statuses
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let status = code
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|s| operation.documents(*s))
            .ok_or_else(|| {
                ErrorAnswer::bad_request(format!(
                    "Prefer: code={code} is not a status {} documents ({})",
                    operation.id,
                    documented()
                ))
            })?;
        if status == operation.success {
            return Ok(None);
        }
        let status_code = StatusCode::from_u16(status).map_err(|_| {
            ErrorAnswer::bad_request(format!("Prefer: code={code} is not a status"))
        })?;
        let mut body = operation
            .error_examples
            .get(&status)
            .cloned()
            .unwrap_or_else(|| {
                serde_json::json!({"error": {"code": format!("{status}-01"), "message": "injected by Prefer"}})
            });
        if let Some(error) = body.get_mut("error").and_then(Value::as_object_mut) {
            error.insert("requestId".to_owned(), Value::String(request_id()));
        }
        let mut response = json(status_code, &body);
        if status_code == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        Ok(Some(response))
    }

    /// Checks the request against the description: its path parameters, its query, its body.
    /// Returns what the store needs, and the body's bytes (empty without a body).
    async fn validate<'a>(
        &self,
        operation: &Operation,
        parameters: &'a BTreeMap<String, String>,
        query: &'a BTreeMap<String, String>,
        parts: &Parts,
        body: Body,
    ) -> Result<(Call<'a>, Bytes), ErrorAnswer> {
        for (name, value) in parameters {
            if value.is_empty()
                || !value
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                return Err(ErrorAnswer::bad_request(format!(
                    "path parameter {name} `{value}` does not match ^[A-Z0-9]+$"
                )));
            }
        }
        for name in &operation.required_query {
            if !query.contains_key(name) {
                return Err(ErrorAnswer::bad_request(format!(
                    "query parameter {name} is required"
                )));
            }
        }
        let (body, bytes) = match &operation.body {
            Some(_) => {
                let (value, bytes) = self.read_json(operation, parts, body).await?;
                (Some(value), bytes)
            }
            None => (None, Bytes::new()),
        };
        let parameter = |name: &str| parameters.get(name).map(String::as_str).unwrap_or_default();
        let external_id = || {
            query
                .get("externalId")
                .map(String::as_str)
                .unwrap_or_default()
        };
        let id = parameter("conversationId");
        let call = match operation.kind {
            Kind::CreateOrUpdateConversation => Call::Upsert(typed(body)?),
            Kind::GetConversations => Call::ListConversations {
                external_id: external_id(),
            },
            Kind::GetConversation => Call::GetConversation { id },
            Kind::PostAuthenticate => {
                let _: types::AuthObject = typed(body)?;
                Call::Authenticate { id }
            }
            Kind::CreateMessage => {
                let message: types::Message = typed(body)?;
                Call::AddMessages {
                    id,
                    messages: vec![message],
                    batch: false,
                }
            }
            Kind::CreateBatchMessages => {
                let batch: types::BatchMessages = typed(body)?;
                Call::AddMessages {
                    id,
                    messages: batch.messages,
                    batch: true,
                }
            }
            Kind::GetMessages => Call::ListMessages { id },
            Kind::GetMessage => Call::GetMessage {
                id,
                message_id: parameter("messageId"),
            },
            Kind::GetMessagesByExternalId => Call::Transcript {
                external_id: external_id(),
            },
        };
        Ok((call, bytes))
    }

    /// Runs a validated request against the store.
    fn execute(&self, call: Call<'_>) -> Answer {
        match call {
            Call::Upsert(conversation) => {
                let id = self
                    .write()
                    .upsert(conversation, new_id)
                    .map_err(|r| refused(r, "conversation"))?;
                let mut answer = types::ConversationResponse::default();
                answer.id = Some(id);
                Ok(json(StatusCode::OK, &answer))
            }
            Call::ListConversations { external_id } => {
                let items = self
                    .read()
                    .by_external_id(external_id)
                    .cloned()
                    .into_iter()
                    .collect();
                let mut answer = types::Conversations::default();
                answer.items = items;
                Ok(json(StatusCode::OK, &answer))
            }
            Call::GetConversation { id } => {
                let store = self.read();
                let conversation = store.conversation(id).ok_or_else(|| no_conversation(id))?;
                Ok(json(StatusCode::OK, conversation))
            }
            Call::Authenticate { id } => {
                self.read()
                    .conversation(id)
                    .ok_or_else(|| no_conversation(id))?;
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            Call::AddMessages {
                id,
                messages,
                batch: false,
            } => {
                let ids = self.add(id, messages)?;
                let mut answer = types::MessagesResponse::default();
                answer.id = ids.into_iter().next();
                Ok(json(StatusCode::OK, &answer))
            }
            Call::AddMessages {
                id,
                messages,
                batch: true,
            } => {
                self.add(id, messages)?;
                Ok(json(
                    StatusCode::OK,
                    &types::BatchMessagesResponse(serde_json::Map::new()),
                ))
            }
            Call::ListMessages { id } => {
                let items = self
                    .read()
                    .messages(id, usize::MAX)
                    .ok_or_else(|| no_conversation(id))?;
                Ok(json(StatusCode::OK, &messages(items)))
            }
            Call::GetMessage { id, message_id } => {
                let store = self.read();
                store.conversation(id).ok_or_else(|| no_conversation(id))?;
                let message = store.message(id, message_id).ok_or_else(|| {
                    ErrorAnswer::not_found(format!("conversation {id} has no message {message_id}"))
                })?;
                Ok(json(StatusCode::OK, message))
            }
            Call::Transcript { external_id } => {
                let store = self.read();
                let conversation = store.by_external_id(external_id).ok_or_else(|| {
                    ErrorAnswer::not_found(format!(
                        "no conversation has externalId `{external_id}`"
                    ))
                })?;
                let id = conversation.id.clone().unwrap_or_default();
                let items = store.messages(&id, TRANSCRIPT_LIMIT).unwrap_or_default();
                Ok(json(StatusCode::OK, &messages(items)))
            }
        }
    }

    /// Whether `call` would succeed, without storing anything: the failure it would get, if
    /// any. A read is simply run.
    fn check(&self, call: Call<'_>) -> Result<(), ErrorAnswer> {
        match call {
            Call::Upsert(conversation) => self
                .read()
                .check_upsert(&conversation.external_id)
                .map_err(|r| refused(r, "conversation")),
            Call::AddMessages { id, messages, .. } => self
                .read()
                .check_add(id, messages.len())
                .map_err(|r| message_refused(id, r)),
            read => self.execute(read).map(drop),
        }
    }

    fn add(&self, id: &str, messages: Vec<types::Message>) -> Result<Vec<String>, ErrorAnswer> {
        let messages = messages
            .into_iter()
            .map(|m| NewMessage {
                text: m.text,
                sender: m.sender,
                timestamp: m.timestamp,
            })
            .collect();
        self.write()
            .add_messages(id, messages, chrono::Utc::now(), new_id)
            .map_err(|refusal| message_refused(id, refusal))
    }

    /// The request body as JSON that passed the operation's schema, and its bytes.
    async fn read_json(
        &self,
        operation: &Operation,
        parts: &Parts,
        body: Body,
    ) -> Result<(Value, Bytes), ErrorAnswer> {
        let too_large = || {
            let message = format!(
                "request body is larger than the sandbox's limit of {} bytes",
                self.max_body_bytes
            );
            if operation.documents(413) {
                ErrorAnswer::too_large(message)
            } else {
                ErrorAnswer::bad_request(message)
            }
        };
        let json_content = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json_content {
            return Err(ErrorAnswer::bad_request(
                "request body must be sent with content-type application/json",
            ));
        }
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|length| length > self.max_body_bytes) {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(body, self.max_body_bytes)
            .await
            .map_err(|error| {
                let limit = error
                    .source()
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
                if limit {
                    too_large()
                } else {
                    ErrorAnswer::bad_request(format!("cannot read the request body: {error}"))
                }
            })?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ErrorAnswer::malformed(format!("request body is not valid JSON: {e}")))?;
        if let Some(validator) = &operation.body
            && !validator.is_valid(&value)
        {
            const SHOWN: usize = 5;
            let errors = validator.errors(&value);
            let mut message = format!(
                "request body does not match the description: {}",
                errors
                    .iter()
                    .take(SHOWN)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            if errors.len() > SHOWN {
                message.push_str(&format!("; and {} more", errors.len() - SHOWN));
            }
            return Err(ErrorAnswer::bad_request(message));
        }
        Ok((value, bytes))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        self.store
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.store
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A fresh id: a ULID, 26 characters of `^[A-Z0-9]+$`.
pub(crate) fn new_id() -> String {
    ulid::Ulid::generate().to_string()
}

/// A request that passed validation, with what the store needs.
enum Call<'a> {
    Upsert(types::TimeBasedConversation),
    ListConversations {
        external_id: &'a str,
    },
    GetConversation {
        id: &'a str,
    },
    Authenticate {
        id: &'a str,
    },
    /// `createMessage` (one message, not a batch) or `createBatchMessages`.
    AddMessages {
        id: &'a str,
        messages: Vec<types::Message>,
        batch: bool,
    },
    ListMessages {
        id: &'a str,
    },
    GetMessage {
        id: &'a str,
        message_id: &'a str,
    },
    Transcript {
        external_id: &'a str,
    },
}

impl Call<'_> {
    /// What the call does to the store, for the faults it can get.
    fn class(&self) -> Class {
        match self {
            Self::Upsert(_) => Class::Upsert,
            Self::AddMessages { .. } => Class::Create,
            _ => Class::Read,
        }
    }
}

/// The `NNN` of a `Prefer: code=NNN` header, if the request has one.
fn prefer_code(headers: &HeaderMap) -> Option<&str> {
    let text = headers.get("prefer")?.to_str().unwrap_or_default();
    text.split([',', ';'])
        .find_map(|p| p.trim().strip_prefix("code="))
}

fn no_conversation(id: &str) -> ErrorAnswer {
    ErrorAnswer::not_found(format!("no conversation has id {id}"))
}

fn message_refused(id: &str, refusal: Refusal) -> ErrorAnswer {
    match refusal {
        Refusal::NoConversation => no_conversation(id),
        other => refused(other, "message"),
    }
}

fn refused(refusal: Refusal, what: &str) -> ErrorAnswer {
    match refusal {
        Refusal::NoConversation => ErrorAnswer::not_found("no such conversation"),
        Refusal::ConversationsFull(cap) => ErrorAnswer::store_full(format!(
            "the sandbox stores at most {cap} conversations; restart it or raise --max-conversations"
        )),
        Refusal::MessagesFull(cap) => ErrorAnswer::store_full(format!(
            "the sandbox stores at most {cap} messages; restart it or raise --max-messages"
        )),
        Refusal::Invalid(reason) => ErrorAnswer::bad_request(format!("invalid {what}: {reason}")),
    }
}

/// The validated body as the generated type; a failure names the JSON path, never the value
/// there (serde's message quotes it, and it can be a customer's words).
fn typed<T: DeserializeOwned>(body: Option<Value>) -> Result<T, ErrorAnswer> {
    let body = body.unwrap_or(Value::Null);
    serde_path_to_error::deserialize::<_, T>(body).map_err(|error| {
        ErrorAnswer::bad_request(format!(
            "request body at {} does not fit the described type",
            error.path()
        ))
    })
}

/// A list of messages as an answer.
fn messages(items: Vec<types::ConversationMessage>) -> types::GetMessagesResponse {
    let mut answer = types::GetMessagesResponse::default();
    answer.items = items;
    answer
}

fn query(query: Option<&str>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        out.entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    out
}

fn json(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(error) => {
            ErrorAnswer::bad_request(format!("cannot encode the answer: {error}")).into_response()
        }
    }
}
