//! The display of an import's progress on stderr: a bar on a terminal, a plain line every 5
//! seconds otherwise, drawn from the library's [`ProgressWatch`].
//!
//! The bar's unit is bytes of input, the only total known before reading. Its position is what
//! is *done* (see [`Progress`]); what the reader has read ahead is shown apart (`read 63%`), and
//! the eta follows what is done. While inputs are still being listed the total is not known:
//! the display says so, with no percentage and no eta; so does an input whose size is not known
//! (stdin).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use asapp_conversations_import::{Progress, ProgressWatch};

/// What the display shows at one moment.
#[derive(Debug, Clone, PartialEq)]
struct View {
    /// Done out of the total, once the total is known.
    bar: Option<(u64, u64)>,
    /// The words beside the bar (or the spinner).
    text: String,
}

impl View {
    /// The view of `now`; `rate` is messages a second, `eta` the time left.
    fn of(now: &Progress, rate: f64, eta: Option<Duration>) -> Self {
        let mut messages = format!("{} messages acknowledged", now.messages);
        if now.already_stored > 0 {
            let _ = write!(messages, ", {} already stored", now.already_stored);
        }
        let _ = write!(
            messages,
            ", {} conversations, {rate:.0} messages/s",
            now.conversations
        );
        match now.total_bytes() {
            _ if !now.listed => View {
                bar: None,
                text: format!(
                    "listing… {} inputs, {} so far; {messages}, read {}",
                    now.inputs,
                    size(now.input_bytes),
                    size(now.bytes_read)
                ),
            },
            None => View {
                bar: None,
                text: format!("{messages}, read {}", size(now.bytes_read)),
            },
            Some(total) => {
                let mut text = format!("{messages}, read {}%", percent(now.bytes_read, total));
                if let Some(eta) = eta {
                    let _ = write!(text, ", eta {}", duration(eta));
                }
                View {
                    bar: Some((now.bytes_done.min(total), total)),
                    text,
                }
            }
        }
    }

    /// The line drawn on a terminal, its `tick`-th: a bar of 30 cells and the percentage done
    /// once the total is known, a spinner before. One line drawn whole, so that no frame shows
    /// the bar of one moment beside the words of another.
    fn drawn(&self, tick: usize) -> String {
        const SPINNER: [char; 8] = ['⠁', '⠂', '⠄', '⡀', '⢀', '⠠', '⠐', '⠈'];
        const CELLS: u64 = 30;
        match self.bar {
            Some((done, total)) => {
                let full = match total {
                    0 => CELLS,
                    total => {
                        (u128::from(done.min(total)) * u128::from(CELLS) / u128::from(total)) as u64
                    }
                };
                format!(
                    "{}{} {:>3}% {}",
                    "█".repeat(full as usize),
                    "░".repeat((CELLS - full) as usize),
                    percent(done, total),
                    self.text
                )
            }
            None => format!("{} {}", SPINNER[tick % SPINNER.len()], self.text),
        }
    }

    /// The plain line, without a terminal.
    fn line(&self) -> String {
        match self.bar {
            Some((done, total)) => format!("import: {}% done, {}", percent(done, total), self.text),
            None => format!("import: {}", self.text),
        }
    }
}

/// `part` of `total` in whole percent, rounded down (100 only when all is done).
fn percent(part: u64, total: u64) -> u64 {
    if total == 0 {
        return 100;
    }
    (u128::from(part.min(total)) * 100 / u128::from(total)) as u64
}

/// Bytes in KiB, MiB or GiB.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A time left, to the second: `45s`, `8m 20s`, `2h 05m`.
fn duration(left: Duration) -> String {
    let seconds = left.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h {:02}m", seconds / 3600, seconds / 60 % 60),
    }
}

/// The rate of what is done over the last [`Eta::SPAN`], and the time left at that rate.
#[derive(Debug, Default)]
struct Eta {
    samples: VecDeque<(Instant, u64)>,
}

impl Eta {
    const SPAN: Duration = Duration::from_secs(30);

