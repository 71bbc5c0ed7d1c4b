//! The checkpoint of `asapp import`: JSON Lines, appended and flushed record by record, so that
//! a crash, Ctrl-C or kill of the process loses at most the record being written (which
//! `--resume` drops). Records are written, not synced to disk: a power failure can lose more.
//!
//! ```text
//! {"batchSize":300}
//! {"window":10000}
//! {"sources":["/data/calls/a.jsonl","/data/calls/b.jsonl"]}
//! {"intent":{"source":"/data/calls/a.jsonl","line":1,"runLength":120,"batch":0,"externalId":"call-1","digest":"5f0c6a1e9b3d2c47"}}
//! {"ack":{"source":"/data/calls/a.jsonl","line":1,"runLength":120,"batch":0,"externalId":"call-1","digest":"5f0c6a1e9b3d2c47"}}
//! ```
//!
//! A batch is named by its segment (the source and the line the segment starts at) and its
//! number in the segment. Its record also holds the segment's number of messages (`runLength`),
//! and a digest of the conversation and the messages the batch holds. So a resume notices an
//! input that changed instead of skipping the change or sending it twice: a segment that holds
//! more or fewer messages, an acknowledged batch that holds other ones, and (from the recorded
//! sources and segment starts) files or lines added, removed or reordered. The batch in doubt
//! may have been corrected: it is checked against what ASAPP holds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use asapp_conversations::types;
use serde::{Deserialize, Serialize};

use super::lock;
use crate::{Exit, Failure};

/// Where a segment starts: the source (a canonical path, or `stdin`) and its first line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SegmentKey {
    pub(crate) source: Arc<str>,
    pub(crate) line: usize,
}

/// What identifies a batch's content: FNV-1a (64 bits) over the conversation's external id and
/// each message's time, role, sender and text. Written as 16 hex digits; stable across builds
/// and platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Digest(u64);

impl Digest {
    pub(crate) fn of(external_id: &str, messages: &[types::Message]) -> Self {
        let mut hash = Fnv::default();
        hash.text(external_id);
        let mut role = String::new();
        for message in messages {
            hash.bytes(&message.timestamp.timestamp().to_le_bytes());
            hash.bytes(&message.timestamp.timestamp_subsec_nanos().to_le_bytes());
            role.clear();
            let _ = write!(role, "{}", message.sender.role);
            hash.text(&role);
            hash.text(&message.sender.external_id);
            hash.text(&message.text);
        }
        Self(hash.0)
    }

    fn hex(self) -> String {
        format!("{:016x}", self.0)
    }

