//! Readers for contact-centre transcript exports: each turns one vendor document (one
//! conversation) into the project's transcript lines ([`Line`]), so that the import pipeline can
//! take them as it takes JSON Lines.
//!
//! | format (`--format`) | document |
//! |---|---|
//! | `jsonl` | the project's own JSON Lines ([`crate::transcript`]); recognised here, read line by line by the import |
//! | `contact-lens` | an Amazon Connect Contact Lens voice post-call analysis file, raw or redacted (`contact_lens`) |
//! | `connect-chat` | an Amazon Connect chat transcript: the saved S3 document, or a bare `Transcript` (`connect_chat`) |
//! | `genesys` | a Genesys Cloud Speech and Text Analytics transcript document (`genesys`) |
//! | `twilio` | a Twilio Conversational (Voice) Intelligence transcript with its sentences (`twilio`) |
//!
//! The format is recognised from the content (`detect`): from the first bytes (so that JSON
//! Lines can be streamed; [`is_jsonl`] asks only of first bytes that hold an `externalId`), and
//! by [`read_document`] from the whole document when no format is forced; when nothing matches,
//! the error lists the formats that were tried.
//!
//! Reading a document takes two passes over its text, and builds no `serde_json::Value` of it
//! (but for what does not fit, below):
//! - `outline` checks it as JSON, exactly as parsing it as a `Value` would (so that what is
//!   [`Refusal::NotJson`] is unchanged), and keeps only what `detect_value`'s rules look at;
//! - the format's reader parses it once into borrowed typed structures, its message entries left
//!   as their text (`RawValue`), and then each entry on its own, so that a bad entry is invalid
//!   (its pointer and the reason) while the others import. Where a part does not fit, the
//!   reason is taken from that part's `Value`, as it always was (`redact`); a document
//!   that repeats a key is read from its `Value`'s text, in which the last one counts.
//!
//! Rules common to every format:
//! - **Roles** map by the vendor's documented rule; the user's [`RoleMap`] (`VENDOR_ROLE=role`,
//!   case-insensitive) covers the rest and wins over a rule. A role that nothing maps makes that
//!   entry invalid (its JSON pointer and the reason), never a guess; the other entries still
//!   import.
//! - **Times** are UTC. A format whose times are offsets needs a base time: from the document
//!   where it has one, else [`ReadOptions::base_time`] (`--base-time`), else the document's file name
//!   where the format puts one there (Contact Lens), else the whole document is refused.
//!   [`Document::base_time`] says which base was used and where it came from. Offsets are added
//!   in integer milliseconds.
//! - **Participants** give the conversation's customer (and agent, and their names where the
//!   format has them): the first participant whose role maps to customer (agent). A document
//!   with no customer is refused; a Genesys document gives its customer no id, and takes the
//!   external party that every Genesys conversation has (`genesys`). Each message's sender id
//!   is its participant's id; where the format has no id for a person (a role name such as
//!   Contact Lens's `AGENT`, a Genesys purpose, a Twilio channel), it is derived as
//!   `<externalId>:<label>`, so that it is stable and never shared between conversations.
//! - **No message text in errors**: errors name the file, the JSON pointer and the reason only.
//!   Vendor values (a role, a content type) are shown only when they look like labels
//!   (`redact::label`); serde's messages are rewritten so that they never echo a value.
//! - A document is read whole (it is one conversation); nothing else is kept. No input panics.
//!
//! The files, each with one job:
//! - `mod.rs` (here): the document model ([`Format`], [`ReadOptions`], [`Document`] and its
//!   [`MessageEntry`]s, [`Refusal`]), what the readers share (participants, times), and
//!   [`read_document`], which hands a document to its format's reader;
//! - `contact_lens`, `connect_chat`, `genesys`, `twilio`: one reader per vendor format,
//!   with [`contact_records`] (Amazon Connect's contact records, for Contact Lens) and `roles`
//!   (the user's role map);
//! - `detect`: recognising a document's format from its content;
//! - `outline`: the one pass that checks a document as JSON and keeps what detection needs;
//! - `redact`: the reasons errors give, which never quote a document's text;
//! - `testing.rs` (tests only): the sample documents, and helpers for the readers' tests.

mod connect_chat;
mod contact_lens;
pub mod contact_records;
mod detect;
mod genesys;
mod outline;
mod redact;
mod roles;
mod twilio;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use asapp_conversations::chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

