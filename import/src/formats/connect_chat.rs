//! Amazon Connect chat transcripts (`connect-chat`).
//!
//! Sources: Amazon Connect Participant Service API Reference, `Item`
//! (<https://docs.aws.amazon.com/connect-participant/latest/APIReference/API_Item.html>: fields,
//! `ParticipantRole` values AGENT | CUSTOMER | SYSTEM | CUSTOM_BOT | SUPERVISOR, `Type` values
//! TYPING | PARTICIPANT_JOINED | PARTICIPANT_LEFT | CHAT_ENDED | TRANSFER_SUCCEEDED |
//! TRANSFER_FAILED | MESSAGE | EVENT | ATTACHMENT | CONNECTION_ACK | MESSAGE_DELIVERED |
//! MESSAGE_READ) and `GetTranscript`
//! (<https://docs.aws.amazon.com/connect-participant/latest/APIReference/API_GetTranscript.html>:
//! the answer `{InitialContactId, Transcript, NextToken}`, and the event content types
//! `application/vnd.amazonaws.connect.event.*` of ended chats).
//!
//! The documents accepted:
//! - the transcript Amazon Connect saves in S3: an object with `ContactId` (also `Version`,
//!   `AWSAccountId`, `InstanceId`, `InitialContactId`), `Participants` (`[{ParticipantId, …}]`)
//!   and `Transcript[]` of `Item`s. That wrapper is seen in public files, not on an official
//!   page, so it is optional:
//! - a `GetTranscript` answer (`InitialContactId`, `Transcript`), pages joined into one
//!   `Transcript` array by whoever saved it;
//! - a bare array of `Item`s.
//!
//! Mapping:
//! - `externalId`: `ContactId`, else `InitialContactId`, else the one `ContactId` all the items
//!   that have one share; else the document is refused.
//! - Items: `Type` `MESSAGE` (or no `Type`) with `ContentType` `text/plain` or `text/markdown`
//!   become messages. Events (a `Type` of the event kinds above, or a `ContentType`
//!   `application/vnd.amazonaws.connect.event.*`: joins, leaves, typing, receipts) carry no text
//!   and are skipped and counted; so are `ATTACHMENT`s (only text is imported). A message of
//!   another content type (interactive messages, JSON) or of an unknown `Type` is invalid.
//! - Role: the item's `ParticipantRole` (else the wrapper participant's): `AGENT` → agent,
//!   `CUSTOMER` → customer, `SYSTEM` → system; `CUSTOM_BOT` and `SUPERVISOR` need the role map.
//! - Sender id: `ParticipantId`, else `<externalId>:<ParticipantRole>`. Names: `DisplayName`.
//! - Time: `AbsoluteTime` (ISO 8601 UTC with milliseconds). No base time is needed.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use asapp_conversations::types::ParticipantRole;

use super::redact::{Object, entry, pointer, shown, top_level};
use super::{
    Conversation, Document, Format, MessageEntry, Parties, Party, ReadOptions, Refusal, non_blank,
    parse_time,
};
use crate::transcript::Line;

/// The saved transcript's wrapper, or a `GetTranscript` answer, borrowed from its text; its
/// `Transcript` is `T`: the items as their text, or ignored (to tell why the wrapper does not
/// fit).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SavedTranscript<'a, T = Items<'a>> {
    #[serde(borrow)]
    contact_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    initial_contact_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    participants: Vec<Object<WrapperParticipant<'a>>>,
    #[serde(default)]
    transcript: T,
}

/// The items of `Transcript`, each as its text; `None` if it is not an array, which refuses the
/// document once the rest of the wrapper is read.
#[derive(Debug, Default)]
struct Items<'a>(Option<Vec<&'a RawValue>>);

impl<'de: 'a, 'a> Deserialize<'de> for Items<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemsVisitor(PhantomData))
    }
}