    fn parse(text: &str) -> Option<Self> {
        (text.len() == 16)
            .then(|| u64::from_str_radix(text, 16).ok())
            .flatten()
            .map(Self)
    }
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn bytes(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// A length-prefixed string, so that two strings cannot run into each other.
    fn text(&mut self, text: &str) {
        self.bytes(&(text.len() as u64).to_le_bytes());
        self.bytes(text.as_bytes());
    }
}

/// One line of the checkpoint.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum Record {
    /// The first record: batch numbers only name the same messages with the same batch size.
    BatchSize(usize),
    /// Then the lines read ahead to gather a conversation's lines: it decides the segments.
    Window(usize),
    /// Then what was read, in order (canonical paths, `stdin` for standard input).
    Sources(Vec<String>),
    /// The batch is about to be sent.
    Intent(BatchRecord),
    /// ASAPP acknowledged the batch.
    Ack(BatchRecord),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BatchRecord {
    source: String,
    line: usize,
    run_length: usize,
    batch: usize,
    external_id: String,
    digest: String,
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
struct Recorded {
    digest: Digest,
    acknowledged: bool,
}

/// The checkpoint file, and what it recorded when the import began.
#[derive(Debug)]
pub(crate) struct Checkpoint {
    path: PathBuf,
    file: Mutex<File>,
    batches: HashMap<(SegmentKey, usize), Recorded>,
    /// Where the recorded segments start, and how many messages each held.
    segments: BTreeMap<SegmentKey, usize>,
    /// The conversations (by external id) with a batch sent but never acknowledged.
    in_doubt: HashSet<String>,
}

impl Checkpoint {
    /// Opens the checkpoint: a new one for a fresh import, the recorded one with `resume`, which
    /// must have cut the input the same way. A record cut short by a kill is dropped from the
    /// file.
    pub(crate) fn open(path: &Path, resume: bool, cutting: &Cutting) -> Result<Self, Failure> {
        let Cutting {
            batch_size,
            window,
            sources,
        } = cutting;
        let shown = path.display();
        let cannot_write = |e: &dyn std::fmt::Display| {
            Failure::usage(format!("cannot write checkpoint {shown}: {e}"))
        };
        let mut loaded = Loaded::default();
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
            loaded = Loaded::read(&bytes[..whole]).map_err(|(line, why)| {
                Failure::usage(format!(
                    "checkpoint {shown}:{line}: not a checkpoint record: {why}"
                ))
            })?;
            for (option, recorded, now) in [
                ("--batch-size", loaded.batch_size, *batch_size),
                ("--window", loaded.window, *window),
            ] {
                match recorded {
                    Some(recorded) if recorded == now => {}
                    Some(recorded) => {
                        return Err(Failure::usage(format!(
                            "checkpoint {shown} was written with {option} {recorded}: resume \
                             with the same {option}"
                        )));
                    }
                    None => {
                        return Err(Failure::usage(format!(
                            "checkpoint {shown} records no {option}: it was cut short before \
                             the import sent anything; delete it and import again"
                        )));
                    }
                }
            }
            let recorded = loaded.sources.take().unwrap_or_default();
            if recorded
                .iter()
                .map(|s| s.as_str())
                .ne(sources.iter().map(|s| &**s))
            {
                return Err(Failure::usage(format!(
                    "checkpoint {shown} was written reading {}, not {}: --resume needs the same \
                     input, in the same order",
                    recorded.join(", "),
                    sources.join(", ")
                )));
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
            .map_err(|e| cannot_write(&e))?;
        if resume {
            // Drop a record cut short, then append after the whole ones.
            file.set_len(complete)
                .and_then(|()| file.seek(std::io::SeekFrom::End(0)).map(drop))
                .map_err(|e| cannot_write(&e))?;
        } else {
            let mut header = Vec::new();
            for record in [
                Record::BatchSize(*batch_size),
                Record::Window(*window),
                Record::Sources(sources.iter().map(|s| s.to_string()).collect()),
            ] {
                serde_json::to_writer(&mut header, &record).map_err(|e| cannot_write(&e))?;
                header.push(b'\n');
            }
            file.write_all(&header)
                .and_then(|()| file.flush())
                .map_err(|e| cannot_write(&e))?;
        }
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(file),
            batches: loaded.batches,
            segments: loaded.segments,
            in_doubt: loaded.in_doubt.into_values().collect(),
        })
    }

    /// What the checkpoint recorded of each batch of the segment at `segment` of the
    /// conversation `external_id`, given its number of messages and the digests of its batches
    /// now. An error when the segment holds more or fewer messages than recorded, or an
    /// acknowledged batch holds other ones. A batch in doubt may have changed: it is checked
    /// against what ASAPP holds.
    pub(crate) fn states(
        &self,
        segment: &SegmentKey,
        external_id: &str,
        run_length: usize,
        digests: &[Digest],
    ) -> Result<Vec<State>, Failure> {
        let recorded = |batch: usize| self.batches.get(&(segment.clone(), batch));
        let run = || {
            format!(
                "the run of lines of `{external_id}` from {}:{}",
                segment.source, segment.line
            )
        };
        if let Some(then) = self.segments.get(segment)
            && *then != run_length
        {
            let messages = |n: usize| match n {
                1 => "1 message".to_owned(),
                n => format!("{n} messages"),
            };
            return Err(self.changed(format!(
                "{} holds {} now, {} then",
                run(),
                messages(run_length),
                messages(*then)
            )));
        }
        digests
            .iter()
            .enumerate()
            .map(|(batch, digest)| match recorded(batch) {
                None => Ok(State::New),
                Some(Recorded {
                    acknowledged: false,
                    ..
                }) => Ok(State::InDoubt),
                Some(Recorded {
                    digest: was,
                    acknowledged: true,
                }) if was == digest => Ok(State::Acknowledged),
                Some(_) => Err(self.changed(format!(
                    "{} holds other messages now (its batch {batch}, acknowledged)",
                    run()
                ))),
            })
            .collect()
    }

    /// The conversations (by external id) with a batch sent and never acknowledged.
    pub(crate) fn in_doubt(&self) -> impl Iterator<Item = &str> {
        self.in_doubt.iter().map(String::as_str)
    }

    /// Checks that every segment recorded as starting in `source` after line `after` and up to
    /// line `last` starts at one of `starts` (sorted) now.
    pub(crate) fn check_starts(
        &self,
        source: &Arc<str>,
        after: usize,
        last: usize,
        starts: &[usize],
    ) -> Result<(), Failure> {
        let from = SegmentKey {
            source: source.clone(),
            line: after.saturating_add(1),
        };
        let to = SegmentKey {
            source: source.clone(),
            line: last,
        };
        if from > to {
            return Ok(());
        }
        match self
            .segments
            .range(from..=to)
            .map(|(start, _)| start)
            .find(|start| starts.binary_search(&start.line).is_err())
        {
            None => Ok(()),
            Some(start) => Err(self.changed(format!(
                "a conversation's lines started at {}:{} then, and do not now",
                start.source, start.line
            ))),
        }
    }

    fn changed(&self, what: String) -> Failure {
        Failure::usage(format!(
            "the input changed since checkpoint {} was written: {what}; --resume needs the same \
             input",
            self.path.display()
        ))
    }

    /// Records, before returning, that the batch is about to be sent.
    pub(crate) fn intend(&self, batch: &BatchName<'_>) -> Result<(), Failure> {
        self.append(Record::Intent(BatchRecord::new(batch)))
    }

    /// Records, before returning, that ASAPP acknowledged the batch.
    pub(crate) fn acknowledge(&self, batch: &BatchName<'_>) -> Result<(), Failure> {
        self.append(Record::Ack(BatchRecord::new(batch)))
    }

    fn append(&self, record: Record) -> Result<(), Failure> {
        let failed = |e: &dyn std::fmt::Display| Failure {
            exit: Exit::Failed,
            message: format!("cannot write checkpoint {}: {e}", self.path.display()),
        };
        let mut line = serde_json::to_vec(&record).map_err(|e| failed(&e))?;
        line.push(b'\n');
        let mut file = lock(&self.file);
        file.write_all(&line)
            .and_then(|()| file.flush())
            .map_err(|e| failed(&e))
    }
}

/// What decides how the input is cut into segments and batches: a resume must cut it the same
/// way.
#[derive(Debug)]
pub(crate) struct Cutting {
    pub(crate) batch_size: usize,
    pub(crate) window: usize,
    pub(crate) sources: Vec<Arc<str>>,
}

/// One batch, as the checkpoint records it.
#[derive(Debug)]
pub(crate) struct BatchName<'a> {
    pub(crate) segment: &'a SegmentKey,
    pub(crate) external_id: &'a str,
    pub(crate) run_length: usize,
    pub(crate) batch: usize,
    pub(crate) digest: Digest,
}

