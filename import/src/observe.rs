//! What an import tells its caller as it goes: an [`Observer`] is told of a resume's state,
//! of each invalid line, entry or document ([`Invalid`]), of each batch acknowledged
//! ([`Acknowledged`]), and is handed the [`ProgressWatch`] to read the counts from. None of it
//! holds the text of a message.

use std::fmt;

use crate::progress::ProgressWatch;

pub use crate::pipeline::Resumed;

/// Told of an import's events, from the import's tasks: each method returns at once (hand
/// anything slow to a task or a channel). Every method does nothing by default.
pub trait Observer: Send + Sync {
    /// The import started: `progress` reads its counts whenever asked, until it ends.
    fn started(&self, progress: &ProgressWatch) {
        let _ = progress;
    }

    /// A resume found this in the checkpoint, before anything is sent.
    fn resumed(&self, resumed: &Resumed) {
        let _ = resumed;
    }

    /// An invalid line, entry or document was not imported (the import goes on, unless
    /// strict).
    fn invalid(&self, invalid: &Invalid) {
        let _ = invalid;
    }

    /// ASAPP acknowledged a batch, and the checkpoint recorded it: called from the task that
    /// sent it, once per batch.
    fn acknowledged(&self, batch: &Acknowledged<'_>) {
        let _ = batch;
    }
}

/// A batch ASAPP acknowledged and the checkpoint recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Acknowledged<'a> {
    /// The conversation's external id.
    pub external_id: &'a str,
    /// The messages the batch sent: fewer than it holds when a batch in doubt was read back
    /// and ASAPP had some of them already.
    pub messages: usize,
}

/// The observer that is told nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {}

/// What was invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidKind {
    /// A line of JSON Lines.
    Line,
    /// A message entry of a vendor document.
    Entry,
    /// A whole vendor document.
    Document,
}

/// An invalid line, entry or document, and why: its place and the reason, never the text of a
/// message. Displayed as `asapp import` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Invalid {
    /// What was invalid.
    pub kind: InvalidKind,
    /// The input's name.
    pub input: String,
    /// Where in it: `input:line` for a line, `input#/json/pointer` for an entry, the input's
    /// name for a document.
    pub place: String,
    /// Why.
    pub reason: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            InvalidKind::Line => write!(f, "{}: invalid line: {}", self.place, self.reason),
            InvalidKind::Entry => write!(f, "{}: invalid entry: {}", self.place, self.reason),
            InvalidKind::Document => write!(f, "{}: {}", self.place, self.reason),
        }
    }
}
