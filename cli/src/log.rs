//! What `asapp` logs, and where: `tracing` events of the client and of `asapp` itself, to
//! stderr, filtered by `RUST_LOG` when it is set and by `-v` / `-vv` otherwise (warnings by
//! default), written beside the import's progress bar without garbling it.
//!
//! At `-v` (info) the client tells each retry, with the status (a 429, a 503) or the transport
//! failure that caused it and the wait, and each call that failed for good; the import tells
//! the retries, the 429 answers and the time waited for the rate limiter every few seconds. At
//! `-vv` (debug) also each call that succeeded and each wait for the rate limiter; `-vvv` is
//! everything (trace). No line holds a credential, a body or a message's text: the client's
//! events name operations, statuses, error kinds and waits only.

use std::io::Write;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The filter's directives for `verbose` (the count of `-v`) when `RUST_LOG` is unset or empty.
pub(crate) fn directives(verbose: u8) -> &'static str {
    match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    }
}

/// The filter: `rust_log` (the value of `RUST_LOG`) when it is set and not empty, which wins
/// over `-v`; otherwise the level `verbose` gives. An unreadable `RUST_LOG` is an error naming
/// what is wrong with it.
pub(crate) fn filter(verbose: u8, rust_log: Option<&str>) -> Result<EnvFilter, String> {
    match rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        Some(directives) => EnvFilter::builder()
            .parse(directives)
            .map_err(|e| format!("RUST_LOG `{directives}` is invalid: {e}")),
        None => Ok(EnvFilter::new(directives(verbose))),
    }
}

/// Installs the process's subscriber: `filter`, writing to stderr through [`Stderr`]. Fails if
/// a subscriber is installed already.
pub(crate) fn install(filter: EnvFilter) -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Stderr)
        .with_ansi(false)
        .try_init()
        .map_err(|e| format!("cannot install the logger: {e}"))
}

/// The progress bar on screen, if any: log lines are written while it is cleared.
static BAR: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// Writes log lines beside `bar` from now on (`None`: the bar is gone).
pub(crate) fn beside(bar: Option<&indicatif::ProgressBar>) {
    *BAR.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = bar.cloned();
}

/// Stderr for log lines: each event is gathered into one line and written whole, with the
/// progress bar (if one is drawn) cleared around it and drawn again after.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stderr;

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Line;

    fn make_writer(&'a self) -> Self::Writer {
        Line(Vec::new())
    }
}

/// One event's text, written to stderr when dropped.
#[derive(Debug)]
pub(crate) struct Line(Vec<u8>);

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let write = || {
            let _ = std::io::stderr().lock().write_all(&self.0);
        };
        let bar = BAR
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_sets_the_level_and_rust_log_wins() {
        assert_eq!(
            [0, 1, 2, 3, 9].map(directives),
            ["warn", "info", "debug", "trace", "trace"]
        );
        let shown = |verbose, rust_log| filter(verbose, rust_log).unwrap().to_string();
        assert_eq!(shown(0, None), "warn");
        assert_eq!(shown(2, None), "debug");
        assert_eq!(shown(1, Some("  ")), "info", "an empty RUST_LOG is unset");
        assert_eq!(shown(0, Some("trace")), "trace");
        assert_eq!(
            shown(2, Some("asapp_conversations=info")),
            "asapp_conversations=info"
        );
        let error = filter(0, Some("asapp_conversations=loud")).unwrap_err();
        assert!(
            error.contains("RUST_LOG `asapp_conversations=loud` is invalid"),
            "{error}"
        );
    }

    #[test]
    fn a_line_is_written_whole_beside_a_hidden_bar() {
        let bar = indicatif::ProgressBar::hidden();
        beside(Some(&bar));
        let mut line = Stderr.make_writer();
        line.write_all(b"one ").unwrap();
        line.write_all(b"line\n").unwrap();
        assert_eq!(line.0, b"one line\n");
        drop(line);
        beside(None);
        assert!(BAR.lock().unwrap().is_none());
    }
}
