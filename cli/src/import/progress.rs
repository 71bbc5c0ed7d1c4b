//! What an import has done so far ([`Counts`], updated as runs are sent), and its display on
//! stderr: a bar on a terminal, a plain line every 5 seconds otherwise.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counters of an import, shared by the tasks that send, the display and the summary.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) messages: AtomicU64,
    pub(crate) conversations: AtomicU64,
    pub(crate) batches: AtomicU64,
    /// Messages found already stored: acknowledged before, or read back.
    pub(crate) already_stored: AtomicU64,
    /// Bytes of input read.
    pub(crate) bytes: AtomicU64,
    /// Bytes of the inputs reached so far (standard input counts none).
    pub(crate) input_bytes: AtomicU64,
}

/// The display, until [`Progress::finish`].
pub(crate) struct Progress {
    ticker: Option<tokio::task::JoinHandle<()>>,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// Shows `counts` against the bytes of the inputs reached: a bar when `terminal`.
    pub(crate) fn start(terminal: bool, counts: Arc<Counts>) -> Self {
        let started = Instant::now();
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new(1);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {percent:>3}% {msg} eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        // Log lines clear the bar and draw it again.
        crate::log::beside(bar.as_ref());
        let tick_bar = bar.clone();
        let ticker = tokio::spawn(async move {
            let period = if tick_bar.is_some() {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(5)
            };
            loop {
                tokio::time::sleep(period).await;
                let messages = counts.messages.load(Ordering::Relaxed);
                let rate = messages as f64 / started.elapsed().as_secs_f64().max(1e-9);
                let text = format!(
                    "{messages} messages, {} conversations, {rate:.0} messages/s",
                    counts.conversations.load(Ordering::Relaxed)
                );
                match &tick_bar {
                    Some(bar) => {
                        bar.set_length(counts.input_bytes.load(Ordering::Relaxed).max(1));
                        bar.set_position(counts.bytes.load(Ordering::Relaxed));
                        bar.set_message(text);
                    }
                    None => eprintln!("import: {text}"),
                }
            }
        });
        Self {
            ticker: Some(ticker),
            bar,
        }
    }

    pub(crate) fn finish(mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        if let Some(bar) = self.bar.take() {
            crate::log::beside(None);
            bar.finish_and_clear();
        }
    }
}
