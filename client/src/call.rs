//! Awaiting a request builder: every generated builder is [`IntoFuture`](std::future::IntoFuture),
//! so `client.get_conversation().conversation_id(id).await` sends the request and fails with an
//! [`ApiError`] that knows the attempts made.
//!
//! The builders' own `send()` goes through the same retries, limiter and tracing (those live in
//! the client's hooks) but fails with the generated client's plainer error. The retry loop runs
//! inside the generated code, so what it saw reaches the awaiting call through a task-local
//! [`Report`], set up around each awaited call.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use progenitor_client::ResponseValue;
use reqwest::StatusCode;

use crate::{ApiError, types};

/// What one operation is, for tracing and errors: progenitor's hooks only know its snake_case
/// method name.
#[derive(Debug)]
pub(crate) struct Operation {
    /// The name progenitor passes to the hooks: the method name, such as `get_conversation`.
    pub(crate) hook_id: &'static str,
    /// The spec's operationId, such as `getConversation`.
    pub(crate) id: &'static str,
    /// The HTTP method.
    pub(crate) method: &'static str,
    /// The path template, such as `/conversation/v1/conversations/{conversationId}`.
    pub(crate) path: &'static str,
}

/// What the retry loop saw during one call.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Report {
    /// Requests sent.
    pub(crate) attempts: u32,
    /// The status of the last response, if any.
    pub(crate) status: Option<StatusCode>,
    /// Time spent, waits included.
    pub(crate) elapsed: Duration,
    /// The deadline stopped the call: a retry was not made, or an attempt was cut off.
    pub(crate) deadline_reached: bool,
    /// The deadline cut off the last attempt (or left no time to send one).
    pub(crate) deadline_cut_attempt: bool,
}

tokio::task_local! {
    static REPORT: Cell<Option<Report>>;
}

/// Hands `report` to the awaited call this request belongs to, if it was awaited as a builder.
pub(crate) fn record(report: Report) {
    // Outside an awaited builder (a plain `send()`) there is no one to tell.
    let _ = REPORT.try_with(|slot| slot.set(Some(report)));
}

/// Runs one generated `send()` future for `operation`, turning its error into an [`ApiError`].
pub(crate) async fn run<T>(
    operation: &'static str,
    send: impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<types::ErrorResponse>>>,
) -> Result<ResponseValue<T>, ApiError> {
    REPORT
        .scope(Cell::new(None), async move {
            let result = send.await;
            result.map_err(|error| ApiError::new(operation, REPORT.with(Cell::get), error))
        })
        .await
}

/// Declares the operations table and makes each request builder awaitable. The invocation is
/// generated from the spec into `operations.rs` by `cargo xtask regen`.
macro_rules! operations {
    ($(
        $hook:ident => $builder:ident {
            id: $id:literal,
            method: $method:literal,
            path: $path:literal,
            output: $output:ty $(,)?
        }
    )*) => {
        /// Every operation of the spec.
        pub(crate) static OPERATIONS: &[$crate::call::Operation] = &[$(
            $crate::call::Operation {
                hook_id: stringify!($hook),
                id: $id,
                method: $method,
                path: $path,
            },
        )*];

        $(
            impl<'a> ::std::future::IntoFuture for $crate::builder::$builder<'a> {
                type Output = ::std::result::Result<
                    $crate::ResponseValue<$output>,
                    $crate::ApiError,
                >;
                type IntoFuture = ::std::pin::Pin<
                    ::std::boxed::Box<dyn ::std::future::Future<Output = Self::Output> + Send + 'a>,
                >;

                /// Sends the request: `builder.await` is `builder.send().await` with the error
                /// as an [`ApiError`]($crate::ApiError).
                fn into_future(self) -> Self::IntoFuture {
                    ::std::boxed::Box::pin($crate::call::run($id, self.send()))
                }
            }
        )*
    };
}

/// The operation progenitor's hooks call `hook_id`.
pub(crate) fn operation(hook_id: &str) -> Option<&'static Operation> {
    crate::operations::OPERATIONS
        .iter()
        .find(|operation| operation.hook_id == hook_id)
}
