//! The sandbox's memory: conversations by id and by `externalId`, and each conversation's
//! messages in chronological order, with caps on how much it holds.

use std::collections::{BTreeMap, HashMap};

use asapp_conversations::types;
use chrono::{DateTime, Utc};

/// Stored conversations and messages.
#[derive(Debug)]
pub(crate) struct Store {
    conversations: HashMap<String, Stored>,
    by_external_id: HashMap<String, String>,
    messages: usize,
    max_conversations: usize,
    max_messages: usize,
}

#[derive(Debug)]
struct Stored {
    conversation: types::Conversation,
    /// Messages by (when they were sent, arrival order): chronological, and stable for equal
    /// timestamps.
    messages: BTreeMap<(DateTime<Utc>, u64), types::ConversationMessage>,
    /// Message id to its key in `messages`.
    message_keys: HashMap<String, (DateTime<Utc>, u64)>,
    next: u64,
}

/// Why the store refused a change.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No conversation with this id.
    NoConversation,
    /// The cap on conversations is reached.
    ConversationsFull(usize),
    /// Adding the messages would pass the cap on messages.
    MessagesFull(usize),
    /// A value the store cannot hold (a bug: requests are validated before they get here).
    Invalid(String),
}

fn invalid(error: types::error::ConversionError) -> Refusal {
    Refusal::Invalid(error.to_string())
}

/// A message to store, already validated.
#[derive(Debug)]
pub(crate) struct NewMessage {
    pub(crate) text: types::MessageText,
    pub(crate) sender: types::Participant,
    pub(crate) timestamp: DateTime<Utc>,
}

impl Store {
    pub(crate) fn new(max_conversations: usize, max_messages: usize) -> Self {
        Self {
            conversations: HashMap::new(),
            by_external_id: HashMap::new(),
            messages: 0,
            max_conversations,
            max_messages,
        }
    }

    /// Creates the conversation with `conversation.external_id`, or updates it keeping its id.
    /// Returns the id.
    pub(crate) fn upsert(
        &mut self,
        conversation: types::TimeBasedConversation,
        new_id: impl FnOnce() -> String,
    ) -> Result<String, Refusal> {
        self.check_upsert(&conversation.external_id)?;
        let existing = self.by_external_id.get(&conversation.external_id).cloned();
        let id = existing.unwrap_or_else(new_id);
        let stored: types::Conversation = types::Conversation::builder()
            .id(Some(id.clone()))
            .external_id(conversation.external_id.clone())
            .agent(conversation.agent)
            .customer(conversation.customer)
            .metadata(conversation.metadata)
            .try_into()
            .map_err(invalid)?;
        match self.conversations.get_mut(&id) {
            Some(entry) => entry.conversation = stored,
            None => {
                self.by_external_id
                    .insert(conversation.external_id, id.clone());
                self.conversations.insert(
                    id.clone(),
                    Stored {
                        conversation: stored,
                        messages: BTreeMap::new(),
                        message_keys: HashMap::new(),
                        next: 0,
                    },
                );
            }
        }
        Ok(id)
    }

    /// Why [`Store::upsert`] of a conversation with `external_id` would be refused, if it would;
    /// changes nothing.
    pub(crate) fn check_upsert(&self, external_id: &str) -> Result<(), Refusal> {
        if !self.by_external_id.contains_key(external_id)
            && self.conversations.len() >= self.max_conversations
        {
            return Err(Refusal::ConversationsFull(self.max_conversations));
        }
        Ok(())
    }

    /// Why [`Store::add_messages`] of `count` messages to conversation `id` would be refused, if
    /// it would; changes nothing.
    pub(crate) fn check_add(&self, id: &str, count: usize) -> Result<(), Refusal> {
        if !self.conversations.contains_key(id) {
            return Err(Refusal::NoConversation);
        }
        if self.messages.saturating_add(count) > self.max_messages {
            return Err(Refusal::MessagesFull(self.max_messages));
        }
        Ok(())
    }

    /// Stores a conversation exactly as given, with its id (the seed data).
    pub(crate) fn insert_conversation(&mut self, conversation: types::Conversation) {
        let Some(id) = conversation.id.clone() else {
            return;
        };
        self.by_external_id
            .insert(conversation.external_id.clone(), id.clone());
        self.conversations.insert(
            id,
            Stored {
                conversation,
                messages: BTreeMap::new(),
                message_keys: HashMap::new(),
                next: 0,
            },
        );
    }

    pub(crate) fn conversation(&self, id: &str) -> Option<&types::Conversation> {
        self.conversations.get(id).map(|s| &s.conversation)
    }

    pub(crate) fn by_external_id(&self, external_id: &str) -> Option<&types::Conversation> {
        let id = self.by_external_id.get(external_id)?;
        self.conversation(id)
    }

    /// Adds `messages` to conversation `id`, all or none; returns their ids.
    pub(crate) fn add_messages(
        &mut self,
        id: &str,
        messages: Vec<NewMessage>,
        now: DateTime<Utc>,
        mut new_id: impl FnMut() -> String,
    ) -> Result<Vec<String>, Refusal> {
        self.check_add(id, messages.len())?;
        // Everything that can fail happens before anything is stored: all or none.
        let mut prepared = Vec::with_capacity(messages.len());
        for message in messages {
            let message_id = new_id();
            let stored: types::ConversationMessage = types::ConversationMessage::builder()
                .text(message.text.as_str())
                .sender(
                    types::MessageSender::builder()
                        .role(message.sender.role)
                        .external_id(Some(message.sender.external_id)),
                )
                .message_id(message_id.as_str())
                .created_timestamp(now)
                .client_timestamp(message.timestamp)
                .try_into()
                .map_err(invalid)?;
            prepared.push((message_id, stored));
        }
        let stored = self
            .conversations
            .get_mut(id)
            .ok_or(Refusal::NoConversation)?;
        let mut ids = Vec::with_capacity(prepared.len());
        for (message_id, message) in prepared {
            let key = (message.client_timestamp, stored.next);
            stored.next += 1;
            stored.messages.insert(key, message);
            stored.message_keys.insert(message_id.clone(), key);
            ids.push(message_id);
        }
        self.messages += ids.len();
        Ok(ids)
    }

    /// Stores a message exactly as given (the seed data).
    pub(crate) fn insert_stored(
        &mut self,
        id: &str,
        message: types::ConversationMessage,
    ) -> Result<(), Refusal> {
        let stored = self
            .conversations
            .get_mut(id)
            .ok_or(Refusal::NoConversation)?;
        let key = (message.client_timestamp, stored.next);
        stored.next += 1;
        stored
            .message_keys
            .insert(message.message_id.to_string(), key);
        stored.messages.insert(key, message);
        self.messages += 1;
        Ok(())
    }

    /// The messages of conversation `id`, oldest first, at most `limit`.
    pub(crate) fn messages(
        &self,
        id: &str,
        limit: usize,
    ) -> Option<Vec<types::ConversationMessage>> {
        let stored = self.conversations.get(id)?;
        Some(stored.messages.values().take(limit).cloned().collect())
    }

    pub(crate) fn message(
        &self,
        id: &str,
        message_id: &str,
    ) -> Option<&types::ConversationMessage> {
        let stored = self.conversations.get(id)?;
        let key = stored.message_keys.get(message_id)?;
        stored.messages.get(key)
    }
}
