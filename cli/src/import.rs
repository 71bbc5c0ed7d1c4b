//! `asapp import`: streams transcripts into ASAPP, one upsert per conversation and its messages
//! in batches of at most 300 in timestamp order, with a checkpoint that makes a resumed import
//! send exactly what was not acknowledged.
//!
//! The input is read line by line and cut into *segments* ([`Segments`]): a conversation's lines
//! within a window of lines that closes where the conversation changes. Transcripts that come a
//! conversation at a time make one segment per conversation; a conversation that comes back
//! after the window is a new segment, which finds the conversation instead of upserting it
//! again. (Messages to the user call a segment a *run* of lines.) Only the open window and the
//! segments in flight are in memory. A segment is named by its source and first line, and its
//! batches are numbered, so the same input always gives the same batches.
//!
//! Segments of different conversations are sent concurrently; the segments of one conversation
//! are sent one after the other, in input order, and one batch at a time. So when an import
//! stops, each conversation has stored the messages of its input up to some batch, and at most
//! that one next batch is in doubt.
//!
//! The checkpoint ([`checkpoint`]) records `intent` before a batch is sent and `ack` once ASAPP
//! acknowledged it (a 200, or a 409 answering a retry, which ASAPP documents as already
//! persisted). On `--resume`, acknowledged batches are skipped. For the batch in doubt the
//! conversation is read back: what it holds, less the messages of the input before that batch,
//! is what the batch stored, and only the rest of the batch is sent.

mod checkpoint;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{BuildHasher as _, RandomState};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asapp_conversations::{ApiError, Client, ErrorKind, types};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use self::checkpoint::{BatchName, Checkpoint, Cutting, Digest, SegmentKey, State};
use crate::transcript::Line;
use crate::{Exit, Failure};

/// What `asapp import` was asked to do.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) sources: Vec<PathBuf>,
    pub(crate) checkpoint: PathBuf,
    pub(crate) resume: bool,
    pub(crate) strict: bool,
    pub(crate) concurrency: usize,
    /// Messages per batch request (at most 300).
    pub(crate) batch_size: usize,
    /// Lines read ahead to gather a conversation's interleaved lines.
    pub(crate) window: usize,
    pub(crate) progress: bool,
}

/// Counters, shared with the workers and the progress display.
#[derive(Debug, Default)]
struct Counts {
    messages: AtomicU64,
    conversations: AtomicU64,
    batches: AtomicU64,
    /// Messages found already stored: acknowledged before, or read back.
    already_stored: AtomicU64,
    bytes: AtomicU64,
}

/// What an import did, printed as JSON at the end.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Summary {
    messages: u64,
    conversations: u64,
    batches: u64,
    already_stored: u64,
    invalid_lines: u64,
    seconds: f64,
    messages_per_second: f64,
    /// Requests the client sent again (after a 429, a 5xx or a transport failure).
    retries: u64,
    /// Answers with status 429, retried or not.
    rate_limited: u64,
    /// Time requests waited for the client-side rate limit (`--rate-limit`).
    limiter_wait_seconds: f64,
}

