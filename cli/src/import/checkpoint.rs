//! The checkpoint of `asapp import`: JSON Lines, appended and flushed record by record, so that
//! a crash, Ctrl-C or kill of the process loses at most the record being written (which
//! `--resume` drops).
//!
//! ```text
//! {"batchSize":300}
//! {"intent":{"source":"/data/calls.jsonl","line":1,"batch":0,"externalId":"call-1","digest":"5f0c6a1e9b3d2c47"}}
//! {"ack":{"source":"/data/calls.jsonl","line":1,"batch":0,"externalId":"call-1","digest":"5f0c6a1e9b3d2c47"}}
//! ```
//!
//! A batch is named by its segment (the source and the line the segment starts at) and its
//! number in the segment. Its digest covers the messages it holds, so that a resume notices an
//! input that changed under an acknowledged batch instead of skipping the change; the segment
//! starts notice lines added or removed before them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use asapp_conversations::types;
use serde::{Deserialize, Serialize};

use crate::{Exit, Failure};

/// Where a segment starts: the source (a canonical path, or `stdin`) and its first line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SegmentKey {
    pub(crate) source: Arc<str>,
    pub(crate) line: usize,
}

/// What identifies the messages of a batch: FNV-1a (64 bits) over each message's time, role,
/// sender and text. Written as 16 hex digits; stable across builds and platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Digest(u64);

impl Digest {
    pub(crate) fn of(messages: &[types::Message]) -> Self {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut hash = OFFSET;
        let mut eat = |bytes: &[u8]| {
            for byte in bytes {
                hash = (hash ^ u64::from(*byte)).wrapping_mul(PRIME);
            }
        };
        for message in messages {
            eat(&message.timestamp.timestamp().to_le_bytes());
            eat(&message.timestamp.timestamp_subsec_nanos().to_le_bytes());
            for text in [
                message.sender.role.to_string().as_str(),
                message.sender.external_id.as_str(),
                message.text.as_str(),
            ] {
                eat(&(text.len() as u64).to_le_bytes());
                eat(text.as_bytes());
            }
        }
        Self(hash)
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

/// One line of the checkpoint.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum Record {
    /// The first record: batch numbers only name the same messages with the same batch size.
    BatchSize(usize),
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
    Pending,
    /// Acknowledged: stored.
    Acknowledged,
}

/// The checkpoint file, and what it recorded when the import began.
#[derive(Debug)]
pub(crate) struct Checkpoint {
    path: PathBuf,
    file: Mutex<File>,
    /// Each recorded batch's digest, and whether it was acknowledged.
    batches: HashMap<(SegmentKey, usize), (Digest, bool)>,
    /// Where the recorded segments start.
    starts: BTreeSet<SegmentKey>,
    /// The conversations (by external id) with a batch sent but never acknowledged.
    pending: HashSet<String>,
}

impl Checkpoint {
    /// Opens the checkpoint: a new one for a fresh import, the recorded one with `resume`.
    /// A record cut short by a kill is dropped from the file.
    pub(crate) fn open(path: &Path, resume: bool, batch_size: usize) -> Result<Self, Failure> {
        let shown = path.display();
        let mut batches = HashMap::new();
        // Batches sent and not (yet) acknowledged, with their conversation's external id.
        let mut in_doubt = HashMap::new();
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
            let mut size = None;
            for (index, line) in bytes[..whole].split(|b| *b == b'\n').enumerate() {
                if line.is_empty() {
                    continue;
                }
                let not_a_record = |why: String| {
                    Failure::usage(format!(
                        "checkpoint {shown}:{}: not a checkpoint record: {why}",
                        index + 1
                    ))
                };
                let record: Record =
                    serde_json::from_slice(line).map_err(|e| not_a_record(e.to_string()))?;
                let (record, acknowledged) = match record {
                    Record::BatchSize(recorded) => {
                        size = Some(recorded);
                        continue;
                    }
                    Record::Intent(record) => (record, false),
                    Record::Ack(record) => (record, true),
                };
                let digest = Digest::parse(&record.digest)
                    .ok_or_else(|| not_a_record(format!("digest `{}`", record.digest)))?;
                let key = (
                    SegmentKey {
                        source: record.source.into(),
                        line: record.line,
                    },
                    record.batch,
                );
                let entry: &mut (Digest, bool) =
                    batches.entry(key.clone()).or_insert((digest, false));
                if entry.0 != digest {
                    return Err(not_a_record(format!(
                        "batch {} of the segment at line {} has two digests",
                        key.1, key.0.line
                    )));
                }
                entry.1 |= acknowledged;
                if acknowledged {
                    in_doubt.remove(&key);
                } else {
                    in_doubt.insert(key, record.external_id);
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
        let pending = in_doubt.into_values().collect();
        let starts = batches.keys().map(|(segment, _)| segment.clone()).collect();
        let cannot_write =
            |e: std::io::Error| Failure::usage(format!("cannot write checkpoint {shown}: {e}"));
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(!resume)
            .open(path)
            .map_err(cannot_write)?;
        if resume {
            // Drop a record cut short, then append after the whole ones.
            file.set_len(complete)
                .and_then(|()| file.seek(std::io::SeekFrom::End(0)).map(drop))
                .map_err(cannot_write)?;
        } else {
            let mut line = serde_json::to_vec(&Record::BatchSize(batch_size))
                .map_err(|e| Failure::usage(format!("cannot write checkpoint {shown}: {e}")))?;
            line.push(b'\n');
            file.write_all(&line)
                .and_then(|()| file.flush())
                .map_err(cannot_write)?;
        }
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(file),
            batches,
            starts,
            pending,
        })
    }

