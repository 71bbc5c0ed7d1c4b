//! `asapp import`: streams transcripts into ASAPP, one upsert per conversation and its messages
//! in batches of at most 300 in timestamp order, with a checkpoint that makes a resumed import
//! send exactly what was not acknowledged, after a crash, a kill or a power failure.
//!
//! The stages, one module each, data flowing one way:
//! - [`listing`]: the inputs as given, checked up front, and the files and objects each holds,
//!   found as the import reaches them (directories walked, prefixes of [`objects`] in object
//!   storage listed, never held whole);
//! - [`source`]: each input reached read as JSON Lines in chunks of lines, or as one vendor
//!   document ([`crate::formats`]), unless it is a Contact Lens copy left aside ([`copies`]:
//!   which of a contact's raw and redacted copies is sent, from where each says the other is);
//! - [`records`]: Amazon Connect's contact records (`--contact-records`), read before anything
//!   else, for the Contact Lens documents;
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
//! - [`progress`]: the counts, and their display;
//! - [`interrupt`]: Ctrl-C and SIGTERM, which stop the import cleanly and say how to resume.

mod checkpoint;
mod copies;
mod interrupt;
mod journal;
mod listing;
mod message_key;
mod objects;
mod progress;
mod records;
mod runs;
mod schedule;
mod send;
mod source;

use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use asapp_conversations::chrono::{DateTime, SecondsFormat, Utc};
use asapp_conversations::{Client, types};

use self::checkpoint::{Checkpoint, Cutting, InputRecord, Keeping};
pub use self::checkpoint::{StorageFactory, file_storage};
use self::copies::Copies;
pub use self::journal::{FileStorage, Storage};
use self::listing::Inputs;
use self::objects::Stores;
pub(crate) use self::progress::on_terminal;
use self::progress::{Counts, Progress};
use self::runs::Runs;
use self::schedule::Workers;
use self::send::Sending;
use self::source::{Read, Reader, Source};
use crate::Failure;
use crate::formats::{self, BaseTimeSource, CopyKind, Format, RoleMap};
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
    /// The format of every input, instead of each one's own (`--format`).
    pub(crate) format: Option<Format>,
    /// Roles for vendor roles no rule maps (`--role-map`).
    pub(crate) role_map: RoleMap,
    /// The base of offset times, for documents that have none (`--base-time`).
    pub(crate) base_time: Option<DateTime<Utc>>,
    /// Which of a Contact Lens contact's raw and redacted copies is sent where the inputs hold
    /// both (`--contact-lens-copy`).
    pub(crate) contact_lens_copy: CopyKind,
    /// Amazon Connect contact records, for Contact Lens files' times, agents and queues
    /// (`--contact-records`).
    pub(crate) contact_records: Vec<PathBuf>,
    /// How long a request of an import that stopped may still take to be stored (`--settle`).
    pub(crate) settle: std::time::Duration,
    pub(crate) progress: bool,
    /// Stop cleanly on Ctrl-C and SIGTERM (the binary does; tests run in-process do not).
    pub(crate) signals: bool,
    /// The command line as given, from which an interrupted import says how to resume.
    pub(crate) argv: Vec<std::ffi::OsString>,
}

impl Options {
    /// The options that decide documents' roles and times, as the checkpoint records them (""
    /// for the defaults); contact records by a fingerprint of what they say of each contact.
    /// Which Contact Lens copies are left aside is recorded with each input.
    fn reading(&self, records: Option<&formats::contact_records::ContactRecords>) -> String {
        let mut parts = Vec::new();
        if let Some(format) = self.format {
            parts.push(format!("format={format}"));
        }
        let roles = self.role_map.describe();
        if !roles.is_empty() {
            parts.push(format!("role-map={roles}"));
        }
        if let Some(base) = self.base_time {
            parts.push(format!("base-time={}", base.to_rfc3339()));
        }
        if let Some(records) = records {
            parts.push(format!("contact-records={}", records.fingerprint()));
        }
        parts.join("; ")
    }
}

