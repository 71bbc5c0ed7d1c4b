//! The checkpoint of `asapp import`: JSON Lines in a file, appended through the [`Journal`].
//!
//! ```text
//! {"batchSize":300}
//! {"window":10000}
//! {"started":"2024-01-23T09:00:00.120Z"}
//! {"input":{"source":"/data/calls/a.jsonl"}}
//! {"intent":{"source":"/data/calls/a.jsonl","line":1,"runLength":120,"batch":0,"externalId":"call-1","digest":"5f0c6a1e9b3d2c47"}}
//! {"ack":{"source":"/data/calls/a.jsonl","line":1,"runLength":120,"batch":0,"externalId":"call-1","digest":"5f0c6a1e9b3d2c47"}}
//! ```
//!
//! A batch is named by its run (the source and the line the run starts at) and its number in the
//! run. Its record also holds the run's number of messages (`runLength`), the conversation, and
//! a digest of the conversation and the batch's messages. So a resume notices an input that
//! changed instead of skipping the change or sending it twice: a run that holds more or fewer
//! messages, an acknowledged batch that holds other ones, and (from the recorded inputs and run
//! starts) files or lines added, removed or reordered. Each `input` is recorded when the import
//! reaches it, before any batch of it (objects with their ETag, and whether it was left aside
//! as a Contact Lens copy), and a resume checks each input it reaches against the record of the
//! same place in that order: nothing holds the list of inputs up front. The batch in doubt may
//! have been corrected: it is checked against what ASAPP holds.
//!
//! Each import, new or resumed, records when it `started`. A batch in doubt may still be on its
//! way into ASAPP while a request of the import that sent it could be under way: until
//! `--settle` after that import ended, which was before the next one started (or, for the last
//! import, at the checkpoint's last write). Only its conversation waits that long before it is
//! read back; the others go at once. The checkpoint hands what it recorded of the batches in
//! doubt ([`InDoubt`]) to the [reconciliation](super::reconcile) when it is opened, and keeps no
//! state of them.
//!
//! What survives what:
//! - The header is synced, and so is the directory entry of a new checkpoint, before anything is
//!   sent.
//! - An `intent` is synced before its batch is sent: after a power failure, every batch that may
//!   have reached ASAPP is on record, as acknowledged or in doubt.
//! - An `ack` is written without waiting for a sync: a lost one leaves its batch in doubt, and a
//!   resume reads the conversation back and sends only what ASAPP lacks, so losing it costs a
//!   read-back, never a duplicate. Any later sync makes it durable: the journal writes records
//!   in order, and a sync covers everything written before it.
//! - What a crash or a power failure leaves half-written at the end (a record without its newline,
//!   or a line of NUL bytes where the file grew but its data never reached the disk) is dropped.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use asapp_conversations::chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::journal::{FileStorage, Journal, Storage};
use super::message_key::Digest;
use super::runs::Cut;
use crate::Error;

/// Where a run starts: its input's key (a canonical path, a URL, a name given, or `stdin`) and
/// its first line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RunKey {
    pub(crate) input: Arc<str>,
    pub(crate) line: usize,
}

/// Wraps the checkpoint's file into the [`Storage`] the journal writes through: a
/// [`FileStorage`] by default; tests pass a double.
pub type StorageFactory = Arc<dyn Fn(File) -> Box<dyn Storage> + Send + Sync>;

/// The default [`StorageFactory`].
pub fn file_storage() -> StorageFactory {
    Arc::new(|file| Box::new(FileStorage::new(file)))
}