    /// What the checkpoint recorded of batch `batch` of `segment`; an error when the recorded
    /// batch held other messages.
    pub(crate) fn state(
        &self,
        segment: &SegmentKey,
        batch: usize,
        digest: Digest,
    ) -> Result<State, Failure> {
        match self.batches.get(&(segment.clone(), batch)) {
            None => Ok(State::New),
            Some((recorded, _)) if *recorded != digest => Err(self.changed(format!(
                "batch {batch} of the lines from {}:{} holds other messages now",
                segment.source, segment.line
            ))),
            Some((_, true)) => Ok(State::Acknowledged),
            Some((_, false)) => Ok(State::Pending),
        }
    }

    /// The conversations (by external id) with a batch sent and never acknowledged.
    pub(crate) fn in_doubt(&self) -> impl Iterator<Item = &str> {
        self.pending.iter().map(String::as_str)
    }

    /// Checks that no recorded segment started in `source` after line `after` and before line
    /// `before` (both excluded): the lines in between are one segment now, or none.
    pub(crate) fn check_starts(
        &self,
        source: &Arc<str>,
        after: usize,
        before: usize,
    ) -> Result<(), Failure> {
        let from = SegmentKey {
            source: source.clone(),
            line: after.saturating_add(1),
        };
        let to = SegmentKey {
            source: source.clone(),
            line: before,
        };
        if from >= to {
            return Ok(());
        }
        match self.starts.range(from..to).next() {
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

    /// Appends a record, whole, before returning.
    pub(crate) fn record(
        &self,
        acknowledged: bool,
        segment: &SegmentKey,
        batch: usize,
        external_id: &str,
        digest: Digest,
    ) -> Result<(), Failure> {
        let record = BatchRecord {
            source: segment.source.to_string(),
            line: segment.line,
            batch,
            external_id: external_id.to_owned(),
            digest: digest.hex(),
        };
        let record = if acknowledged {
            Record::Ack(record)
        } else {
            Record::Intent(record)
        };
        let failed = |e: String| Failure {
            exit: Exit::Failed,
            message: format!("cannot write checkpoint {}: {e}", self.path.display()),
        };
        let mut line = serde_json::to_vec(&record).map_err(|e| failed(e.to_string()))?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(&line)
            .and_then(|()| file.flush())
            .map_err(|e| failed(e.to_string()))
    }
}
