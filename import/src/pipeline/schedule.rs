//! Scheduling runs: at most `concurrency` sending at a time, the runs of different
//! conversations concurrently, and the runs of one conversation one after the other, in input
//! order, one batch at a time. So when an import stops, each conversation has stored the
//! messages of its input up to some batch; the batch in flight then, and the next one (whose
//! intent is synced while the one before flies), are in doubt.
//!
//! The reading goes no further ahead than the runs sending. A run that must wait, for its
//! conversation's run before it or for a batch in doubt to settle (see the checkpoint), is held
//! without a place among those sending, so that a resume's conversations in doubt do not hold
//! back the others. The runs held waiting hold at most twice the window's messages, or
//! `concurrency` full batches when that is more (a run larger than that is held alone).

use std::collections::HashMap;
use std::hash::{BuildHasher as _, RandomState};
use std::sync::Arc;

use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinSet;

use super::runs::Run;
use super::send::{self, Sending};
use crate::Error;

/// The runs being sent.
pub(crate) struct Workers {
    set: JoinSet<Result<(), Error>>,
    concurrency: usize,
    /// A place among those sending, for each of `concurrency`.
    sending_places: Arc<Semaphore>,
    /// A place for each message the runs held may hold.
    held_messages: Arc<Semaphore>,
    /// How many that is.
    held_limit: u32,
    sending: Arc<Sending>,
    /// For each conversation with a run started, a signal that the run is done: the
    /// conversation's next run waits for it.
    last: HashMap<String, oneshot::Receiver<()>>,
    /// How many `last` may hold before the done ones are forgotten.
    forget_at: usize,
    /// The conversations seen so far.
    seen: Seen,
}

/// The conversations seen so far, in a fixed MiB of bits (a Bloom filter), however many: one
/// never seen may be taken for one seen (about 2% of them after a million conversations, far
/// fewer before), which only costs its first run a look-up before its upsert (see
/// [`send::run`]), never a wrong answer.
struct Seen {
    bits: Vec<u64>,
    hasher: RandomState,
}

impl Seen {
    const BITS: usize = 1 << 23;

    fn new() -> Self {
        Self {
            // Zeroed pages are only counted in memory once a bit of theirs is set.
            bits: vec![0; Self::BITS / 64],
            hasher: RandomState::new(),
        }
    }

    /// Marks `external_id` seen; whether it was not before.
    fn insert(&mut self, external_id: &str) -> bool {
        let hash = self.hasher.hash_one(external_id);
        // Four bits, by double hashing from the one hash.
        let (start, step) = (hash & 0xffff_ffff, (hash >> 32) | 1);
        let mut new = false;
        for i in 0..4 {
            let bit = (start.wrapping_add(i * step) as usize) % Self::BITS;
            let (word, mask) = (bit / 64, 1u64 << (bit % 64));
            new |= self.bits[word] & mask == 0;
            self.bits[word] |= mask;
        }
        new
    }
}

impl Workers {
    /// Workers sending at most `concurrency` runs at a time, holding at most twice `window`
    /// messages in runs, or `concurrency` batches of `batch_size`.
    pub(crate) fn new(
        concurrency: usize,
        window: usize,
        batch_size: usize,
        sending: Arc<Sending>,
    ) -> Self {
        let held = window
            .saturating_mul(2)
            .max(concurrency.saturating_mul(batch_size));
        let held_limit = u32::try_from(held)
            .unwrap_or(u32::MAX)
            .clamp(1, Semaphore::MAX_PERMITS as u32);
        Self {
            held_messages: Arc::new(Semaphore::new(held_limit as usize)),
            held_limit,
            set: JoinSet::new(),
            concurrency: concurrency.max(1),
            sending_places: Arc::new(Semaphore::new(concurrency.max(1))),
            sending,
            last: HashMap::new(),
            forget_at: 2 * concurrency.max(1),
            seen: Seen::new(),
        }
    }

