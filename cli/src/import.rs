//! `asapp import`: streams transcripts into ASAPP, one upsert per conversation and its messages
//! in batches of at most 300 in timestamp order, with a checkpoint that makes a resumed import
//! send exactly what was not acknowledged.
//!
//! The input is read line by line and cut into *segments*: runs of consecutive lines of one
//! conversation (transcripts usually come a conversation at a time; a conversation that comes
//! back later is a new segment, upserted again, which keeps its id). Only the segments in flight
//! are in memory. A segment's key is its source and first line, and its batches are numbered, so
//! the same input always gives the same batches.
//!
//! The checkpoint records `intent` before a batch is sent and `ack` once ASAPP acknowledged it
//! (a 200, or a 409 answering a retry, which ASAPP documents as already persisted). On
//! `--resume`, acknowledged batches are skipped; a batch with an intent but no ack may or may not
//! have been stored, so the conversation's messages are read back and only the missing ones are
//! sent.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek as _, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asapp_conversations::{Client, ErrorKind, types};
use tokio::task::JoinSet;

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
    let checkpoint = Arc::new(Checkpoint::open(
        &options.checkpoint,
        options.resume,
        batch_size,
    )?);
    let counts = Arc::new(Counts::default());
    let total_bytes: u64 = options
        .sources
        .iter()
        .filter(|p| *p != Path::new("-"))
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let progress = Progress::start(options.progress, total_bytes, counts.clone());

    let mut workers = Workers {
        set: JoinSet::new(),
        concurrency: options.concurrency.max(1),
        batch_size,
        client: client.clone(),
        checkpoint: checkpoint.clone(),
        counts: counts.clone(),
    };
    let mut invalid = 0u64;
    let mut failure = None;
    let mut segments = Segments::default();
    'sources: for source in expand(&options.sources)? {
        // `name` is the path as given, for messages; `key` names the source in the checkpoint,
        // and must not depend on how the path was typed.
        let (name, key, mut reader): (String, String, Box<dyn BufRead>) = if source
            == Path::new("-")
        {
            (
                "stdin".to_owned(),
                "stdin".to_owned(),
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
                key,
                Box::new(BufReader::new(file)),
            )
        };
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
            counts
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
            if let Some(done) = segments.push(&key, number, line)
                && let Err(f) = workers.start(done).await
            {
                failure = Some(f);
                break 'sources;
            }
        }
        if let Some(done) = segments.finish()
            && let Err(f) = workers.start(done).await
        {
            failure = Some(f);
            break 'sources;
        }
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

/// The segments being sent, at most `concurrency` at a time.
struct Workers {
    set: JoinSet<Result<(), Failure>>,
    concurrency: usize,
    batch_size: usize,
    client: Client,
    checkpoint: Arc<Checkpoint>,
    counts: Arc<Counts>,
}

impl Workers {
    /// Waits for room, then starts sending `segment`; fails with a finished worker's failure.
    async fn start(&mut self, segment: Segment) -> Result<(), Failure> {
        while self.set.len() >= self.concurrency {
            if let Some(joined) = self.set.join_next().await {
                flatten(joined)?;
            }
        }
        let (client, checkpoint, counts) = (
            self.client.clone(),
            self.checkpoint.clone(),
            self.counts.clone(),
        );
        let batch_size = self.batch_size;
        self.set
            .spawn(async move { send(&client, &checkpoint, &counts, segment, batch_size).await });
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
    key: String,
    conversation: types::TimeBasedConversation,
    /// Messages with their line numbers.
    messages: Vec<(usize, types::Message)>,
}

/// Cuts lines into segments.
#[derive(Debug, Default)]
struct Segments {
    current: Option<Segment>,
}

impl Segments {
    /// Adds a line; returns the previous segment when this line starts a new one.
    fn push(
        &mut self,
        source: &str,
        number: usize,
        (line, message): (Line, types::Message),
    ) -> Option<Segment> {
        if let Some(current) = &mut self.current
            && current.conversation.external_id == line.external_id
        {
            current.messages.push((number, message));
            return None;
        }
        self.current.replace(Segment {
            key: format!("{source}:{number}"),
            conversation: line.conversation(),
            messages: vec![(number, message)],
        })
    }

