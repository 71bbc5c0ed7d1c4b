//! `asapp import`: streams transcripts into ASAPP, one upsert per conversation and its messages
//! in batches of at most 300 in timestamp order, with a checkpoint that makes a resumed import
//! send exactly what was not acknowledged.
//!
//! The input is read line by line and cut into *segments*: runs of consecutive lines of one
//! conversation (transcripts usually come a conversation at a time; a conversation that comes
//! back later is a new segment, upserted again, which keeps its id). Only the segments in flight
//! are in memory. A segment is named by its source and first line, and its batches are
//! numbered, so the same input always gives the same batches.
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

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asapp_conversations::{Client, ErrorKind, types};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use self::checkpoint::{Checkpoint, Digest, SegmentKey, State};
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
    pub(crate) progress: bool,
}

/// Counters, shared with the workers and the progress display.
#[derive(Debug, Default)]
struct Counts {
    messages: AtomicU64,
    conversations: AtomicU64,
    batches: AtomicU64,
    skipped: AtomicU64,
    bytes: AtomicU64,
}

/// What an import did, printed as JSON at the end.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Summary {
    messages: u64,
    conversations: u64,
    batches: u64,
    already_acknowledged: u64,
    invalid_lines: u64,
    seconds: f64,
    messages_per_second: f64,
}

/// Runs the import; invalid lines go to `err` as they are found.
pub(crate) async fn run(
    client: &Client,
    options: Options,
    err: &mut dyn Write,
) -> Result<(Summary, u64), Failure> {
    let started = Instant::now();
    let batch_size = options.batch_size.clamp(1, 300);
    let checkpoint = Checkpoint::open(&options.checkpoint, options.resume, batch_size)?;
    let total_bytes: u64 = options
        .sources
        .iter()
        .filter(|p| *p != Path::new("-"))
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
    };
    let mut invalid = 0u64;
    let mut failure = None;
    'sources: for source in expand(&options.sources)? {
        // `name` is the path as given, for messages; `key` names the source in the checkpoint,
        // and must not depend on how the path was typed.
        let (name, key, mut reader): (String, Arc<str>, Box<dyn BufRead>) = if source
            == Path::new("-")
        {
            (
                "stdin".to_owned(),
                "stdin".into(),
                Box::new(BufReader::new(std::io::stdin())),
            )
        } else {
            let file = File::open(&source)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", source.display())))?;
            let key = std::fs::canonicalize(&source)
                .unwrap_or_else(|_| source.clone())
                .display()
                .to_string();
            (
                source.display().to_string(),
                key.into(),
                Box::new(BufReader::new(file)),
            )
        };
        let mut segments = Segments::new(key);
        let mut buffer = Vec::new();
        let mut number = 0;
        loop {
            buffer.clear();
            match reader.read_until(b'\n', &mut buffer) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    failure = Some(Failure::usage(format!(
                        "{name}:{}: cannot read: {e}",
                        number + 1
                    )));
                    break 'sources;
                }
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
                    invalid += 1;
                    let _ = writeln!(err, "{name}:{number}: invalid line: {reason}");
                    if options.strict {
                        failure = Some(Failure::usage(format!(
                            "{name}:{number}: stopped at the first invalid line (--strict)"
                        )));
                        break 'sources;
                    }
                    continue;
                }
            };
            let cut = segments.push(&shared.checkpoint, number, line);
            if let Err(f) = workers.take(cut).await {
                failure = Some(f);
                break 'sources;
            }
            if shared.failed.load(Ordering::Relaxed) {
                // A worker failed: its failure is reported once it is joined.
                break 'sources;
            }
        }
        if let Err(f) = workers.take(segments.finish(&shared.checkpoint)).await {
            failure = Some(f);
            break 'sources;
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
    let counts = &shared.counts;
    let messages = counts.messages.load(Ordering::Relaxed);
    Ok((
        Summary {
            messages,
            conversations: counts.conversations.load(Ordering::Relaxed),
            batches: counts.batches.load(Ordering::Relaxed),
            already_acknowledged: counts.skipped.load(Ordering::Relaxed),
            invalid_lines: invalid,
            seconds,
            messages_per_second: if seconds > 0.0 {
                messages as f64 / seconds
            } else {
                0.0
            },
        },
        invalid,
    ))
}

/// The files to read: directories expand to their `*.jsonl` files, in name order.
fn expand(sources: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for source in sources {
        if source.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(source)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", source.display())))?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            // Every file is checked before anything is sent.
            if source != Path::new("-") {
                File::open(source).map_err(|e| {
                    Failure::usage(format!("cannot read {}: {e}", source.display()))
                })?;
            }
            out.push(source.clone());
        }
    }
    Ok(out)
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
}

impl Workers {
    /// Starts the segment the reader cut, if it cut one; fails with the reader's failure or a
    /// finished worker's.
    async fn take(&mut self, cut: Result<Option<Segment>, Failure>) -> Result<(), Failure> {
        match cut? {
            Some(segment) => self.start(segment).await,
            None => Ok(()),
        }
    }

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
        let (done, wait) = oneshot::channel();
        let after = self
            .last
            .insert(segment.conversation.external_id.clone(), wait);
        let shared = self.shared.clone();
        self.set.spawn(async move {
            if let Some(after) = after {
                // Sent, or failed; either way the sender is gone.
                let _ = after.await;
            }
            let sent = send(&shared, segment).await;
            if sent.is_err() {
                shared.failed.store(true, Ordering::Relaxed);
            }
            drop(done);
            sent
        });
        Ok(())
    }
}