    /// Waits for room, then starts sending `run`; fails with a finished worker's failure. A
    /// run that can be sent at once waits here for a place among those sending, so the reading
    /// goes no further ahead than that; a run that must wait (for its conversation's run before
    /// it, or for a batch in doubt to settle) is held instead, within the held messages, and
    /// takes its place once it may be sent.
    pub(crate) async fn start(&mut self, run: Run) -> Result<(), Error> {
        while let Some(joined) = self.set.try_join_next() {
            flatten(joined)?;
        }
        if self.last.len() > self.forget_at {
            // Forget the conversations whose last run is done, so memory stays flat; each look
            // at least doubles what is kept since the last, so looking costs O(1) a run.
            self.last.retain(|_, done| {
                matches!(done.try_recv(), Err(oneshot::error::TryRecvError::Empty))
            });
            self.forget_at = (2 * self.concurrency).max(2 * self.last.len());
        }
        let external_id = &run.conversation.external_id;
        // A hash shared with another conversation only costs a lookup: see `send::run`.
        let first = self.seen.insert(external_id);
        let (done, wait) = oneshot::channel();
        // The conversation's run before, unless it is over (sent, failed or panicked).
        let after = self
            .last
            .insert(external_id.clone(), wait)
            .and_then(|mut before| {
                matches!(before.try_recv(), Err(oneshot::error::TryRecvError::Empty))
                    .then_some(before)
            });
        let settle_until = self.sending.reconciliation.settle_until(external_id);
        let (place, held) = if after.is_none() && settle_until.is_none() {
            let place = self.room(&self.sending_places.clone(), 1).await?;
            (Some(place), None)
        } else {
            let messages = u32::try_from(run.messages.len())
                .unwrap_or(u32::MAX)
                .clamp(1, self.held_limit);
            let held = self.room(&self.held_messages.clone(), messages).await?;
            (None, Some(held))
        };
        let guard = RunGuard {
            sending: self.sending.clone(),
            sent: false,
            _signal: done,
        };
        let places = self.sending_places.clone();
        self.set.spawn(async move {
            let _held = held;
            let mut guard = guard;
            if let Some(after) = after {
                // Sent, failed or panicked: the run before is over either way.
                let _ = after.await;
            }
            let sending = &guard.sending;
            if let Some(until) = sending
                .reconciliation
                .settle_until(&run.conversation.external_id)
            {
                tokio::select! {
                    () = tokio::time::sleep_until(until) => {}
                    () = sending.stop.cancelled() => return Ok(()),
                }
            }
            let _place = match place {
                Some(place) => place,
                None => places.acquire_owned().await.expect("never closed"),
            };
            let sent = send::run(sending, run, first).await;
            guard.sent = sent.is_ok();
            sent
        });
        Ok(())
    }

    /// `permits` of `semaphore`, once runs that end have made room; fails with a finished run's
    /// failure.
    async fn room(
        &mut self,
        semaphore: &Arc<Semaphore>,
        permits: u32,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, Error> {
        loop {
            match semaphore.clone().try_acquire_many_owned(permits) {
                Ok(room) => return Ok(room),
                // Room is made by runs that end: wait for one, then look again.
                Err(_) => match self.set.join_next().await {
                    Some(joined) => flatten(joined)?,
                    // No run holds any: there is room.
                    None => {
                        return Ok(semaphore
                            .clone()
                            .acquire_many_owned(permits)
                            .await
                            .expect("never closed"));
                    }
                },
            }
        }
    }

    /// Stops every run started, and waits until they are dropped: their batches in flight are
    /// left in doubt.
    pub(crate) async fn abort(&mut self) {
        self.set.shutdown().await;
    }

    /// Waits for every run started; the first failure, if any.
    pub(crate) async fn finish(&mut self) -> Result<(), Error> {
        let mut failure = None;
        while let Some(joined) = self.set.join_next().await {
            if let Err(f) = flatten(joined) {
                failure.get_or_insert(f);
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

/// Held by a run's task. Dropped, it marks the import failed unless the run was sent (so also
/// when the task panics), then lets the conversation's next run go.
struct RunGuard {
    sending: Arc<Sending>,
    sent: bool,
    _signal: oneshot::Sender<()>,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if !self.sent {
            self.sending.fail();
        }
    }
}

fn flatten(joined: Result<Result<(), Error>, tokio::task::JoinError>) -> Result<(), Error> {
    joined.map_err(|e| Error::internal(format!("an import task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_seen_is_never_taken_for_a_new_one() {
        let mut seen = Seen::new();
        let ids: Vec<String> = (0..100_000).map(|i| format!("conversation-{i}")).collect();
        let new = ids.iter().filter(|id| seen.insert(id)).count();
        // Every one seen again is known; of the new ones, very few were taken for seen.
        assert!(ids.iter().all(|id| !seen.insert(id)));
        assert!(new >= 99_990, "{new} of 100,000 taken for new");
    }
}
