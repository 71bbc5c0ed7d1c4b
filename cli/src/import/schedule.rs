//! Scheduling runs: at most `concurrency` at a time, the runs of different conversations
//! concurrently, and the runs of one conversation one after the other, in input order, one batch
//! at a time. So when an import stops, each conversation has stored the messages of its input up
//! to some batch; the batch in flight then, and the next one (whose intent is synced while the
//! one before flies), are in doubt.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher as _, RandomState};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::runs::Run;
use super::send::{self, Sending};
use crate::{Exit, Failure};

/// The runs being sent.
pub(crate) struct Workers {
    set: JoinSet<Result<(), Failure>>,
    concurrency: usize,
    sending: Arc<Sending>,
    /// For each conversation with a run started, a signal that the run is done: the
    /// conversation's next run waits for it.
    last: HashMap<String, oneshot::Receiver<()>>,
    /// The conversations seen so far, by a hash of their external id: 16 bytes or so each.
    seen: HashSet<u64>,
    hasher: RandomState,
}

impl Workers {
    pub(crate) fn new(concurrency: usize, sending: Arc<Sending>) -> Self {
        Self {
            set: JoinSet::new(),
            concurrency: concurrency.max(1),
            sending,
            last: HashMap::new(),
            seen: HashSet::new(),
            hasher: RandomState::new(),
        }
    }

    /// Waits for room, then starts sending `run`; fails with a finished worker's failure.
    pub(crate) async fn start(&mut self, run: Run) -> Result<(), Failure> {
        while self.set.len() >= self.concurrency {
            if let Some(joined) = self.set.join_next().await {
                flatten(joined)?;
            }
        }
        if self.last.len() > 2 * self.concurrency {
            // Forget the conversations whose last run is done, so memory stays flat.
            self.last.retain(|_, done| {
                matches!(done.try_recv(), Err(oneshot::error::TryRecvError::Empty))
            });
        }
        let external_id = &run.conversation.external_id;
        // A hash shared with another conversation only costs a lookup: see `send::run`.
        let first = self.seen.insert(self.hasher.hash_one(external_id));
        let (done, wait) = oneshot::channel();
        let after = self.last.insert(external_id.clone(), wait);
        let guard = Done {
            sending: self.sending.clone(),
            sent: false,
            _signal: done,
        };
        self.set.spawn(async move {
            let mut guard = guard;
            if let Some(after) = after {
                // Sent, failed or panicked: the run before is over either way.
                let _ = after.await;
            }
            let sent = send::run(&guard.sending, run, first).await;
            guard.sent = sent.is_ok();
            sent
        });
        Ok(())
    }

    /// Waits for every run started; the first failure, if any.
    pub(crate) async fn finish(&mut self) -> Result<(), Failure> {
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
struct Done {
    sending: Arc<Sending>,
    sent: bool,
    _signal: oneshot::Sender<()>,
}

impl Drop for Done {
    fn drop(&mut self) {
        if !self.sent {
            self.sending.failed.store(true, Ordering::Relaxed);
        }
    }
}

fn flatten(joined: Result<Result<(), Failure>, tokio::task::JoinError>) -> Result<(), Failure> {
    joined.map_err(|e| Failure {
        exit: Exit::Failed,
        message: format!("an import task failed: {e}"),
    })?
}