    /// Takes `done` at `at`; the time left to `total`, when anything was done lately.
    fn left(&mut self, at: Instant, done: u64, total: Option<u64>) -> Option<Duration> {
        self.samples.push_back((at, done));
        while self
            .samples
            .front()
            .is_some_and(|(then, _)| at.duration_since(*then) > Self::SPAN)
        {
            self.samples.pop_front();
        }
        let total = total?;
        let (then, done_then) = *self.samples.front()?;
        let seconds = at.duration_since(then).as_secs_f64();
        if done >= total || done <= done_then || seconds < 1.0 {
            return None;
        }
        let rate = (done - done_then) as f64 / seconds;
        Duration::try_from_secs_f64((total - done) as f64 / rate).ok()
    }
}

/// A terminal to draw the bar on instead of stderr, for tests run in-process ([`on_terminal`]).
type Terminal = Arc<dyn indicatif::TermLike>;

tokio::task_local! {
    static TERMINAL: Terminal;
}

/// Runs `future` (an `asapp` run in-process) with the import's progress bar drawn on
/// `terminal`, as on a terminal.
pub(crate) async fn on_terminal<F: Future>(terminal: Terminal, future: F) -> F::Output {
    TERMINAL.scope(terminal, future).await
}

/// Draws on the [`on_terminal`] terminal.
#[derive(Debug)]
struct Shared(Terminal);