/// Reads [`Items`]: an array's items, and nothing of any other value.
struct ItemsVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ItemsVisitor<'a> {
    type Value = Items<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items<'a>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Items(Some(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Items<'a>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Items(None))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Items<'a>, E> {
        Ok(Items(None))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Items<'a>, E> {
        Ok(Items(None))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Items<'a>, E> {
        Ok(Items(None))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Items<'a>, E> {
        Ok(Items(None))
    }

    fn visit_str<E>(self, _: &str) -> Result<Items<'a>, E> {
        Ok(Items(None))
    }

    fn visit_unit<E>(self) -> Result<Items<'a>, E> {
        Ok(Items(None))
    }
}

/// A participant of the wrapper.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WrapperParticipant<'a> {
    #[serde(borrow)]
    participant_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    participant_role: Option<Cow<'a, str>>,
    #[serde(borrow)]
    display_name: Option<Cow<'a, str>>,
}

/// An `Item` of the transcript: a message or an event.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Item<'a> {
    #[serde(borrow)]
    absolute_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    content_type: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "Type")]
    item_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    participant_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    display_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    participant_role: Option<Cow<'a, str>>,
    #[serde(borrow)]
    contact_id: Option<Cow<'a, str>>,
}

/// The item types that are events: no text.
const EVENT_TYPES: [&str; 10] = [
    "EVENT",
    "TYPING",
    "PARTICIPANT_JOINED",
    "PARTICIPANT_LEFT",
    "CHAT_ENDED",
    "TRANSFER_SUCCEEDED",
    "TRANSFER_FAILED",
    "CONNECTION_ACK",
    "MESSAGE_DELIVERED",
    "MESSAGE_READ",
];

/// The content types of events.
const EVENT_CONTENT_TYPE: &str = "application/vnd.amazonaws.connect.event.";

/// The content types imported as text.
const TEXT_CONTENT_TYPES: [&str; 2] = ["text/plain", "text/markdown"];

/// What an item is.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Message,
    Event,
    Attachment,
    /// A `Type` this reader does not know.
    Unknown,
}

impl Item<'_> {
    fn kind(&self) -> Kind {
        let content_type = self.content_type.as_deref().unwrap_or_default();
        if content_type
            .to_ascii_lowercase()
            .starts_with(EVENT_CONTENT_TYPE)
        {
            return Kind::Event;
        }
        match self.item_type.as_deref().map(str::to_ascii_uppercase) {
            None => Kind::Message,
            Some(t) if t == "MESSAGE" => Kind::Message,
            Some(t) if t == "ATTACHMENT" => Kind::Attachment,
            Some(t) if EVENT_TYPES.contains(&t.as_str()) => Kind::Event,
            Some(_) => Kind::Unknown,
        }
    }
}

/// Connect's documented roles.
fn documented_role(role: &str) -> Option<ParticipantRole> {
    match role.to_ascii_uppercase().as_str() {
        "AGENT" => Some(ParticipantRole::Agent),
        "CUSTOMER" => Some(ParticipantRole::Customer),
        "SYSTEM" => Some(ParticipantRole::System),
        _ => None,
    }
}