/// What an import did, printed as JSON at the end.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Summary {
    messages: u64,
    conversations: u64,
    batches: u64,
    already_stored: u64,
    /// Lines of JSON Lines, and message entries of vendor documents, that were invalid.
    invalid_lines: u64,
    /// Vendor documents refused whole (not JSON, no known format, no base time, …).
    invalid_documents: u64,
    /// Vendor items without text left out on purpose: joins, leaves, typing, attachments.
    skipped_events: u64,
    /// Contact Lens copies not sent because the contact's other copy is among the inputs and
    /// was chosen (`--contact-lens-copy`): each contact is imported once.
    copies_left_aside: u64,
    /// The base times of the conversations read from offsets: `--base-time`'s, or each
    /// document's own field or file name, with how many conversations used each (memory flat in
    /// the number of documents).
    base_times: Vec<BaseTimeUsed>,
    /// With `--contact-records`: what was read, and how many Contact Lens conversations had a
    /// record and how many had none (and so took their base time from the file name).
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_records: Option<ContactRecordsUsed>,
    /// The client-side rate limit at the end, in requests per second: where it settled after
    /// ASAPP's 429s (`null` without `--rate-limit`).
    rate_limit: Option<f64>,
    seconds: f64,
    messages_per_second: f64,
    /// Requests the client sent again (after a 429, a 5xx or a transport failure).
    retries: u64,
    /// Answers with status 429, retried or not.
    rate_limited: u64,
    /// Time requests waited for the client-side rate limit (`--rate-limit`), summed over the
    /// requests in flight.
    limiter_wait_seconds: f64,
}

/// A base time conversations' offsets were added to, and how many.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BaseTimeUsed {
    /// `--base-time`, the documents' field that gave each its own, or `file name`.
    from: &'static str,
    /// `--base-time`'s value (each document's own is in the document or its name, and logged
    /// at `-v`).
    #[serde(skip_serializing_if = "Option::is_none")]
    base_time: Option<DateTime<Utc>>,
    /// For the documents' own field or name, the earliest and the latest base it gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    earliest: Option<DateTime<Utc>>,
    /// See `earliest`.
    #[serde(skip_serializing_if = "Option::is_none")]
    latest: Option<DateTime<Utc>>,
    conversations: u64,
}

/// The contact records read, and the Contact Lens conversations they were found for.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContactRecordsUsed {
    files: u64,
    /// Records read, duplicates included.
    records: u64,
    /// Contacts they are of: each contact's latest record counts.
    contacts: u64,
    /// Contact Lens conversations sent with their contact's record.
    conversations_with_record: u64,
    /// Contact Lens conversations whose contact had no record (their base time from the file
    /// name, or `--base-time`).
    conversations_without_record: u64,
}

/// The conversations that took their base time from one place, and the range of those times.
#[derive(Debug, Clone, Copy)]
struct BaseTimes {
    conversations: u64,
    earliest: DateTime<Utc>,
    latest: DateTime<Utc>,
}

