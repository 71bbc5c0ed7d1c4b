//! The import's pipeline, data flowing one way through its stages, one module each:
//! - [`listing`]: the inputs as given, checked up front, and the files and objects each holds,
//!   found as the import reaches them (directories walked, prefixes of [`objects`] in object
//!   storage listed, never held whole);
//! - [`reader`]: *reading* each input reached, as JSON Lines in chunks of lines or as one vendor
//!   document ([`crate::formats`]), unless it is a Contact Lens copy left aside ([`copies`]:
//!   which of a contact's raw and redacted copies is sent, from where each says the other is);
//!   [`records`]: Amazon Connect's contact records, read before anything else;
//! - [`runs`]: *cutting* each input's lines into runs, a conversation's lines within a window;
//!   it returns what it cut, and this module has the checkpoint check it;
//! - [`schedule`]: *scheduling* runs, those of different conversations concurrently, those of
//!   one conversation one after the other;
//! - [`send`]: *sending* a run's conversation and batches, after [`reconcile`] settled what a
//!   batch in doubt stored;
//! - [`checkpoint`], over the [`journal`]: *recording* each batch's intent (on stable storage
//!   before it leaves) and acknowledgement;
//! - [`message_key`]: what identifies a message, for the digests and the read-back.
//!
//! Stopping goes the same way: a failure or the caller's cancellation cancels the import's
//! token, which every stage watches.

mod checkpoint;
mod copies;
mod journal;
mod listing;
mod message_key;
#[cfg_attr(feature = "object-store", path = "objects.rs")]
#[cfg_attr(not(feature = "object-store"), path = "objects_disabled.rs")]
mod objects;
mod reader;
mod reconcile;
mod records;
mod runs;
mod schedule;
mod send;

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use asapp_conversations::chrono::{DateTime, SecondsFormat, Utc};
use asapp_conversations::types;

use self::checkpoint::{Checkpoint, Cutting, InputRecord, Keeping};
pub use self::checkpoint::{Resumed, StorageFactory, file_storage};
use self::copies::Copies;
pub use self::journal::{FileStorage, Storage};
use self::listing::Inputs;
#[cfg(feature = "object-store")]
pub(crate) use self::objects::ENVIRONMENT as OBJECT_STORE_VARIABLES;
use self::objects::Stores;
use self::reader::{Reached, Read, Reader};
use self::reconcile::Reconciliation;
use self::runs::{Cut, Runs};
use self::schedule::Workers;
use self::send::Sending;
use crate::formats::{self, BaseTimeSource, Format};
use crate::observe::{Invalid, InvalidKind, Observer};
use crate::progress::{Counts, ProgressWatch};
use crate::summary::{BaseTimeUsed, ContactRecordsUsed, Summary};
use crate::transcript::Line;
use crate::{Error, Import};

