//! What an import has done so far: [`Counts`], updated as inputs are found, read and sent, and
//! [`Progress`], their value at one moment, which a [`ProgressWatch`] reads for the caller.
//!
//! Bytes of input are the one total known before reading. What is *done* is the bytes of the
//! runs whose batches ASAPP acknowledged (or that were found stored), a run's bytes shared among
//! its batches by their messages, and the bytes that have nothing to send (blank and invalid
//! lines, refused documents, copies left aside) as soon as they are read. What is read ahead of
//! that is counted apart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use asapp_conversations::{Client, ClientStats};

/// Counters of an import, shared by the listing, the reading, the tasks that send, the watch
/// and the summary.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// Messages sent and acknowledged.
    pub(crate) messages: AtomicU64,
    pub(crate) conversations: AtomicU64,
    pub(crate) batches: AtomicU64,
    /// Messages found already stored: acknowledged before, or read back.
    pub(crate) already_stored: AtomicU64,
    /// Bytes of input read (ahead of what is done).
    pub(crate) bytes: AtomicU64,
    /// Bytes of input done: their messages acknowledged or found stored, or nothing to send.
    pub(crate) bytes_done: AtomicU64,
    /// Batch requests in flight.
    pub(crate) in_flight: AtomicU64,
    /// Invalid lines, entries and documents, reported and not imported.
    pub(crate) invalid: AtomicU64,
    /// Inputs found so far, the bytes of those whose size is known, and how many have none.
    inputs: AtomicU64,
    input_bytes: AtomicU64,
    unsized_inputs: AtomicU64,
    /// Every input is found.
    listed: AtomicBool,
}

impl Counts {
    /// An input found, of `size` bytes when known.
    pub(crate) fn add_input(&self, size: Option<u64>) {
        self.inputs.fetch_add(1, Ordering::Relaxed);
        match size {
            Some(size) => self.input_bytes.fetch_add(size, Ordering::Relaxed),
            None => self.unsized_inputs.fetch_add(1, Ordering::Relaxed),
        };
    }

    /// Every input is found: the total is known (unless an input's size is not).
    pub(crate) fn listing_done(&self) {
        self.listed.store(true, Ordering::Relaxed);
    }

    /// `bytes` of input done.
    pub(crate) fn done(&self, bytes: u64) {
        self.bytes_done.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// What an import has done, at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Messages sent and acknowledged by this import.
    pub messages: u64,
    /// Messages found already stored: acknowledged by an import before, or read back.
    pub already_stored: u64,
    /// Conversations upserted.
    pub conversations: u64,
    /// Batches acknowledged.
    pub batches: u64,
    /// Batch requests in flight.
    pub in_flight: u64,
    /// Invalid lines, entries and documents, reported and not imported.
    pub invalid: u64,
    /// Bytes of input read.
    pub bytes_read: u64,
    /// Bytes of input done: their messages acknowledged or found stored, or nothing to send.
    pub bytes_done: u64,
    /// Inputs found so far.
    pub inputs: u64,
    /// The bytes of those whose size is known.
    pub input_bytes: u64,
    /// Inputs whose size is not known before they are read (a reader, standard input).
    pub unsized_inputs: u64,
    /// Whether every input is found.
    pub listed: bool,
    /// Requests the client sent again (after a 429, a 5xx or a transport failure).
    pub retries: u64,
    /// Answers with status 429, retried or not.
    pub rate_limited: u64,
    /// The client-side rate limit now, in requests per second, where the client has one.
    pub rate_limit: Option<f64>,
}

impl Progress {
    /// The bytes of every input, once known: every input found, each of a known size.
    pub fn total_bytes(&self) -> Option<u64> {
        (self.listed && self.unsized_inputs == 0).then_some(self.input_bytes)
    }
}

/// Reads an import's [`Progress`] whenever asked; cheap to clone and to read.
#[derive(Clone)]
pub struct ProgressWatch {
    counts: Arc<Counts>,
    client: Client,
    /// The client's statistics when the import began.
    before: ClientStats,
}

impl std::fmt::Debug for ProgressWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ProgressWatch").field(&self.now()).finish()
    }
}

impl ProgressWatch {
    pub(crate) fn new(counts: Arc<Counts>, client: Client) -> Self {
        let before = client.stats();
        Self {
            counts,
            client,
            before,
        }
    }

    /// The progress now.
    pub fn now(&self) -> Progress {
        let counts = &self.counts;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let stats = self.client.stats();
        Progress {
            messages: load(&counts.messages),
            already_stored: load(&counts.already_stored),
            conversations: load(&counts.conversations),
            batches: load(&counts.batches),
            in_flight: load(&counts.in_flight),
            invalid: load(&counts.invalid),
            bytes_read: load(&counts.bytes),
            bytes_done: load(&counts.bytes_done),
            inputs: load(&counts.inputs),
            input_bytes: load(&counts.input_bytes),
            unsized_inputs: load(&counts.unsized_inputs),
            listed: counts.listed.load(Ordering::Relaxed),
            retries: stats.retries - self.before.retries,
            rate_limited: stats.rate_limited - self.before.rate_limited,
            rate_limit: self.client.rate_limit_now(),
        }
    }
}
