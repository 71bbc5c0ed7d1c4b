//! What an import tells on the terminal: recorded in-process on a terminal that keeps every
//! frame of the bar and every line reported beside it (as `src/log.rs`'s test of the bar
//! cleared around reports does), and, for Ctrl-C and SIGTERM, of the binary run as a process:
//! signalled with kill(1), and typed on a real terminal (a pseudo-terminal of script(1)).
//! The bar follows what ASAPP acknowledged, not what is read ahead; a resume says at once what
//! it found and waits for, with the bar drawn at once; the last word counts documents as
//! documents; an interrupted import lets its batches in flight finish, records them, says how
//! to resume, and the resume then stores the rest exactly once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asapp_conversations_cli::{Exit, Output, TermLike, on_terminal, run};
use serde_json::Value;

use super::support::{
    LIMIT, Order, Scratch, Transcript, asapp_env, assert_once_in_order, default_credentials, empty,
    import_args, injected, message_line, serve,
};

/// What the terminal showed, in order: `bar …` for each frame drawn, `report …` for each
/// line written to stderr, with when.
#[derive(Debug, Clone, Default)]
struct Recorded {
    events: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Recorded {
    fn push(&self, event: String) -> std::io::Result<()> {
        if event != "bar " {
            self.events.lock().unwrap().push((Instant::now(), event));
        }
        Ok(())
    }

    fn events(&self) -> Vec<(Instant, String)> {
        self.events.lock().unwrap().clone()
    }

    /// The frames of the bar once the total was known: percent done, messages acknowledged,
    /// percent read.
    fn frames(&self) -> Vec<(u64, u64, u64)> {
        self.events()
            .iter()
            .filter_map(|(_, event)| {
                let frame = event.strip_prefix("bar ")?;
                let (before, after) = frame.split_once("% ")?;
                let done = before.rsplit(' ').next()?.trim_start_matches(['█', '░']);
                let acknowledged = after.split(' ').next()?;
                let read = after.split("read ").nth(1)?.split('%').next()?;
                Some((
                    done.parse().ok()?,
                    acknowledged.parse().ok()?,
                    read.parse().ok()?,
                ))
            })
            .collect()
    }
}

impl TermLike for Recorded {
    fn width(&self) -> u16 {
        200
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
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
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stderr, recorded line by line beside the bar's frames.
struct Reported(Recorded, Vec<u8>);

impl std::io::Write for Reported {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(bytes);
        while let Some(end) = self.1.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.1.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]).into_owned();
            self.0.push(format!("report {line}"))?;
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `asapp args` run in-process on `terminal`; its exit status and stdout.
async fn on(terminal: &Recorded, args: &[&str], env: &[(&'static str, String)]) -> (Exit, String) {
    let mut out = Vec::new();
    let mut err = Reported(terminal.clone(), Vec::new());
    let running = run(
        std::iter::once("asapp")
            .chain(args.iter().copied())
            .map(Into::into),
        |name| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.into()),
        Output::default(),
        &mut out,
        &mut err,
    );
    let exit = tokio::time::timeout(LIMIT, on_terminal(Arc::new(terminal.clone()), running))
        .await
        .expect("asapp ends in time");
    (exit, String::from_utf8(out).unwrap())
}

/// A sandbox whose batch answers take `delay` while `slow` is set; counts the batches that
/// arrive, and those it stored. One made fast while it waits is answered 503, unstored.
struct Slow {
    url: String,
    slow: Arc<AtomicBool>,
    arrived: Arc<AtomicUsize>,
    stored: Arc<AtomicUsize>,
}

async fn slow(delay: Duration) -> Slow {
    let router = asapp_conversations_sandbox::router(&empty()).unwrap();
    let slow = Arc::new(AtomicBool::new(true));
    let arrived = Arc::new(AtomicUsize::new(0));
    let stored = Arc::new(AtomicUsize::new(0));
    let (s, a, t) = (slow.clone(), arrived.clone(), stored.clone());
    let app = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let (slow, arrived, stored) = (s.clone(), a.clone(), t.clone());
            async move {
                if !request.uri().path().ends_with("/messages/batch") {
                    return next.run(request).await;
                }
                arrived.fetch_add(1, Ordering::SeqCst);
                if slow.load(Ordering::SeqCst) {
                    // Made fast midway, it answers at once without storing: the process that
                    // sent it is gone.
                    let until = Instant::now() + delay;
                    while Instant::now() < until {
                        if !slow.load(Ordering::SeqCst) {
                            return injected(503);
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                let answer = next.run(request).await;
                if answer.status().is_success() {
                    stored.fetch_add(1, Ordering::SeqCst);
                }
                answer
            }
        },
    ));
    Slow {
        url: serve(app).await,
        slow,
        arrived,
        stored,
    }
}

#[tokio::test]
async fn the_bar_follows_what_asapp_acknowledged_not_what_is_read_ahead() {
    // 20 conversations of 10 messages, read at once (the runs held may hold them all), sent
    // two at a time against answers that take 150 ms: the reading is done long before ASAPP
    // acknowledged much.
    let server = slow(Duration::from_millis(150)).await;
    let env = default_credentials(server.url.clone());
    let scratch = Scratch::new("terminal-bar");
    let file = scratch.0.join("calls.jsonl");
    let transcript = Transcript::new("term", 20, 10);
    transcript.write(&file, Order::OneAfterAnother);
    let checkpoint = scratch.0.join("cp");
    let terminal = Recorded::default();
    let args = import_args(
        file.to_str().unwrap(),
        checkpoint.to_str().unwrap(),
        &["--concurrency", "2"],
    );
    let (exit, out) = on(&terminal, &args, &env).await;
    assert_eq!(exit, Exit::Success, "{:?}", terminal.events());
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["messages"], 200);
    let frames = terminal.frames();
    assert!(frames.len() >= 5, "{:?}", terminal.events());
    assert!(
        frames
            .iter()
            .any(|&(done, _, read)| read == 100 && done <= 50),
        "all read, little acknowledged, the bar far from full: {frames:?}"
    );
    for &(done, acknowledged, _) in &frames {
        // Every conversation (one batch) is as long as the others, so the share of messages
        // acknowledged is the share done (give or take the one batch, 5%, acknowledged between
        // the two counts).
        let share = acknowledged * 100 / 200;
        assert!(
            done.abs_diff(share) <= 5,
            "{done}% done with {acknowledged} of 200 acknowledged: {frames:?}"
        );
    }
    assert!(
        frames.windows(2).all(|w| w[0].0 <= w[1].0),
        "the bar never goes back: {frames:?}"
    );
    assert!(
        terminal
            .events()
            .iter()
            .any(|(_, event)| event.starts_with("bar ") && event.contains(", eta ")),
        "an eta while sending: {:?}",
        terminal.events()
    );
}

#[tokio::test]
async fn a_resume_says_at_once_what_it_found_and_waits_for_with_the_bar_drawn_at_once() {
    // The first batch is refused without being stored: the import stops with it in doubt. The
    // resume waits --settle before reading it back, and says so, bar and all, at once.
    let router = asapp_conversations_sandbox::router(&empty()).unwrap();
    let refused = Arc::new(AtomicBool::new(false));
    let app = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let refused = refused.clone();
            async move {
                if request.uri().path().ends_with("/messages/batch")
                    && !refused.swap(true, Ordering::SeqCst)
                {
                    return injected(400);
                }
                next.run(request).await
            }
        },
    ));
    let env = default_credentials(serve(app).await);
    let scratch = Scratch::new("terminal-resume");
    let file = scratch.0.join("calls.jsonl");
    let transcript = Transcript::new("term", 1, 3);
    transcript.write(&file, Order::OneAfterAnother);
    let checkpoint = scratch.0.join("cp");
    let args = import_args(file.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]);
    let first = asapp_env(&args, &env).await;
    assert_eq!(first.exit, Exit::Rejected, "{first:?}");

    let terminal = Recorded::default();
    let started = Instant::now();
    let resume = [args.as_slice(), &["--resume", "--settle", "3s"]].concat();
    let (exit, out) = on(&terminal, &resume, &env).await;
    assert_eq!(exit, Exit::Success, "{:?}", terminal.events());
    assert!(started.elapsed() >= Duration::from_secs(2), "it waited");
    let events = terminal.events();
    let soon = |what: &str| {
        events
            .iter()
            .find(|(_, event)| event.starts_with(what))
            .is_some_and(|(at, _)| at.duration_since(started) < Duration::from_secs(1))
    };
    assert!(soon("bar "), "the bar is drawn at once: {events:?}");
    assert!(
        soon("report resuming ")
            && events.iter().any(|(_, event)| event.contains(
                "0 batches acknowledged, 1 batch in doubt in 1 conversation, read back before \
                 they are sent again; 1 conversation wait until"
            )),
        "the resume says at once what it found and waits for: {events:?}"
    );
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["messages"], 3, "{summary}");
}