pub(crate) use self::contact_lens::analysis_name;
pub use self::detect::is_jsonl;
use self::detect::{detect_value, strip_bom};
use self::redact::shown;
pub use self::roles::{RoleMap, RoleMapEntry};
use crate::transcript::Line;
use asapp_conversations::types::ParticipantRole;

/// An input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The CLI's own JSON Lines.
    Jsonl,
    /// Amazon Connect Contact Lens voice post-call analysis.
    ContactLens,
    /// Amazon Connect chat transcript.
    ConnectChat,
    /// Genesys Cloud Speech and Text Analytics transcript.
    Genesys,
    /// Twilio Conversational Intelligence transcript sentences.
    Twilio,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Self; 5] = [
        Self::Jsonl,
        Self::ContactLens,
        Self::ConnectChat,
        Self::Genesys,
        Self::Twilio,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Jsonl => "jsonl",
            Self::ContactLens => "contact-lens",
            Self::ConnectChat => "connect-chat",
            Self::Genesys => "genesys",
            Self::Twilio => "twilio",
        }
    }

    /// Every name, comma-separated, for messages.
    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--format` value that names no format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}`: expected one of {names}", names = Format::names())]
pub struct UnknownFormatName(pub String);

impl FromStr for Format {
    type Err = UnknownFormatName;

    /// A format by its name, in any case.
    fn from_str(name: &str) -> Result<Self, UnknownFormatName> {
        Self::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| UnknownFormatName(name.to_owned()))
    }
}

/// What the user said about reading documents.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Roles for the vendor roles no documented rule maps (`--role-map`).
    pub role_map: RoleMap,
    /// The base for offset times when the document has none (`--base-time`).
    pub base_time: Option<DateTime<Utc>>,
    /// Amazon Connect's contact records, for Contact Lens files (`--contact-records`).
    pub contact_records: Option<Arc<contact_records::ContactRecords>>,
}

/// One document, read: its conversation's lines in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Document {
    /// The format it was read as.
    pub format: Format,
    /// The conversation's `externalId`.
    pub external_id: String,
    /// Where the external id came from: a document field, or `the file name`.
    pub external_id_from: &'static str,
    /// The message entries, valid or not, in document order.
    pub entries: Vec<MessageEntry>,
    /// The base the offsets were added to, if the document's times needed one.
    pub base_time: Option<BaseTime>,
    /// Items without text that were left out on purpose: joins, leaves, typing, receipts.
    pub skipped_events: usize,
    /// Attachments, left out: only text is imported.
    pub skipped_attachments: usize,
    /// Which copy a Contact Lens file is, raw or redacted (from `ContentMetadata.Output`, else
    /// from its name); `None` for the other formats, or where neither says.
    pub copy: Option<CopyKind>,
}

/// Contact Lens's two outputs of one contact's analysis: the raw transcript, and the redacted
/// copy it writes beside it (under `Redacted/`, named `_analysis_redacted_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CopyKind {
    /// `ContentMetadata.Output` `Raw`; `<contactId>_analysis_<time>.json`.
    Raw,
    /// `ContentMetadata.Output` `Redacted`; `<contactId>_analysis_redacted_<time>.json`.
    Redacted,
}

impl CopyKind {
    /// `raw` or `redacted`, as `--contact-lens-copy` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Redacted => "redacted",
        }
    }
}

impl fmt::Display for CopyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One message entry of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageEntry {
    /// The entry's JSON pointer in the document, e.g. `/Transcript/3`.
    pub pointer: String,
    /// The line, or why the entry cannot be one (never containing the message's text).
    pub line: Result<Line<'static>, String>,
}

/// The base time of a document's offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BaseTime {
    /// The time offset zero stands for.
    pub at: DateTime<Utc>,
    /// Where it came from.
    pub source: BaseTimeSource,
}

/// Where a base time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BaseTimeSource {
    /// A field of the document, named as the document spells it.
    Field(&'static str),
    /// The `--base-time` option.
    Option,
    /// The document's file name (Contact Lens: `<contactId>_analysis_<time>.json`).
    FileName,
    /// The contact's record (Contact Lens, `--contact-records`), from this field.
    ContactRecord(contact_records::RecordTime),
}

impl fmt::Display for BaseTimeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(field) => write!(f, "the document's `{field}`"),
            Self::Option => f.write_str("--base-time"),
            Self::FileName => f.write_str("the file name"),
            Self::ContactRecord(from) => write!(f, "the contact record's `{}`", from.field()),
        }
    }
}