/// One line of the checkpoint.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum Record<'a> {
    /// The first record: batch numbers only name the same messages with the same batch size.
    BatchSize(usize),
    /// Then the lines read ahead to gather a conversation's lines: it decides the runs.
    Window(usize),
    /// What was read, in order, named up front (as checkpoints written before inputs were
    /// recorded as reached did): canonical paths, `stdin` for standard input, and objects'
    /// URLs with their ETags.
    Sources(Vec<SourceRecord<'a>>),
    /// An input reached, in order: before any batch of it.
    #[serde(borrow)]
    Input(InputRecord<'a>),
    /// Then, when not the defaults, the options that decide documents' roles and times.
    Reading(String),
    /// An import, new or resumed, started: the one before it had ended.
    Started(DateTime<Utc>),
    /// The batch is about to be sent.
    #[serde(borrow)]
    Intent(BatchRecord<'a>),
    /// ASAPP acknowledged the batch.
    #[serde(borrow)]
    Ack(BatchRecord<'a>),
}

/// A batch as the checkpoint names it: its run, its number in the run, the run's number of
/// messages, its conversation and its digest. Borrowed when written, borrowed from the file when
/// read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct BatchRecord<'a> {
    /// The run's input, as the checkpoint has always spelled it.
    #[serde(borrow, rename = "source")]
    input: Cow<'a, str>,
    line: usize,
    run_length: usize,
    batch: usize,
    #[serde(borrow)]
    external_id: Cow<'a, str>,
    digest: Digest,
}

impl<'a> BatchRecord<'a> {
    pub(crate) fn new(
        run: &'a RunKey,
        external_id: &'a str,
        run_length: usize,
        batch: usize,
        digest: Digest,
    ) -> Self {
        Self {
            input: Cow::Borrowed(&run.input),
            line: run.line,
            run_length,
            batch,
            external_id: Cow::Borrowed(external_id),
            digest,
        }
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        Digest::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("a digest is 16 hexadecimal digits"))
    }
}

/// One input as the checkpoint names it: a path or `stdin`, or an object's URL with the
/// version (ETag) that was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum SourceRecord<'a> {
    Plain(Cow<'a, str>),
    #[serde(rename_all = "camelCase")]
    Versioned {
        source: Cow<'a, str>,
        version: Cow<'a, str>,
    },
}

impl SourceRecord<'_> {
    fn key(&self) -> &str {
        match self {
            Self::Plain(key) | Self::Versioned { source: key, .. } => key,
        }
    }

    fn version(&self) -> Option<&str> {
        match self {
            Self::Plain(_) => None,
            Self::Versioned { version, .. } => Some(version),
        }
    }
}

/// An input as the checkpoint records it when the import reaches it: its key (a canonical path,
/// `stdin`, or an object's URL), its version (an object's ETag) when it has one, and whether it
/// was left aside as a Contact Lens copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct InputRecord<'a> {
    /// The input's key, as the checkpoint has always spelled it.
    #[serde(borrow, rename = "source")]
    pub(crate) key: Cow<'a, str>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) left_aside: bool,
}

impl InputRecord<'_> {
    fn into_owned(self) -> InputRecord<'static> {
        InputRecord {
            key: Cow::Owned(self.key.into_owned()),
            version: self.version.map(|v| Cow::Owned(v.into_owned())),
            left_aside: self.left_aside,
        }
    }

    /// How a refusal names it.
    fn shown(&self) -> &str {
        &self.key
    }
}

impl From<SourceRecord<'_>> for InputRecord<'static> {
    fn from(source: SourceRecord<'_>) -> Self {
        InputRecord {
            key: Cow::Owned(source.key().to_owned()),
            version: source.version().map(|v| Cow::Owned(v.to_owned())),
            left_aside: false,
        }
    }
}

/// What the checkpoint says of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Never sent.
    New,
    /// Sent, never acknowledged: ASAPP may or may not have stored it.
    InDoubt,
    /// Acknowledged: stored.
    Acknowledged,
}

/// A batch the checkpoint records.
#[derive(Debug, Clone, Copy)]
struct RecordedBatch {
    digest: Digest,
    acknowledged: bool,
}

/// What decides how the input is cut into runs and batches: a resume must cut it the same way.
#[derive(Debug)]
pub(crate) struct Cutting {
    pub(crate) batch_size: usize,
    pub(crate) window: usize,
    /// How documents are read, when not by default (`--format`, `--role-map`, `--base-time`):
    /// they decide the messages' roles and times.
    pub(crate) reading: String,
}

/// How the checkpoint is kept.
#[derive(Clone)]
pub(crate) struct Keeping {
    pub(crate) path: PathBuf,
    pub(crate) resume: bool,
    /// Sync records that must survive a power failure (not with `--no-sync`).
    pub(crate) sync: bool,
    /// How long a request of a stopped import may take to be stored (`--settle`).
    pub(crate) settle: Duration,
    pub(crate) storage: StorageFactory,
}

/// What the checkpoint recorded of the batches in doubt, handed to the reconciliation when the
/// checkpoint is opened: the conversations with batches in doubt, each with how many and until
/// when its read-back waits, and the messages acknowledged of each conversation.
#[derive(Debug, Default)]
pub(crate) struct InDoubt {
    pub(crate) conversations: HashMap<String, (usize, Option<tokio::time::Instant>)>,
    pub(crate) acknowledged: HashMap<String, usize>,
}