impl Import {
    /// The settings that decide documents' roles and times, as the checkpoint records them (""
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

/// The conversations that took their base time from one place, and the range of those times.
#[derive(Debug, Clone, Copy)]
struct BaseTimes {
    conversations: u64,
    earliest: DateTime<Utc>,
    latest: DateTime<Utc>,
}

/// What reading counted as it went: what was invalid or left out, the inputs reached, and the
/// conversations of the documents read.
#[derive(Debug, Default)]
struct Tally {
    /// Invalid lines of JSON Lines, and invalid entries of documents (`invalid_entries` of them).
    invalid_lines: u64,
    invalid_entries: u64,
    invalid_documents: u64,
    skipped_events: u64,
    copies_left_aside: u64,
    /// The inputs reached so far.
    inputs_reached: usize,
    /// Contact Lens conversations with a contact record, and without one.
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

/// Executes `import`: see [`Import::execute`].
pub(crate) async fn execute(mut import: Import) -> Result<Summary, Error> {
    let started = Instant::now();
    let client = import.client.clone();
    let stats = client.stats();
    let batch_size = import.batch_size.clamp(1, 300);
    let counts = Arc::new(Counts::default());
    let observer = import.observer.clone();
    observer.started(&ProgressWatch::new(counts.clone(), client.clone()));
    let environment = import.environment.clone();
    let mut stores = Stores::new(move |name: &str| environment(name));
    let given = std::mem::take(&mut import.inputs);
    let inputs = Arc::new(Inputs::check(given, &mut stores)?);
    let copies = Copies::new(import.contact_lens_copy, import.format);
    let contact_records = records::load(&import.contact_records, &mut stores).await?;
    let cutting = Cutting {
        batch_size,
        window: import.window.max(1),
        reading: import.reading(contact_records.as_deref()),
    };
    let keeping = Keeping {
        path: import.checkpoint.clone(),
        resume: import.resume,
        sync: import.sync,
        settle: import.settle,
        storage: import.storage.clone(),
    };
    let (checkpoint, in_doubt) = Checkpoint::open(&keeping, &cutting)?;
    if let Some(resumed) = checkpoint.resumed() {
        observer.resumed(resumed);
    }
    // The caller's token stops the import; a failure stops it too, but not the caller's token.
    let cancel = import.cancel.clone();
    let stop = cancel.child_token();
    let sending = Arc::new(Sending {
        client: client.clone(),
        batch_size,
        checkpoint,
        reconciliation: Reconciliation::new(in_doubt),
        counts: counts.clone(),
        observer: observer.clone(),
        cancel: cancel.clone(),
        stop,
    });
    let mut workers = Workers::new(
        import.concurrency,
        cutting.window,
        batch_size,
        sending.clone(),
    );
    let mut tally = Tally::default();
    let reading = Reading {
        window: cutting.window,
        strict: import.strict,
        format: import.format,
        documents: formats::ReadOptions {
            role_map: import.role_map.clone(),
            base_time: import.base_time,
            contact_records: contact_records.clone(),
        },
        copies,
        sending: &sending,
        observer: observer.as_ref(),
    };
    // Cancelled, the reading stops at once: what it holds was not sent.
    let read = tokio::select! {
        read = reading.read(
            Reader::start(inputs, import.format, copies),
            &mut workers,
            &mut tally,
        ) => read,
        () = cancel.cancelled() => Ok(()),
    };
    if read.is_err() {
        sending.fail();
    }
    // Cancelled, the batches in flight have the grace to be answered; those that are not are
    // left in doubt, for the resume to read back.
    let mut unanswered = 0;
    let sent = tokio::select! {
        sent = workers.finish() => sent,
        () = async {
            cancel.cancelled().await;
            tokio::time::sleep(import.grace).await;
        } => {
            unanswered = counts.in_flight.load(Ordering::Relaxed);
            workers.abort().await;
            Ok(())
        }
    };
    drop(workers);
    // Every worker is done and dropped, so this is the last holder: the checkpoint's last
    // records are written and synced before the summary says anything.
    let closed = match Arc::into_inner(sending) {
        Some(sending) => sending.checkpoint.close().await,
        None => Err(Error::internal(
            "the checkpoint was still in use when the import ended",
        )),
    };
    if read.is_err() && !import.resume && tally.inputs_reached == 0 && closed.is_ok() {
        // Nothing was reached (a bucket that is not there, a prefix with nothing under it), so
        // nothing was sent: the new checkpoint records nothing worth resuming, and would only
        // stand in the way of the corrected import.
        let _ = std::fs::remove_file(&import.checkpoint);
    }
    read?;
    sent?;
    closed?;
    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    if cancel.is_cancelled() {
        return Err(Error::Cancelled {
            messages: load(&counts.messages),
            batches: load(&counts.batches),
            unanswered,
        });
    }
    let seconds = started.elapsed().as_secs_f64();
    let messages = load(&counts.messages);
    let client_stats = client.stats();
    Ok(Summary {
        messages,
        conversations: load(&counts.conversations),
        batches: load(&counts.batches),
        already_stored: load(&counts.already_stored),
        invalid_lines: tally.invalid_lines,
        invalid_entries: tally.invalid_entries,
        invalid_documents: tally.invalid_documents,
        skipped_events: tally.skipped_events,
        copies_left_aside: tally.copies_left_aside,
        base_times: tally
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
            conversations_with_record: tally.with_record,
            conversations_without_record: tally.without_record,
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
    })
}

/// Reading the inputs, cutting their lines into runs, and handing the runs to the workers.
struct Reading<'a> {
    window: usize,
    strict: bool,
    format: Option<Format>,
    documents: formats::ReadOptions,
    copies: Copies,
    sending: &'a Sending,
    observer: &'a dyn Observer,
}

/// The input being read, and the runs its lines are cut into.
struct Current {
    index: usize,
    source: Reached,
    runs: Runs,
}

impl Reading<'_> {
    /// Reads every input `reader` reaches; what is invalid is told the observer, and what is left out
    /// counted in `found`.
    async fn read(
        &self,
        mut reader: Reader,
        workers: &mut Workers,
        tally: &mut Tally,
    ) -> Result<(), Error> {
        let mut current: Option<Current> = None;
        let mut listed = false;
        // What the reading hands over belongs to the input it announced last.
        let unannounced =
            || Error::internal("the reading handed over an input's content before the input");
        while let Some(read) = reader.next().await {
            match read {
                Read::Input {
                    index,
                    source,
                    left_aside,
                } => {
                    tally.inputs_reached = index + 1;
                    self.sending.checkpoint.reach(
                        index,
                        &InputRecord {
                            key: Cow::Borrowed(&source.key),
                            version: source.version.as_deref().map(Cow::Borrowed),
                            left_aside,
                        },
                    )?;
                    let size = source.size();
                    self.sending.counts.add_input(size);
                    if left_aside {
                        // Nothing of it to send: done.
                        self.sending.counts.done(size.unwrap_or(0));
                        tally.copies_left_aside += 1;
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
                        self.line(current, number, line, workers, tally).await?;
                        if self.sending.stopping() {
                            // A worker failed: its failure is reported once it is joined.
                            return Ok(());
                        }
                    }
                }
                Read::Document { bytes } => {
                    let current = current.as_mut().ok_or_else(unannounced)?;
                    self.document(current, &bytes, workers, tally).await?;
                    if self.sending.stopping() {
                        return Ok(());
                    }
                }
                Read::End => {
                    let mut ended = current.take().ok_or_else(unannounced)?;
                    self.start(ended.runs.finish(), workers).await?;
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
                || format!("after input {}", tally.inputs_reached),
                |current| current.source.name().into_owned(),
            );
            return Err(Error::internal(format!(
                "reading stopped before the end of the input, at {at}"
            )));
        }
        self.sending.checkpoint.reached_all(tally.inputs_reached)
    }

    /// Takes line `number` of the current input.
    async fn line(
        &self,
        current: &mut Current,
        number: usize,
        mut bytes: &[u8],
        workers: &mut Workers,
        tally: &mut Tally,
    ) -> Result<(), Error> {
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
                tally.invalid_lines += 1;
                self.invalid(InvalidKind::Line, &name, format!("{name}:{number}"), reason)
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
        tally: &mut Tally,
    ) -> Result<(), Error> {
        let counts = &self.sending.counts;
        counts
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        // The document's bytes go with its first message sent; all of them are done at once
        // where none is.
        let mut size = bytes.len() as u64;
        let result = self
            .document_entries(current, bytes, &mut size, workers, tally)
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
        tally: &mut Tally,
    ) -> Result<(), Error> {
        let name = current.source.name();
        let document = match formats::read_document(&name, bytes, self.format, &self.documents) {
            Ok(document) => document,
            Err(refused) => {
                tally.invalid_documents += 1;
                let reason = refused.refusal.to_string();
                return self.invalid(InvalidKind::Document, &name, name.to_string(), reason);
            }
        };
        // One document holds one conversation. Another document of the same conversation (not
        // a raw and a redacted copy, above) is a second analysis of it, or a copy under another
        // name: importing both would store its messages twice.
        let conversation =
            std::hash::BuildHasher::hash_one(&tally.conversations, document.external_id.as_str());
        match tally.documents.entry(conversation) {
            std::collections::hash_map::Entry::Occupied(first) => {
                tally.invalid_documents += 1;
                let reason = format!(
                    "conversation {} was read from input {} already (the checkpoint names the \
                     inputs in order), and one document holds one conversation (a contact \
                     analysed twice? import one of the two)",
                    document.external_id,
                    first.get() + 1
                );
                return self.invalid(InvalidKind::Document, &name, name.to_string(), reason);
            }
            std::collections::hash_map::Entry::Vacant(vacant) => {
                vacant.insert(current.index);
            }
        }
        tally.skipped_events += (document.skipped_events + document.skipped_attachments) as u64;
        if let Some(records) = &self.documents.contact_records
            && document.format == Format::ContactLens
        {
            if records.has(&document.external_id) {
                tally.with_record += 1;
            } else {
                tally.without_record += 1;
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
            tally
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
                    tally.invalid_lines += 1;
                    tally.invalid_entries += 1;
                    let place = format!("{name}#{}", entry.pointer);
                    self.invalid(InvalidKind::Entry, &name, place, reason)?;
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
    ) -> Result<(), Error> {
        let cut = runs.push(number, line, message, bytes).map_err(|reason| {
            let place = format!("{}:{number}", runs.input());
            Error::input(
                runs.input().to_string(),
                format!("{place}: invalid line: {reason}"),
            )
        })?;
        match cut {
            Some(cut) => self.start(cut, workers).await,
            None => Ok(()),
        }
    }

    /// Has the checkpoint check what the cutting cut (a resume must cut the same), then hands
    /// its runs to the workers.
    async fn start(&self, cut: Cut, workers: &mut Workers) -> Result<(), Error> {
        self.sending.checkpoint.check_starts(&cut)?;
        for run in cut.runs {
            workers.start(run).await?;
        }
        Ok(())
    }

    /// Reports an invalid `kind` of `input` at `place`, and goes on, unless strict.
    fn invalid(
        &self,
        kind: InvalidKind,
        input: &str,
        place: String,
        reason: String,
    ) -> Result<(), Error> {
        self.sending.counts.invalid.fetch_add(1, Ordering::Relaxed);
        let what = match kind {
            InvalidKind::Line => "line",
            InvalidKind::Entry => "entry",
            InvalidKind::Document => "document",
        };
        let invalid = Invalid {
            kind,
            input: input.to_owned(),
            place,
            reason,
        };
        self.observer.invalid(&invalid);
        if self.strict {
            return Err(Error::input(
                input,
                format!(
                    "{}: stopped at the first invalid {what} (--strict)",
                    invalid.place
                ),
            ));
        }
        Ok(())
    }
}