/// Reads a chat transcript from its text: the wrapper, a `GetTranscript` answer, or a bare
/// array of items.
pub(super) fn read(text: &str, options: &ReadOptions) -> Result<Document, Refusal> {
    let (wrapper, items, items_at) = if text.trim_start().starts_with('[') {
        let items = top_level::<Vec<&RawValue>, Vec<IgnoredAny>>(text, Format::ConnectChat)?;
        (None, items, "")
    } else {
        let mut wrapper: SavedTranscript = top_level::<
            Object<_>,
            Object<SavedTranscript<'_, IgnoredAny>>,
        >(text, Format::ConnectChat)?
        .0;
        let items = std::mem::take(&mut wrapper.transcript)
            .0
            .ok_or_else(|| Refusal::Shape {
                format: Format::ConnectChat,
                pointer: "/Transcript".to_owned(),
                reason: "not an array".to_owned(),
            })?;
        (Some(wrapper), items, "/Transcript")
    };
    let items: Vec<(String, Result<Item<'_>, String>)> = items
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            let at = pointer(items_at, index);
            let item = entry(raw, &at);
            (at, item)
        })
        .collect();
    let (external_id, external_id_from) = external_id(wrapper.as_ref(), &items)?;
    let wrapper_participants = wrapper.as_ref().map_or(&[][..], |w| &w.participants[..]);
    let resolve = |role: &str| {
        options
            .role_map
            .resolve("ParticipantRole", role, documented_role)
    };
    let mut parties = Parties::default();
    for participant in wrapper_participants {
        if let Some(id) = non_blank(participant.participant_id.as_deref()) {
            let vendor_role = participant.participant_role.as_deref().unwrap_or_default();
            parties.add(Party {
                id: id.to_owned(),
                role: resolve(vendor_role).ok(),
                vendor_role: vendor_role.to_owned(),
                name: participant.display_name.as_deref().map(str::to_owned),
            });
        }
    }
    for (_, item) in &items {
        if let Ok(item) = item
            && let Some(vendor_role) = role_of(item, wrapper_participants)
        {
            parties.add(Party {
                id: sender_id(item, vendor_role, &external_id),
                role: resolve(vendor_role).ok(),
                vendor_role: vendor_role.to_owned(),
                name: item.display_name.as_deref().map(str::to_owned),
            });
        }
    }
    let conversation = parties.conversation(&external_id)?;
    let mut document = Document {
        format: Format::ConnectChat,
        external_id,
        external_id_from,
        entries: Vec::new(),
        base_time: None,
        skipped_events: 0,
        skipped_attachments: 0,
        copy: None,
    };
    for (at, item) in items {
        let item = match item {
            Ok(item) => item,
            Err(reason) => {
                document.entries.push(MessageEntry {
                    pointer: at,
                    line: Err(reason),
                });
                continue;
            }
        };
        match item.kind() {
            Kind::Event => document.skipped_events += 1,
            Kind::Attachment => document.skipped_attachments += 1,
            Kind::Unknown => document.entries.push(MessageEntry {
                pointer: at,
                line: Err(format!(
                    "Type {} is neither a message nor a known event",
                    shown(item.item_type.as_deref().unwrap_or_default())
                )),
            }),
            Kind::Message => document.entries.push(MessageEntry {
                pointer: at,
                line: message(&item, wrapper_participants, &conversation, &resolve),
            }),
        }
    }
    Ok(document)
}

/// The conversation id: the wrapper's, else the one the items share.
fn external_id(
    wrapper: Option<&SavedTranscript<'_>>,
    items: &[(String, Result<Item<'_>, String>)],
) -> Result<(String, &'static str), Refusal> {
    if let Some(wrapper) = wrapper {
        if let Some(id) = non_blank(wrapper.contact_id.as_deref()) {
            return Ok((id.trim().to_owned(), "ContactId"));
        }
        if let Some(id) = non_blank(wrapper.initial_contact_id.as_deref()) {
            return Ok((id.trim().to_owned(), "InitialContactId"));
        }
    }
    let mut ids = items
        .iter()
        .filter_map(|(_, item)| item.as_ref().ok())
        .filter_map(|item| non_blank(item.contact_id.as_deref()))
        .map(str::trim);
    let first = ids.next();
    match first {
        Some(id) if ids.all(|other| other == id) => Ok((id.to_owned(), "the items' ContactId")),
        _ => Err(Refusal::NoExternalId {
            looked_for: "ContactId, InitialContactId, then one ContactId shared by the items",
        }),
    }
}

/// The item's vendor role: its own, else its participant's in the wrapper.
fn role_of<'a>(
    item: &'a Item<'_>,
    participants: &'a [Object<WrapperParticipant<'_>>],
) -> Option<&'a str> {
    non_blank(item.participant_role.as_deref()).or_else(|| {
        let id = non_blank(item.participant_id.as_deref())?;
        participants
            .iter()
            .find(|p| p.participant_id.as_deref() == Some(id))
            .and_then(|p| non_blank(p.participant_role.as_deref()))
    })
}

/// The item's sender id: `ParticipantId`, else derived from the role.
fn sender_id(item: &Item<'_>, vendor_role: &str, external_id: &str) -> String {
    match non_blank(item.participant_id.as_deref()) {
        Some(id) => id.to_owned(),
        None => format!("{external_id}:{}", vendor_role.trim()),
    }
}