/// Runs the import; invalid lines go to `err` as they are found.
pub(crate) async fn run(
    client: &Client,
    options: Options,
    err: &mut dyn Write,
) -> Result<(Summary, u64), Failure> {
    let started = Instant::now();
    let stats = client.stats();
    let batch_size = options.batch_size.clamp(1, 300);
    let sources = expand(&options.sources)?;
    let cutting = Cutting {
        batch_size,
        window: options.window.max(1),
        sources: sources.iter().map(|s| s.key.clone()).collect(),
    };
    let checkpoint = Checkpoint::open(&options.checkpoint, options.resume, &cutting)?;
    let total_bytes: u64 = sources
        .iter()
        .filter_map(|s| s.path.as_ref())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let shared = Arc::new(Shared {
        client: client.clone(),
        batch_size,
        counts: Counts::default(),
        failed: AtomicBool::new(false),
        in_doubt: Mutex::new(
            checkpoint
                .in_doubt()
                .map(|external_id| (external_id.to_owned(), Multiset::new()))
                .collect(),
        ),
        checkpoint,
    });
    let progress = Progress::start(options.progress, total_bytes, shared.clone());
    let mut workers = Workers {
        set: JoinSet::new(),
        concurrency: options.concurrency.max(1),
        shared: shared.clone(),
        last: HashMap::new(),
        seen: HashSet::new(),
        hasher: RandomState::new(),
    };
    let mut invalid = 0u64;
    let mut failure = None;
    for source in &sources {
        let segments = Segments::new(source.key.clone(), cutting.window);
        let read = read(
            source,
            segments,
            &mut workers,
            options.strict,
            &mut invalid,
            err,
        );
        if let Err(f) = read.await {
            failure = Some(f);
            break;
        }
        if shared.failed.load(Ordering::Relaxed) {
            // A worker failed: its failure is reported once it is joined.
            break;
        }
    }
    if failure.is_some() {
        shared.failed.store(true, Ordering::Relaxed);
    }
    while let Some(joined) = workers.set.join_next().await {
        if let Err(f) = flatten(joined) {
            failure.get_or_insert(f);
        }
    }
    progress.finish();
    if let Some(failure) = failure {
        return Err(failure);
    }
    let seconds = started.elapsed().as_secs_f64();
    let client_stats = client.stats();
    let counts = &shared.counts;
    let messages = counts.messages.load(Ordering::Relaxed);
    Ok((
        Summary {
            messages,
            conversations: counts.conversations.load(Ordering::Relaxed),
            batches: counts.batches.load(Ordering::Relaxed),
            already_stored: counts.already_stored.load(Ordering::Relaxed),
            invalid_lines: invalid,
            seconds,
            messages_per_second: if seconds > 0.0 {
                messages as f64 / seconds
            } else {
                0.0
            },
            retries: client_stats.retries - stats.retries,
            rate_limited: client_stats.rate_limited - stats.rate_limited,
            limiter_wait_seconds: (client_stats.limiter_wait - stats.limiter_wait).as_secs_f64(),
        },
        invalid,
    ))
}

/// One input: a file, or standard input.
#[derive(Debug)]
struct Source {
    /// The file (`None` for standard input).
    path: Option<PathBuf>,
    /// How messages name it: the path as given, or `stdin`.
    name: String,
    /// How the checkpoint names it: the canonical path, so that it does not depend on how the
    /// path was typed, or `stdin`.
    key: Arc<str>,
}

/// The inputs: directories expand to their `*.jsonl` files, in name order. Every file is
/// opened before anything is sent, and none may be read twice.
fn expand(paths: &[PathBuf]) -> Result<Vec<Source>, Failure> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    let mut sources: Vec<Source> = Vec::with_capacity(files.len());
    for path in files {
        let source = if path == Path::new("-") {
            Source {
                path: None,
                name: "stdin".to_owned(),
                key: "stdin".into(),
            }
        } else {
            let cannot =
                |e: std::io::Error| Failure::usage(format!("cannot read {}: {e}", path.display()));
            File::open(&path).map_err(cannot)?;
            let canonical = std::fs::canonicalize(&path).map_err(cannot)?;
            Source {
                name: path.display().to_string(),
                key: canonical.display().to_string().into(),
                path: Some(path),
            }
        };
        if let Some(twice) = sources.iter().find(|s| s.key == source.key) {
            return Err(Failure::usage(format!(
                "{} and {} are the same input: each is read once",
                twice.name, source.name
            )));
        }
        sources.push(source);
    }
    Ok(sources)
}