#[tokio::test]
async fn the_last_word_counts_documents_as_documents() {
    let server = slow(Duration::ZERO).await;
    let env = default_credentials(server.url.clone());
    let scratch = Scratch::new("terminal-documents");
    let inputs = scratch.0.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    for name in ["a.json", "b.json", "c.json"] {
        std::fs::write(inputs.join(name), "[1, 2").unwrap();
    }
    let mut lines = vec![message_line("term-docs", "fine", 1)];
    lines.push("{\"externalId\": \"term-docs\"}".to_owned());
    std::fs::write(inputs.join("calls.jsonl"), lines.join("\n")).unwrap();
    let checkpoint = scratch.0.join("cp");
    let terminal = Recorded::default();
    let args = import_args(inputs.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]);
    let (exit, out) = on(&terminal, &args, &env).await;
    assert_eq!(exit, Exit::Usage, "{:?}", terminal.events());
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&summary["invalidLines"], &summary["invalidDocuments"]),
        (&1.into(), &3.into()),
        "{summary}"
    );
    let last = terminal
        .events()
        .into_iter()
        .rev()
        .find(|(_, event)| event.starts_with("report "))
        .map(|(_, event)| event);
    assert_eq!(
        last.as_deref(),
        Some(
            "report error: 1 invalid line and 3 invalid documents were not imported; every \
             valid one was"
        )
    );
}