/// A document refused as a whole: the file, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {refusal}")]
#[non_exhaustive]
pub struct DocumentError {
    /// The file as the user named it, or `stdin`.
    pub file: String,
    /// Why.
    pub refusal: Refusal,
}

/// Why a document was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// No format recognised it.
    #[error("not a known transcript format (tried {names})", names = Format::names())]
    UnknownFormat,
    /// JSON Lines are streamed by the import, not read as one document.
    #[error("jsonl input is read line by line by the import, not as one document")]
    LinesNotDocument,
    /// The document does not have the shape of its format.
    #[error("not a {format} document: at {location}: {reason}", location = location(pointer))]
    Shape {
        /// The format it was read as.
        format: Format,
        /// Where, as a JSON pointer (empty for the whole document).
        pointer: String,
        /// What is wrong there.
        reason: String,
    },
    /// A kind of document the format has but this reader does not read.
    #[error("{0}")]
    Unsupported(String),
    /// Nothing names the conversation.
    #[error("no conversation id: looked for {looked_for}")]
    NoExternalId {
        /// What was looked at.
        looked_for: &'static str,
    },
    /// Offsets, and no base time to add them to.
    #[error(
        "{explanation}: pass --base-time with that start as an RFC 3339 time (e.g. 2024-01-23T11:42:00Z)"
    )]
    NoBaseTime {
        /// Why a base time is needed and what the document lacks.
        explanation: &'static str,
    },
    /// A Contact Lens file whose content and name disagree on which copy it is.
    #[error(
        "ContentMetadata.Output is {output}, but the file name is a {named} copy's: the name \
         and the content must agree on which copy this is (raw or redacted)"
    )]
    CopyMismatch {
        /// What the content says.
        output: CopyKind,
        /// What the name says.
        named: CopyKind,
    },
    /// The document's base time field cannot be read.
    #[error("at {pointer}: not an RFC 3339 time")]
    BadBaseTime {
        /// Where.
        pointer: &'static str,
    },
    /// No participant is the customer, whom ASAPP's conversation requires.
    #[error(
        "no participant maps to the customer role (roles seen: {seen}): map one with --role-map"
    )]
    NoCustomer {
        /// The vendor roles seen (labels only).
        seen: String,
    },
}

/// A JSON pointer as a place in a message.
fn location(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the top level"
    } else {
        pointer
    }
}

/// Reads one document of `format` (or whichever format recognises it) from `bytes`; `file` is
/// how messages name it, and its file name can give the conversation id (Contact Lens).
pub fn read_document(
    file: &str,
    bytes: &[u8],
    format: Option<Format>,
    options: &ReadOptions,
) -> Result<Document, DocumentError> {
    read_value(file, bytes, format, options).map_err(|refusal| DocumentError {
        file: file.to_owned(),
        refusal,
    })
}

/// Checks the document as JSON and tells its format in one pass ([`outline`]), then has its
/// format's reader read it once, from the text.
fn read_value(
    file: &str,
    bytes: &[u8],
    format: Option<Format>,
    options: &ReadOptions,
) -> Result<Document, Refusal> {
    let is_lines = match format {
        Some(format) => format == Format::Jsonl,
        None => is_jsonl(bytes),
    };
    if is_lines {
        return Err(Refusal::LinesNotDocument);
    }
    let bytes = strip_bom(bytes);
    let not_json = |e: &dyn fmt::Display| Refusal::NotJson(e.to_string());
    let outline = outline::outline(bytes).map_err(|e| not_json(&e))?;
    let format = match format {
        Some(format) => format,
        None => detect_value(&outline.value).ok_or(Refusal::UnknownFormat)?,
    };
    // Checked JSON is UTF-8 throughout: its strings were decoded, and the rest is ASCII.
    let text = std::str::from_utf8(bytes).map_err(|e| not_json(&e))?;
    let as_value;
    let text = if outline.repeated_keys {
        // The last of a repeated key counts, as in the document's `Value`, which has no repeats.
        let value: Value = serde_json::from_str(text).map_err(|e| not_json(&e))?;
        as_value = value.to_string();
        as_value.as_str()
    } else {
        text
    };
    match format {
        Format::Jsonl => Err(Refusal::LinesNotDocument),
        Format::ContactLens => contact_lens::read(text, file_name(file), options),
        Format::ConnectChat => connect_chat::read(text, options),
        Format::Genesys => genesys::read(text, options),
        Format::Twilio => twilio::read(text, options),
    }
}

/// The last component of a path as the user gave it, or of an object's URL.
pub(crate) fn file_name(file: &str) -> &str {
    file.rsplit(['/', '\\']).next().unwrap_or(file)
}

