//! What identifies a message for an import: [`MessageKey`], the same for a message sent and the
//! message ASAPP stored from it, so that the checkpoint's [`Digest`] of a batch and the read-back
//! of a batch in doubt compare messages by the same fields.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use asapp_conversations::types;

/// When a message was sent (to the nanosecond), its sender's role and id, and its text.
///
/// `Debug` leaves the text out: it is a customer's words.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct MessageKey<'a> {
    seconds: i64,
    nanos: u32,
    role: Cow<'a, str>,
    sender: Cow<'a, str>,
    text: Cow<'a, str>,
}

impl<'a> MessageKey<'a> {
    /// The key of a message as the import sends it.
    pub(crate) fn sent(message: &'a types::Message) -> Self {
        Self {
            seconds: message.timestamp.timestamp(),
            nanos: message.timestamp.timestamp_subsec_nanos(),
            role: Cow::Borrowed(message.sender.role.as_str()),
            sender: Cow::Borrowed(&message.sender.external_id),
            text: Cow::Borrowed(&message.text),
        }
    }

    /// The key of a message as ASAPP lists it: its `clientTimestamp` is the `timestamp` it was
    /// sent with.
    pub(crate) fn stored(message: &'a types::ConversationMessage) -> Self {
        Self {
            seconds: message.client_timestamp.timestamp(),
            nanos: message.client_timestamp.timestamp_subsec_nanos(),
            role: Cow::Borrowed(message.sender.role.as_str()),
            sender: Cow::Borrowed(message.sender.external_id.as_deref().unwrap_or_default()),
            text: Cow::Borrowed(&message.text),
        }
    }

    /// The key, owning its strings.
    pub(crate) fn into_owned(self) -> MessageKey<'static> {
        MessageKey {
            seconds: self.seconds,
            nanos: self.nanos,
            role: Cow::Owned(self.role.into_owned()),
            sender: Cow::Owned(self.sender.into_owned()),
            text: Cow::Owned(self.text.into_owned()),
        }
    }

    /// Feeds the key to `hash`, field by field.
    fn feed(&self, hash: &mut Fnv) {
        hash.bytes(&self.seconds.to_le_bytes());
        hash.bytes(&self.nanos.to_le_bytes());
        hash.text(&self.role);
        hash.text(&self.sender);
        hash.text(&self.text);
    }
}

impl fmt::Debug for MessageKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageKey")
            .field("seconds", &self.seconds)
            .field("nanos", &self.nanos)
            .field("role", &self.role)
            .field("sender", &self.sender)
            .field("text", &format_args!("<{} bytes>", self.text.len()))
            .finish()
    }
}

/// Messages counted by their keys: identical messages said twice count twice.
#[derive(Debug, Default, Clone)]
pub(crate) struct Multiset(HashMap<MessageKey<'static>, usize>);

impl Multiset {
    /// Adds one occurrence of `key`.
    pub(crate) fn add(&mut self, key: MessageKey<'_>) {
        *self.0.entry(key.into_owned()).or_default() += 1;
    }

    /// Takes one occurrence of `key` away; `false` when there is none.
    pub(crate) fn take(&mut self, key: &MessageKey<'_>) -> bool {
        // The map's keys own their strings, so the one looked up does too (this serves only the
        // read-back of a batch in doubt).
        match self.0.get_mut(&key.clone().into_owned()) {
            Some(count) if *count > 0 => {
                *count -= 1;
                true
            }
            _ => false,
        }
    }

    /// How many occurrences are left.
    pub(crate) fn len(&self) -> usize {
        self.0.values().sum()
    }
}

/// What identifies a batch's content: FNV-1a (64 bits) over the conversation's external id and
/// each message's key. Written as 16 hex digits; stable across builds and platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Digest(u64);

impl Digest {
    pub(crate) fn of(external_id: &str, messages: &[types::Message]) -> Self {
        let mut hash = Fnv::default();
        hash.text(external_id);
        for message in messages {
            MessageKey::sent(message).feed(&mut hash);
        }
        Self(hash.0)
    }

    pub(crate) fn hex(self) -> String {
        format!("{:016x}", self.0)
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        (text.len() == 16)
            .then(|| u64::from_str_radix(text, 16).ok())
            .flatten()
            .map(Self)
    }
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn bytes(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// A length-prefixed string, so that two strings cannot run into each other.
    fn text(&mut self, text: &str) {
        self.bytes(&(text.len() as u64).to_le_bytes());
        self.bytes(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str, role: types::ParticipantRole) -> types::Message {
        types::Message::builder()
            .text(text)
            .sender(types::Participant::builder().role(role).external_id("c-1"))
            .timestamp("2024-01-23T11:42:42.123456789Z".parse::<asapp_conversations::chrono::DateTime<asapp_conversations::chrono::Utc>>().unwrap())
            .try_into()
            .unwrap()
    }

    #[test]
    fn a_sent_message_and_its_stored_copy_have_one_key() {
        let sent = message("hello", types::ParticipantRole::Customer);
        let stored: types::ConversationMessage = types::ConversationMessage::builder()
            .text("hello")
            .sender(
                types::MessageSender::builder()
                    .role(types::ParticipantRole::Customer)
                    .external_id(Some("c-1".to_owned())),
            )
            .message_id("01GMXE90AEV7H3J4DPBDKB1R79")
            .created_timestamp(asapp_conversations::chrono::Utc::now())
            .client_timestamp(sent.timestamp)
            .try_into()
            .unwrap();
        assert_eq!(MessageKey::sent(&sent), MessageKey::stored(&stored));
        let other = message("hello", types::ParticipantRole::Agent);
        assert_ne!(MessageKey::sent(&sent), MessageKey::sent(&other));
        assert!(!format!("{:?}", MessageKey::sent(&sent)).contains("hello"));
    }

    #[test]
    fn the_digest_is_the_checkpoint_format_of_earlier_versions() {
        // FNV-1a over the same fields, computed independently (and what earlier versions wrote
        // for the same batch, so that a resume across the upgrade reads their checkpoints).
        let batch = [message("hello", types::ParticipantRole::Customer)];
        assert_eq!(Digest::of("call-1", &batch).hex(), "a6a5cba04e1556c4");
        assert_eq!(
            Digest::parse("a6a5cba04e1556c4"),
            Some(Digest::of("call-1", &batch))
        );
        assert_eq!(Digest::parse("e4e5"), None);
    }

    #[test]
    fn a_multiset_counts_messages_said_twice() {
        let hello = message("hello", types::ParticipantRole::Customer);
        let mut set = Multiset::default();
        set.add(MessageKey::sent(&hello));
        set.add(MessageKey::sent(&hello));
        assert_eq!(set.len(), 2);
        assert!(set.take(&MessageKey::sent(&hello)));
        assert!(set.take(&MessageKey::sent(&hello)));
        assert!(!set.take(&MessageKey::sent(&hello)));
    }
}