/// Reads one source, handing its segments to the workers; invalid lines are reported to `err`
/// and counted in `invalid`.
async fn read(
    source: &Source,
    mut segments: Segments,
    workers: &mut Workers,
    strict: bool,
    invalid: &mut u64,
    err: &mut dyn Write,
) -> Result<(), Failure> {
    let name = &source.name;
    let mut reader: Box<dyn BufRead> = match &source.path {
        None => Box::new(BufReader::new(std::io::stdin())),
        Some(path) => {
            Box::new(BufReader::new(File::open(path).map_err(|e| {
                Failure::usage(format!("cannot read {name}: {e}"))
            })?))
        }
    };
    let shared = workers.shared.clone();
    let mut buffer = Vec::new();
    let mut number = 0;
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|e| Failure::usage(format!("{name}:{}: cannot read: {e}", number + 1)))?;
        if read == 0 {
            break;
        }
        number += 1;
        shared
            .counts
            .bytes
            .fetch_add(buffer.len() as u64, Ordering::Relaxed);
        while buffer.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buffer.pop();
        }
        let parsed = match std::str::from_utf8(&buffer) {
            Err(e) => Err(format!("not UTF-8 ({e})")),
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => Line::parse(text).and_then(|line| line.message().map(|m| (line, m))),
        };
        let line = match parsed {
            Ok(parsed) => parsed,
            Err(reason) => {
                *invalid += 1;
                let _ = writeln!(err, "{name}:{number}: invalid line: {reason}");
                if strict {
                    return Err(Failure::usage(format!(
                        "{name}:{number}: stopped at the first invalid line (--strict)"
                    )));
                }
                continue;
            }
        };
        for segment in segments.push(&shared.checkpoint, number, line)? {
            workers.start(segment).await?;
        }
        if shared.failed.load(Ordering::Relaxed) {
            return Ok(());
        }
    }
    for segment in segments.finish(&shared.checkpoint)? {
        workers.start(segment).await?;
    }
    Ok(())
}

/// What every segment's task uses.
#[derive(Debug)]
struct Shared {
    client: Client,
    batch_size: usize,
    checkpoint: Checkpoint,
    counts: Counts,
    /// Set when anything failed: segments not yet sending stop before their next batch.
    failed: AtomicBool,
    /// On `--resume`, for each conversation with a batch in doubt that is not reached yet, the
    /// messages of its earlier segments (stored, since segments of a conversation go in order).
    in_doubt: Mutex<HashMap<String, Multiset>>,
}

/// Messages counted by what identifies them.
type Multiset = HashMap<Fingerprint, usize>;

/// The segments being sent, at most `concurrency` at a time.
struct Workers {
    set: JoinSet<Result<(), Failure>>,
    concurrency: usize,
    shared: Arc<Shared>,
    /// For each conversation with a segment started, a signal that the segment is done: the
    /// conversation's next segment waits for it.
    last: HashMap<String, oneshot::Receiver<()>>,
    /// The conversations seen so far, by a hash of their external id: 16 bytes or so each.
    seen: HashSet<u64>,
    hasher: RandomState,
}

impl Workers {
    /// Waits for room, then starts sending `segment`; fails with a finished worker's failure.
    async fn start(&mut self, segment: Segment) -> Result<(), Failure> {
        while self.set.len() >= self.concurrency {
            if let Some(joined) = self.set.join_next().await {
                flatten(joined)?;
            }
        }
        if self.last.len() > 2 * self.concurrency {
            // Forget the conversations whose last segment is done, so memory stays flat.
            self.last.retain(|_, done| {
                matches!(done.try_recv(), Err(oneshot::error::TryRecvError::Empty))
            });
        }
        let external_id = &segment.conversation.external_id;
        // A hash shared with another conversation only costs a lookup: see `send`.
        let first = self.seen.insert(self.hasher.hash_one(external_id));
        let (done, wait) = oneshot::channel();
        let after = self.last.insert(external_id.clone(), wait);
        let guard = Done {
            shared: self.shared.clone(),
            sent: false,
            _signal: done,
        };
        self.set.spawn(async move {
            let mut guard = guard;
            if let Some(after) = after {
                // Sent, failed or panicked: the segment before is over either way.
                let _ = after.await;
            }
            let sent = send(&guard.shared, segment, first).await;
            guard.sent = sent.is_ok();
            sent
        });
        Ok(())
    }
}

