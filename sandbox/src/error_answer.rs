//! Every answer the sandbox gives that is not a success: ASAPP's error envelope with a fresh
//! `requestId`, a `NNN-NN` code and a message naming what was wrong.

use axum::http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use asapp_conversations::types;

/// A refused or failed request, as the sandbox answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorAnswer {
    pub(crate) status: StatusCode,
    /// ASAPP's code, such as `400-01`.
    pub(crate) code: String,
    pub(crate) message: String,
    /// Seconds, for a 429.
    pub(crate) retry_after: Option<u64>,
    /// The methods the path accepts, for a 405.
    pub(crate) allow: Option<String>,
}

impl ErrorAnswer {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
            allow: None,
        }
    }

    /// 400: the request breaks the description.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "400-01", message)
    }

    /// 400: the body is not JSON at all.
    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "400-02", message)
    }

    /// 401: missing or wrong credentials.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "401-01", message)
    }

    /// 404: no such conversation, message or path.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "404-01", message)
    }

    /// 405: the path exists, the method does not.
    pub(crate) fn method_not_allowed(allow: String, message: impl Into<String>) -> Self {
        let mut failure = Self::new(StatusCode::METHOD_NOT_ALLOWED, "405-01", message);
        failure.allow = Some(allow);
        failure
    }

    /// 409: the request was stored before (ASAPP: "the entity was persisted").
    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "409-01", message)
    }

    /// 413: the body is larger than the sandbox takes.
    pub(crate) fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "413-01", message)
    }

    /// 422: the sandbox's store is full.
    pub(crate) fn store_full(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "422-02", message)
    }

    /// 429: past the configured rate.
    pub(crate) fn rate_limited(retry_after: u64, message: impl Into<String>) -> Self {
        let mut failure = Self::new(StatusCode::TOO_MANY_REQUESTS, "429-01", message);
        failure.retry_after = Some(retry_after);
        failure
    }

    /// 503: the service is unavailable.
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "503-01", message)
    }
}

/// A request id in the form ASAPP uses (a UUID), from a fresh ULID's 128 bits.
pub(crate) fn request_id() -> String {
    let bits = ulid::Ulid::generate().0;
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

impl IntoResponse for ErrorAnswer {
    fn into_response(self) -> Response {
        let details = types::DefaultErrorDetails::builder()
            .code(Some(self.code))
            .message(self.message)
            .request_id(request_id());
        let bytes = types::DefaultErrorDetails::try_from(details)
            .ok()
            .and_then(|details| {
                let mut body = types::ErrorResponse::default();
                body.error = Some(details);
                serde_json::to_vec(&body).ok()
            })
            .unwrap_or_else(|| b"{}".to_vec());
        let mut response = (self.status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(seconds) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(allow) = self.allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
            headers.insert(ALLOW, allow);
        }
        response
    }
}
