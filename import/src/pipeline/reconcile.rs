//! Reconciling batches in doubt, a stage of its own between the scheduling and the sending: a
//! batch the checkpoint shows as sent and never acknowledged may or may not be stored. Its
//! conversation waits until the batch has settled, is read back from ASAPP, and only what ASAPP
//! lacks of the batch is sent.
//!
//! What ASAPP holds of a conversation is the messages of its runs before the batch (in this
//! import's input), maybe some of the batch, and maybe messages from elsewhere. So, for each
//! conversation with a batch in doubt, the messages of its runs sent so far are kept (as a
//! [`Multiset`] of their keys), and set aside from the read-back; what is left that the batch
//! holds was stored. The conversations without a batch in doubt keep nothing.

use std::collections::HashMap;
use std::sync::Mutex;

use asapp_conversations::{ApiError, Client, types};

use super::checkpoint::InDoubt;
use super::message_key::{MessageKey, Multiset};

/// A conversation with batches in doubt, while its runs are sent.
#[derive(Debug, Default)]
struct Doubtful {
    /// Its batches in doubt not resolved yet.
    remaining: usize,
    /// The messages of its runs sent (or found acknowledged) so far in this import.
    earlier: Multiset,
    /// Until when a request that sent one of its batches in doubt may still be under way: its
    /// read-back waits until then. `None` once that time had passed when the import began.
    settle_until: Option<tokio::time::Instant>,
}

/// The conversations whose batches in doubt are still to be reconciled.
#[derive(Debug)]
pub(crate) struct Reconciliation {
    /// By external id.
    doubtful: Mutex<HashMap<String, Doubtful>>,
    /// Messages the checkpoint recorded as acknowledged, by conversation.
    acknowledged: HashMap<String, usize>,
}

/// Why a batch in doubt could not be reconciled.
#[derive(Debug)]
pub(crate) enum Doubt {
    Api(ApiError),
    /// The listing lacks messages the checkpoint shows as stored.
    Incomplete {
        listed: usize,
        missing: usize,
    },
}

impl From<ApiError> for Doubt {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl Reconciliation {
    /// The reconciliation of what the checkpoint recorded in doubt.
    pub(crate) fn new(in_doubt: InDoubt) -> Self {
        let doubtful = in_doubt
            .conversations
            .into_iter()
            .map(|(external_id, (remaining, settle_until))| {
                let doubtful = Doubtful {
                    remaining,
                    earlier: Multiset::default(),
                    settle_until,
                };
                (external_id, doubtful)
            })
            .collect();
        Self {
            doubtful: Mutex::new(doubtful),
            acknowledged: in_doubt.acknowledged,
        }
    }

    /// Until when the conversation's read-back of a batch in doubt must wait, so that it sees
    /// what a request of the import that sent the batch stored: `None` when it has no batch in
    /// doubt, or may be read back now.
    pub(crate) fn settle_until(&self, external_id: &str) -> Option<tokio::time::Instant> {
        self.lock()
            .get(external_id)
            .filter(|doubtful| doubtful.remaining > 0)
            .and_then(|doubtful| doubtful.settle_until)
    }

    /// Whether the conversation has a batch in doubt not reconciled yet: its runs' messages are
    /// then kept, for the read-back.
    pub(crate) fn has_doubt(&self, external_id: &str) -> bool {
        self.lock().contains_key(external_id)
    }

    /// The conversation's run is sent: its messages join what a later batch in doubt sets
    /// aside; a conversation with no batch in doubt left is forgotten.
    pub(crate) fn remember<'a>(
        &self,
        external_id: &str,
        messages: impl IntoIterator<Item = MessageKey<'a>>,
    ) {
        let mut doubtful = self.lock();
        if let Some(conversation) = doubtful.get_mut(external_id) {
            if conversation.remaining == 0 {
                doubtful.remove(external_id);
            } else {
                messages
                    .into_iter()
                    .for_each(|key| conversation.earlier.add(key));
            }
        }
    }

    /// Removes from `batch` (in doubt) what the conversation `id` (`external_id`) already holds
    /// of it, read back through `client`; `before` are the run's batches before it. A listing
    /// that lacks any of the messages before the batch is incomplete: nothing can be told from
    /// it. Once done, the batch is no longer in doubt.
    pub(crate) async fn reconcile(
        &self,
        client: &Client,
        id: &str,
        external_id: &str,
        before: &[Vec<types::Message>],
        batch: &mut Vec<types::Message>,
    ) -> Result<(), Doubt> {
        let mut earlier = self
            .lock()
            .get(external_id)
            .map(|doubtful| doubtful.earlier.clone())
            .unwrap_or_default();
        for message in before.iter().flatten() {
            earlier.add(MessageKey::sent(message));
        }
        let listed = client
            .get_messages()
            .conversation_id(id)
            .await?
            .into_inner()
            .items;
        let acknowledged = self.acknowledged.get(external_id).copied().unwrap_or(0);
        if listed.len() < acknowledged {
            return Err(Doubt::Incomplete {
                listed: listed.len(),
                missing: acknowledged - listed.len(),
            });
        }
        let mut have = Multiset::default();
        for message in &listed {
            let key = MessageKey::stored(message);
            if !earlier.take(&key) {
                have.add(key);
            }
        }
        if earlier.len() > 0 {
            return Err(Doubt::Incomplete {
                listed: listed.len(),
                missing: earlier.len(),
            });
        }
        batch.retain(|message| !have.take(&MessageKey::sent(message)));
        if let Some(doubtful) = self.lock().get_mut(external_id) {
            doubtful.remaining = doubtful.remaining.saturating_sub(1);
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Doubtful>> {
        self.doubtful
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
