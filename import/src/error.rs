//! Why an import stopped: [`Error`], which says where ([`Error::place`]) and whose fault it is
//! ([`Error::fault`]), and never holds the text of a message.
//!
//! Each error's text is one sentence that names its place first (the input, with its line, its
//! JSON pointer or its key; the checkpoint's path; the run of lines whose batch failed) and then
//! the reason. Where a setting is to blame, the text names it as `asapp import` spells it
//! (`--batch-size`); [`crate::Import`]'s methods say which flag each one is.

use std::path::{Path, PathBuf};

use asapp_conversations::ApiError;

/// Whose fault an [`Error`] is: what to fix, or whom to wait for, before importing again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// An input (not there, not readable, invalid with `strict`, changed since the checkpoint
    /// recorded it) or the import's settings: fix them and import again.
    Input,
    /// The checkpoint: it belongs to another import or other settings, or cannot be written.
    Checkpoint,
    /// ASAPP refused a request (a 4xx answer other than 429).
    AsappRefused,
    /// ASAPP or the network failed (5xx answers, timeouts, connection failures, answers that
    /// break the API's description), after the client's retries.
    AsappFailed,
    /// The object store: a key not found, access refused, or the store failing.
    ObjectStore,
    /// The caller cancelled the import.
    Cancelled,
}

/// What is wrong with the checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointProblem {
    /// It records another import: other inputs, settings, or batches; or it exists already for
    /// a fresh import, or is in use by another.
    Mismatch,
    /// It cannot be opened, read or locked when the import starts (a path that is wrong).
    CannotOpen,
    /// It cannot be written or synced while the import goes on.
    CannotWrite,
}

/// What went wrong with an object store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreProblem {
    /// The URL, the key or the store's configuration is wrong, or the object is not there (or
    /// changed since it was listed).
    Input,
    /// The store refused the credentials or the access.
    Denied,
    /// The store or the network failed, after the store client's retries.
    Failed,
}

/// Why an import stopped. Nothing was left half-recorded: the checkpoint holds what was
/// acknowledged, and importing again with `resume` goes on from there.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input or a setting is wrong: fix it and import again (with `resume` if anything was
    /// sent).
    #[error("{detail}")]
    Input {
        /// The input's name: its path, URL, or the name it was given.
        input: String,
        /// The whole sentence, place first.
        detail: String,
    },
    /// The checkpoint is not this import's, or cannot be written.
    #[error("{detail}")]
    Checkpoint {
        /// The checkpoint's path.
        path: PathBuf,
        /// What is wrong with it.
        problem: CheckpointProblem,
        /// The whole sentence.
        detail: String,
    },
    /// A request to ASAPP failed or was refused: [`ApiError`] says which.
    #[error("{place}: {source}")]
    Asapp {
        /// The run of lines whose request it was: `input:line` and the conversation's external
        /// id.
        place: String,
        /// What the client said.
        #[source]
        source: Box<ApiError>,
    },
    /// ASAPP listed a conversation without messages the checkpoint shows as stored, so what a
    /// batch in doubt stored cannot be told; nothing was sent again.
    #[error("{place}: {detail}")]
    IncompleteListing {
        /// The run of lines whose batch was in doubt.
        place: String,
        /// The whole sentence.
        detail: String,
    },
    /// An object store failed or refused.
    #[error("{detail}")]
    ObjectStore {
        /// The object's or the prefix's URL.
        url: String,
        /// What went wrong.
        problem: StoreProblem,
        /// The whole sentence, URL first.
        detail: String,
    },
    /// The caller's cancellation token stopped the import; the batches in flight were answered
    /// and recorded, but for `unanswered`, left in doubt (a resume reads them back).
    #[error(
        "cancelled: {messages} messages acknowledged in {batches} batches, recorded in the \
         checkpoint; {unanswered} batches in flight not answered in time"
    )]
    Cancelled {
        /// Messages acknowledged by this import.
        messages: u64,
        /// Batches acknowledged by this import.
        batches: u64,
        /// Batches in flight when the grace ran out.
        unanswered: u64,
    },
    /// A task of the import failed (a bug): nothing was left half-recorded.
    #[error("{detail}")]
    Internal {
        /// The whole sentence.
        detail: String,
    },
}

impl Error {
    /// Whose fault it is.
    pub fn fault(&self) -> Fault {
        match self {
            Self::Input { .. } => Fault::Input,
            Self::Checkpoint { .. } => Fault::Checkpoint,
            Self::Asapp { source, .. } => match source.kind() {
                // Refused by the client before sending: the input's values.
                asapp_conversations::ErrorKind::InvalidRequest { .. } => Fault::Input,
                _ if source.status().is_some_and(|s| s.is_client_error()) => Fault::AsappRefused,
                _ => Fault::AsappFailed,
            },
            Self::IncompleteListing { .. } => Fault::AsappFailed,
            Self::ObjectStore { .. } => Fault::ObjectStore,
            Self::Cancelled { .. } => Fault::Cancelled,
            Self::Internal { .. } => Fault::AsappFailed,
        }
    }

    /// Where it happened: the input, the checkpoint's path, the run of lines, or the URL; empty
    /// when no one place is to blame (a cancellation, a bug).
    pub fn place(&self) -> String {
        match self {
            Self::Input { input, .. } => input.clone(),
            Self::Checkpoint { path, .. } => path.display().to_string(),
            Self::Asapp { place, .. } | Self::IncompleteListing { place, .. } => place.clone(),
            Self::ObjectStore { url, .. } => url.clone(),
            Self::Cancelled { .. } | Self::Internal { .. } => String::new(),
        }
    }

    /// An input's error: `detail` names `input` first.
    pub(crate) fn input(input: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Input {
            input: input.into(),
            detail: detail.into(),
        }
    }

    /// The file or directory at `path`, an input or in one, cannot be read.
    pub(crate) fn cannot_read(path: &Path, error: &std::io::Error) -> Self {
        let shown = path.display();
        Self::input(shown.to_string(), format!("cannot read {shown}: {error}"))
    }

    /// The checkpoint at `path` does not belong to this import.
    pub(crate) fn mismatch(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Self::Checkpoint {
            path: path.into(),
            problem: CheckpointProblem::Mismatch,
            detail: detail.into(),
        }
    }

    /// The checkpoint at `path` cannot be opened, read or locked as the import starts.
    pub(crate) fn cannot_open(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Self::Checkpoint {
            path: path.into(),
            problem: CheckpointProblem::CannotOpen,
            detail: detail.into(),
        }
    }

    /// The checkpoint at `path` cannot be written or synced.
    pub(crate) fn cannot_write(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Self::Checkpoint {
            path: path.into(),
            problem: CheckpointProblem::CannotWrite,
            detail: detail.into(),
        }
    }

    /// A bug: a task that failed.
    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        Self::Internal {
            detail: detail.into(),
        }
    }

    /// This error as it happened at `place` (a run of lines): its sentence starts there.
    pub(crate) fn at(mut self, place: &str) -> Self {
        match &mut self {
            Self::Input { detail, .. }
            | Self::Checkpoint { detail, .. }
            | Self::ObjectStore { detail, .. }
            | Self::Internal { detail } => *detail = format!("{place}: {detail}"),
            Self::Asapp { place: at, .. } | Self::IncompleteListing { place: at, .. } => {
                *at = format!("{place}: {at}");
            }
            Self::Cancelled { .. } => {}
        }
        self
    }
}