/// What a resume found in the checkpoint, told before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resumed {
    /// Batches recorded as acknowledged.
    pub acknowledged: usize,
    /// Batches recorded as sent and never acknowledged: in doubt.
    pub in_doubt: usize,
    /// The conversations of those batches.
    pub conversations_in_doubt: usize,
    /// Those of them whose read-back waits for the batches to settle.
    pub waiting: usize,
    /// Until when the last of them waits.
    pub waiting_until: Option<DateTime<Utc>>,
}

/// The checkpoint file, and what it recorded when the import began.
pub(crate) struct Checkpoint {
    path: PathBuf,
    journal: Journal,
    batches: HashMap<(RunKey, usize), RecordedBatch>,
    /// Where the recorded runs start, how many messages each held, and their conversation.
    runs: BTreeMap<RunKey, (usize, Arc<str>)>,
    /// What a resume found, `None` for a new import.
    resumed: Option<Resumed>,
    /// The inputs recorded, in order, which a resume must reach again the same.
    inputs: Vec<InputRecord<'static>>,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("path", &self.path)
            .field("batches", &self.batches.len())
            .finish_non_exhaustive()
    }
}

impl Checkpoint {
    /// Opens the checkpoint: a new one for a fresh import, the recorded one with `resume`, which
    /// must have cut the input the same way. What a crash left half-written is dropped.
    pub(crate) fn open(keeping: &Keeping, cutting: &Cutting) -> Result<(Self, InDoubt), Error> {
        let path = &keeping.path;
        let shown = path.display();
        let cannot_write = |e: &dyn std::fmt::Display| {
            Error::cannot_open(path, format!("cannot write checkpoint {shown}: {e}"))
        };
        let mut file = if keeping.resume {
            OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(|e| {
                    Error::cannot_open(
                        path,
                        format!("--resume: cannot read checkpoint {shown}: {e}"),
                    )
                })?
        } else {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => Error::mismatch(
                        path,
                        format!(
                            "checkpoint {shown} exists from an earlier import: add --resume to \
                         continue it, or delete it"
                        ),
                    ),
                    _ => cannot_write(&e),
                })?
        };
        // One import at a time per checkpoint: two would both send every new batch. The lock
        // goes with the file, which the journal holds until the import ends.
        file.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => Error::mismatch(
                path,
                format!(
                    "checkpoint {shown} is in use by another import: let it end, or stop it first"
                ),
            ),
            std::fs::TryLockError::Error(e) => cannot_write(&e),
        })?;
        let now = SystemTime::now();
        let loaded = if keeping.resume {
            let modified = file.metadata().and_then(|m| m.modified()).ok();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(|e| {
                Error::cannot_open(
                    path,
                    format!("--resume: cannot read checkpoint {shown}: {e}"),
                )
            })?;
            // Only records that end in a newline were written whole.
            let whole = bytes
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |end| end + 1);
            let mut loaded = Loaded::read(&bytes[..whole]).map_err(|(line, why)| {
                Error::mismatch(
                    path,
                    format!("checkpoint {shown}:{line}: not a checkpoint record: {why}"),
                )
            })?;
            loaded.check_cutting(path, cutting)?;
            // Drop a record cut short, then append after the whole ones.
            file.set_len(whole as u64)
                .and_then(|()| file.seek(std::io::SeekFrom::End(0)).map(drop))
                .map_err(|e| cannot_write(&e))?;
            loaded.last_write = modified;
            loaded
        } else {
            Loaded::default()
        };
        let mut storage = (keeping.storage)(file);
        if !keeping.resume {
            let mut header = Vec::new();
            let mut records = vec![
                Record::BatchSize(cutting.batch_size),
                Record::Window(cutting.window),
            ];
            if !cutting.reading.is_empty() {
                records.push(Record::Reading(cutting.reading.clone()));
            }
            records.push(Record::Started(now.into()));
            for record in records {
                serde_json::to_writer(&mut header, &record).map_err(|e| cannot_write(&e))?;
                header.push(b'\n');
            }
            storage.append(&header).map_err(|e| cannot_write(&e))?;
            if keeping.sync {
                storage
                    .sync()
                    .and_then(|()| sync_directory(path))
                    .map_err(|e| cannot_write(&e))?;
            }
        }
        let journal = Journal::start(storage, keeping.sync).map_err(|e| cannot_write(&e))?;
        let resumed = keeping.resume.then(|| loaded.resumed(keeping.settle, now));
        if keeping.resume {
            // This import's start, after what the one before it wrote: a batch in doubt recorded
            // before it was sent by an import that had ended.
            let started = serde_json::to_vec(&Record::Started(now.into()))
                .map(|mut line| {
                    line.push(b'\n');
                    line
                })
                .map_err(|e| cannot_write(&e))?;
            journal.append(started).map_err(|e| cannot_write(&e))?;
        }
        let in_doubt = InDoubt {
            conversations: loaded.doubtful(keeping.settle, now),
            acknowledged: loaded.acknowledged_messages(cutting.batch_size),
        };
        let checkpoint = Self {
            path: path.clone(),
            journal,
            batches: loaded.batches,
            runs: loaded.runs,
            resumed,
            inputs: loaded.inputs,
        };
        Ok((checkpoint, in_doubt))
    }

    /// The import reached its input number `index` (from 0): on a resume, it must be the one
    /// recorded there, read the same way; past what was recorded, it is recorded (before any
    /// batch of it, so a sync of that batch's intent covers it too).
    pub(crate) fn reach(&self, index: usize, input: &InputRecord<'_>) -> Result<(), Error> {
        match self.inputs.get(index) {
            Some(recorded) if recorded == input => Ok(()),
            Some(recorded) if recorded.key == input.key && recorded.version != input.version => {
                let version = |v: &Option<Cow<'_, str>>| {
                    v.as_ref().map_or("none".to_owned(), |v| format!("`{v}`"))
                };
                Err(self.changed(format!(
                    "{} has version (ETag) {} now, {} then",
                    input.key,
                    version(&input.version),
                    version(&recorded.version)
                )))
            }
            Some(recorded) if recorded.key == input.key => {
                let aside = |left_aside: bool| if left_aside { "left aside" } else { "read" };
                Err(self.changed(format!(
                    "{} is {} now as a Contact Lens copy, and was {} then (another \
                     --contact-lens-copy, or its other copy added or removed)",
                    input.key,
                    aside(input.left_aside),
                    aside(recorded.left_aside)
                )))
            }
            Some(recorded) => Err(self.changed(format!(
                "input {} is {} now, {} then (--resume needs the same inputs, in the same order)",
                index + 1,
                input.shown(),
                recorded.shown()
            ))),
            None => {
                let line = self.line(&Record::Input(input.clone()))?;
                self.journal.append(line).map_err(|e| self.cannot_write(&e))
            }
        }
    }

    /// The import reached every input, `reached` of them: a resume must have reached every one
    /// recorded.
    pub(crate) fn reached_all(&self, reached: usize) -> Result<(), Error> {
        match self.inputs.get(reached) {
            None => Ok(()),
            Some(missing) => Err(self.changed(format!(
                "input {} was {} then, and is not there now",
                reached + 1,
                missing.shown()
            ))),
        }
    }

    /// What a resume found in the checkpoint; `None` for a new import.
    pub(crate) fn resumed(&self) -> Option<&Resumed> {
        self.resumed.as_ref()
    }

    /// What the checkpoint recorded of each batch of the run at `run` of the conversation
    /// `external_id`, given its number of messages and the digests of its batches now. An error
    /// when the run holds more or fewer messages than recorded, or an acknowledged batch holds
    /// other ones. A batch in doubt may have changed: it is checked against what ASAPP holds.
    pub(crate) fn states(
        &self,
        run: &RunKey,
        external_id: &str,
        run_length: usize,
        digests: &[Digest],
    ) -> Result<Vec<State>, Error> {
        let recorded = |batch: usize| self.batches.get(&(run.clone(), batch));
        let named = || {
            format!(
                "the run of lines of `{external_id}` from {}:{}",
                run.input, run.line
            )
        };
        if let Some((length_then, conversation_then)) = self.runs.get(run) {
            if **conversation_then != *external_id {
                return Err(self.changed(format!(
                    "the run of lines from {}:{} was of `{conversation_then}` then, and is of \
                     `{external_id}` now",
                    run.input, run.line
                )));
            }
            if *length_then != run_length {
                let messages = |n: usize| match n {
                    1 => "1 message".to_owned(),
                    n => format!("{n} messages"),
                };
                return Err(self.changed(format!(
                    "{} holds {} now, {} then",
                    named(),
                    messages(run_length),
                    messages(*length_then)
                )));
            }
        }
        digests
            .iter()
            .enumerate()
            .map(|(batch, digest)| match recorded(batch) {
                None => Ok(State::New),
                Some(RecordedBatch {
                    acknowledged: false,
                    ..
                }) => Ok(State::InDoubt),
                Some(RecordedBatch {
                    digest: was,
                    acknowledged: true,
                }) if was == digest => Ok(State::Acknowledged),
                Some(_) => Err(self.changed(format!(
                    "{} holds other messages now (its batch {batch}, acknowledged)",
                    named()
                ))),
            })
            .collect()
    }

    /// Checks that every run recorded as starting in the window `cut` closed starts at one of
    /// its runs now.
    pub(crate) fn check_starts(&self, cut: &Cut) -> Result<(), Error> {
        let Cut {
            input,
            after,
            last,
            runs,
        } = cut;
        let (after, last) = (*after, *last);
        let starts: Vec<usize> = runs.iter().map(|run| run.key.line).collect();
        let from = RunKey {
            input: input.clone(),
            line: after.saturating_add(1),
        };
        let to = RunKey {
            input: input.clone(),
            line: last,
        };
        if from > to {
            return Ok(());
        }
        match self
            .runs
            .range(from..=to)
            .map(|(start, _)| start)
            .find(|start| starts.binary_search(&start.line).is_err())
        {
            None => Ok(()),
            Some(start) => Err(self.changed(format!(
                "a conversation's lines started at {}:{} then, and do not now",
                start.input, start.line
            ))),
        }
    }

    fn changed(&self, what: String) -> Error {
        Error::mismatch(
            &self.path,
            format!(
                "the input changed since checkpoint {} was written: {what}; --resume needs the same \
             input",
                self.path.display()
            ),
        )
    }

    /// Records that the batch is about to be sent; returns once the record is on stable
    /// storage.
    pub(crate) async fn intend(&self, batch: &BatchRecord<'_>) -> Result<(), Error> {
        let line = self.line(&Record::Intent(batch.clone()))?;
        self.journal
            .append_durably(line)
            .await
            .map_err(|e| self.cannot_write(&e))
    }

    /// Records that ASAPP acknowledged the batch; written in order, without waiting (see the
    /// module's documentation for why that is safe).
    pub(crate) fn acknowledge(&self, batch: &BatchRecord<'_>) -> Result<(), Error> {
        let line = self.line(&Record::Ack(batch.clone()))?;
        self.journal.append(line).map_err(|e| self.cannot_write(&e))
    }

    fn line(&self, record: &Record<'_>) -> Result<Vec<u8>, Error> {
        let mut line = serde_json::to_vec(record).map_err(|e| self.cannot_write(&e))?;
        line.push(b'\n');
        Ok(line)
    }

    fn cannot_write(&self, error: &dyn std::fmt::Display) -> Error {
        Error::cannot_write(
            &self.path,
            format!("cannot write checkpoint {}: {error}", self.path.display()),
        )
    }

    /// Writes and syncs what is left, and stops the journal's thread.
    pub(crate) async fn close(self) -> Result<(), Error> {
        let path = self.path;
        self.journal.close().await.map_err(|e| {
            let detail = format!("cannot write checkpoint {}: {e}", path.display());
            Error::cannot_write(&path, detail)
        })
    }
}