    fn finish(&mut self) -> Option<Segment> {
        self.current.take()
    }
}

/// Upserts a segment's conversation and sends its batches that the checkpoint does not show as
/// acknowledged.
async fn send(
    client: &Client,
    checkpoint: &Checkpoint,
    counts: &Counts,
    segment: Segment,
    batch_size: usize,
) -> Result<(), Failure> {
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
    let batches: Vec<Vec<types::Message>> = messages
        .chunks(batch_size)
        .map(|chunk| chunk.iter().map(|(_, m)| m.clone()).collect())
        .collect();
    let todo: Vec<usize> = (0..batches.len())
        .filter(|index| !checkpoint.acknowledged(&key, *index))
        .collect();
    let skipped: usize = (0..batches.len())
        .filter(|index| checkpoint.acknowledged(&key, *index))
        .map(|index| batches[index].len())
        .sum();
    counts.skipped.fetch_add(skipped as u64, Ordering::Relaxed);
    if todo.is_empty() {
        return Ok(());
    }
    let id = client
        .create_or_update_conversation()
        .body(conversation)
        .await?
        .into_inner()
        .id
        .ok_or_else(|| Failure {
            exit: Exit::Failed,
            message: format!("{key}: the upsert answered without a conversation id"),
        })?;
    counts.conversations.fetch_add(1, Ordering::Relaxed);
    let mut stored: Option<Vec<Fingerprint>> = None;
    for index in todo {
        let mut batch = batches[index].clone();
        if checkpoint.intended(&key, index) {
            // Sent before, never acknowledged: send only what ASAPP does not have.
            if stored.is_none() {
                let listed = client.get_messages().conversation_id(id.as_str()).await?;
                let mut have: HashMap<Fingerprint, usize> = HashMap::new();
                for message in &listed.items {
                    *have.entry(Fingerprint::stored(message)).or_default() += 1;
                }
                // What this segment's acknowledged batches stored is accounted for already: an
                // identical message in a pending batch is another message, not that one.
                for acked in (0..batches.len()).filter(|i| checkpoint.acknowledged(&key, *i)) {
                    for message in &batches[acked] {
                        if let Some(n) = have.get_mut(&Fingerprint::sent(message)) {
                            *n = n.saturating_sub(1);
                        }
                    }
                }
                stored = Some(
                    have.into_iter()
                        .flat_map(|(f, n)| std::iter::repeat_n(f, n))
                        .collect(),
                );
            }
            let have = stored.as_mut().map(std::mem::take).unwrap_or_default();
            let mut have: HashMap<Fingerprint, usize> =
                have.into_iter().fold(HashMap::new(), |mut m, f| {
                    *m.entry(f).or_default() += 1;
                    m
                });
            batch.retain(|message| match have.get_mut(&Fingerprint::sent(message)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            });
            stored = Some(
                have.into_iter()
                    .flat_map(|(f, n)| std::iter::repeat_n(f, n))
                    .collect(),
            );
            counts.skipped.fetch_add(
                (batches[index].len() - batch.len()) as u64,
                Ordering::Relaxed,
            );
        }
        let sent = batch.len();
        if sent > 0 {
            checkpoint.record("intent", &key, index)?;
            let answer = client
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
        checkpoint.record("ack", &key, index)?;
        counts.batches.fetch_add(1, Ordering::Relaxed);
        counts.messages.fetch_add(sent as u64, Ordering::Relaxed);
    }
    Ok(())
}

/// What identifies a message for the resume check.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Fingerprint {
    timestamp: i64,
    nanos: u32,
    role: String,
    sender: String,
    text: String,
}

impl Fingerprint {
    fn sent(message: &types::Message) -> Self {
        Self {
            timestamp: message.timestamp.timestamp(),
            nanos: message.timestamp.timestamp_subsec_nanos(),
            role: message.sender.role.to_string(),
            sender: message.sender.external_id.clone(),
            text: message.text.to_string(),
        }
    }