fn flatten(joined: Result<Result<(), Failure>, tokio::task::JoinError>) -> Result<(), Failure> {
    joined.map_err(|e| Failure {
        exit: Exit::Failed,
        message: format!("an import task failed: {e}"),
    })?
}

/// Consecutive lines of one conversation.
#[derive(Debug)]
struct Segment {
    key: SegmentKey,
    conversation: types::TimeBasedConversation,
    /// Messages with their line numbers.
    messages: Vec<(usize, types::Message)>,
}

/// Cuts the lines of one source into segments, checking on `--resume` that the recorded
/// segments still start where they did.
#[derive(Debug)]
struct Segments {
    source: Arc<str>,
    current: Option<Segment>,
}

impl Segments {
    fn new(source: Arc<str>) -> Self {
        Self {
            source,
            current: None,
        }
    }

    /// Adds a line; returns the previous segment when this line starts a new one.
    fn push(
        &mut self,
        checkpoint: &Checkpoint,
        number: usize,
        (line, message): (Line<'_>, types::Message),
    ) -> Result<Option<Segment>, Failure> {
        if let Some(current) = &mut self.current
            && current.conversation.external_id == line.external_id
        {
            current.messages.push((number, message));
            return Ok(None);
        }
        let previous = self.current.as_ref().map_or(0, |s| s.key.line);
        checkpoint.check_starts(&self.source, previous, number)?;
        let conversation = line.conversation();
        let segment = Segment {
            key: SegmentKey {
                source: self.source.clone(),
                line: number,
            },
            conversation,
            messages: vec![(number, message)],
        };
        Ok(self.current.replace(segment))
    }

    /// The last segment, once the source is read.
    fn finish(&mut self, checkpoint: &Checkpoint) -> Result<Option<Segment>, Failure> {
        let previous = self.current.as_ref().map_or(0, |s| s.key.line);
        checkpoint.check_starts(&self.source, previous, usize::MAX)?;
        Ok(self.current.take())
    }
}

/// Upserts a segment's conversation and sends its batches that the checkpoint does not show as
/// acknowledged.
async fn send(shared: &Shared, segment: Segment) -> Result<(), Failure> {
    if shared.failed.load(Ordering::Relaxed) {
        return Ok(());
    }
    let Segment {
        key,
        mut conversation,
        mut messages,
    } = segment;
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
    let external_id = conversation.external_id.clone();
    let checkpoint = &shared.checkpoint;
    let mut todo = Vec::new();
    let mut skipped = 0;
    for (index, batch) in batches.iter().enumerate() {
        let digest = Digest::of(batch);
        match checkpoint.state(&key, index, digest)? {
            State::Acknowledged => skipped += batch.len(),
            state => todo.push((index, digest, state)),
        }
    }
    shared
        .counts
        .skipped
        .fetch_add(skipped as u64, Ordering::Relaxed);
    // A conversation with a batch in doubt not reached yet: what this segment stores is
    // accounted for when that batch is.
    let tracked = lock(&shared.in_doubt).contains_key(&external_id);
    let keep = tracked || todo.iter().any(|(_, _, state)| *state == State::Pending);
    if todo.is_empty() {
        if tracked {
            remember(shared, &external_id, &batches);
        }
        return Ok(());
    }
    let id = shared
        .client
        .create_or_update_conversation()
        .body(conversation)
        .await?
        .into_inner()
        .id
        .ok_or_else(|| Failure {
            exit: Exit::Failed,
            message: format!(
                "{}:{}: the upsert answered without a conversation id",
                key.source, key.line
            ),
        })?;
    shared.counts.conversations.fetch_add(1, Ordering::Relaxed);
    let mut resolved = false;
    for (index, digest, state) in todo {
        if shared.failed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut batch = if keep {
            batches[index].clone()
        } else {
            std::mem::take(&mut batches[index])
        };
        if state == State::Pending {
            // Sent before, never acknowledged: send only what ASAPP does not have.
            let earlier = lock(&shared.in_doubt)
                .remove(&external_id)
                .unwrap_or_default();
            resolved = true;
            let whole = batch.len();
            keep_missing(shared, &id, earlier, &batches[..index], &mut batch).await?;
            shared
                .counts
                .skipped
                .fetch_add((whole - batch.len()) as u64, Ordering::Relaxed);
        }
        let sent = batch.len();
        if sent > 0 {
            checkpoint.record(false, &key, index, &external_id, digest)?;
            let answer = shared
                .client
                .create_batch_messages()
                .conversation_id(id.as_str())
                .body(types::BatchMessages { messages: batch })
                .await;
            match answer {
                Ok(_) => {}
                Err(error) if matches!(error.kind(), ErrorKind::AlreadyPersisted { .. }) => {}
                Err(error) => return Err(Failure::from(error)),
            }
        }
        checkpoint.record(true, &key, index, &external_id, digest)?;
        shared.counts.batches.fetch_add(1, Ordering::Relaxed);
        shared
            .counts
            .messages
            .fetch_add(sent as u64, Ordering::Relaxed);
    }
    if tracked && !resolved {
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
) -> Result<(), Failure> {
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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
            role: message.sender.role,
            sender: message.sender.external_id.clone(),
            text: message.text.to_string(),
        }
    }

    fn stored(message: &types::ConversationMessage) -> Self {
        Self {
            timestamp: message.client_timestamp.timestamp(),
            nanos: message.client_timestamp.timestamp_subsec_nanos(),
            role: message.sender.role,
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
            bar.finish_and_clear();
        }
    }
}