/// The binary, importing `args` from `url`, with what it tells gathered as it comes: its
/// stderr, or, run [`on a terminal`](Child::on_terminal), everything the terminal shows.
struct Child {
    child: tokio::process::Child,
    /// What is typed on the terminal, when it runs on one.
    keyboard: Option<tokio::process::ChildStdin>,
    told: Arc<Mutex<Vec<u8>>>,
    gathering: tokio::task::JoinHandle<()>,
}

impl Child {
    fn spawn(args: &[&str], url: &str) -> Self {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_asapp"));
        command
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        Self::start(command, url)
    }

    /// The binary run as a user runs it at a terminal: under script(1), whose pseudo-terminal is
    /// its stdin, stdout and stderr. What is written to script's stdin is typed on that
    /// terminal ([`Child::ctrl_c`]), and script's stdout is everything the terminal shows,
    /// escape sequences and all; script exits with the binary's status.
    fn on_terminal(args: &[&str], url: &str) -> Self {
        const SCRIPT: &str = "/usr/bin/script";
        assert!(
            std::path::Path::new(SCRIPT).exists(),
            "{SCRIPT} is missing: it runs asapp on a pseudo-terminal; it is util-linux's, in \
             Debian's bsdutils (Essential: apt-get install bsdutils)"
        );
        // `exec`: asapp, not a shell waiting for it, gets the terminal's Ctrl-C.
        let line = std::iter::once(env!("CARGO_BIN_EXE_asapp"))
            .chain(args.iter().copied())
            .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
            .collect::<Vec<_>>()
            .join(" ");
        let mut command = tokio::process::Command::new(SCRIPT);
        command
            .args(["--quiet", "--flush", "--return", "--command"])
            .arg(format!("exec {line}"))
            .arg("/dev/null")
            .env("TERM", "xterm")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit());
        Self::start(command, url)
    }

    /// Types Ctrl-C on the terminal: its line discipline sends SIGINT to asapp.
    async fn ctrl_c(&mut self) {
        use tokio::io::AsyncWriteExt as _;
        let keyboard = self.keyboard.as_mut().expect("on a terminal");
        keyboard.write_all(&[0x03]).await.unwrap();
        keyboard.flush().await.unwrap();
    }

    /// `command`, with the sandbox's credentials for `url`; gathers what it writes to the pipe
    /// (its stderr, or its stdout when its stderr is not piped).
    fn start(mut command: tokio::process::Command, url: &str) -> Self {
        let mut child = command
            .env("ASAPP_BASE_URL", url)
            .env("ASAPP_API_ID", asapp_conversations_sandbox::DEFAULT_API_ID)
            .env(
                "ASAPP_API_SECRET",
                asapp_conversations_sandbox::DEFAULT_API_SECRET,
            )
            .env_remove("ASAPP_ENVIRONMENT")
            .env_remove("RUST_LOG")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut pipe: Box<dyn tokio::io::AsyncRead + Unpin + Send> = match child.stderr.take() {
            Some(stderr) => Box::new(stderr),
            None => Box::new(child.stdout.take().unwrap()),
        };
        let told = Arc::new(Mutex::new(Vec::new()));
        let gathered = told.clone();
        let gathering = tokio::spawn(async move {
            use tokio::io::AsyncReadExt as _;
            let mut buffer = [0; 4096];
            while let Ok(n) = pipe.read(&mut buffer).await {
                if n == 0 {
                    break;
                }
                gathered.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        Self {
            keyboard: child.stdin.take(),
            child,
            told,
            gathering,
        }
    }

    /// What it told so far (gathered as bytes: a character may come in two reads).
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.told.lock().unwrap()).into_owned()
    }

    /// Sends `signal` (`INT`, `TERM`) with kill(1).
    fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits (bounded) until stderr holds `text`.
    async fn told(&self, text: &str) {
        tokio::time::timeout(LIMIT, async {
            while !self.stderr().contains(text) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("`{text}` not told: {}", self.stderr()));
    }

    /// The exit code, within `within`; and stderr, whole.
    async fn ended(mut self, within: Duration) -> (Option<i32>, String) {
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("not ended within {within:?}: {}", self.stderr()))
            .unwrap();
        // The pipe's last bytes, up to its end.
        tokio::time::timeout(Duration::from_secs(5), &mut self.gathering)
            .await
            .unwrap_or_else(|_| panic!("the pipe not closed: {}", self.stderr()))
            .unwrap();
        (status.code(), self.stderr())
    }
}