impl indicatif::TermLike for Shared {
    fn width(&self) -> u16 {
        self.0.width()
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// The display, until dropped: the bar is then cleared.
pub(crate) struct Display {
    /// Shows the counts at once.
    now: Arc<tokio::sync::Notify>,
    ticker: Option<tokio::task::JoinHandle<()>>,
    bar: Option<indicatif::ProgressBar>,
}

impl Display {
    /// Shows what `watch` reads: a bar when `terminal` (or on the [`on_terminal`] terminal),
    /// drawn at once, plain lines every 5 s otherwise (and at once on [`Display::show_now`]).
    pub(crate) fn start(terminal: bool, watch: ProgressWatch) -> Self {
        let started = Instant::now();
        let target = TERMINAL.try_with(Arc::clone).ok();
        let bar = (terminal || target.is_some()).then(|| {
            let bar = match target {
                Some(target) => indicatif::ProgressBar::with_draw_target(
                    None,
                    indicatif::ProgressDrawTarget::term_like(Box::new(Shared(target))),
                ),
                None => indicatif::ProgressBar::no_length(),
            };
            // The whole line is drawn here ([`View::drawn`]).
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        // Log lines clear the bar and draw it again.
        crate::log::beside(bar.as_ref());
        let tick_bar = bar.clone();
        let tick_watch = watch;
        let now = Arc::new(tokio::sync::Notify::new());
        let shown_now = now.clone();
        let ticker = tokio::spawn(async move {
            let watch = tick_watch;
            let period = if tick_bar.is_some() {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(5)
            };
            let mut eta = Eta::default();
            // Nothing done at the start: the first plain line, 5 s in, has an eta.
            eta.left(started, 0, None);
            let mut tick = 0;
            let mut first = true;
            loop {
                if !first || tick_bar.is_some() {
                    let now = watch.now();
                    let rate = now.messages as f64 / started.elapsed().as_secs_f64().max(1e-9);
                    let left = eta.left(Instant::now(), now.bytes_done, now.total_bytes());
                    let view = View::of(&now, rate, left);
                    match &tick_bar {
                        Some(bar) => bar.set_message(view.drawn(tick)),
                        None => eprintln!("{}", view.line()),
                    }
                    tick += 1;
                }
                first = false;
                tokio::select! {
                    () = tokio::time::sleep(period) => {}
                    () = shown_now.notified() => {}
                }
            }
        });
        Self {
            now,
            ticker: Some(ticker),
            bar,
        }
    }

    /// Shows the counts now, without waiting for the next plain line: for a resume, which may
    /// wait for conversations in doubt, right after it says what it found.
    pub(crate) fn show_now(&self) {
        self.now.notify_one();
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        if let Some(bar) = self.bar.take() {
            crate::log::beside(None);
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(f: impl FnOnce(&mut Progress)) -> Progress {
        let mut progress = Progress::default();
        f(&mut progress);
        progress
    }

    #[test]
    fn the_bar_follows_what_is_done_and_shows_what_is_read_apart() {
        let now = counted(|counts| {
            counts.inputs = 2;
            counts.input_bytes = 1000;
            counts.listed = true;
            counts.bytes_read = 1000;
            counts.bytes_done = 102;
            counts.messages = 2040;
            counts.conversations = 12;
        });
        let view = View::of(&now, 20.0, Some(Duration::from_secs(500)));
        assert_eq!(view.bar, Some((102, 1000)), "read is not done");
        assert_eq!(
            view.text,
            "2040 messages acknowledged, 12 conversations, 20 messages/s, read 100%, eta 8m 20s"
        );
        assert_eq!(
            view.drawn(0),
            "███░░░░░░░░░░░░░░░░░░░░░░░░░░░  10% 2040 messages acknowledged, 12 conversations, \
             20 messages/s, read 100%, eta 8m 20s"
        );
        assert_eq!(
            view.line(),
            "import: 10% done, 2040 messages acknowledged, 12 conversations, 20 messages/s, \
             read 100%, eta 8m 20s"
        );
    }

    #[test]
    fn a_listing_in_progress_shows_as_such_without_a_percentage() {
        let now = counted(|counts| {
            counts.inputs = 2;
            counts.input_bytes = 3 * 1024 * 1024 + 512 * 1024;
            counts.bytes_read = 2048;
            counts.already_stored = 7;
        });
        let view = View::of(&now, 0.0, None);
        assert_eq!(view.bar, None);
        assert_eq!(
            view.text,
            "listing… 2 inputs, 3.5 MiB so far; 0 messages acknowledged, 7 already stored, \
             0 conversations, 0 messages/s, read 2.0 KiB"
        );
        assert!(view.line().starts_with("import: listing… 2 inputs"));
        assert!(view.drawn(1).starts_with("⠂ listing… 2 inputs"));
        // Listed, but stdin has no size: still no percentage.
        let now = counted(|counts| {
            counts.inputs = 1;
            counts.unsized_inputs = 1;
            counts.listed = true;
        });
        assert_eq!(View::of(&now, 0.0, None).bar, None);
        assert_eq!(
            View::of(&now, 0.0, None).line(),
            "import: 0 messages acknowledged, 0 conversations, 0 messages/s, read 0 B"
        );
    }

    #[test]
    fn percentages_sizes_and_durations_read_as_meant() {
        assert_eq!(percent(999, 1000), 99, "100 only when all is done");
        assert_eq!(percent(1000, 1000), 100);
        assert_eq!(percent(0, 0), 100);
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(duration(Duration::from_secs(45)), "45s");
        assert_eq!(duration(Duration::from_secs(7505)), "2h 05m");
    }

    #[test]
    fn the_eta_follows_the_recent_rate_of_what_is_done() {
        let mut eta = Eta::default();
        let start = Instant::now();
        assert_eq!(eta.left(start, 0, Some(1000)), None, "nothing done yet");
        let at = |s| start + Duration::from_secs(s);
        assert_eq!(eta.left(at(1), 0, Some(1000)), None, "nothing done yet");
        assert_eq!(
            eta.left(at(2), 100, Some(1000)),
            Some(Duration::from_secs(18))
        );
        // Past the span, the rate is the recent one: 10 bytes a second.
        for s in 3..=60 {
            eta.left(at(s), 100 + (s - 2) * 10, Some(1000));
        }
        assert_eq!(
            eta.left(at(61), 690, Some(1000)),
            Some(Duration::from_secs(31))
        );
        assert_eq!(eta.left(at(62), 1000, Some(1000)), None, "all done");
        assert_eq!(eta.left(at(63), 1000, None), None, "no total");
    }
}
