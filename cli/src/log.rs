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
    type Writer = LogRecord;

    fn make_writer(&'a self) -> Self::Writer {
        LogRecord(Vec::new())
    }
}

/// One event's text, written to stderr when dropped.
#[derive(Debug)]
pub(crate) struct LogRecord(Vec<u8>);

impl Write for LogRecord {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogRecord {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        with_bar_cleared(|| {
            let _ = std::io::stderr().lock().write_all(&self.0);
        });
    }
}

/// Runs `write` with the progress bar (if one is drawn) cleared, and draws it again after.
fn with_bar_cleared(write: impl FnOnce()) {
    let bar = BAR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Writes `line` to stderr with the progress bar (if one is drawn) cleared around it: for what
/// is said outside of a command's report, such as the import's word on Ctrl-C.
pub(crate) fn write_line(line: &str) {
    with_bar_cleared(|| {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    });
}

/// A writer of whole lines beside the progress bar, for what a command reports as it goes (the
/// import's invalid lines and refused documents): each line is written with the bar cleared
/// around it, like a log line. What is left without a newline is written when flushed or
/// dropped.
pub(crate) struct BesideBar<'a> {
    inner: &'a mut dyn Write,
    pending: Vec<u8>,
}

impl<'a> BesideBar<'a> {
    /// Lines to `inner`.
    pub(crate) fn new(inner: &'a mut dyn Write) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }

    fn write_pending(&mut self, up_to: usize) -> std::io::Result<()> {
        let mut written = Ok(());
        let (inner, pending) = (&mut self.inner, &self.pending[..up_to]);
        with_bar_cleared(|| written = inner.write_all(pending).and_then(|()| inner.flush()));
        self.pending.drain(..up_to);
        written
    }
}

impl Write for BesideBar<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        if let Some(last) = self.pending.iter().rposition(|b| *b == b'\n') {
            self.write_pending(last + 1)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.write_pending(self.pending.len())
    }
}

impl Drop for BesideBar<'_> {
    fn drop(&mut self) {
        let _ = self.flush();
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

    /// Held by the tests that set the process's one [`BAR`].
    static BAR_IN_TEST: Mutex<()> = Mutex::new(());

    /// A terminal that records, in `events`, what the bar draws and clears.
    #[derive(Debug, Clone)]
    struct Recorded {
        events: std::sync::Arc<Mutex<Vec<String>>>,
    }

    impl Recorded {
        /// Records `event`, but for moves of no lines and writes of nothing to see.
        fn push(&self, event: String) -> std::io::Result<()> {
            if event != "up 0" && event != "bar " {
                self.events.lock().unwrap().push(event);
            }
            Ok(())
        }
    }

    impl indicatif::TermLike for Recorded {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
            self.push(format!("up {n}"))
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, line: &str) -> std::io::Result<()> {
            self.push(format!("bar {}", line.trim()))
        }
        fn write_str(&self, text: &str) -> std::io::Result<()> {
            self.push(format!("bar {}", text.trim()))
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.push("clear".to_owned())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A writer that records each write in the same `events`.
    struct Reported(std::sync::Arc<Mutex<Vec<String>>>);

    impl Write for Reported {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let text = String::from_utf8_lossy(bytes).into_owned();
            self.0.lock().unwrap().push(format!("report {text:?}"));
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_report_is_written_in_whole_lines_with_the_bar_cleared_around_each() {
        let _bar = BAR_IN_TEST.lock().unwrap();
        let events = std::sync::Arc::new(Mutex::new(Vec::new()));
        let terminal = Recorded {
            events: events.clone(),
        };
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(10),
            indicatif::ProgressDrawTarget::term_like(Box::new(terminal)),
        );
        bar.set_style(indicatif::ProgressStyle::with_template("{pos}/{len}").unwrap());
        bar.set_position(3);
        beside(Some(&bar));
        let mut sink = Reported(events.clone());
        let mut report = BesideBar::new(&mut sink);
        write!(report, "a.jsonl:1: invalid line: ").unwrap();
        writeln!(report, "at text").unwrap();
        write!(report, "no newline").unwrap();
        drop(report);
        beside(None);
        let events = events.lock().unwrap().clone();
        let reports: Vec<usize> = (0..events.len())
            .filter(|&i| events[i].starts_with("report"))
            .collect();
        assert_eq!(
            reports
                .iter()
                .map(|&i| events[i].as_str())
                .collect::<Vec<_>>(),
            [
                r#"report "a.jsonl:1: invalid line: at text\n""#,
                r#"report "no newline""#
            ],
            "{events:?}"
        );
        for &i in &reports {
            // The bar was drawn and cleared before the report, and drawn again after it.
            assert_eq!(events[i - 1], "clear", "{events:?}");
            assert_eq!(
                events.get(i + 1).map(String::as_str),
                Some("bar 3/10"),
                "{events:?}"
            );
        }
    }

    #[test]
    fn a_line_is_written_whole_beside_a_hidden_bar() {
        let _bar = BAR_IN_TEST.lock().unwrap();
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