/// Waits (bounded) until `count` reaches `n`.
async fn reached(count: &AtomicUsize, n: usize) {
    tokio::time::timeout(LIMIT, async {
        while count.load(Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not {n} within {LIMIT:?}"));
}

/// The acknowledged batches a checkpoint records.
fn acks(checkpoint: &std::path::Path) -> usize {
    std::fs::read_to_string(checkpoint)
        .unwrap()
        .lines()
        .filter(|line| line.starts_with(r#"{"ack""#))
        .count()
}

/// Resumes the import of `args` (fast now), and checks that each conversation of `transcript`
/// holds its messages once; returns what the resume told on stderr.
async fn resume_stores_the_rest_once(
    args: &[&str],
    url: &str,
    settle: &str,
    transcript: &Transcript,
) -> String {
    let env = default_credentials(url.to_owned());
    let resumed = asapp_env(&[args, &["--resume", "--settle", settle]].concat(), &env).await;
    assert_eq!(resumed.exit, Exit::Success, "{resumed:?}");
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    stored_once(&summary, url, transcript).await;
    resumed.err
}

/// Checks that the resume whose summary is `summary` stored the rest, and that each
/// conversation of `transcript` holds its messages once.
async fn stored_once(summary: &Value, url: &str, transcript: &Transcript) {
    assert_eq!(
        summary["messages"].as_u64().unwrap() + summary["alreadyStored"].as_u64().unwrap(),
        transcript.lines(Order::OneAfterAnother).len() as u64,
        "{summary}"
    );
    assert_once_in_order(transcript, &default_credentials(url.to_owned())).await;
}

#[tokio::test]
async fn ctrl_c_and_sigterm_let_the_batches_in_flight_finish_record_them_and_say_how_to_resume() {
    for (signal, exit, name) in [("INT", 130, "Ctrl-C"), ("TERM", 143, "SIGTERM")] {
        // Batches answered after 500 ms, 4 conversations at a time, 3 batches each.
        let server = slow(Duration::from_millis(500)).await;
        let scratch = Scratch::new(&format!("terminal-{signal}"));
        let file = scratch.0.join("calls.jsonl");
        let transcript = Transcript::new("term", 40, 6);
        transcript.write(&file, Order::OneAfterAnother);
        let checkpoint = scratch.0.join("cp");
        let args = import_args(
            file.to_str().unwrap(),
            checkpoint.to_str().unwrap(),
            &["--concurrency", "4", "--batch-size", "2"],
        );
        let child = Child::spawn(&args, &server.url);
        reached(&server.arrived, 6).await;
        child.signal(signal);
        let (code, stderr) = child.ended(Duration::from_secs(10)).await;
        assert_eq!(code, Some(exit), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "{name}: no new batch is sent; waiting up to 30s for the "
            )) && stderr.contains(" in flight to be answered and recorded ("),
            "{stderr}"
        );
        let resume = format!(
            "; to resume: {} {} --resume\n",
            env!("CARGO_BIN_EXE_asapp"),
            args.join(" ")
        );
        assert!(
            stderr.contains(&format!("interrupted ({name}): ")) && stderr.ends_with(&resume),
            "{stderr}"
        );
        assert!(!stderr.contains("error:"), "{stderr}");
        assert!(
            !stderr.contains(asapp_conversations_sandbox::DEFAULT_API_SECRET),
            "{stderr}"
        );
        let stored = server.stored.load(Ordering::SeqCst);
        assert!((6..120).contains(&stored), "stopped midway: {stored}");
        assert_eq!(
            acks(&checkpoint),
            stored,
            "every batch ASAPP stored is recorded as acknowledged"
        );
        server.slow.store(false, Ordering::SeqCst);
        // The batches whose intents were on record were sent too: nothing is left in doubt, so
        // the resume has nothing to wait for (its --settle is the default).
        let told = resume_stores_the_rest_once(&args, &server.url, "30s", &transcript).await;
        assert!(
            told.contains(&format!(
                "resuming {}: {} acknowledged, none in doubt",
                checkpoint.display(),
                if stored == 1 {
                    "1 batch".to_owned()
                } else {
                    format!("{stored} batches")
                }
            )),
            "{told}"
        );
    }
}

#[tokio::test]
async fn a_second_ctrl_c_exits_at_once_and_the_resume_reads_back_what_was_in_flight() {
    let server = slow(Duration::from_secs(20)).await;
    let scratch = Scratch::new("terminal-twice");
    let file = scratch.0.join("calls.jsonl");
    let transcript = Transcript::new("term", 4, 2);
    transcript.write(&file, Order::OneAfterAnother);
    let checkpoint = scratch.0.join("cp");
    let args = import_args(
        file.to_str().unwrap(),
        checkpoint.to_str().unwrap(),
        &["--concurrency", "4"],
    );
    let child = Child::spawn(&args, &server.url);
    reached(&server.arrived, 4).await;
    child.signal("INT");
    child
        .told("waiting up to 30s for the 4 batches in flight")
        .await;
    let asked = Instant::now();
    child.signal("INT");
    let (code, stderr) = child.ended(Duration::from_secs(10)).await;
    assert!(asked.elapsed() < Duration::from_secs(5), "at once");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("Ctrl-C: exiting at once"), "{stderr}");
    assert_eq!(acks(&checkpoint), 0);
    server.slow.store(false, Ordering::SeqCst);
    // The requests the process left may still be on their way: --settle covers them.
    let told = resume_stores_the_rest_once(&args, &server.url, "1s", &transcript).await;
    assert!(
        told.contains("4 batches in doubt in 4 conversations"),
        "{told}"
    );
}

/// `shown` on a terminal without its escape sequences (colours, cursor moves, clearing).
fn unescaped(shown: &str) -> String {
    let mut plain = String::with_capacity(shown.len());
    let mut chars = shown.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            plain.push(c);
        } else if chars.next() == Some('[') {
            // A control sequence ends with its final byte, from `@` to `~`.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    plain
}

/// Each thing written on the terminal, in order: `shown` cut at every carriage return and
/// newline, without escape sequences. Each frame of the bar is one.
fn written(shown: &str) -> Vec<String> {
    unescaped(shown)
        .split(['\r', '\n'])
        .map(|piece| piece.trim_end().to_owned())
        .filter(|piece| !piece.is_empty())
        .collect()
}

/// The lines left on the terminal once `shown` is written: of each line, what follows its last
/// carriage return (the bar is drawn over, and cleared before a line is written above it).
fn screen(shown: &str) -> Vec<String> {
    unescaped(shown)
        .split('\n')
        .map(|line| {
            let line = line.trim_end_matches('\r');
            line.rsplit('\r').next().unwrap().trim_end().to_owned()
        })
        .filter(|line| !line.is_empty())
        .collect()
}

/// A frame of the bar, as [`written`]: a spinner before the total is known, the bar's cells
/// after, then the counts.
fn is_frame(piece: &str) -> bool {
    piece
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '█' | '░' | '\u{2800}'..='\u{28ff}'))
        && piece.contains(" messages acknowledged, ")
}

