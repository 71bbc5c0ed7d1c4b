//! What the two halves of the request path share: the table of operations (what each one is,
//! for spans, metrics and errors) and the report of one call (what the retry loop saw).
//!
//! The path runs one way: an awaited builder ([`call`](crate::call)) runs the generated `send()`,
//! which calls the client's hooks ([`runtime`](crate::runtime)). The hooks look the operation up
//! here and leave their [`Report`] here; the awaited builder reads it back from here. Neither
//! calls into the other.
//!
//! The report travels through a task-local set up around each awaited call, since the retry
//! loop runs inside the generated code, which has no way to hand anything back but its result.

use std::cell::Cell;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::time::Instant;

/// What one operation is, for tracing, metrics and errors: progenitor's hooks only know its
/// snake_case method name.
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
    /// The name of an attempt's span: `{method} {path}`, as the HTTP semantic conventions name
    /// client spans.
    pub(crate) span_name: &'static str,
}

/// The operation progenitor's hooks call `hook_id`. Every generated operation is in the table
/// (`operations.rs` is generated from the same description), so `None` would mean a generator
/// bug; the callers still cope with it.
pub(crate) fn lookup(hook_id: &str) -> Option<&'static Operation> {
    crate::operations::OPERATIONS
        .iter()
        .find(|operation| operation.hook_id == hook_id)
}

/// What the retry loop saw during one call.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Report {
    /// Requests sent.
    pub(crate) attempts: u32,
    /// The status of the last response, if any.
    pub(crate) status: Option<StatusCode>,
    /// When the call began (`None` when nothing was sent).
    pub(crate) started: Option<Instant>,
    /// The deadline stopped the call: a retry was not made, or an attempt was cut off.
    pub(crate) deadline_reached: bool,
    /// The deadline cut off the last attempt (or left no time to send one).
    pub(crate) deadline_cut_attempt: bool,
    /// Retries after a 429, and after a 5xx or a transport failure.
    pub(crate) retries: crate::retry::Retries,
    /// An earlier attempt ended without saying whether the request took effect (a 5xx, a
    /// timeout, a dropped connection): what a later 409 on a create means.
    pub(crate) maybe_applied: bool,
}

/// The slot an awaited call's report is left in.
pub(crate) type Slot = Cell<Option<Report>>;

tokio::task_local! {
    pub(crate) static REPORT: Slot;
}

impl Report {
    /// Time spent in the call so far, waits included. Read when needed rather than at the end of
    /// the retry loop: a call that succeeds reads the clock once less.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started
            .map_or(Duration::ZERO, |started| started.elapsed())
    }
}

/// Hands `report` to the awaited call this request belongs to, if it was awaited as a builder.
pub(crate) fn record(report: Report) {
    // Outside an awaited builder (a plain `send()`) there is no one to tell.
    let _ = REPORT.try_with(|slot| slot.set(Some(report)));
}