/// What reading found invalid or left out, reported as it goes.
#[derive(Debug, Default)]
struct Found {
    /// Invalid lines of JSON Lines, and invalid entries of documents (`invalid_entries` of them).
    invalid_lines: u64,
    invalid_entries: u64,
    invalid_documents: u64,
    skipped_events: u64,
    copies_left_aside: u64,
    /// The inputs reached so far.
    inputs_reached: usize,
    /// Contact Lens conversations with a contact record, and without one (`--contact-records`).
    with_record: u64,
    without_record: u64,
    /// Conversations by where their base time came from.
    base_times: std::collections::BTreeMap<(&'static str, Option<DateTime<Utc>>), BaseTimes>,
    /// The conversation of each vendor document read, by a hash of its external id (16 bytes or
    /// so a document, however long the id), and the number of the input it came from: a second
    /// document of one conversation is refused, not added to it.
    documents: std::collections::HashMap<u64, usize>,
    /// What hashes the conversations' ids.
    conversations: std::hash::RandomState,
}

impl Found {
    /// How many lines, entries and documents were invalid, as the import's last word says it
    /// (`1 invalid line and 3 invalid documents were not imported; …`); `None` if none was.
    fn invalid(&self) -> Option<String> {
        let lines = self.invalid_lines - self.invalid_entries;
        let counted = [
            (lines, "invalid line", "invalid lines"),
            (self.invalid_entries, "invalid entry", "invalid entries"),
            (
                self.invalid_documents,
                "invalid document",
                "invalid documents",
            ),
        ];
        let parts: Vec<String> = counted
            .iter()
            .filter(|(n, _, _)| *n > 0)
            .map(|(n, one, many)| match n {
                1 => format!("1 {one}"),
                n => format!("{n} {many}"),
            })
            .collect();
        let (last, rest) = parts.split_last()?;
        let listed = match rest {
            [] => last.clone(),
            rest => format!("{} and {last}", rest.join(", ")),
        };
        let verb = if parts.len() == 1 && counted.iter().any(|(n, _, _)| *n == 1) {
            "was"
        } else {
            "were"
        };
        let valid = if self.invalid_entries == 0 && self.invalid_documents == 0 {
            "line"
        } else {
            "one"
        };
        Some(format!(
            "{listed} {verb} not imported; every valid {valid} was"
        ))
    }
}

/// Runs the import; invalid lines and documents go to `err` as they are found. Object storage
/// is configured from the variables `environment` looks up; the checkpoint is written through
/// what `storage` makes of its file. Returns the summary and, if any lines, entries or documents
/// were invalid, the sentence that says how many.
pub(crate) async fn run(
    client: &Client,
    options: Options,
    environment: impl Fn(&str) -> Option<String>,
    storage: StorageFactory,
    err: &mut dyn Write,
) -> Result<(Summary, Option<String>), Failure> {
    let started = Instant::now();
    let stats = client.stats();
    let batch_size = options.batch_size.clamp(1, 300);
    // How to resume, should the import be interrupted.
    let mut resume = interrupt::resume_command(
        &options.argv,
        options.resume,
        &options.checkpoint.to_string_lossy(),
    );
    if options.sources.iter().any(|path| path.as_os_str() == "-") {
        resume.push_str(" (with the same standard input)");
    }
    let counts = Arc::new(Counts::default());
    let progress = Progress::start(options.progress, counts.clone());
    let mut stores = Stores::new(environment);
    let inputs = Arc::new(Inputs::check(&options.sources, &mut stores)?);
    let copies = Copies::new(options.contact_lens_copy, options.format);
    let contact_records = records::load(&options.contact_records, &mut stores).await?;
    let cutting = Cutting {
        batch_size,
        window: options.window.max(1),
        reading: options.reading(contact_records.as_deref()),
    };
    let keeping = Keeping {
        path: options.checkpoint.clone(),
        resume: options.resume,
        sync: options.sync,
        settle: options.settle,
        storage,
    };
    let checkpoint = Checkpoint::open(&keeping, &cutting)?;
    if let Some(resumed) = checkpoint.resumed() {
        let _ = writeln!(err, "{}", resumed_line(&options.checkpoint, resumed));
        // At once, also without a terminal: the resume may wait for conversations in doubt.
        progress.show_now();
    }
    let sending = Arc::new(Sending {
        client: client.clone(),
        batch_size,
        checkpoint,
        counts: counts.clone(),
        stop: tokio::sync::watch::Sender::new(send::Stop::Going),
    });
    let listener = match options.signals {
        true => Some(interrupt::listen(sending.clone()).map_err(|e| Failure {
            exit: crate::Exit::Failed,
            message: format!("cannot listen for Ctrl-C: {e}"),
        })?),
        false => None,
    };
    let mut workers = Workers::new(
        options.concurrency,
        cutting.window,
        batch_size,
        sending.clone(),
    );
    let mut found = Found::default();
    let reading = Reading {
        window: cutting.window,
        strict: options.strict,
        format: options.format,
        documents: formats::Options {
            role_map: options.role_map,
            base_time: options.base_time,
            contact_records: contact_records.clone(),
        },
        copies,
        sending: &sending,
    };
    // Interrupted, the reading stops at once: what it holds was not sent.
    let read = tokio::select! {
        read = reading.read(
            Reader::start(inputs, options.format, copies),
            &mut workers,
            &mut found,
            err,
        ) => read,
        () = sending.interrupted() => Ok(()),
    };
    if read.is_err() {
        sending.fail();
    }
    // Interrupted, the batches in flight have `GRACE` to be answered; those that are not are
    // left in doubt, for the resume to read back.
    let mut unanswered = 0;
    let sent = tokio::select! {
        sent = workers.finish() => sent,
        () = async {
            sending.interrupted().await;
            tokio::time::sleep(interrupt::GRACE).await;
        } => {
            unanswered = counts.in_flight.load(Ordering::Relaxed);
            workers.abort().await;
            Ok(())
        }
    };
    if let Some(listener) = listener {
        listener.abort();
        let _ = listener.await;
    }
    let interrupted = sending.interruption();
    progress.finish();
    drop(workers);
    // Every worker is done and dropped, so this is the last holder: the checkpoint's last
    // records are written and synced before the summary says anything.
    let closed = match Arc::into_inner(sending) {
        Some(sending) => sending.checkpoint.close().await,
        None => Err(Failure {
            exit: crate::Exit::Failed,
            message: "the checkpoint was still in use when the import ended".to_owned(),
        }),
    };
    if read.is_err() && !options.resume && found.inputs_reached == 0 && closed.is_ok() {
        // Nothing was reached (a bucket that is not there, a prefix with nothing under it), so
        // nothing was sent: the new checkpoint records nothing worth resuming, and would only
        // stand in the way of the corrected command.
        let _ = std::fs::remove_file(&options.checkpoint);
    }
    read?;
    sent?;
    closed?;
    if let Some(signal) = interrupted {
        return Err(interrupted_failure(signal, &counts, unanswered, resume));
    }
    let seconds = started.elapsed().as_secs_f64();
    let messages = counts.messages.load(Ordering::Relaxed);
    let invalid = found.invalid();
    let client_stats = client.stats();
    Ok((
        Summary {
            messages,
            conversations: counts.conversations.load(Ordering::Relaxed),
            batches: counts.batches.load(Ordering::Relaxed),
            already_stored: counts.already_stored.load(Ordering::Relaxed),
            invalid_lines: found.invalid_lines,
            invalid_documents: found.invalid_documents,
            skipped_events: found.skipped_events,
            copies_left_aside: found.copies_left_aside,
            base_times: found
                .base_times
                .into_iter()
                .map(|((from, base_time), seen)| BaseTimeUsed {
                    from,
                    base_time,
                    // One value for all says everything already.
                    earliest: base_time.is_none().then_some(seen.earliest),
                    latest: base_time.is_none().then_some(seen.latest),
                    conversations: seen.conversations,
                })
                .collect(),
            contact_records: contact_records.map(|records| ContactRecordsUsed {
                files: records.files(),
                records: records.records(),
                contacts: records.contacts(),
                conversations_with_record: found.with_record,
                conversations_without_record: found.without_record,
            }),
            rate_limit: client
                .rate_limit_now()
                .map(|rate| (rate * 10.0).round() / 10.0),
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

/// The word of an import that `signal` interrupted, once its batches in flight are answered
/// (all but `unanswered`) and recorded: what it did, and how to resume.
fn interrupted_failure(
    signal: interrupt::Signal,
    counts: &Counts,
    unanswered: u64,
    resume: String,
) -> Failure {
    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    let mut message = format!(
        "interrupted ({}): {} messages acknowledged in {}, recorded in the checkpoint",
        signal.name(),
        load(&counts.messages),
        interrupt::batches(load(&counts.batches)),
    );
    if unanswered > 0 {
        message.push_str(&format!(
            "; {} in flight not answered within {}s, in doubt (the resume reads them back)",
            interrupt::batches(unanswered),
            interrupt::GRACE.as_secs()
        ));
    }
    message.push_str("; to resume: ");
    message.push_str(&resume);
    Failure {
        exit: signal.exit(),
        message,
    }
}

/// What a resume found in the checkpoint and what it waits for, said at once.
fn resumed_line(checkpoint: &std::path::Path, resumed: &checkpoint::Resumed) -> String {
    let batches = |n: usize| match n {
        1 => "1 batch".to_owned(),
        n => format!("{n} batches"),
    };
    let conversations = |n: usize| match n {
        1 => "1 conversation".to_owned(),
        n => format!("{n} conversations"),
    };
    let mut line = format!(
        "resuming {}: {} acknowledged, ",
        checkpoint.display(),
        batches(resumed.acknowledged)
    );
    if resumed.in_doubt == 0 {
        line.push_str("none in doubt");
        return line;
    }
    line.push_str(&format!(
        "{} in doubt in {}, read back before they are sent again",
        batches(resumed.in_doubt),
        conversations(resumed.conversations_in_doubt)
    ));
    match resumed.waiting_until {
        Some(until) if resumed.waiting > 0 => line.push_str(&format!(
            "; {} wait until {} (--settle after the import that sent them stopped), the rest \
             go now",
            conversations(resumed.waiting),
            until.to_rfc3339_opts(SecondsFormat::Secs, true)
        )),
        _ => line.push_str(", now"),
    }
    line
}

/// Reading the sources into runs, and handing the runs to the workers.
struct Reading<'a> {
    window: usize,
    strict: bool,
    format: Option<Format>,
    documents: formats::Options,
    copies: Copies,
    sending: &'a Sending,
}

/// The input being read, and the runs its lines are cut into.
struct Current {
    index: usize,
    source: Source,
    runs: Runs,
}

impl Reading<'_> {
    /// Reads every input `reader` reaches; what is invalid or left out is reported to `err` and
    /// counted in `found`.
    async fn read(
        &self,
        mut reader: Reader,
        workers: &mut Workers,
        found: &mut Found,
        err: &mut dyn Write,
    ) -> Result<(), Failure> {
        let mut current: Option<Current> = None;
        let mut listed = false;
        // What the reading hands over belongs to the input it announced last.
        let unannounced = || Failure {
            exit: crate::Exit::Failed,
            message: "the reading handed over an input's content before the input".to_owned(),
        };
        while let Some(read) = reader.next().await {
            match read {
                Read::Input {
                    index,
                    source,
                    left_aside,
                } => {
                    found.inputs_reached = index + 1;
                    self.sending.checkpoint.reach(
                        index,
                        &InputRecord {
                            source: Cow::Borrowed(&source.key),
                            version: source.version.as_deref().map(Cow::Borrowed),
                            left_aside,
                        },
                    )?;
                    let size = source.size();
                    self.sending.counts.add_input(size);
                    if left_aside {
                        // Nothing of it to send: done.
                        self.sending.counts.done(size.unwrap_or(0));
                        found.copies_left_aside += 1;
                        let name = source.name();
                        let contact = formats::analysis_name(formats::file_name(&name))
                            .map_or("", |analysis| analysis.contact_id);
                        tracing::info!(
                            conversation = %contact,
                            "import: {name}: left aside: the contact's {} copy is among the \
                             inputs (--contact-lens-copy)",
                            self.copies.prefer()
                        );
                        continue;
                    }
                    let runs = Runs::new(source.key.clone(), self.window);
                    current = Some(Current {
                        index,
                        source,
                        runs,
                    });
                }
                Read::Lines { first_line, text } => {
                    let current = current.as_mut().ok_or_else(unannounced)?;
                    let lines = text.split_inclusive(|b| *b == b'\n');
                    for (offset, line) in lines.enumerate() {
                        let number = first_line + offset;
                        self.line(current, number, line, workers, found, err)
                            .await?;
                        if self.sending.failed() {
                            // A worker failed: its failure is reported once it is joined.
                            return Ok(());
                        }
                    }
                }
                Read::Document { bytes } => {
                    let current = current.as_mut().ok_or_else(unannounced)?;
                    self.document(current, &bytes, workers, found, err).await?;
                    if self.sending.failed() {
                        return Ok(());
                    }
                }
                Read::End => {
                    let mut ended = current.take().ok_or_else(unannounced)?;
                    for run in ended.runs.finish(&self.sending.checkpoint)? {
                        workers.start(run).await?;
                    }
                }
                Read::Listed => {
                    listed = true;
                    self.sending.counts.listing_done();
                }
                Read::Failed(failure) => return Err(failure),
            }
        }
        // The reading ends with the listing's end, or with a failure: anything else (a panic in
        // the reading) must not pass for the end of the input.
        if !listed || current.is_some() {
            let at = current.map_or_else(
                || format!("after input {}", found.inputs_reached),
                |current| current.source.name().into_owned(),
            );
            return Err(Failure {
                exit: crate::Exit::Failed,
                message: format!("reading stopped before the end of the input, at {at}"),
            });
        }
        self.sending.checkpoint.reached_all(found.inputs_reached)
    }

    /// Takes line `number` of the current input.
    async fn line(
        &self,
        current: &mut Current,
        number: usize,
        mut bytes: &[u8],
        workers: &mut Workers,
        found: &mut Found,
        err: &mut dyn Write,
    ) -> Result<(), Failure> {
        let size = bytes.len() as u64;
        let counts = &self.sending.counts;
        counts.bytes.fetch_add(size, Ordering::Relaxed);
        while let [rest @ .., b'\n' | b'\r'] = bytes {
            bytes = rest;
        }
        if number == 1 {
            // A byte-order mark some editors write before the first line.
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let parsed = match std::str::from_utf8(bytes) {
            Err(e) => Err(format!("not UTF-8 ({e})")),
            Ok(text) if text.trim().is_empty() => {
                // Nothing to send.
                counts.done(size);
                return Ok(());
            }
            Ok(text) => Line::parse(text).and_then(|line| line.message().map(|m| (line, m))),
        };
        match parsed {
            Ok((line, message)) => {
                self.take(number, &line, message, size, &mut current.runs, workers)
                    .await
            }
            Err(reason) => {
                let name = current.source.name();
                counts.done(size);
                found.invalid_lines += 1;
                let _ = writeln!(err, "{name}:{number}: invalid line: {reason}");
                self.go_on(format!("{name}:{number}"), "line")
            }
        }
    }

    /// Takes the message entries of one vendor document, the current input, as lines numbered
    /// from 1.
    async fn document(
        &self,
        current: &mut Current,
        bytes: &[u8],
        workers: &mut Workers,
        found: &mut Found,
        err: &mut dyn Write,
    ) -> Result<(), Failure> {
        let counts = &self.sending.counts;
        counts
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        // The document's bytes go with its first message sent; all of them are done at once
        // where none is.
        let mut size = bytes.len() as u64;
        let result = self
            .document_entries(current, bytes, &mut size, workers, found, err)
            .await;
        counts.done(size);
        result
    }

    /// [`Self::document`]'s work; `size` is set to 0 once the document's bytes went with a
    /// message.
    async fn document_entries(
        &self,
        current: &mut Current,
        bytes: &[u8],
        size: &mut u64,
        workers: &mut Workers,
        found: &mut Found,
        err: &mut dyn Write,
    ) -> Result<(), Failure> {
        let name = current.source.name();
        let document = match formats::read_document(&name, bytes, self.format, &self.documents) {
            Ok(document) => document,
            Err(refused) => {
                found.invalid_documents += 1;
                let _ = writeln!(err, "{refused}");
                return self.go_on(name.into_owned(), "document");
            }
        };
        // One document holds one conversation. Another document of the same conversation (not
        // a raw and a redacted copy, above) is a second analysis of it, or a copy under another
        // name: importing both would store its messages twice.
        let conversation =
            std::hash::BuildHasher::hash_one(&found.conversations, document.external_id.as_str());
        match found.documents.entry(conversation) {
            std::collections::hash_map::Entry::Occupied(first) => {
                found.invalid_documents += 1;
                let _ = writeln!(
                    err,
                    "{name}: conversation {} was read from input {} already (the checkpoint \
                     names the inputs in order), and one document holds one conversation (a \
                     contact analysed twice? import one of the two)",
                    document.external_id,
                    first.get() + 1
                );
                return self.go_on(name.into_owned(), "document");
            }
            std::collections::hash_map::Entry::Vacant(vacant) => {
                vacant.insert(current.index);
            }
        }
        found.skipped_events += (document.skipped_events + document.skipped_attachments) as u64;
        if let Some(records) = &self.documents.contact_records
            && document.format == Format::ContactLens
        {
            if records.has(&document.external_id) {
                found.with_record += 1;
            } else {
                found.without_record += 1;
            }
        }
        if let Some(base) = document.base_time {
            let key = match base.source {
                BaseTimeSource::Field(field) => (field, None),
                BaseTimeSource::Option => ("--base-time", Some(base.at)),
                BaseTimeSource::FileName => ("file name", None),
                BaseTimeSource::ContactRecord(_) => ("contact record", None),
            };
            tracing::info!(
                conversation = %document.external_id,
                base_time = %base.at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                from = key.0,
                "import: {name}: offsets added to the base time"
            );
            found
                .base_times
                .entry(key)
                .and_modify(|seen| {
                    seen.conversations += 1;
                    seen.earliest = seen.earliest.min(base.at);
                    seen.latest = seen.latest.max(base.at);
                })
                .or_insert(BaseTimes {
                    conversations: 1,
                    earliest: base.at,
                    latest: base.at,
                });
        }
        for (index, entry) in document.entries.into_iter().enumerate() {
            let number = index + 1;
            match entry
                .line
                .and_then(|line| line.message().map(|m| (line, m)))
            {
                Ok((line, message)) => {
                    let size = std::mem::take(size);
                    self.take(number, &line, message, size, &mut current.runs, workers)
                        .await?;
                }
                Err(reason) => {
                    found.invalid_lines += 1;
                    found.invalid_entries += 1;
                    let _ = writeln!(err, "{name}#{}: invalid entry: {reason}", entry.pointer);
                    self.go_on(format!("{name}#{}", entry.pointer), "entry")?;
                }
            }
        }
        Ok(())
    }

    /// Adds a valid line, of `bytes` bytes of input, to its run, and starts the runs it closes.
    async fn take(
        &self,
        number: usize,
        line: &Line<'_>,
        message: types::Message,
        bytes: u64,
        runs: &mut Runs,
        workers: &mut Workers,
    ) -> Result<(), Failure> {
        for run in runs.push(&self.sending.checkpoint, number, line, message, bytes)? {
            workers.start(run).await?;
        }
        Ok(())
    }

    /// After an invalid `what` at `place`: go on, unless `--strict`.
    fn go_on(&self, place: String, what: &str) -> Result<(), Failure> {
        if self.strict {
            return Err(Failure::usage(format!(
                "{place}: stopped at the first invalid {what} (--strict)"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Found;

    fn invalid(lines: u64, entries: u64, documents: u64) -> Option<String> {
        Found {
            invalid_lines: lines + entries,
            invalid_entries: entries,
            invalid_documents: documents,
            ..Found::default()
        }
        .invalid()
    }

    #[test]
    fn the_last_word_counts_lines_entries_and_documents_each_as_what_they_are() {
        assert_eq!(invalid(0, 0, 0), None);
        assert_eq!(
            invalid(1, 0, 0).unwrap(),
            "1 invalid line was not imported; every valid line was"
        );
        assert_eq!(
            invalid(5, 0, 0).unwrap(),
            "5 invalid lines were not imported; every valid line was"
        );
        assert_eq!(
            invalid(0, 0, 3).unwrap(),
            "3 invalid documents were not imported; every valid one was"
        );
        assert_eq!(
            invalid(1, 0, 2).unwrap(),
            "1 invalid line and 2 invalid documents were not imported; every valid one was"
        );
        assert_eq!(
            invalid(2, 1, 1).unwrap(),
            "2 invalid lines, 1 invalid entry and 1 invalid document were not imported; every \
             valid one was"
        );
    }
}