/// Whether `text` is a media type, `type/subtype` of token characters (so that it can be shown:
/// it holds no message text).
fn is_media_type(text: &str) -> bool {
    let token = |part: &str| {
        !part.is_empty()
            && part.len() <= 100
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_'))
    };
    text.split_once('/')
        .is_some_and(|(kind, subtype)| token(kind) && token(subtype))
}

/// The line of a message item.
fn message(
    item: &Item<'_>,
    participants: &[Object<WrapperParticipant<'_>>],
    conversation: &Conversation,
    resolve: &impl Fn(&str) -> Result<ParticipantRole, String>,
) -> Result<Line<'static>, String> {
    let content_type = item
        .content_type
        .as_deref()
        .ok_or("ContentType is missing")?;
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !TEXT_CONTENT_TYPES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(media_type))
    {
        return Err(if is_media_type(media_type) {
            format!("ContentType `{media_type}` is not text/plain or text/markdown")
        } else {
            "ContentType is not text/plain or text/markdown".to_owned()
        });
    }
    let vendor_role = role_of(item, participants).ok_or("ParticipantRole is missing")?;
    let role = resolve(vendor_role)?;
    let text = non_blank(item.content.as_deref()).ok_or("Content is empty or missing")?;
    let time = item
        .absolute_time
        .as_deref()
        .ok_or("AbsoluteTime is missing")?;
    let timestamp = parse_time(time).ok_or("AbsoluteTime is not an ISO 8601 (RFC 3339) time")?;
    conversation.line(
        role,
        &sender_id(item, vendor_role, &conversation.external_id),
        text,
        timestamp,
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::{conversation, read_sample, summary};
    use super::super::{RoleMap, read_document};
    use super::*;

    /// Sample → external id, conversation fields, entries and skipped counts.
    #[test]
    fn samples_read_as_documented() {
        struct Case {
            sample: &'static str,
            role_map: &'static [&'static str],
            external_id_from: &'static str,
            conversation: &'static str,
            entries: &'static [&'static str],
            skipped_events: usize,
            skipped_attachments: usize,
        }
        let cases = [
            Case {
                sample: "saved-transcript.json",
                role_map: &[],
                external_id_from: "ContactId",
                conversation: "chat-5d1e7a02 p-cust-01 Zanzibar Quill p-agent-07 Agent Marigold",
                entries: &[
                    "/Transcript/2 system p-sys-00 2024-05-06T09:00:01.015Z",
                    "/Transcript/3 customer p-cust-01 2024-05-06T09:00:12.345Z",
                    "/Transcript/6 agent p-agent-07 2024-05-06T09:01:02.003Z",
                    "/Transcript/8 customer p-cust-01 2024-05-06T09:01:30.900Z",
                    "/Transcript/9 agent p-agent-07 2024-05-06T09:02:00.000Z",
                ],
                skipped_events: 5,
                skipped_attachments: 1,
            },
            Case {
                sample: "bot-and-supervisor.json",
                role_map: &[],
                external_id_from: "ContactId",
                conversation: "chat-b07b07 p-c - p-a Agent Fennel",
                entries: &[
                    "/Transcript/0 invalid: ParticipantRole `CUSTOM_BOT` has no ASAPP role: map it with --role-map 'CUSTOM_BOT=customer|agent|system'",
                    "/Transcript/1 customer p-c 2024-05-07T10:00:05.000Z",
                    "/Transcript/2 invalid: ParticipantRole `SUPERVISOR` has no ASAPP role: map it with --role-map 'SUPERVISOR=customer|agent|system'",
                    "/Transcript/3 agent p-a 2024-05-07T10:00:20.000Z",
                    "/Transcript/4 invalid: ContentType `application/vnd.amazonaws.connect.message.interactive` is not text/plain or text/markdown",
                    "/Transcript/5 invalid: AbsoluteTime is not an ISO 8601 (RFC 3339) time",
                    "/Transcript/6 invalid: Type `SHRUG` is neither a message nor a known event",
                ],
                skipped_events: 0,
                skipped_attachments: 0,
            },
            Case {
                sample: "bot-and-supervisor.json",
                role_map: &["custom_bot=system", "SUPERVISOR=agent"],
                external_id_from: "ContactId",
                conversation: "chat-b07b07 p-c - p-s Supervisor Basil",
                entries: &[
                    "/Transcript/0 system p-bot 2024-05-07T10:00:00.000Z",
                    "/Transcript/1 customer p-c 2024-05-07T10:00:05.000Z",
                    "/Transcript/2 agent p-s 2024-05-07T10:00:10.000Z",
                    "/Transcript/3 agent p-a 2024-05-07T10:00:20.000Z",
                    "/Transcript/4 invalid: ContentType `application/vnd.amazonaws.connect.message.interactive` is not text/plain or text/markdown",
                    "/Transcript/5 invalid: AbsoluteTime is not an ISO 8601 (RFC 3339) time",
                    "/Transcript/6 invalid: Type `SHRUG` is neither a message nor a known event",
                ],
                skipped_events: 0,
                skipped_attachments: 0,
            },
            Case {
                sample: "get-transcript-answer.json",
                role_map: &[],
                external_id_from: "InitialContactId",
                conversation: "chat-initial-77 p-c2 Orla p-a2 -",
                entries: &[
                    "/Transcript/1 customer p-c2 2024-06-01T12:00:00.500Z",
                    "/Transcript/2 agent p-a2 2024-06-01T12:00:09.000Z",
                    "/Transcript/3 invalid: Content is empty or missing",
                ],
                skipped_events: 1,
                skipped_attachments: 0,
            },
            Case {
                sample: "bare-items.json",
                role_map: &[],
                external_id_from: "the items' ContactId",
                conversation: "chat-bare-42 p-c3 - p-a3 -",
                entries: &[
                    "/0 customer p-c3 2024-06-02T08:30:00.000Z",
                    "/2 agent p-a3 2024-06-02T08:30:15.250Z",
                    "/3 system chat-bare-42:SYSTEM 2024-06-02T08:31:00.000Z",
                ],
                skipped_events: 1,
                skipped_attachments: 0,
            },
        ];
        for case in cases {
            let options = ReadOptions {
                role_map: RoleMap::parse(case.role_map).expect("valid role map"),
                base_time: None,
                contact_records: None,
            };
            let document = read_sample(case.sample, None, &options)
                .unwrap_or_else(|e| panic!("{}: {e}", case.sample));
            assert_eq!(document.format, Format::ConnectChat, "{}", case.sample);
            assert_eq!(
                document.external_id_from, case.external_id_from,
                "{}",
                case.sample
            );
            assert_eq!(
                conversation(&document),
                case.conversation,
                "{}",
                case.sample
            );
            assert_eq!(summary(&document), case.entries, "{}", case.sample);
            assert_eq!(
                document.skipped_events, case.skipped_events,
                "{}",
                case.sample
            );
            assert_eq!(
                document.skipped_attachments, case.skipped_attachments,
                "{}",
                case.sample
            );
            assert_eq!(document.base_time, None);
        }
    }

    #[test]
    fn items_of_different_contacts_and_no_wrapper_name_no_conversation() {
        let items = br#"[
            {"Type": "MESSAGE", "ContentType": "text/plain", "ContactId": "a", "ParticipantRole": "CUSTOMER"},
            {"Type": "MESSAGE", "ContentType": "text/plain", "ContactId": "b", "ParticipantRole": "CUSTOMER"}
        ]"#;
        let error = read_document("chat.json", items, None, &ReadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "chat.json: no conversation id: looked for ContactId, InitialContactId, then one ContactId shared by the items"
        );
    }

    #[test]
    fn a_chat_without_a_customer_is_refused() {
        let items = br#"{"ContactId": "x", "Transcript": [
            {"Type": "MESSAGE", "ContentType": "text/plain", "ParticipantRole": "AGENT",
             "ParticipantId": "a", "AbsoluteTime": "2024-01-01T00:00:00.000Z", "Content": "Anyone there? Hello?"}
        ]}"#;
        let error = read_document("chat.json", items, None, &ReadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "chat.json: no participant maps to the customer role (roles seen: `AGENT`): map one with --role-map"
        );
    }
}