#[tokio::test]
async fn ctrl_c_typed_on_a_real_terminal_then_the_resume_on_it() {
    // As in the test above: batches answered after 500 ms, 4 conversations at a time; Ctrl-C
    // typed on the pseudo-terminal asapp runs on, once batches are in flight.
    let server = slow(Duration::from_millis(500)).await;
    let scratch = Scratch::new("terminal-pty");
    let file = scratch.0.join("calls.jsonl");
    let transcript = Transcript::new("term", 40, 6);
    transcript.write(&file, Order::OneAfterAnother);
    let checkpoint = scratch.0.join("cp");
    let args = import_args(
        file.to_str().unwrap(),
        checkpoint.to_str().unwrap(),
        &["--concurrency", "4", "--batch-size", "2"],
    );
    let mut child = Child::on_terminal(&args, &server.url);
    reached(&server.arrived, 6).await;
    tokio::time::timeout(Duration::from_secs(5), child.ctrl_c())
        .await
        .expect("Ctrl-C typed");
    let (code, shown) = child.ended(Duration::from_secs(10)).await;
    let written = written(&shown);
    let screen = screen(&shown);
    assert_eq!(code, Some(130), "{written:#?}");
    assert!(
        !shown.contains(asapp_conversations_sandbox::DEFAULT_API_SECRET),
        "{shown:?}"
    );
    // The bar (asapp saw a terminal), the terminal's echo of the Ctrl-C typed, asapp's word on
    // it, and last, what was recorded and how to resume.
    let at = |what: &dyn Fn(&str) -> bool| {
        written
            .iter()
            .position(|piece| what(piece))
            .unwrap_or_else(|| panic!("not shown: {written:#?}"))
    };
    let drawn = at(&|piece| is_frame(piece) && piece.starts_with('░'));
    let typed = at(&|piece| piece.ends_with("^C"));
    let told = at(&|piece| {
        piece.starts_with("Ctrl-C: no new batch is sent; waiting up to 30s for the ")
            && piece.contains(" in flight to be answered and recorded (Ctrl-C again to exit")
    });
    assert!(drawn < typed && typed < told, "{written:#?}");
    let last = screen.last().unwrap();
    assert_eq!(written.last(), Some(last), "{written:#?}");
    assert!(
        last.starts_with("interrupted (Ctrl-C): ")
            && last.ends_with(&format!(
                "; to resume: {} {} --resume",
                env!("CARGO_BIN_EXE_asapp"),
                args.join(" ")
            )),
        "{screen:#?}"
    );
    assert!(
        !screen.iter().any(|line| line.contains("error")),
        "{screen:#?}"
    );
    let stored = server.stored.load(Ordering::SeqCst);
    assert!((6..120).contains(&stored), "stopped midway: {stored}");
    assert_eq!(acks(&checkpoint), stored, "{written:#?}");

    // The resume, on a terminal too: its first line says what it found, and the bar is drawn.
    server.slow.store(false, Ordering::SeqCst);
    let resume = [args.as_slice(), &["--resume"]].concat();
    let child = Child::on_terminal(&resume, &server.url);
    let (code, shown) = child.ended(Duration::from_secs(10)).await;
    let written = self::written(&shown);
    let screen = self::screen(&shown);
    assert_eq!(code, Some(0), "{written:#?}");
    assert!(
        !shown.contains(asapp_conversations_sandbox::DEFAULT_API_SECRET),
        "{shown:?}"
    );
    assert_eq!(
        screen.first(),
        Some(&format!(
            "resuming {}: {stored} batches acknowledged, none in doubt",
            checkpoint.display()
        )),
        "{written:#?}"
    );
    assert!(written.iter().any(|piece| is_frame(piece)), "{written:#?}");
    // Its summary, pretty on the terminal, is the last thing on it.
    let summary = screen.iter().position(|line| line == "{").unwrap();
    let summary: Value = serde_json::from_str(&screen[summary..].join("\n")).unwrap();
    stored_once(&summary, &server.url, &transcript).await;
}