/// A time, UTC.
type Time = DateTime<Utc>;

/// `text` as an RFC 3339 time in UTC.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `base` plus `millis` milliseconds, exactly; `None` beyond the representable times.
fn after(base: DateTime<Utc>, millis: u64) -> Option<DateTime<Utc>> {
    let millis = i64::try_from(millis).ok()?;
    base.checked_add_signed(TimeDelta::try_milliseconds(millis)?)
}

/// The base for a document's offsets: the document's own field if it has one, else the option.
fn choose_base(
    document: Option<(DateTime<Utc>, &'static str)>,
    options: &ReadOptions,
) -> Option<BaseTime> {
    match document {
        Some((at, field)) => Some(BaseTime {
            at,
            source: BaseTimeSource::Field(field),
        }),
        None => options.base_time.map(|at| BaseTime {
            at,
            source: BaseTimeSource::Option,
        }),
    }
}

/// A participant of a document, as far as the document tells.
#[derive(Debug, Clone)]
struct Party {
    /// The sender id of the participant's messages.
    id: String,
    /// The vendor's role, as the document spells it.
    vendor_role: String,
    /// The ASAPP role, if anything maps the vendor role.
    role: Option<ParticipantRole>,
    /// The display name, where the format has one.
    name: Option<String>,
}

/// Parties in document order, each id once: a later mention fills in a missing name.
#[derive(Debug, Default)]
struct Parties(Vec<Party>);

impl Parties {
    /// Adds `party`, unless its id is known.
    fn add(&mut self, party: Party) {
        match self.0.iter_mut().find(|known| known.id == party.id) {
            Some(known) => {
                if known.name.is_none() {
                    known.name = party.name;
                }
                if known.role.is_none() {
                    known.role = party.role;
                    known.vendor_role = party.vendor_role;
                }
            }
            None => self.0.push(party),
        }
    }

    /// The first party with `role`.
    fn first(&self, role: ParticipantRole) -> Option<&Party> {
        self.0
            .iter()
            .find(|party| party.role.as_ref() == Some(&role))
    }

    /// The conversation of `external_id`: its customer and agent are the first parties with
    /// those roles; no customer refuses the document.
    fn conversation(&self, external_id: &str) -> Result<Conversation, Refusal> {
        let customer = self.first(ParticipantRole::Customer).ok_or_else(|| {
            let mut seen: Vec<String> = Vec::new();
            for party in self.0.iter().filter(|p| !p.vendor_role.trim().is_empty()) {
                let role = shown(&party.vendor_role);
                if !seen.contains(&role) {
                    seen.push(role);
                }
            }
            Refusal::NoCustomer {
                seen: if seen.is_empty() {
                    "none".to_owned()
                } else {
                    seen.join(", ")
                },
            }
        })?;
        let agent = self.first(ParticipantRole::Agent);
        Ok(Conversation {
            external_id: external_id.to_owned(),
            customer_id: customer.id.clone(),
            customer_name: customer.name.clone(),
            agent_id: agent.map(|a| a.id.clone()),
            agent_name: agent.and_then(|a| a.name.clone()),
            metadata: None,
        })
    }
}

/// The conversation-wide fields every line of a document carries.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Conversation {
    external_id: String,
    customer_id: String,
    customer_name: Option<String>,
    agent_id: Option<String>,
    agent_name: Option<String>,
    /// The conversation's metadata, where the format (with what goes with it) has some.
    metadata: Option<Arc<BTreeMap<String, String>>>,
}

impl Conversation {
    /// A line of this conversation, checked as the import checks its lines.
    fn line(
        &self,
        role: ParticipantRole,
        sender_id: &str,
        text: &str,
        timestamp: DateTime<Utc>,
    ) -> Result<Line<'static>, String> {
        let line = Line {
            external_id: Cow::Owned(self.external_id.clone()),
            customer_id: Cow::Owned(self.customer_id.clone()),
            customer_name: self.customer_name.clone().map(Cow::Owned),
            agent_id: self.agent_id.clone().map(Cow::Owned),
            agent_name: self
                .agent_id
                .as_ref()
                .and(self.agent_name.clone())
                .map(Cow::Owned),
            role,
            sender_id: Cow::Owned(sender_id.to_owned()),
            text: Cow::Owned(text.to_owned()),
            timestamp,
            metadata: self.metadata.clone(),
        };
        line.message()?;
        Ok(line)
    }
}