impl BatchRecord {
    fn new(name: &BatchName<'_>) -> Self {
        Self {
            source: name.segment.source.to_string(),
            line: name.segment.line,
            run_length: name.run_length,
            batch: name.batch,
            external_id: name.external_id.to_owned(),
            digest: name.digest.hex(),
        }
    }
}

/// What a checkpoint file holds.
#[derive(Debug, Default)]
struct Loaded {
    batch_size: Option<usize>,
    window: Option<usize>,
    sources: Option<Vec<String>>,
    batches: HashMap<(SegmentKey, usize), Recorded>,
    segments: BTreeMap<SegmentKey, usize>,
    /// Batches sent and not acknowledged, with their conversation's external id.
    in_doubt: HashMap<(SegmentKey, usize), String>,
}

impl Loaded {
    /// Reads whole records; an error names the record's line and what is wrong with it.
    fn read(bytes: &[u8]) -> Result<Self, (usize, String)> {
        let mut loaded = Self::default();
        // One allocation per source, not per record.
        let mut sources: HashMap<String, Arc<str>> = HashMap::new();
        for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let wrong = |why: String| (index + 1, why);
            let record: Record = serde_json::from_slice(line).map_err(|e| wrong(e.to_string()))?;
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
                    loaded.sources = Some(list);
                    continue;
                }
                Record::Intent(record) => (record, false),
                Record::Ack(record) => (record, true),
            };
            let digest = Digest::parse(&record.digest)
                .ok_or_else(|| wrong(format!("digest `{}`", record.digest)))?;
            let source = sources
                .entry(record.source)
                .or_insert_with_key(|s| s.as_str().into())
                .clone();
            let key = (
                SegmentKey {
                    source,
                    line: record.line,
                },
                record.batch,
            );
            let run_length = *loaded
                .segments
                .entry(key.0.clone())
                .or_insert(record.run_length);
            if run_length != record.run_length {
                return Err(wrong(format!(
                    "the run at {}:{} was recorded with {run_length} and {} messages",
                    key.0.source, key.0.line, record.run_length
                )));
            }
            let batch = loaded.batches.entry(key.clone()).or_insert(Recorded {
                digest,
                acknowledged,
            });
            match (batch.acknowledged, acknowledged) {
                // A batch in doubt may be sent again, changed, after a resume.
                (false, false) => batch.digest = digest,
                (false, true) if batch.digest == digest => batch.acknowledged = true,
                (true, true) if batch.digest == digest => {}
                _ => {
                    return Err(wrong(format!(
                        "batch {} of {}:{} was recorded acknowledged with another digest",
                        key.1, key.0.source, key.0.line
                    )));
                }
            }
            if acknowledged {
                loaded.in_doubt.remove(&key);
            } else {
                loaded.in_doubt.insert(key, record.external_id);
            }
        }
        Ok(loaded)
    }
}