/// Makes a new file's directory entry survive a power failure.
fn sync_directory(path: &Path) -> std::io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)?.sync_all()
}

/// What a checkpoint file holds.
#[derive(Debug, Default)]
struct Loaded {
    batch_size: Option<usize>,
    window: Option<usize>,
    /// The inputs recorded, in order.
    inputs: Vec<InputRecord<'static>>,
    reading: Option<String>,
    batches: HashMap<(RunKey, usize), RecordedBatch>,
    /// Each run's number of messages and conversation.
    runs: BTreeMap<RunKey, (usize, Arc<str>)>,
    /// Batches sent and not acknowledged, with their conversation's external id and the
    /// import that sent them (the number of imports recorded as started before its intent).
    in_doubt: HashMap<(RunKey, usize), (String, usize)>,
    /// When each import recorded started, in order.
    started: Vec<SystemTime>,
    /// When the file was last written: the last import ended then, or soon after.
    last_write: Option<SystemTime>,
}

impl Loaded {
    /// Reads whole records; an error names the record's line and what is wrong with it.
    fn read(bytes: &[u8]) -> Result<Self, (usize, String)> {
        let mut loaded = Self::default();
        // One allocation per source and conversation, not per record.
        let mut names: HashMap<String, Arc<str>> = HashMap::new();
        let mut name = |text: &str| -> Arc<str> {
            names
                .entry(text.to_owned())
                .or_insert_with_key(|s| s.as_str().into())
                .clone()
        };
        for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
            // A power failure can leave NUL bytes where the file grew but its data did not
            // reach the disk: never a record that was synced.
            if line.is_empty() || line.contains(&0) {
                continue;
            }
            let wrong = |why: String| (index + 1, why);
            let record: Record<'_> =
                serde_json::from_slice(line).map_err(|e| wrong(e.to_string()))?;
            let (record, acknowledged) = match record {
                Record::BatchSize(size) => {
                    loaded.batch_size = Some(size);
                    continue;
                }
                Record::Window(lines) => {
                    loaded.window = Some(lines);
                    continue;
                }
                Record::Sources(list) => {
                    loaded
                        .inputs
                        .extend(list.into_iter().map(InputRecord::from));
                    continue;
                }
                Record::Input(input) => {
                    loaded.inputs.push(input.into_owned());
                    continue;
                }
                Record::Reading(options) => {
                    loaded.reading = Some(options);
                    continue;
                }
                Record::Started(at) => {
                    loaded.started.push(at.into());
                    continue;
                }
                Record::Intent(record) => (record, false),
                Record::Ack(record) => (record, true),
            };
            let run = RunKey {
                input: name(&record.input),
                line: record.line,
            };
            let conversation = name(&record.external_id);
            let key = (run.clone(), record.batch);
            let (run_length, of) = loaded
                .runs
                .entry(run)
                .or_insert((record.run_length, conversation.clone()));
            if (*run_length, &**of) != (record.run_length, &*conversation) {
                return Err(wrong(format!(
                    "the run at {}:{} was recorded with {} messages of `{}` and with {} of `{}`",
                    key.0.input, key.0.line, run_length, of, record.run_length, conversation
                )));
            }
            let digest = record.digest;
            let batch = loaded.batches.entry(key.clone()).or_insert(RecordedBatch {
                digest,
                acknowledged,
            });
            match (batch.acknowledged, acknowledged) {
                // A batch in doubt may be sent again, changed, after a resume; and it may be
                // found stored when it was corrected before that resume: its acknowledgement
                // carries the digest it has now.
                (false, _) => {
                    batch.digest = digest;
                    batch.acknowledged = acknowledged;
                }
                (true, true) if batch.digest == digest => {}
                (true, true) => {
                    return Err(wrong(format!(
                        "batch {} of {}:{} was recorded acknowledged with another digest",
                        key.1, key.0.input, key.0.line
                    )));
                }
                (true, false) => {
                    return Err(wrong(format!(
                        "batch {} of {}:{} was recorded sent again after its acknowledgement",
                        key.1, key.0.input, key.0.line
                    )));
                }
            }
            if acknowledged {
                loaded.in_doubt.remove(&key);
            } else {
                let import = loaded.started.len();
                loaded
                    .in_doubt
                    .insert(key, (conversation.to_string(), import));
            }
        }
        Ok(loaded)
    }

    /// Checks that the import being resumed cuts its input as the recorded one did.
    fn check_cutting(&mut self, path: &Path, cutting: &Cutting) -> Result<(), Error> {
        let shown = path.display();
        for (option, recorded, now) in [
            ("--batch-size", self.batch_size, cutting.batch_size),
            ("--window", self.window, cutting.window),
        ] {
            match recorded {
                Some(recorded) if recorded == now => {}
                Some(recorded) => {
                    return Err(Error::mismatch(
                        path,
                        format!(
                            "checkpoint {shown} was written with {option} {recorded}: resume with \
                         the same {option}"
                        ),
                    ));
                }
                None => {
                    return Err(Error::mismatch(
                        path,
                        format!(
                            "checkpoint {shown} records no {option}: it was cut short before the \
                         import sent anything; delete it and import again"
                        ),
                    ));
                }
            }
        }
        let reading = self.reading.take().unwrap_or_default();
        if reading != cutting.reading {
            let shown_options = |o: &str| {
                if o.is_empty() {
                    "the defaults".to_owned()
                } else {
                    format!("`{o}`")
                }
            };
            return Err(Error::mismatch(
                path,
                format!(
                    "checkpoint {shown} was written reading documents with {}, not {}: resume with \
                 the same --format, --role-map, --base-time and --contact-records",
                    shown_options(&reading),
                    shown_options(&cutting.reading)
                ),
            ));
        }
        Ok(())
    }

    /// When the import that wrote records after the `import`th start (0: before any start was
    /// recorded) had ended at the latest: when the next one started, or the file's last write.
    fn ended(&self, import: usize) -> Option<SystemTime> {
        self.started.get(import).copied().or(self.last_write)
    }

    /// Until when a request of the import that sent a batch in doubt, by that import, may still
    /// be under way: `settle` after it ended. `None` when that has passed by `now` (or the end
    /// is unknown, as for a checkpoint without a batch in doubt).
    fn settle_until(&self, import: usize, settle: Duration, now: SystemTime) -> Option<SystemTime> {
        self.ended(import)
            .and_then(|ended| ended.checked_add(settle))
            .filter(|until| *until > now)
    }

    /// The conversations with batches in doubt, each with how many and until when its read-back
    /// waits.
    fn doubtful(
        &self,
        settle: Duration,
        now: SystemTime,
    ) -> HashMap<String, (usize, Option<tokio::time::Instant>)> {
        let instant = tokio::time::Instant::now();
        let mut doubtful: HashMap<String, (usize, Option<tokio::time::Instant>)> = HashMap::new();
        for (external_id, import) in self.in_doubt.values() {
            let (remaining, settle_until) = doubtful.entry(external_id.clone()).or_default();
            *remaining += 1;
            let until = self
                .settle_until(*import, settle, now)
                .and_then(|until| until.duration_since(now).ok())
                .map(|left| instant + left);
            *settle_until = (*settle_until).max(until);
        }
        doubtful
    }

    /// What the resume found, for the operator.
    fn resumed(&self, settle: Duration, now: SystemTime) -> Resumed {
        let mut waiting: HashMap<&str, SystemTime> = HashMap::new();
        let mut conversations = std::collections::HashSet::new();
        for (external_id, import) in self.in_doubt.values() {
            conversations.insert(external_id.as_str());
            if let Some(until) = self.settle_until(*import, settle, now) {
                let latest = waiting.entry(external_id).or_insert(until);
                *latest = (*latest).max(until);
            }
        }
        Resumed {
            acknowledged: self.batches.values().filter(|b| b.acknowledged).count(),
            in_doubt: self.in_doubt.len(),
            conversations_in_doubt: conversations.len(),
            waiting: waiting.len(),
            waiting_until: waiting.values().max().map(|until| (*until).into()),
        }
    }

    /// Messages acknowledged, by conversation: each acknowledged batch holds `batch_size`
    /// messages, or what is left of its run.
    fn acknowledged_messages(&self, batch_size: usize) -> HashMap<String, usize> {
        let mut acknowledged: HashMap<String, usize> = HashMap::new();
        for ((run, batch), recorded) in &self.batches {
            if !recorded.acknowledged {
                continue;
            }
            if let Some((length, conversation)) = self.runs.get(run) {
                let size = length
                    .saturating_sub(batch.saturating_mul(batch_size))
                    .min(batch_size);
                *acknowledged.entry(conversation.to_string()).or_default() += size;
            }
        }
        acknowledged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, batch: usize, digest: &str) -> String {
        format!(
            r#"{{"{kind}":{{"source":"a.jsonl","line":1,"runLength":450,"batch":{batch},"externalId":"call-1","digest":"{digest}"}}}}"#
        )
    }

    const D1: &str = "00000000000000d1";
    const D2: &str = "00000000000000d2";

    fn read(lines: &[String]) -> Result<Loaded, (usize, String)> {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        Loaded::read(text.as_bytes())
    }

    #[test]
    fn a_batch_found_stored_after_a_correction_is_acknowledged_with_its_new_digest() {
        let loaded = read(&[
            record("ack", 0, D1),
            record("intent", 1, D1),
            record("ack", 1, D2),
        ])
        .unwrap();
        assert!(loaded.in_doubt.is_empty());
        let run = RunKey {
            input: "a.jsonl".into(),
            line: 1,
        };
        let batch = loaded.batches[&(run, 1)];
        assert!(batch.acknowledged);
        assert_eq!(batch.digest.hex(), D2);
        // 300 in batch 0 and the 150 left of the run in batch 1.
        assert_eq!(loaded.acknowledged_messages(300)["call-1"], 450);
    }

    #[test]
    fn an_acknowledged_batch_with_another_digest_is_refused() {
        let (line, why) = read(&[record("ack", 0, D1), record("ack", 0, D2)]).unwrap_err();
        assert_eq!(line, 2);
        assert!(why.contains("another digest"), "{why}");
    }

    #[test]
    fn what_a_power_failure_leaves_is_dropped() {
        let mut text = format!("{}\n", record("ack", 0, D1));
        text.push_str(&"\0".repeat(40));
        text.push('\n');
        text.push_str("\0\0\0");
        text.push_str(&record("intent", 1, D1)[3..]);
        text.push('\n');
        let loaded = Loaded::read(text.as_bytes()).unwrap();
        assert_eq!(loaded.batches.len(), 1);
    }

    #[test]
    fn a_batch_in_doubt_settles_after_the_import_that_sent_it_ended() {
        let second = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s);
        let started = |s: u64| {
            let at: DateTime<Utc> = second(s).into();
            format!(r#"{{"started":"{}"}}"#, at.to_rfc3339())
        };
        let other = |kind: &str, batch: usize| {
            record(kind, batch, D1)
                .replace("a.jsonl", "b.jsonl")
                .replace("call-1", "call-2")
        };
        // call-1's batch 1 was sent by the import that started at 0 and ended by 10, when the
        // next started; call-2's batch 0 by that next one, which last wrote at 12.
        let mut loaded = read(&[
            started(0),
            record("ack", 0, D1),
            record("intent", 1, D1),
            started(10),
            other("intent", 0),
        ])
        .unwrap();
        loaded.last_write = Some(second(12));
        let settle = Duration::from_secs(30);
        assert_eq!(loaded.settle_until(1, settle, second(11)), Some(second(40)));
        assert_eq!(loaded.settle_until(2, settle, second(11)), Some(second(42)));
        // Past its time, a batch in doubt waits no more.
        assert_eq!(loaded.settle_until(1, settle, second(41)), None);
        let resumed = loaded.resumed(settle, second(41));
        assert_eq!(
            resumed,
            Resumed {
                acknowledged: 1,
                in_doubt: 2,
                conversations_in_doubt: 2,
                waiting: 1,
                waiting_until: Some(second(42).into()),
            }
        );
        let doubtful = loaded.doubtful(settle, second(41));
        assert!(doubtful["call-1"].1.is_none(), "settled");
        assert!(doubtful["call-2"].1.is_some(), "waits");
        // A checkpoint written before imports recorded their start: its last write.
        let mut legacy = read(&[record("intent", 0, D1)]).unwrap();
        legacy.last_write = Some(second(5));
        assert_eq!(legacy.settle_until(0, settle, second(6)), Some(second(35)));
    }

    #[test]
    fn inputs_named_up_front_by_an_older_checkpoint_are_the_inputs_recorded() {
        let loaded = read(&[
            r#"{"sources":["/d/a.jsonl",{"source":"s3://b/c.json","version":"e1"}]}"#.to_owned(),
            r#"{"input":{"source":"/d/z.jsonl","leftAside":true}}"#.to_owned(),
        ])
        .unwrap();
        let sources: Vec<(&str, Option<&str>, bool)> = loaded
            .inputs
            .iter()
            .map(|i| (&*i.key, i.version.as_deref(), i.left_aside))
            .collect();
        assert_eq!(
            sources,
            [
                ("/d/a.jsonl", None, false),
                ("s3://b/c.json", Some("e1"), false),
                ("/d/z.jsonl", None, true)
            ]
        );
    }

    #[test]
    fn a_run_recorded_with_two_lengths_or_conversations_is_refused() {
        let other = record("intent", 1, D1).replace("call-1", "call-2");
        let (line, why) = read(&[record("ack", 0, D1), other]).unwrap_err();
        assert_eq!(line, 2);
        assert!(why.contains("`call-1` and with 450 of `call-2`"), "{why}");
    }
}
