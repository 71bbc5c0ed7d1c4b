//! `asapp import`: streams transcripts into ASAPP, one upsert per conversation and its messages
//! in batches of at most 300 in timestamp order, with a checkpoint that makes a resumed import
//! send exactly what was not acknowledged, after a crash, a kill or a power failure.
//!
//! The stages, one module each, data flowing one way:
//! - [`source`]: the inputs, read on a thread of their own in chunks of lines;
//! - [`runs`]: each source's lines cut into *runs*, a conversation's lines within a window;
//! - [`schedule`]: runs of different conversations sent concurrently, those of one conversation
//!   one after the other, so that few batches of each (the one in flight, and the next, whose
//!   intent is synced meanwhile) are in doubt when an import stops;
//! - [`send`]: a run's conversation upserted and its batches sent, the batch in doubt reconciled
//!   with what ASAPP holds;
//! - [`checkpoint`], over the [`journal`]: what was sent and acknowledged, the intent of each
//!   batch on stable storage before it leaves;
//! - [`message_key`]: what identifies a message, for the checkpoint's digests and the
//!   read-back;
//! - [`progress`]: the counts, and their display.

mod checkpoint;
mod journal;
mod message_key;
mod progress;
mod runs;
mod schedule;
mod send;
mod source;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use asapp_conversations::Client;

use self::checkpoint::{Checkpoint, Cutting, Keeping};
pub use self::checkpoint::{StorageFactory, file_storage};
pub use self::journal::{FileStorage, Storage};
use self::progress::{Counts, Progress};
use self::runs::Runs;
use self::schedule::Workers;
use self::send::Sending;
use self::source::{Read, Reader, Source};
use crate::Failure;
use crate::transcript::Line;

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
    /// Sync the checkpoint's intents to stable storage before sending (not with `--no-sync`).
    pub(crate) sync: bool,
    pub(crate) progress: bool,
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
}

/// Runs the import; invalid lines go to `err` as they are found. The checkpoint is written
/// through what `storage` makes of its file.
pub(crate) async fn run(
    client: &Client,
    options: Options,
    storage: StorageFactory,
    err: &mut dyn Write,
) -> Result<(Summary, u64), Failure> {
    let started = Instant::now();
    let batch_size = options.batch_size.clamp(1, 300);
    let sources = source::expand(&options.sources)?;
    let cutting = Cutting {
        batch_size,
        window: options.window.max(1),
        sources: sources.iter().map(|s| s.key.clone()).collect(),
    };
    let keeping = Keeping {
        path: options.checkpoint.clone(),
        resume: options.resume,
        sync: options.sync,
        storage,
    };
    let checkpoint = Checkpoint::open(&keeping, &cutting)?;
    let total_bytes: u64 = sources
        .iter()
        .filter_map(|s| s.path.as_ref())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let counts = Arc::new(Counts::default());
    let sending = Arc::new(Sending {
        client: client.clone(),
        batch_size,
        checkpoint,
        counts: counts.clone(),
        failed: AtomicBool::new(false),
    });
    let progress = Progress::start(options.progress, total_bytes, counts.clone());
    let mut workers = Workers::new(options.concurrency, sending.clone());
    let mut invalid = 0u64;
    let read = Reading {
        sources: &sources,
        window: cutting.window,
        strict: options.strict,
        sending: &sending,
    }
    .read(&mut workers, &mut invalid, err)
    .await;
    if read.is_err() {
        sending.failed.store(true, Ordering::Relaxed);
    }
    let sent = workers.finish().await;
    progress.finish();
    drop(workers);
    let closed = match Arc::into_inner(sending) {
        Some(sending) => sending.checkpoint.close().await,
        None => Ok(()),
    };
    read?;
    sent?;
    closed?;
    let seconds = started.elapsed().as_secs_f64();
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
        },
        invalid,
    ))
}

/// Reading the sources into runs, and handing the runs to the workers.
struct Reading<'a> {
    sources: &'a [Source],
    window: usize,
    strict: bool,
    sending: &'a Sending,
}

impl Reading<'_> {
    /// Reads every source; invalid lines are reported to `err` and counted in `invalid`.
    async fn read(
        &self,
        workers: &mut Workers,
        invalid: &mut u64,
        err: &mut dyn Write,
    ) -> Result<(), Failure> {
        let mut reader = Reader::start(self.sources)?;
        let mut current: Option<(usize, Runs)> = None;
        while let Some(read) = reader.next().await {
            match read {
                Read::Lines {
                    source,
                    first_line,
                    text,
                } => {
                    let runs = self.runs(&mut current, source);
                    let lines = text.split_inclusive(|b| *b == b'\n');
                    for (offset, line) in lines.enumerate() {
                        self.line(
                            source,
                            first_line + offset,
                            line,
                            runs,
                            workers,
                            invalid,
                            err,
                        )
                        .await?;
                        if self.sending.failed.load(Ordering::Relaxed) {
                            // A worker failed: its failure is reported once it is joined.
                            return Ok(());
                        }
                    }
                }
                Read::End { source } => {
                    let runs = self.runs(&mut current, source);
                    for run in runs.finish(&self.sending.checkpoint)? {
                        workers.start(run).await?;
                    }
                }
                Read::Failed(failure) => return Err(failure),
            }
        }
        Ok(())
    }

    /// The runs of `source`, which starts cutting when its first chunk comes.
    fn runs<'r>(&self, current: &'r mut Option<(usize, Runs)>, source: usize) -> &'r mut Runs {
        if current.as_ref().is_none_or(|(index, _)| *index != source) {
            let key = self.sources[source].key.clone();
            *current = Some((source, Runs::new(key, self.window)));
        }
        let (_, runs) = current.as_mut().expect("set above");
        runs
    }

    /// Takes line `number` of `source`.
    #[allow(clippy::too_many_arguments)]
    async fn line(
        &self,
        source: usize,
        number: usize,
        mut bytes: &[u8],
        runs: &mut Runs,
        workers: &mut Workers,
        invalid: &mut u64,
        err: &mut dyn Write,
    ) -> Result<(), Failure> {
        self.sending
            .counts
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        while let [rest @ .., b'\n' | b'\r'] = bytes {
            bytes = rest;
        }
        let parsed = match std::str::from_utf8(bytes) {
            Err(e) => Err(format!("not UTF-8 ({e})")),
            Ok(text) if text.trim().is_empty() => return Ok(()),
            Ok(text) => Line::parse(text).and_then(|line| line.message().map(|m| (line, m))),
        };
        let name = &self.sources[source].name;
        let (line, message) = match parsed {
            Ok(parsed) => parsed,
            Err(reason) => {
                *invalid += 1;
                let _ = writeln!(err, "{name}:{number}: invalid line: {reason}");
                if self.strict {
                    return Err(Failure::usage(format!(
                        "{name}:{number}: stopped at the first invalid line (--strict)"
                    )));
                }
                return Ok(());
            }
        };
        for run in runs.push(&self.sending.checkpoint, number, &line, message)? {
            workers.start(run).await?;
        }
        Ok(())
    }
}