/// Held by a segment's task. Dropped, it marks the import failed unless the segment was sent
/// (so also when the task panics), then lets the conversation's next segment go.
struct Done {
    shared: Arc<Shared>,
    sent: bool,
    _signal: oneshot::Sender<()>,
}

impl Drop for Done {
    fn drop(&mut self) {
        if !self.sent {
            self.shared.failed.store(true, Ordering::Relaxed);
        }
    }
}

fn flatten(joined: Result<Result<(), Failure>, tokio::task::JoinError>) -> Result<(), Failure> {
    joined.map_err(|e| Failure {
        exit: Exit::Failed,
        message: format!("an import task failed: {e}"),
    })?
}

/// The lines of one conversation within a window of the input.
#[derive(Debug)]
struct Segment {
    key: SegmentKey,
    /// The conversation, from the segment's first line.
    conversation: types::TimeBasedConversation,
    /// Messages with their line numbers.
    messages: Vec<(usize, types::Message)>,
}

/// Cuts the lines of one source into segments: a window of at least `window` lines, closed
/// where the conversation changes from one line to the next, gathers each conversation's lines
/// into one segment. So a conversation's consecutive lines are one segment however many, and
/// interleaved conversations (a dump in time order) still go in batches. On `--resume` it
/// checks that the recorded segments start where they did.
#[derive(Debug)]
struct Segments {
    source: Arc<str>,
    window: usize,
    /// The open window's segments, in the order of their first lines.
    open: Vec<Segment>,
    /// Where each conversation's segment is in `open`.
    by_conversation: HashMap<String, usize>,
    /// The segment of the last line read.
    previous: Option<usize>,
    /// The first line of the open window, and the last line of the closed one before it.
    first_line: usize,
    closed_through: usize,
}

impl Segments {
    fn new(source: Arc<str>, window: usize) -> Self {
        Self {
            source,
            window,
            open: Vec::new(),
            by_conversation: HashMap::new(),
            previous: None,
            first_line: 0,
            closed_through: 0,
        }
    }

