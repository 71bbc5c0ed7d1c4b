//! What a failed command carries: its exit status and its one-line message, and how the
//! libraries' errors ([`ApiError`], the import's [`import::Error`]) map to an exit status (usage
//! 2, rejected 3, failed 4).

use asapp_conversations::{ApiError, ErrorKind};
use asapp_conversations_import::{self as import, CheckpointProblem, StoreProblem};

use crate::Exit;

/// A failure with its exit status and one-line message.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Failure {
    pub(crate) exit: Exit,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Usage,
            message: message.into(),
        }
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Self {
            exit: api_exit(&error),
            message: error.to_string(),
        }
    }
}

/// The exit status of a request that failed: refused before sending 2, by the API 3, else 4.
fn api_exit(error: &ApiError) -> Exit {
    match error.kind() {
        ErrorKind::InvalidRequest { .. } => Exit::Usage,
        _ if error.status().is_some_and(|s| s.is_client_error()) => Exit::Rejected,
        _ => Exit::Failed,
    }
}

impl From<import::Error> for Failure {
    /// An import's error, by whose fault it is. A cancellation is the caller's to word (it knows
    /// the signal): here it is a failure.
    fn from(error: import::Error) -> Self {
        let exit = match &error {
            import::Error::Input { .. } => Exit::Usage,
            import::Error::Checkpoint { problem, .. } => match problem {
                CheckpointProblem::CannotWrite => Exit::Failed,
                _ => Exit::Usage,
            },
            import::Error::Asapp { source, .. } => api_exit(source),
            import::Error::ObjectStore { problem, .. } => match problem {
                StoreProblem::Input => Exit::Usage,
                StoreProblem::Denied => Exit::Rejected,
                _ => Exit::Failed,
            },
            _ => Exit::Failed,
        };
        Self {
            exit,
            message: error.to_string(),
        }
    }
}
