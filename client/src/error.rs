//! [`ApiError`]: every way a call can fail, with ASAPP's error details and the attempts made.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::operation::Report;
use crate::{DecodeError, types};

/// The operations whose 409, answering a retry, means an earlier attempt already stored the
/// message(s): ASAPP documents that a 409 means the entity was persisted.
const CREATES: [&str; 2] = ["createMessage", "createBatchMessages"];

/// A failed call: what went wrong ([`ErrorKind`]), the operation, and how many attempts were
/// made. `Display` puts all of it on one line, for example
///
/// ```text
/// getConversation failed: 404 Not Found, code 404-01: Not Found, requestId 8e033668-4e72-4e43-bd8d-5ac8d0a8a0d4 (1 attempt)
/// ```
///
/// The API secret is never part of an error, and neither is a body: an answer that does not
/// decode is described by where and why ([`InvalidResponse`]), since bodies hold customers'
/// messages.
#[derive(Debug)]
pub struct ApiError {
    operation: &'static str,
    attempts: u32,
    elapsed: Duration,
    deadline_reached: bool,
    kind: ErrorKind,
}

/// What went wrong in a failed call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was refused before anything was sent: an id that does not match
    /// `^[A-Z0-9]+$`, or a body missing a required field.
    #[error("invalid request, not sent: {reason}")]
    InvalidRequest {
        /// What is wrong, naming the parameter or field.
        reason: String,
    },
    /// ASAPP answered with an error status.
    #[error("{}", describe_status(*.status, .details.as_ref()))]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// ASAPP's error details, when the body carried them.
        details: Option<types::DefaultErrorDetails>,
    },
    /// A 409 answered a retried message create or batch: an earlier attempt, whose answer was
    /// lost, already stored the message(s): a 409 after an attempt that may have taken effect (a
    /// 5xx, a timeout, a dropped connection). Nothing is missing and nothing needs sending again.
    #[error(
        "already persisted by an earlier attempt ({})",
        describe_status(*.status, .details.as_ref())
    )]
    AlreadyPersisted {
        /// The HTTP status (409).
        status: StatusCode,
        /// ASAPP's error details, when the body carried them.
        details: Option<types::DefaultErrorDetails>,
    },
    /// A status that the spec does not document for the operation, such as a redirect.
    #[error("unexpected status {status}")]
    UnexpectedStatus {
        /// The HTTP status.
        status: StatusCode,
    },
    /// The answer's body does not match the description.
    #[error("{0}")]
    InvalidResponse(InvalidResponse),
    /// An attempt took longer than the attempt timeout.
    #[error("timed out: {}", chain(.error))]
    Timeout {
        /// The HTTP client's error.
        error: reqwest::Error,
    },
    /// The call's deadline passed before it could finish.
    #[error("the call's deadline passed after {elapsed:?}")]
    DeadlineExceeded {
        /// Time spent in the call.
        elapsed: Duration,
        /// The cut-off attempt's error, if an attempt was running.
        error: Option<reqwest::Error>,
    },
    /// No connection could be made.
    #[error("cannot connect: {}", chain(.error))]
    Connection {
        /// The HTTP client's error.
        error: reqwest::Error,
    },
    /// The request or the response failed in transit.
    #[error("transport failure: {}", chain(.error))]
    Transport {
        /// The HTTP client's error.
        error: reqwest::Error,
    },
}

/// The generated builders report a path parameter that fails its pattern as "conversion to
/// `crate :: types :: ConversationId` for conversation_id failed": the type named by its path as
/// written in the generator's settings, and without the rule. Name the type plainly and add the
/// rule.
fn explain(reason: String) -> String {
    const IDS: [&str; 2] = ["ConversationId", "MessageId"];
    let Some((before, rest)) = reason.split_once("conversion to `") else {
        return reason;
    };
    let Some((path, after)) = rest.split_once('`') else {
        return reason;
    };
    let name = path.rsplit("::").next().unwrap_or(path).trim();
    if IDS.contains(&name) {
        format!(
            "{before}conversion to `{name}`{after}: ids must match ^[A-Z0-9]+$ (uppercase ASCII \
             letters and digits)"
        )
    } else {
        format!("{before}conversion to `{name}`{after}")
    }
}

/// An error and its sources on one line: reqwest's own message leaves out the cause (such as
/// "Connection refused"), which is the useful part.
fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

fn describe_status(status: StatusCode, details: Option<&types::DefaultErrorDetails>) -> String {
    let mut out = status.to_string();
    if let Some(details) = details {
        if let Some(code) = &details.code {
            out.push_str(", code ");
            out.push_str(code);
        }
        out.push_str(": ");
        out.push_str(&details.message);
        out.push_str(", requestId ");
        out.push_str(&details.request_id);
    }
    out
}

/// An answer whose body does not match the description: its status, where and why decoding
/// stopped, and the body, which no rendering shows (`Display` and `Debug` give its length).
pub struct InvalidResponse {
    status: Option<StatusCode>,
    error: DecodeError,
    body: Vec<u8>,
}

impl InvalidResponse {
    /// The HTTP status, when known.
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// Where and why the body does not decode.
    pub fn error(&self) -> &DecodeError {
        &self.error
    }

    /// The body as received. It may hold customers' messages: keep it out of logs.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

impl fmt::Display for InvalidResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "the {status} answer")?,
            None => f.write_str("the answer")?,
        }
        write!(
            f,
            " does not match the description {} (body of {} bytes not shown)",
            self.error,
            self.body.len()
        )
    }
}

impl fmt::Debug for InvalidResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvalidResponse")
            .field("status", &self.status)
            .field("error", &self.error)
            .field(
                "body",
                &format_args!("<{} bytes not shown>", self.body.len()),
            )
            .finish()
    }
}