    /// Adds line `number`; returns the segments of the window this line closes.
    fn push(
        &mut self,
        checkpoint: &Checkpoint,
        number: usize,
        (line, message): (Line<'_>, types::Message),
    ) -> Result<Vec<Segment>, Failure> {
        let mut closed = Vec::new();
        if let Some(previous) = self.previous {
            let changes = self.open[previous].conversation.external_id != line.external_id;
            if changes && number - self.first_line >= self.window {
                closed = self.close(checkpoint, number - 1)?;
            }
        }
        if self.open.is_empty() {
            self.first_line = number;
        }
        let index = match self.by_conversation.get(line.external_id.as_ref()) {
            Some(index) => {
                self.open[*index].messages.push((number, message));
                *index
            }
            None => {
                let conversation = line.conversation().map_err(|e| {
                    Failure::usage(format!("{}:{number}: invalid line: {e}", self.source))
                })?;
                self.by_conversation
                    .insert(conversation.external_id.clone(), self.open.len());
                self.open.push(Segment {
                    key: SegmentKey {
                        source: self.source.clone(),
                        line: number,
                    },
                    conversation,
                    messages: vec![(number, message)],
                });
                self.open.len() - 1
            }
        };
        self.previous = Some(index);
        Ok(closed)
    }

    /// The segments of the last window, once the source is read.
    fn finish(&mut self, checkpoint: &Checkpoint) -> Result<Vec<Segment>, Failure> {
        self.close(checkpoint, usize::MAX)
    }

    /// Closes the open window at line `last`.
    fn close(&mut self, checkpoint: &Checkpoint, last: usize) -> Result<Vec<Segment>, Failure> {
        let starts: Vec<usize> = self.open.iter().map(|s| s.key.line).collect();
        checkpoint.check_starts(&self.source, self.closed_through, last, &starts)?;
        self.closed_through = last;
        self.by_conversation.clear();
        self.previous = None;
        Ok(std::mem::take(&mut self.open))
    }
}

/// Sends a segment's batches that the checkpoint does not show as acknowledged, after upserting
/// its conversation if this is the conversation's `first` segment in the input (a later segment
/// finds the conversation instead, so that its first line's fields stay).
async fn send(shared: &Shared, segment: Segment, first: bool) -> Result<(), Failure> {
    if shared.failed.load(Ordering::Relaxed) {
        return Ok(());
    }
    let Segment {
        key,
        mut conversation,
        mut messages,
    } = segment;
    let external_id = conversation.external_id.clone();
    // Failures name the segment and its conversation.
    let at = |failure: Failure| Failure {
        message: format!(
            "{}:{} (`{external_id}`): {}",
            key.source, key.line, failure.message
        ),
        ..failure
    };
    let api = |error: ApiError| at(error.into());
    messages.sort_by_key(|(line, message)| (message.timestamp, *line));
    // The conversation starts with its first message.
    if let Some((_, first)) = messages.first() {
        conversation.timestamp = first.timestamp;
    }
    let mut batches: Vec<Vec<types::Message>> = Vec::new();
    let mut messages = messages.into_iter().map(|(_, message)| message).peekable();
    while messages.peek().is_some() {
        batches.push(messages.by_ref().take(shared.batch_size).collect());
    }
    let checkpoint = &shared.checkpoint;
    let digests: Vec<Digest> = batches
        .iter()
        .map(|batch| Digest::of(&external_id, batch))
        .collect();
    let run_length = batches.iter().map(Vec::len).sum();
    let states = checkpoint.states(&key, &external_id, run_length, &digests)?;
    let stored: usize = batches
        .iter()
        .zip(&states)
        .filter(|(_, state)| **state == State::Acknowledged)
        .map(|(batch, _)| batch.len())
        .sum();
    shared
        .counts
        .already_stored
        .fetch_add(stored as u64, Ordering::Relaxed);
    // A conversation with a batch in doubt not reached yet: what this segment stores is
    // accounted for when that batch is.
    let tracked = lock(&shared.in_doubt).contains_key(&external_id);
    let keep = tracked || states.contains(&State::InDoubt);
    if !states.iter().any(|state| *state != State::Acknowledged) {
        if tracked {
            remember(shared, &external_id, &batches);
        }
        return Ok(());
    }
    let found = if first {
        None
    } else {
        let listed = shared
            .client
            .get_conversations()
            .external_id(external_id.as_str())
            .await
            .map_err(api)?;
        listed.into_inner().items.into_iter().find_map(|c| c.id)
    };
    let id = match found {
        Some(id) => id,
        None => {
            let id = shared
                .client
                .create_or_update_conversation()
                .body(conversation)
                .await
                .map_err(api)?
                .into_inner()
                .id
                .ok_or_else(|| {
                    at(Failure {
                        exit: Exit::Failed,
                        message: "the upsert answered without a conversation id".to_owned(),
                    })
                })?;
            shared.counts.conversations.fetch_add(1, Ordering::Relaxed);
            id
        }
    };
    for (index, state) in states.into_iter().enumerate() {
        if state == State::Acknowledged {
            continue;
        }
        if shared.failed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut batch = if keep {
            batches[index].clone()
        } else {
            std::mem::take(&mut batches[index])
        };
        if state == State::InDoubt {
            // Sent before, never acknowledged: send only what ASAPP does not have.
            let earlier = lock(&shared.in_doubt)
                .remove(&external_id)
                .unwrap_or_default();
            let whole = batch.len();
            keep_missing(shared, &id, earlier, &batches[..index], &mut batch)
                .await
                .map_err(api)?;
            shared
                .counts
                .already_stored
                .fetch_add((whole - batch.len()) as u64, Ordering::Relaxed);
        }
        let name = BatchName {
            segment: &key,
            external_id: &external_id,
            run_length,
            batch: index,
            digest: digests[index],
        };
        let sent = batch.len();
        if sent > 0 {
            checkpoint.intend(&name)?;
            let answer = shared
                .client
                .create_batch_messages()
                .conversation_id(id.as_str())
                .body(types::BatchMessages::builder().messages(batch))
                .await;
            match answer {
                Ok(_) => {}
                Err(error) if matches!(error.kind(), ErrorKind::AlreadyPersisted { .. }) => {}
                Err(error) => return Err(api(error)),
            }
        }
        checkpoint.acknowledge(&name)?;
        shared.counts.batches.fetch_add(1, Ordering::Relaxed);
        shared
            .counts
            .messages
            .fetch_add(sent as u64, Ordering::Relaxed);
    }
    if tracked {
        // A no-op when this segment held the batch in doubt: its conversation is resolved.
        remember(shared, &external_id, &batches);
    }
    Ok(())
}

/// Removes from `batch` (in doubt) what the conversation `id` already holds of it. It holds the
/// conversation's messages of the input before the batch (`earlier`, from the segments before
/// this one, and `before`, this segment's batches before it), maybe some of the batch, and maybe
/// messages from elsewhere.
async fn keep_missing(
    shared: &Shared,
    id: &str,
    mut earlier: Multiset,
    before: &[Vec<types::Message>],
    batch: &mut Vec<types::Message>,
) -> Result<(), ApiError> {
    for message in before.iter().flatten() {
        *earlier.entry(Fingerprint::sent(message)).or_default() += 1;
    }
    let listed = shared.client.get_messages().conversation_id(id).await?;
    let mut have = Multiset::new();
    for message in &listed.items {
        let fingerprint = Fingerprint::stored(message);
        match earlier.get_mut(&fingerprint) {
            Some(n) if *n > 0 => *n -= 1,
            _ => *have.entry(fingerprint).or_default() += 1,
        }
    }
    batch.retain(|message| match have.get_mut(&Fingerprint::sent(message)) {
        Some(n) if *n > 0 => {
            *n -= 1;
            false
        }
        _ => true,
    });
    Ok(())
}

/// Adds a segment's messages to what its conversation's batch in doubt must account for.
fn remember(shared: &Shared, external_id: &str, batches: &[Vec<types::Message>]) {
    if let Some(earlier) = lock(&shared.in_doubt).get_mut(external_id) {
        for message in batches.iter().flatten() {
            *earlier.entry(Fingerprint::sent(message)).or_default() += 1;
        }
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What identifies a message for the resume check.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Fingerprint {
    timestamp: i64,
    nanos: u32,
    role: types::ParticipantRole,
    sender: String,
    text: String,
}

impl Fingerprint {
    fn sent(message: &types::Message) -> Self {
        Self {
            timestamp: message.timestamp.timestamp(),
            nanos: message.timestamp.timestamp_subsec_nanos(),
            role: message.sender.role.clone(),
            sender: message.sender.external_id.clone(),
            text: message.text.to_string(),
        }
    }

    fn stored(message: &types::ConversationMessage) -> Self {
        Self {
            timestamp: message.client_timestamp.timestamp(),
            nanos: message.client_timestamp.timestamp_subsec_nanos(),
            role: message.sender.role.clone(),
            sender: message.sender.external_id.clone().unwrap_or_default(),
            text: message.text.to_string(),
        }
    }
}

/// Progress on stderr: a bar on a terminal, a plain line every 5 seconds otherwise.
struct Progress {
    ticker: Option<tokio::task::JoinHandle<()>>,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn start(terminal: bool, total_bytes: u64, shared: Arc<Shared>) -> Self {
        let started = Instant::now();
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new(total_bytes.max(1));
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
            let counts = &shared.counts;
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

    fn finish(mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        if let Some(bar) = self.bar.take() {
            crate::log::beside(None);
            bar.finish_and_clear();
        }
    }
}
