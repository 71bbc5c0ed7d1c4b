//! The transcript format of `asapp import` and `asapp export`: JSON Lines, one message per line,
//! with the conversation it belongs to.
//!
//! ```text
//! {"externalId":"call-1","customerId":"c-1","customerName":"Ada","agentId":"a-1","agentName":"Grace","role":"customer","senderId":"c-1","text":"Hello","timestamp":"2024-01-23T11:42:42Z"}
//! ```
//!
//! `customerName`, `agentId` and `agentName` are optional; the other fields are required, `text`
//! must not be empty, `role` is `agent`, `customer` or `system`, and `timestamp` is RFC 3339.
//! Unknown fields are refused, so that a typo does not lose data silently.

use std::borrow::Cow;

use asapp_conversations::chrono::{DateTime, Utc};
use asapp_conversations::{DecodeError, types};
use serde::{Deserialize, Serialize};

/// One message of a transcript, with its conversation. Read, it borrows from the line's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Line<'a> {
    /// The conversation's id in your system (`externalId`).
    #[serde(borrow)]
    pub external_id: Cow<'a, str>,
    /// The customer's id (`customerId`).
    #[serde(borrow)]
    pub customer_id: Cow<'a, str>,
    /// The customer's name, if known.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<Cow<'a, str>>,
    /// The agent's id, if known.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Cow<'a, str>>,
    /// The agent's name, if known.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<Cow<'a, str>>,
    /// Who sent the message.
    pub role: types::ParticipantRole,
    /// The sender's id.
    #[serde(borrow)]
    pub sender_id: Cow<'a, str>,
    /// The message's text: personal data, never put in an error or a log.
    #[serde(borrow)]
    pub text: Cow<'a, str>,
    /// When it was sent, in UTC.
    pub timestamp: DateTime<Utc>,
    /// The conversation's metadata: never read from or written to JSON Lines (which have no
    /// such field), only given by a vendor document's reader (Contact Lens with contact
    /// records), for the upsert.
    #[serde(skip)]
    pub metadata: Option<std::sync::Arc<std::collections::BTreeMap<String, String>>>,
}

impl<'a> Line<'a> {
    /// Reads one line; the error says where and what is wrong with it, never its values.
    pub fn parse(text: &'a str) -> Result<Self, String> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let line: Self = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|e| DecodeError::new(e.path().to_string(), e.inner()).to_string())?;
        deserializer
            .end()
            .map_err(|e| DecodeError::new(".", &e).to_string())?;
        if line.external_id.is_empty() {
            return Err("externalId is empty".to_owned());
        }
        if line.text.is_empty() {
            return Err("text is empty".to_owned());
        }
        if line.agent_name.is_some() && line.agent_id.is_none() {
            return Err("agentName without agentId".to_owned());
        }
        if line.role.is_unknown() {
            // Unknown roles decode, so that `export` writes what ASAPP sent; an import sends only
            // the roles the description lists, so that a typo is an invalid line, not a 400.
            // Not shown: a line whose columns shifted would put a customer's words here.
            return Err(format!(
                "role is none of {}",
                types::ParticipantRole::KNOWN.join(", ")
            ));
        }
        Ok(line)
    }

    /// The message this line holds.
    pub fn message(&self) -> Result<types::Message, String> {
        types::Message::builder()
            .sender(
                types::Participant::builder()
                    .role(self.role.clone())
                    .external_id(self.sender_id.as_ref()),
            )
            .text(self.text.as_ref())
            .timestamp(self.timestamp)
            .try_into()
            .map_err(text)
    }

    /// The conversation this line belongs to, as an upsert.
    pub fn conversation(&self) -> Result<types::TimeBasedConversation, String> {
        let mut conversation = types::TimeBasedConversation::builder()
            .external_id(self.external_id.as_ref())
            .customer(
                types::Customer::builder()
                    .external_id(self.customer_id.as_ref())
                    .name(self.customer_name.as_deref().map(str::to_owned)),
            )
            .timestamp(self.timestamp);
        if let Some(metadata) = &self.metadata {
            conversation = conversation.metadata(metadata.as_ref().clone());
        }
        if let Some(agent) = &self.agent_id {
            let agent = types::Agent::builder()
                .external_id(agent.as_ref())
                .name(self.agent_name.as_deref().map(str::to_owned));
            conversation = conversation.agent(Some(agent.try_into().map_err(text)?));
        }
        conversation.try_into().map_err(text)
    }

    /// A stored message of `conversation` as a line.
    pub fn from_stored(
        conversation: &'a types::Conversation,
        message: &'a types::ConversationMessage,
    ) -> Self {
        Self {
            external_id: Cow::Borrowed(&conversation.external_id),
            customer_id: Cow::Borrowed(&conversation.customer.external_id),
            customer_name: conversation.customer.name.as_deref().map(Cow::Borrowed),
            agent_id: conversation
                .agent
                .as_ref()
                .map(|a| Cow::Borrowed(a.external_id.as_str())),
            agent_name: conversation
                .agent
                .as_ref()
                .and_then(|a| a.name.as_deref())
                .map(Cow::Borrowed),
            role: message.sender.role.clone(),
            sender_id: Cow::Borrowed(message.sender.external_id.as_deref().unwrap_or_default()),
            text: Cow::Borrowed(&message.text),
            timestamp: message.client_timestamp,
            metadata: None,
        }
    }
}

fn text(error: types::error::ConversionError) -> String {
    error.to_string()
}