/// `text` if it has anything but white space.
fn non_blank(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.trim().is_empty())
}

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests {
    use super::detect::detect;
    use super::testing::{read_sample, sample, sample_names, texts_of};
    use super::*;

    #[test]
    fn format_names_round_trip_and_unknown_names_list_the_known_ones() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
            assert_eq!(format.name().to_uppercase().parse::<Format>(), Ok(format));
        }
        let error = "csv".parse::<Format>().expect_err("unknown");
        assert_eq!(
            error.to_string(),
            "unknown format `csv`: expected one of jsonl, contact-lens, connect-chat, genesys, twilio"
        );
    }

    #[test]
    fn the_document_base_time_wins_over_the_option_and_the_option_fills_in() {
        let option = parse_time("2030-01-01T00:00:00Z");
        let document = parse_time("2024-05-06T07:08:09.010Z").map(|t| (t, "media_start_time"));
        let options = ReadOptions {
            base_time: option,
            ..ReadOptions::default()
        };
        assert_eq!(
            choose_base(document, &options),
            document.map(|(at, field)| BaseTime {
                at,
                source: BaseTimeSource::Field(field)
            })
        );
        assert_eq!(
            choose_base(None, &options),
            option.map(|at| BaseTime {
                at,
                source: BaseTimeSource::Option
            })
        );
        assert_eq!(choose_base(None, &ReadOptions::default()), None);
        assert_eq!(
            BaseTimeSource::Field("media_start_time").to_string(),
            "the document's `media_start_time`"
        );
        assert_eq!(BaseTimeSource::Option.to_string(), "--base-time");
    }

    #[test]
    fn offsets_are_added_in_exact_milliseconds() {
        let base = parse_time("2024-02-29T23:59:59.999Z").expect("time");
        assert_eq!(after(base, 1), parse_time("2024-03-01T00:00:00.000Z"));
        assert_eq!(after(base, u64::MAX), None);
    }

    /// No error, whole-document or entry, holds any text of the samples: neither for the samples
    /// as they are, nor for any one node of a sample replaced by a sample's text (so that a
    /// malformed document puts the text where a number, a role or an id belongs), read as every
    /// format and detected.
    #[test]
    fn no_error_message_contains_message_text() {
        let mut texts = Vec::new();
        for (format, name) in sample_names() {
            texts.extend(texts_of(&sample(format, &name)));
        }
        texts.sort();
        texts.dedup();
        assert!(texts.len() > 20, "the samples' texts: {texts:?}");
        let formats: Vec<Option<Format>> =
            std::iter::once(None).chain(Format::ALL.map(Some)).collect();
        let option_sets = [
            ReadOptions::default(),
            ReadOptions {
                base_time: parse_time("2024-01-01T00:00:00Z"),
                role_map: RoleMap::parse(["CUSTOM_BOT=system", "supervisor=agent"]).expect("valid"),
                contact_records: None,
            },
        ];
        let check = |file: &str, bytes: &[u8]| {
            for format in &formats {
                for options in &option_sets {
                    let errors: Vec<String> = match read_document(file, bytes, *format, options) {
                        Err(error) => vec![error.to_string()],
                        Ok(document) => document
                            .entries
                            .into_iter()
                            .filter_map(|entry| entry.line.err())
                            .collect(),
                    };
                    for error in errors {
                        for text in &texts {
                            assert!(
                                !error.contains(text.as_str()),
                                "{file} as {format:?}: an error holds a message's text: {error}"
                            );
                        }
                    }
                }
            }
        };
        for (format, name) in sample_names() {
            let bytes = sample(format, &name);
            check(&name, &bytes);
            if format == Format::Jsonl {
                continue;
            }
            let value: Value = serde_json::from_slice(&bytes).expect("JSON");
            let secret = texts_of(&bytes).into_iter().next().expect("a text");
            for mutated in testing::each_node_replaced(&value, &Value::String(secret)) {
                let mutated = serde_json::to_vec(&mutated).expect("JSON");
                check(&name, &mutated);
            }
        }
    }

    /// Where a format has an object, an array is refused, never read item by field as serde's
    /// derived structs read one: `["VOICE", [["c", "CUSTOMER"]], …]` was a Contact Lens document,
    /// its entries at pointers (`/Transcript/0`) that it does not have. Found by the reasoning
    /// behind the `contact_records` fuzz target's crash, whose records had the same fault.
    #[test]
    fn arrays_are_not_read_as_objects() {
        let name = "c_analysis_2024-03-01T10:15:30Z.json";
        let refused: [(Format, &[u8], &str); 6] = [
            (
                Format::ContactLens,
                br#"["VOICE", [["c", "CUSTOMER"]], ["x"], null, [["c", "hello there", 1]]]"#,
                "at the top level: found a sequence, expected a JSON object",
            ),
            (
                Format::Genesys,
                br#"["conv", 1720515600000, [["external", null]], [[[["hi there", "external", 1]]]]]"#,
                "at the top level: found a sequence, expected a JSON object",
            ),
            (
                Format::ConnectChat,
                br#"{"ContactId": "chat-1", "Participants": [["p", "CUSTOMER"]], "Transcript": []}"#,
                "at /Participants/0: found a sequence, expected a JSON object",
            ),
            (
                Format::Genesys,
                br#"{"conversationId": "c", "transcripts": [[[]]]}"#,
                "at /transcripts/0: found a sequence, expected a JSON object",
            ),
            (
                Format::Twilio,
                br#"{"transcript": {"sid": "GT1", "channel": [[]]}, "sentences": []}"#,
                "at /transcript/channel: found a sequence, expected a JSON object",
            ),
            (
                Format::Twilio,
                br#"{"transcript": {"sid": "GT1", "channel": {"participants": [[1, "Customer"]]}}, "sentences": []}"#,
                "at /transcript/channel/participants/0: found a sequence, expected a JSON object",
            ),
        ];
        for (format, bytes, expected) in refused {
            let error = read_document(name, bytes, Some(format), &ReadOptions::default())
                .expect_err("refused");
            assert_eq!(
                error.to_string(),
                format!("{name}: not a {format} document: {expected}")
            );
        }
        // An entry that is an array is invalid, naming the entry.
        let entries: [(Format, &[u8], &str); 4] = [
            (
                Format::ContactLens,
                br#"{"Participants": [{"ParticipantId": "c", "ParticipantRole": "CUSTOMER"}], "Transcript": [["c", "hello there", 1]]}"#,
                "/Transcript/0",
            ),
            (
                Format::ConnectChat,
                br#"[["2024-05-06T09:00:00.500Z", "hello there", "text/plain", "MESSAGE", "p", "D", "CUSTOMER", "chat-1"], {"ContactId": "chat-1", "ParticipantRole": "CUSTOMER", "ParticipantId": "p"}]"#,
                "/0",
            ),
            (
                Format::Genesys,
                br#"{"conversationId": "c", "conversationStartTime": 0, "transcripts": [{"phrases": [["hello there", "external", 1]]}]}"#,
                "/transcripts/0/phrases/0",
            ),
            (
                Format::Twilio,
                br#"{"sid": "GT1", "media_start_time": "2024-01-01T00:00:00Z", "sentences": [[2, "1.5", "hello there"], {"media_channel": 2, "start_time": "2", "transcript": "hi"}]}"#,
                "/sentences/0",
            ),
        ];
        for (format, bytes, pointer) in entries {
            let document = read_document(name, bytes, Some(format), &ReadOptions::default())
                .unwrap_or_else(|e| panic!("{format}: {e}"));
            let entry = &document.entries[0];
            assert_eq!(
                (entry.pointer.as_str(), entry.line.as_ref().map(|_| ())),
                (
                    pointer,
                    Err(&"found a sequence, expected a JSON object".to_owned())
                ),
                "{format}"
            );
        }
    }

    #[test]
    fn no_input_panics() {
        let inputs: Vec<Vec<u8>> = vec![
            b"{}".to_vec(),
            b"[]".to_vec(),
            b"null".to_vec(),
            b"{\"Transcript\": 5}".to_vec(),
            b"{\"Transcript\": [null, 1, \"x\", [], {}]}".to_vec(),
            b"{\"sentences\": [{\"start_time\": \"1e999\"}, {\"start_time\": -1}]}".to_vec(),
            b"{\"transcripts\": [{\"phrases\": [{\"startTimeMs\": -9223372036854775808}]}]}"
                .to_vec(),
            "[".repeat(10_000).into_bytes(),
        ];
        for bytes in inputs {
            for format in std::iter::once(None).chain(Format::ALL.map(Some)) {
                let _ = read_document("x.json", &bytes, format, &ReadOptions::default());
                let _ = detect(&bytes);
            }
        }
        // Every sample read as every other format.
        for (_, name) in sample_names() {
            for format in Format::ALL {
                let _ = read_sample(&name, Some(format), &ReadOptions::default());
            }
        }
    }
}
