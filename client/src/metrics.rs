//! The `opentelemetry` feature: each attempt's duration as `http.client.request.duration`, and
//! the retries and rate-limiter waits, recorded to an OpenTelemetry [`Meter`].
//!
//! The instruments are made once, when the client is built, from the meter given to
//! [`ClientConfig::meter`](crate::ClientConfig::meter) or else the global meter provider's (so
//! install the provider before building the client). Without a provider, the global one is
//! OpenTelemetry's no-op and recording costs a virtual call.
//!
//! Attributes are the HTTP semantic conventions' for `http.client.request.duration`:
//! `http.request.method`, `server.address`, `server.port`, `http.response.status_code` when an
//! answer came, `error.type` on failure, and the opt-in `url.template` (nine values, one per
//! operation). Never a path with its ids, a query, a body or a credential.

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::{InstrumentationScope, KeyValue};

use crate::operation::Operation;

/// The name of the duration histogram, from the HTTP semantic conventions.
pub const REQUEST_DURATION: &str = "http.client.request.duration";
/// The name of the retry counter: retries made, with the `error.type` that caused each.
pub const RETRIES: &str = "asapp.conversations.client.retries";
/// The name of the counter of seconds spent waiting for the client-side rate limiter.
pub const RATE_LIMITER_WAIT: &str = "asapp.conversations.client.rate_limiter.wait_time";

/// The bucket boundaries, in seconds, that the HTTP semantic conventions advise for
/// `http.client.request.duration`; the histogram carries them as its advice.
pub const REQUEST_DURATION_BOUNDARIES: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The meter the client uses unless given one: the global provider's, scoped
/// `asapp-conversations` with this crate's version.
pub(crate) fn global_meter() -> Meter {
    opentelemetry::global::meter_with_scope(
        InstrumentationScope::builder("asapp-conversations")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build(),
    )
}

/// A client's instruments, and the attributes every measurement of it carries.
pub(crate) struct Instruments {
    duration: Histogram<f64>,
    retries: Counter<u64>,
    limiter_wait: Counter<f64>,
    server_address: KeyValue,
    server_port: KeyValue,
    /// For each operation of the table, in its order, the attributes of an attempt answered
    /// 200: made once, so that the common measurement builds and drops no attributes.
    answered_200: Vec<[KeyValue; 5]>,
}

impl Instruments {
    /// The instruments of a client sending to `host` on `port`.
    pub(crate) fn new(meter: &Meter, host: &str, port: u16) -> Self {
        Self {
            duration: meter
                .f64_histogram(REQUEST_DURATION)
                .with_unit("s")
                .with_description("Duration of HTTP client requests.")
                .with_boundaries(REQUEST_DURATION_BOUNDARIES.to_vec())
                .build(),
            retries: meter
                .u64_counter(RETRIES)
                .with_unit("{retry}")
                .with_description("Requests sent again after a 429, a 5xx or a transport failure.")
                .build(),
            limiter_wait: meter
                .f64_counter(RATE_LIMITER_WAIT)
                .with_unit("s")
                .with_description("Time requests waited for the client-side rate limiter.")
                .build(),
            server_address: KeyValue::new("server.address", std::sync::Arc::<str>::from(host)),
            server_port: KeyValue::new("server.port", i64::from(port)),
            answered_200: Vec::new(),
        }
        .with_answered_200()
    }

    fn with_answered_200(mut self) -> Self {
        self.answered_200 = crate::operations::OPERATIONS
            .iter()
            .map(|operation| {
                let [method, template, address, port] = self.common(operation);
                let status = KeyValue::new("http.response.status_code", 200_i64);
                [method, template, address, port, status]
            })
            .collect();
        self
    }

    fn common(&self, operation: &Operation) -> [KeyValue; 4] {
        [
            KeyValue::new("http.request.method", operation.method),
            KeyValue::new("url.template", operation.path),
            self.server_address.clone(),
            self.server_port.clone(),
        ]
    }

    /// One attempt of `operation` took `seconds`, until the answer's head (`status`) or the
    /// failure (`error_type`).
    pub(crate) fn attempt(
        &self,
        operation: &Operation,
        seconds: f64,
        status: Option<u16>,
        error_type: Option<&str>,
    ) {
        if status == Some(200)
            && error_type.is_none()
            && let Some(attributes) = crate::operations::OPERATIONS
                .iter()
                .position(|o| std::ptr::eq(o, operation))
                .and_then(|index| self.answered_200.get(index))
        {
            self.duration.record(seconds, attributes);
            return;
        }
        let [method, template, address, port] = self.common(operation);
        let status = status.map(|s| KeyValue::new("http.response.status_code", i64::from(s)));
        let error = error_type.map(|e| KeyValue::new("error.type", e.to_owned()));
        match (status, error) {
            (Some(status), Some(error)) => self
                .duration
                .record(seconds, &[method, template, address, port, status, error]),
            (Some(status), None) => self
                .duration
                .record(seconds, &[method, template, address, port, status]),
            (None, Some(error)) => self
                .duration
                .record(seconds, &[method, template, address, port, error]),
            (None, None) => self
                .duration
                .record(seconds, &[method, template, address, port]),
        }
    }

    /// `operation` is sent again after a failure of `error_type`.
    pub(crate) fn retry(&self, operation: &Operation, error_type: &str) {
        let [method, template, address, port] = self.common(operation);
        let error = KeyValue::new("error.type", error_type.to_owned());
        self.retries
            .add(1, &[method, template, address, port, error]);
    }

    /// A request of `operation` waited `seconds` for the rate limiter.
    pub(crate) fn limiter_wait(&self, operation: &Operation, seconds: f64) {
        self.limiter_wait.add(seconds, &self.common(operation));
    }
}
