//! Sending one run: its conversation upserted (or found, for a later run), then its batches that
//! the checkpoint does not show as acknowledged, each recorded as intended (on stable storage)
//! before it is sent and as acknowledged once ASAPP answered. A batch in doubt is reconciled
//! first: the conversation is read back, and only what ASAPP lacks of the batch is sent.

use std::future::IntoFuture as _;
use std::sync::atomic::Ordering;

use asapp_conversations::{ApiError, Client, ErrorKind, types};

use tokio_util::sync::CancellationToken;

use super::checkpoint::{BatchRecord, Checkpoint, State};
use super::message_key::{Digest, MessageKey};
use super::reconcile::{Doubt, Reconciliation};
use super::runs::Run;
use crate::Error;
use crate::observe::{Acknowledged, Observer};
use crate::progress::Counts;

/// What every run's task uses.
pub(crate) struct Sending {
    pub(crate) client: Client,
    pub(crate) batch_size: usize,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) reconciliation: Reconciliation,
    pub(crate) counts: std::sync::Arc<Counts>,
    /// Told of each batch acknowledged.
    pub(crate) observer: std::sync::Arc<dyn Observer>,
    /// The caller's token: cancelled, no new batch is sent, and the batches whose intent is on
    /// record are let finish.
    pub(crate) cancel: CancellationToken,
    /// Cancelled when anything failed, or with `cancel`: runs not yet sending stop before their
    /// next batch, and runs waiting stop waiting.
    pub(crate) stop: CancellationToken,
}

impl std::fmt::Debug for Sending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sending")
            .field("batch_size", &self.batch_size)
            .field("checkpoint", &self.checkpoint)
            .field("stopping", &self.stopping())
            .finish_non_exhaustive()
    }
}

impl Sending {
    /// Stops the import, for a failure: no run sends another batch.
    pub(crate) fn fail(&self) {
        self.stop.cancel();
    }

    /// Whether the import is stopping (failed or cancelled).
    pub(crate) fn stopping(&self) -> bool {
        self.stop.is_cancelled()
    }
}

/// Sends a run's batches that the checkpoint does not show as acknowledged, after upserting its
/// conversation if this is the conversation's `first` run in the input (a later run finds the
/// conversation instead, so that its first line's fields stay).
pub(crate) async fn run(sending: &Sending, run: Run, first: bool) -> Result<(), Error> {
    if sending.stopping() {
        return Ok(());
    }
    let Run {
        key,
        mut conversation,
        mut messages,
        bytes,
    } = run;
    let external_id = conversation.external_id.clone();
    // Failures name the run and its conversation.
    let place = format!("{}:{} (`{external_id}`)", key.input, key.line);
    let at = |error: Error| error.at(&place);
    let api = |source: ApiError| Error::Asapp {
        place: place.clone(),
        source: Box::new(source),
    };
    messages.sort_by_key(|(line, message)| (message.timestamp, *line));
    // The conversation starts with its first message.
    if let Some((_, first)) = messages.first() {
        conversation.timestamp = first.timestamp;
    }
    let mut batches: Vec<Vec<types::Message>> = Vec::new();
    let mut messages = messages.into_iter().map(|(_, message)| message).peekable();
    while messages.peek().is_some() {
        batches.push(messages.by_ref().take(sending.batch_size).collect());
    }
    let checkpoint = &sending.checkpoint;
    let counts = &sending.counts;
    let digests: Vec<Digest> = batches
        .iter()
        .map(|batch| Digest::of(&external_id, batch))
        .collect();
    let run_length = batches.iter().map(Vec::len).sum();
    let shares = shares(bytes, batches.iter().map(Vec::len));
    let states = checkpoint.states(&key, &external_id, run_length, &digests)?;
    let stored: usize = batches
        .iter()
        .zip(&states)
        .filter(|(_, state)| **state == State::Acknowledged)
        .map(|(batch, _)| batch.len())
        .sum();
    counts
        .already_stored
        .fetch_add(stored as u64, Ordering::Relaxed);
    counts.done(
        shares
            .iter()
            .zip(&states)
            .filter(|(_, state)| **state == State::Acknowledged)
            .map(|(share, _)| share)
            .sum(),
    );
    // A conversation with a batch in doubt, here or in a later run, needs this run's messages
    // when that batch is read back.
    let reconciliation = &sending.reconciliation;
    let keep = reconciliation.has_doubt(&external_id);
    if states.iter().all(|state| *state == State::Acknowledged) {
        reconciliation.remember(&external_id, keys(&batches));
        return Ok(());
    }
    // Each batch's intent is synced while the request before it runs (the upsert or look-up,
    // then the batch before), so that a sync adds no time of its own to the conversation. An
    // intent does not depend on that request's answer: when the request fails, the batch is on
    // record as in doubt without having been sent, which a resume reads back like any other.
    let pending: Vec<usize> = states
        .iter()
        .enumerate()
        .filter(|(_, state)| **state != State::Acknowledged)
        .map(|(index, _)| index)
        .collect();
    let record =
        |index: usize| BatchRecord::new(&key, &external_id, run_length, index, digests[index]);
    let first_intent = record(pending[0]);
    let (found, intended) = tokio::join!(
        conversation_id(sending, conversation, first),
        checkpoint.intend(&first_intent)
    );
    intended?;
    let id = found.map_err(|failure| match failure {
        NoConversation::Api(error) => api(error),
        NoConversation::NoId => at(Error::internal(
            "the upsert answered without a conversation id",
        )),
    })?;
    // Whether the batch at the top of the loop has its intent on record: each has, but the one
    // after a batch sent once the import was cancelled.
    let mut intended = true;
    for (position, &index) in pending.iter().enumerate() {
        // Cancelled, a batch whose intent is on record is still sent, as if it were in flight:
        // so a clean cancellation leaves nothing in doubt for the resume to wait for and read
        // back. No other batch is.
        if sending.stopping() && !(intended && sending.cancel.is_cancelled()) {
            return Ok(());
        }
        let mut batch = if keep {
            batches[index].clone()
        } else {
            std::mem::take(&mut batches[index])
        };
        if states[index] == State::InDoubt {
            // Sent before, never acknowledged: send only what ASAPP does not have.
            let whole = batch.len();
            reconciliation
                .reconcile(
                    &sending.client,
                    &id,
                    &external_id,
                    &batches[..index],
                    &mut batch,
                )
                .await
                .map_err(|doubt| doubt_error(doubt, &place, &external_id))?;
            counts
                .already_stored
                .fetch_add((whole - batch.len()) as u64, Ordering::Relaxed);
        }
        let next = pending
            .get(position + 1)
            .filter(|_| !sending.stopping())
            .map(|next| record(*next));
        intended = next.is_some();
        let intend_next = async {
            match &next {
                Some(next) => checkpoint.intend(next).await,
                None => Ok(()),
            }
        };
        let sent = batch.len();
        if sent > 0 {
            let send = sending
                .client
                .create_batch_messages()
                .conversation_id(id.as_str())
                .body(types::BatchMessages::builder().messages(batch));
            let in_flight = InFlight::new(counts);
            let (answer, intended) = tokio::join!(send.into_future(), intend_next);
            drop(in_flight);
            match answer {
                Ok(_) => {}
                Err(error) if matches!(error.kind(), ErrorKind::AlreadyPersisted { .. }) => {}
                Err(error) => return Err(api(error)),
            }
            intended?;
        } else {
            intend_next.await?;
        }
        checkpoint.acknowledge(&record(index))?;
        counts.batches.fetch_add(1, Ordering::Relaxed);
        counts.messages.fetch_add(sent as u64, Ordering::Relaxed);
        counts.done(shares[index]);
        sending.observer.acknowledged(&Acknowledged {
            external_id: &external_id,
            messages: sent,
        });
    }
    reconciliation.remember(&external_id, keys(&batches));
    Ok(())
}

