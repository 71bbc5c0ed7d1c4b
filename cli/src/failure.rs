//! What a failed command carries: its exit status and its one-line message, and how the
//! library's [`ApiError`] maps to an exit status (usage 2, rejected 3, failed 4).

use asapp_conversations::{ApiError, ErrorKind};

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
        let exit = match error.kind() {
            ErrorKind::InvalidRequest { .. } => Exit::Usage,
            _ if error.status().is_some_and(|s| s.is_client_error()) => Exit::Rejected,
            _ => Exit::Failed,
        };
        Self {
            exit,
            message: error.to_string(),
        }
    }
}
