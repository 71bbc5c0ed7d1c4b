//! What `asapp` writes: an answer's JSON on stdout (pretty on a terminal, compact otherwise or
//! with `--compact`), JSON Lines, and a failure's line on stderr.

use std::io::Write;

use asapp_conversations::{ApiError, ResponseValue};
use serde::Serialize;

use crate::{Exit, Failure, Output};

/// Writes a successful answer's JSON.
pub(crate) fn print<T: Serialize>(
    out: &mut dyn Write,
    output: Output,
    result: Result<ResponseValue<T>, ApiError>,
) -> Result<(), Failure> {
    write_json(out, output, &result?.into_inner())
}

/// Writes `value` as JSON, pretty or on one line as `output` says.
pub(crate) fn write_json(
    out: &mut dyn Write,
    output: Output,
    value: &impl Serialize,
) -> Result<(), Failure> {
    let text = if output.pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .map_err(|e| Failure {
        exit: Exit::Failed,
        message: format!("cannot print the answer: {e}"),
    })?;
    writeln!(out, "{text}").map_err(|e| Failure {
        exit: Exit::Failed,
        message: format!("cannot write the answer: {e}"),
    })
}

/// Writes `value` as one line of JSON Lines, whatever `--compact` says.
pub(crate) fn write_line(out: &mut dyn Write, value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string(value).map_err(|e| Failure {
        exit: Exit::Failed,
        message: format!("cannot print a line: {e}"),
    })?;
    writeln!(out, "{text}").map_err(|e| Failure {
        exit: Exit::Failed,
        message: format!("cannot write: {e}"),
    })
}

/// Writes how the run ended on `err` and returns its exit status: `error: …`, except for an
/// import stopped as asked, which is not an error and says how to resume.
pub(crate) fn write_failure(err: &mut dyn Write, failure: &Failure) -> Exit {
    if matches!(failure.exit, Exit::Interrupted | Exit::Terminated) {
        let _ = writeln!(err, "{failure}");
    } else {
        let _ = writeln!(err, "error: {failure}");
    }
    failure.exit
}