/// The bytes of a run's input done with each of its batches, of `lengths` messages: `bytes`
/// shared by messages, the rounding left to the last.
fn shares(bytes: u64, lengths: impl Iterator<Item = usize>) -> Vec<u64> {
    let lengths: Vec<u64> = lengths.map(|n| n as u64).collect();
    let total: u64 = lengths.iter().sum();
    let mut before = 0;
    let mut through = 0u64;
    lengths
        .iter()
        .map(|length| {
            through += length;
            let done = (u128::from(bytes) * u128::from(through))
                .checked_div(u128::from(total))
                .map_or(bytes, |done| done as u64);
            let share = done - before;
            before = done;
            share
        })
        .collect()
}

/// A batch request in flight, counted while it lives.
struct InFlight<'a>(&'a Counts);

impl<'a> InFlight<'a> {
    fn new(counts: &'a Counts) -> Self {
        counts.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(counts)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

fn keys(batches: &[Vec<types::Message>]) -> impl Iterator<Item = MessageKey<'_>> {
    batches.iter().flatten().map(MessageKey::sent)
}

/// Why a run's conversation has no id.
enum NoConversation {
    Api(ApiError),
    NoId,
}

/// The id of the run's conversation: upserted for its first run, found by its external id for a
/// later one (upserted after all when not found).
async fn conversation_id(
    sending: &Sending,
    conversation: types::TimeBasedConversation,
    first: bool,
) -> Result<String, NoConversation> {
    let client = &sending.client;
    if !first {
        let listed = client
            .get_conversations()
            .external_id(conversation.external_id.as_str())
            .await
            .map_err(NoConversation::Api)?;
        if let Some(id) = listed.into_inner().items.into_iter().find_map(|c| c.id) {
            return Ok(id);
        }
    }
    let id = client
        .create_or_update_conversation()
        .body(conversation)
        .await
        .map_err(NoConversation::Api)?
        .into_inner()
        .id
        .ok_or(NoConversation::NoId)?;
    sending.counts.conversations.fetch_add(1, Ordering::Relaxed);
    Ok(id)
}

/// The error of a batch in doubt of `external_id` that could not be reconciled, at `place`.
fn doubt_error(doubt: Doubt, place: &str, external_id: &str) -> Error {
    match doubt {
        Doubt::Api(source) => Error::Asapp {
            place: place.to_owned(),
            source: Box::new(source),
        },
        Doubt::Incomplete { listed, missing } => Error::IncompleteListing {
            place: place.to_owned(),
            detail: format!(
                "ASAPP listed {listed} message(s) of `{external_id}`, without {missing} that \
                 the checkpoint shows as stored: the listing is incomplete, so what the batch \
                 in doubt stored cannot be told; nothing was sent again (resume once the \
                 conversation lists whole)"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::shares;

    #[test]
    fn a_runs_bytes_are_shared_by_its_batches_messages() {
        assert_eq!(shares(1000, [300, 300, 100].into_iter()), [428, 429, 143]);
        assert_eq!(shares(10, [1].into_iter()), [10]);
        assert_eq!(shares(0, [3, 3].into_iter()), [0, 0]);
        assert_eq!(
            shares(7, [3, 3, 3].into_iter()).iter().sum::<u64>(),
            7,
            "every byte is done once all are"
        );
    }
}
