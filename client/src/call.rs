//! Awaiting a request builder: every generated builder is [`IntoFuture`](std::future::IntoFuture),
//! so `client.get_conversation().conversation_id(id).await` sends the request and fails with an
//! [`ApiError`] that knows the attempts made.
//!
//! The builders' own `send()` goes through the same retries, limiter and tracing (those live in
//! the client's hooks) but fails with the generated client's plainer error. The retry loop runs
//! inside the generated code, so what it saw reaches the awaiting call through the task-local
//! [`Report`](crate::operation::Report) of [`operation`](crate::operation), set up around each
//! awaited call.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use progenitor_client::ResponseValue;

use crate::operation::{REPORT, Slot};
use crate::{ApiError, types};

type SendFuture<'a, T> = Pin<
    Box<
        dyn Future<
                Output = Result<ResponseValue<T>, progenitor_client::Error<types::ErrorResponse>>,
            > + Send
            + 'a,
    >,
>;

pin_project_lite::pin_project! {
    /// The future of an awaited request builder: the request with the client's retries, limiter
    /// and tracing, failing with an [`ApiError`].
    #[must_use = "a request is sent only when its future is awaited"]
    pub struct Call<'a, T> {
        operation: &'static str,
        #[pin]
        send: tokio::task::futures::TaskLocalFuture<Slot, SendFuture<'a, T>>,
    }
}

impl<T> fmt::Debug for Call<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

/// Runs one generated `send()` future for `operation`, turning its error into an [`ApiError`].
///
/// The `send()` future is boxed on its own, once: it is large, and moving it around inline
/// costs copies and cache misses on every call.
pub(crate) fn run<'a, T>(
    operation: &'static str,
    send: impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<types::ErrorResponse>>>
    + Send
    + 'a,
) -> Call<'a, T> {
    let send: SendFuture<'a, T> = Box::pin(send);
    Call {
        operation,
        send: REPORT.scope(Cell::new(None), send),
    }
}

impl<T: serde::de::DeserializeOwned> Future for Call<'_, T> {
    type Output = Result<ResponseValue<T>, ApiError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let result = ready!(this.send.as_mut().poll(cx));
        // The retry loop left its report in the task-local, which the scope has taken back.
        let report = this.send.take_value().and_then(|slot| slot.get());
        Poll::Ready(result.map_err(|error| ApiError::new::<T>(this.operation, report, error)))
    }
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
        pub(crate) static OPERATIONS: &[$crate::operation::Operation] = &[$(
            $crate::operation::Operation {
                hook_id: stringify!($hook),
                id: $id,
                method: $method,
                path: $path,
                span_name: concat!($method, " ", $path),
            },
        )*];

        $(
            impl<'a> ::std::future::IntoFuture for $crate::builder::$builder<'a> {
                type Output = ::std::result::Result<
                    $crate::ResponseValue<$output>,
                    $crate::ApiError,
                >;
                type IntoFuture = $crate::Call<'a, $output>;

                /// Sends the request: `builder.await` is `builder.send().await` with the error
                /// as an [`ApiError`]($crate::ApiError).
                fn into_future(self) -> Self::IntoFuture {
                    $crate::call::run($id, self.send())
                }
            }
        )*
    };
}
