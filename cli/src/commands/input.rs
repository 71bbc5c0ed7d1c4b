//! What commands read besides their options: a request body from a JSON file or stdin, and a
//! time given as an option.

use std::io::Read as _;
use std::path::Path;

use asapp_conversations::{DecodeError, chrono};
use serde::de::DeserializeOwned;

use crate::Failure;

/// A request body from a JSON file, or stdin for `-`; an error names the file and the JSON path.
pub(super) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, Failure> {
    let (name, text) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("cannot read stdin: {e}")))?;
        ("stdin".to_owned(), text)
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
        (path.display().to_string(), text)
    };
    // The error names the place and the reason, never the value: the file holds messages.
    DecodeError::decode(text.as_bytes()).map_err(|error| Failure::usage(format!("{name}: {error}")))
}

/// An RFC 3339 time, or now.
pub(super) fn timestamp(text: Option<&str>) -> Result<chrono::DateTime<chrono::Utc>, Failure> {
    match text {
        None => Ok(chrono::Utc::now()),
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| Failure::usage(format!("`{text}` is not an RFC 3339 time: {e}"))),
    }
}