    fn stored(message: &types::ConversationMessage) -> Self {
        Self {
            timestamp: message.client_timestamp.timestamp(),
            nanos: message.client_timestamp.timestamp_subsec_nanos(),
            role: message.sender.role.to_string(),
            sender: message.sender.external_id.clone().unwrap_or_default(),
            text: message.text.to_string(),
        }
    }
}

/// The checkpoint file: `intent` and `ack` records, one per line, appended and flushed.
#[derive(Debug)]
struct Checkpoint {
    file: Mutex<File>,
    acknowledged: HashSet<(String, usize)>,
    intended: HashSet<(String, usize)>,
}

impl Checkpoint {
    /// Opens the checkpoint: a new one for a fresh import, the recorded one with `resume`.
    /// The batch size is recorded first, since batch numbers only mean the same messages with
    /// the same size; a record cut short by a kill is dropped from the file.
    fn open(path: &Path, resume: bool, batch_size: usize) -> Result<Self, Failure> {
        let mut acknowledged = HashSet::new();
        let mut intended = HashSet::new();
        let shown = path.display();
        let not_a_record = |line: usize| {
            Failure::usage(format!(
                "checkpoint {shown}:{line}: not a checkpoint record"
            ))
        };
        let mut complete = 0u64;
        if resume {
            let bytes = std::fs::read(path).map_err(|e| {
                Failure::usage(format!("--resume: cannot read checkpoint {shown}: {e}"))
            })?;
            // Only records that end in a newline were written whole.
            let whole = bytes
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |end| end + 1);
            complete = whole as u64;
            let text = std::str::from_utf8(&bytes[..whole]).map_err(|_| not_a_record(1))?;
            let mut size = None;
            for (index, line) in text.lines().enumerate() {
                let mut fields = line.splitn(3, '\t');
                let (Some(kind), Some(number), Some(key)) =
                    (fields.next(), fields.next(), fields.next())
                else {
                    return Err(not_a_record(index + 1));
                };
                let number = number
                    .parse::<usize>()
                    .map_err(|_| not_a_record(index + 1))?;
                match kind {
                    "batch-size" => size = Some(number),
                    "intent" => {
                        intended.insert((key.to_owned(), number));
                    }
                    "ack" => {
                        acknowledged.insert((key.to_owned(), number));
                    }
                    _ => return Err(not_a_record(index + 1)),
                }
            }
            match size {
                Some(size) if size == batch_size => {}
                Some(size) => {
                    return Err(Failure::usage(format!(
                        "checkpoint {shown} was written with --batch-size {size}: resume with \
                         the same batch size"
                    )));
                }
                None => {
                    return Err(Failure::usage(format!(
                        "checkpoint {shown} does not record its batch size"
                    )));
                }
            }
        } else if path.exists() {
            return Err(Failure::usage(format!(
                "checkpoint {shown} exists from an earlier import: add --resume to continue it, \
                 or delete it"
            )));
        }
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(!resume)
            .open(path)
            .map_err(|e| Failure::usage(format!("cannot write checkpoint {shown}: {e}")))?;
        let written = if resume {
            // Drop a record cut short, then append after the whole ones.
            file.set_len(complete)
                .and_then(|()| file.seek(std::io::SeekFrom::End(0)).map(drop))
        } else {
            file.write_all(format!("batch-size\t{batch_size}\t\n").as_bytes())
                .and_then(|()| file.flush())
        };
        written.map_err(|e| Failure::usage(format!("cannot write checkpoint {shown}: {e}")))?;
        Ok(Self {
            file: Mutex::new(file),
            acknowledged,
            intended,
        })
    }

    fn acknowledged(&self, key: &str, batch: usize) -> bool {
        self.acknowledged.contains(&(key.to_owned(), batch))
    }

    fn intended(&self, key: &str, batch: usize) -> bool {
        self.intended.contains(&(key.to_owned(), batch))
    }

    /// Appends a record, whole, before returning.
    fn record(&self, kind: &str, key: &str, batch: usize) -> Result<(), Failure> {
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(format!("{kind}\t{batch}\t{key}\n").as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| Failure {
                exit: Exit::Failed,
                message: format!("cannot write the checkpoint: {e}"),
            })
    }
}

/// Progress on stderr: a bar on a terminal, a plain line every 5 seconds otherwise.
struct Progress {
    ticker: Option<tokio::task::JoinHandle<()>>,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn start(terminal: bool, total_bytes: u64, counts: Arc<Counts>) -> Self {
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