impl ApiError {
    /// Turns the generated client's error for `operation` into an `ApiError`, with what the
    /// retry loop reported (nothing when the request was refused before it was sent).
    ///
    /// `T` is the operation's success type: an answer that does not decode is decoded again, as
    /// `T` or as the error envelope, to find where it breaks the description.
    pub(crate) fn new<T: DeserializeOwned>(
        operation: &'static str,
        report: Option<Report>,
        error: progenitor_client::Error<types::ErrorResponse>,
    ) -> Self {
        use progenitor_client::Error as E;
        let report = report.unwrap_or_default();
        let elapsed = report.elapsed();
        let kind = match error {
            E::InvalidRequest(reason) | E::Custom(reason) => ErrorKind::InvalidRequest {
                reason: explain(reason),
            },
            E::ErrorResponse(response) => {
                let status = response.status();
                let details = response.into_inner().error;
                if status == StatusCode::CONFLICT
                    && report.maybe_applied
                    && CREATES.contains(&operation)
                {
                    ErrorKind::AlreadyPersisted { status, details }
                } else {
                    ErrorKind::Status { status, details }
                }
            }
            E::UnexpectedResponse(response) => ErrorKind::UnexpectedStatus {
                status: response.status(),
            },
            E::InvalidResponsePayload(body, error) => {
                let status = report.status;
                let located = if status.is_none_or(|s| s.is_success()) {
                    DecodeError::decode::<T>(&body).err()
                } else {
                    DecodeError::decode::<types::ErrorResponse>(&body).err()
                };
                ErrorKind::InvalidResponse(InvalidResponse {
                    status,
                    error: located.unwrap_or_else(|| DecodeError::new("?", &error)),
                    body: body.into(),
                })
            }
            E::CommunicationError(error)
            | E::ResponseBodyError(error)
            | E::InvalidUpgrade(error) => {
                if report.deadline_cut_attempt {
                    ErrorKind::DeadlineExceeded {
                        elapsed,
                        error: Some(error),
                    }
                } else if error.is_timeout() {
                    ErrorKind::Timeout { error }
                } else if error.is_connect() {
                    ErrorKind::Connection { error }
                } else {
                    ErrorKind::Transport { error }
                }
            }
        };
        Self {
            operation,
            attempts: report.attempts,
            elapsed,
            deadline_reached: report.deadline_reached,
            kind,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The spec's operationId of the failed call, such as `getConversation`.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// Attempts made: 0 when the request was refused before sending, more than 1 after retries.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time spent in the call, waits included.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Whether the call's deadline stopped it: an attempt was cut off, or a retry the policy
    /// allowed was not made because it could not have finished in time.
    pub fn deadline_reached(&self) -> bool {
        self.deadline_reached
    }

    /// The HTTP status, when ASAPP answered.
    pub fn status(&self) -> Option<StatusCode> {
        match &self.kind {
            ErrorKind::Status { status, .. }
            | ErrorKind::AlreadyPersisted { status, .. }
            | ErrorKind::UnexpectedStatus { status } => Some(*status),
            ErrorKind::InvalidResponse(invalid) => invalid.status,
            _ => None,
        }
    }

    /// ASAPP's error details (`code`, `message`, `requestId`), when the answer carried them.
    pub fn details(&self) -> Option<&types::DefaultErrorDetails> {
        match &self.kind {
            ErrorKind::Status { details, .. } | ErrorKind::AlreadyPersisted { details, .. } => {
                details.as_ref()
            }
            _ => None,
        }
    }

    /// ASAPP's error code, such as `404-01`.
    pub fn code(&self) -> Option<&str> {
        self.details()?.code.as_deref()
    }

    /// ASAPP's error message.
    pub fn message(&self) -> Option<&str> {
        self.details().map(|d| d.message.as_str())
    }

    /// ASAPP's id of the failed request, for support.
    pub fn request_id(&self) -> Option<&str> {
        self.details().map(|d| d.request_id.as_str())
    }

    /// Whether the failure is of a transient kind (429, 5xx, timeouts, connection failures),
    /// which the retry policy retries; when it is returned, the policy's retries are spent or
    /// the deadline has passed, and trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match &self.kind {
            ErrorKind::Status { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            ErrorKind::Timeout { .. }
            | ErrorKind::DeadlineExceeded { .. }
            | ErrorKind::Connection { .. }
            | ErrorKind::Transport { .. } => true,
            _ => false,
        }
    }

    /// 404: the conversation or message does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// 401: the credentials were refused.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// 403: the credentials lack access to the operation.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(StatusCode::FORBIDDEN)
    }

    /// 429: ASAPP's rate limit (after the policy's retries).
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// A 409, which ASAPP documents as "the system has persisted the entity". For a retried
    /// message create or batch, [`ErrorKind::AlreadyPersisted`] says so outright.
    pub fn is_already_persisted(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT)
    }

    /// An attempt timed out or the call's deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Timeout { .. } | ErrorKind::DeadlineExceeded { .. }
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {} (", self.operation, self.kind)?;
        match self.attempts {
            0 => f.write_str("not sent")?,
            1 => f.write_str("1 attempt")?,
            n => write!(f, "{n} attempts")?,
        }
        if self.deadline_reached && !matches!(self.kind, ErrorKind::DeadlineExceeded { .. }) {
            f.write_str(", deadline reached")?;
        }
        f.write_str(")")
    }
}

/// No `source`: the underlying error of the HTTP client or the JSON decoder, and its causes, are
/// already part of the one-line `Display`; the typed value is in [`ApiError::kind`].
impl std::error::Error for ApiError {}
