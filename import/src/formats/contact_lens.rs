//! Amazon Connect Contact Lens voice post-call analysis files (`contact-lens`), raw and redacted.
//!
//! Sources: Amazon Connect Administrator Guide, "Example Contact Lens output files for a call"
//! (<https://docs.aws.amazon.com/connect/latest/adminguide/contact-lens-example-output-files.html>)
//! and "Output file locations for files analyzed by Contact Lens conversational analytics"
//! (<https://docs.aws.amazon.com/connect/latest/adminguide/example-contact-lens-output-locations.html>);
//! Amazon Connect API Reference, Contact Lens `Transcript`
//! (<https://docs.aws.amazon.com/connect/latest/APIReference/API_connect-contact-lens_Transcript.html>).
//!
//! The document accepted: a JSON object with
//! - `Transcript`: an array (required) of turns `{ParticipantId, Content, BeginOffsetMillis, …}`;
//!   `EndOffsetMillis`, `Sentiment`, `LoudnessScore`, `Redaction` and the rest are ignored.
//!   A redacted file's `Content` holds the redaction placeholders, imported as they are.
//! - `Participants`: `[{ParticipantId, ParticipantRole}]` (optional in old files).
//! - `CustomerMetadata.ContactId`: the contact id, where the file has it.
//! - `Channel`: `VOICE` if present (chat analysis files are a different layout and are refused).
//!
//! Mapping:
//! - `externalId`: `CustomerMetadata.ContactId`, else the contact id that starts the file name,
//!   `<contactId>_analysis_<time>.json` or `<contactId>_analysis_redacted_<time>.json`; neither
//!   refuses the document.
//! - Role: the turn's `ParticipantId` is looked up in `Participants[]` (newer files use opaque ids
//!   there); an id that is not there but is `AGENT` or `CUSTOMER` (older files) is its own role.
//!   `AGENT` → agent, `CUSTOMER` → customer, `SYSTEM` → system; any other role needs the role map.
//! - Sender id: the opaque participant id; where the id is a role name (older files), it is
//!   `<externalId>:<ParticipantId>`, e.g. `contact-1:AGENT`, so that customers of different
//!   contacts are not one customer. No names.
//! - Time: `BeginOffsetMillis` after the start of the contact. The content has no absolute time;
//!   the file's name has the contact's `ConnectedToAgentTimestamp`, to the second
//!   (`<contactId>_analysis_<YYYY-MM-DDThh:mm:ssZ>.json`, redacted
//!   `<contactId>_analysis_redacted_<YYYY-MM-DDThh:mm:ssZ>.json`), from which Amazon Connect
//!   records a call. `--base-time` wins over the name; a name without that time (or with one
//!   that is not a time), without `--base-time`, refuses a document with turns. The base is a
//!   function of the name alone, so a resume reads the same times.
//! - Copy: `ContentMetadata.Output` (`Raw` or `Redacted`), else the name (`_analysis_redacted_`
//!   or not); a name and a content that disagree refuse the document, so that a redacted copy
//!   chosen by its name is never a raw one ([`crate::import`] chooses between the copies).

use std::borrow::Cow;
use std::collections::hash_map::Entry as Slot;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use asapp_conversations::chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

use asapp_conversations::types::ParticipantRole;

use super::contact_records::ContactRecord;
use super::redact::{Object, entry, pointer, shown, top_level};
use super::{
    BaseTime, BaseTimeSource, Conversation, CopyKind, Document, Format, Parties, Party,
    ReadOptions, Refusal, after, choose_base, non_blank,
};

/// The top level of an analysis file: what is read of it, borrowed from its text; each turn is
/// left as its text (`T`), to be read on its own (or ignored, to tell why the top level does not
/// fit).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AnalysisFile<'a, T = &'a RawValue> {
    #[serde(borrow)]
    channel: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    participants: Vec<Object<Participant<'a>>>,
    #[serde(borrow)]
    customer_metadata: Option<Object<CustomerMetadata<'a>>>,
    /// Read loosely (any JSON): only its `Output` is looked at, and a document is not refused
    /// for the shape of a part that says nothing of the conversation.
    content_metadata: Option<Value>,
    transcript: Vec<T>,
}

/// A participant: an id and its role.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Participant<'a> {
    #[serde(borrow)]
    participant_id: Cow<'a, str>,
    #[serde(borrow)]
    participant_role: Cow<'a, str>,
}

/// Where the file says which contact it is.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CustomerMetadata<'a> {
    #[serde(borrow)]
    contact_id: Option<Cow<'a, str>>,
}

/// One turn of the transcript.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Turn<'a> {
    #[serde(borrow)]
    participant_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    begin_offset_millis: Option<u64>,
}

/// The roles of the old files' participant ids, which are role names.
const ROLE_NAMED_IDS: [&str; 2] = ["AGENT", "CUSTOMER"];

/// Contact Lens's documented roles.
fn documented_role(role: &str) -> Option<ParticipantRole> {
    match role.to_ascii_uppercase().as_str() {
        "AGENT" => Some(ParticipantRole::Agent),
        "CUSTOMER" => Some(ParticipantRole::Customer),
        "SYSTEM" => Some(ParticipantRole::System),
        _ => None,
    }
}

/// Reads an analysis file from its text; `file_name` may give the contact id.
pub(super) fn read(
    text: &str,
    file_name: &str,
    options: &ReadOptions,
) -> Result<Document, Refusal> {
    let file: AnalysisFile =
        top_level::<Object<_>, Object<AnalysisFile<IgnoredAny>>>(text, Format::ContactLens)?.0;
    if let Some(channel) = file.channel.as_deref().filter(|c| *c != "VOICE") {
        return Err(Refusal::Unsupported(format!(
            "a contact-lens analysis file of Channel {} is not read: only VOICE files are",
            shown(channel)
        )));
    }
    let named = analysis_name(file_name);
    let copy = copy_of(&file, named.as_ref())?;
    let (external_id, external_id_from) = external_id(&file, file_name)?;
    let name_time = named.map_or(NameTime::Missing, |name| name.time);
    let record = options
        .contact_records
        .as_ref()
        .and_then(|records| records.get(&external_id));
    let from_record = record
        .as_ref()
        .and_then(|r| r.base)
        .map(|(at, from)| BaseTime {
            at,
            source: BaseTimeSource::ContactRecord(from),
        });
    let base_time = choose_base(None, options)
        .or(from_record)
        .or(match name_time {
            NameTime::At(at) => Some(BaseTime {
                at,
                source: BaseTimeSource::FileName,
            }),
            NameTime::Missing | NameTime::Malformed => None,
        });
    let base = match base_time {
        Some(base) => base.at,
        None if file.transcript.is_empty() => Default::default(),
        None => {
            return Err(Refusal::NoBaseTime {
                explanation: match name_time {
                    NameTime::Malformed => {
                        "contact-lens times are offsets from the start of the contact (BeginOffsetMillis), and the time in the file name is not a YYYY-MM-DDThh:mm:ssZ time (Amazon Connect names the file <contactId>_analysis_<YYYY-MM-DDThh:mm:ssZ>.json)"
                    }
                    NameTime::Missing | NameTime::At(_) => {
                        "contact-lens times are offsets from the start of the contact (BeginOffsetMillis), and the file name has no start time (Amazon Connect names the file <contactId>_analysis_<YYYY-MM-DDThh:mm:ssZ>.json)"
                    }
                },
            });
        }
    };
    let roles: HashMap<&str, &str> = file
        .participants
        .iter()
        .map(|p| (p.participant_id.as_ref(), p.participant_role.as_ref()))
        .collect();
    let pointers: Vec<String> = (0..file.transcript.len())
        .map(|index| pointer("/Transcript", index))
        .collect();
    let turns: Vec<Result<Turn, String>> = file
        .transcript
        .iter()
        .zip(&pointers)
        .map(|(raw, at)| entry(raw, at))
        .collect();
    let mut speakers = Speakers {
        roles,
        external_id: &external_id,
        options,
        known: HashMap::new(),
    };
    let mut parties = Parties::default();
    let ids = file.participants.iter().map(|p| p.participant_id.as_ref());
    let turn_ids = turns
        .iter()
        .filter_map(|turn| turn.as_ref().ok()?.participant_id.as_deref());
    for id in ids.chain(turn_ids) {
        if let (speaker, true) = speakers.of(id) {
            parties.add(speaker.party());
        }
    }
    let mut conversation = parties.conversation(&external_id)?;
    if let Some(record) = &record {
        with_record(record, &mut conversation, &mut speakers);
    }
    let entries = pointers
        .into_iter()
        .zip(&turns)
        .map(|(at, turn)| {
            let line = match turn {
                Ok(turn) => line(turn, &conversation, &mut speakers, base),
                Err(reason) => Err(reason.clone()),
            };
            super::MessageEntry { pointer: at, line }
        })
        .collect();
    Ok(Document {
        format: Format::ContactLens,
        external_id,
        external_id_from,
        entries,
        base_time,
        skipped_events: 0,
        skipped_attachments: 0,
        copy,
    })
}

/// Which copy the file is: its `ContentMetadata.Output`, else its name's; the two must agree.
fn copy_of(
    file: &AnalysisFile<'_>,
    named: Option<&AnalysisName<'_>>,
) -> Result<Option<CopyKind>, Refusal> {
    let output = file
        .content_metadata
        .as_ref()
        .and_then(|metadata| metadata.get("Output"))
        .and_then(Value::as_str)
        .and_then(|output| match output.trim().to_ascii_lowercase().as_str() {
            "raw" => Some(CopyKind::Raw),
            "redacted" => Some(CopyKind::Redacted),
            _ => None,
        });
    match (output, named.map(|name| name.copy)) {
        (Some(output), Some(named)) if output != named => {
            Err(Refusal::CopyMismatch { output, named })
        }
        (output, named) => Ok(output.or(named)),
    }
}

/// What the contact's record adds: the agent's id, for the conversation and (where the file has
/// one participant of role `AGENT`) for that participant's messages; the queue's name and the
/// initial contact of a transfer, as metadata (`queue`, `initialContactId`).
fn with_record(
    record: &ContactRecord,
    conversation: &mut Conversation,
    speakers: &mut Speakers<'_>,
) {
    if let Some(agent) = &record.agent_id {
        conversation.agent_id = Some(agent.to_string());
        conversation.agent_name = None;
        let mut agents = speakers.known.values_mut().filter(|speaker| {
            speaker
                .vendor_role
                .as_deref()
                .is_some_and(|role| role.eq_ignore_ascii_case("AGENT"))
                && speaker.role == Ok(ParticipantRole::Agent)
        });
        if let (Some(only), None) = (agents.next(), agents.next()) {
            only.sender_id = agent.to_string();
        }
    }
    let mut metadata = BTreeMap::new();
    if let Some(queue) = &record.queue {
        metadata.insert("queue".to_owned(), queue.to_string());
    }
    if let Some(initial) = &record.initial_contact_id {
        metadata.insert("initialContactId".to_owned(), initial.clone());
    }
    if !metadata.is_empty() {
        conversation.metadata = Some(Arc::new(metadata));
    }
}

/// What the name of an analysis file says, as Amazon Connect names it:
/// `<contactId>_analysis_<YYYY-MM-DDThh:mm:ssZ>.json`, the redacted copy
/// `<contactId>_analysis_redacted_<YYYY-MM-DDThh:mm:ssZ>.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AnalysisName<'a> {
    /// The contact id: what comes before `_analysis_`.
    pub contact_id: &'a str,
    /// Raw, or redacted (`_analysis_redacted_`).
    pub copy: CopyKind,
    /// The time after it: the contact's `ConnectedToAgentTimestamp`.
    pub time: NameTime,
}

/// The time in an analysis file's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameTime {
    /// None: nothing after `_analysis_` (or `_analysis_redacted_`) but `.json`.
    Missing,
    /// Something that is not a `YYYY-MM-DDThh:mm:ssZ` time (such as the email analysis form
    /// `20260310T22:35_UTC`, or a copy's `… (1)`).
    Malformed,
    /// The time, UTC.
    At(DateTime<Utc>),
}

/// What `file_name` (the last segment of a path or URL) says as an analysis file's name; `None`
/// for a name that is not one (no `_analysis_`, or nothing before it).
pub(crate) fn analysis_name(file_name: &str) -> Option<AnalysisName<'_>> {
    let (contact_id, rest) = file_name.split_once("_analysis_")?;
    if contact_id.trim().is_empty() {
        return None;
    }
    let rest = rest.strip_suffix(".json").unwrap_or(rest);
    let (copy, time) = match rest.strip_prefix("redacted") {
        Some("") => (CopyKind::Redacted, ""),
        Some(after) if after.starts_with('_') => (CopyKind::Redacted, &after[1..]),
        _ => (CopyKind::Raw, rest),
    };
    let time = if time.is_empty() {
        NameTime::Missing
    } else {
        name_time(time).map_or(NameTime::Malformed, NameTime::At)
    };
    Some(AnalysisName {
        contact_id,
        copy,
        time,
    })
}

/// `YYYY-MM-DDThh:mm:ssZ`, exactly, as a time.
fn name_time(text: &str) -> Option<DateTime<Utc>> {
    const SHAPE: &[u8; 20] = b"0000-00-00T00:00:00Z";
    let fits = text.len() == SHAPE.len()
        && text.bytes().zip(SHAPE).all(|(byte, shape)| match shape {
            b'0' => byte.is_ascii_digit(),
            _ => byte == *shape,
        });
    if !fits {
        return None;
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ")
        .ok()
        .map(|time| time.and_utc())
}

/// The contact id: `CustomerMetadata.ContactId`, else the file name's.
fn external_id(
    file: &AnalysisFile<'_>,
    file_name: &str,
) -> Result<(String, &'static str), Refusal> {
    let from_metadata = file
        .customer_metadata
        .as_ref()
        .and_then(|m| non_blank(m.contact_id.as_deref()));
    if let Some(id) = from_metadata {
        return Ok((id.trim().to_owned(), "CustomerMetadata.ContactId"));
    }
    contact_id_of_file_name(file_name)
        .map(|id| (id.to_owned(), "the file name"))
        .ok_or(Refusal::NoExternalId {
            looked_for: "CustomerMetadata.ContactId, then a file name <contactId>_analysis_….json",
        })
}

/// `<contactId>` of `<contactId>_analysis_….json` (raw) or `<contactId>_analysis_redacted_….json`.
fn contact_id_of_file_name(file_name: &str) -> Option<&str> {
    analysis_name(file_name).map(|name| name.contact_id)
}

/// The speakers of a file, each participant id worked out once.
struct Speakers<'a> {
    /// The role of each id of `Participants[]`.
    roles: HashMap<&'a str, &'a str>,
    external_id: &'a str,
    options: &'a ReadOptions,
    known: HashMap<&'a str, Speaker>,
}

impl<'a> Speakers<'a> {
    /// The speaker of `id`, and whether this is the first time it is asked for.
    fn of(&mut self, id: &'a str) -> (&Speaker, bool) {
        match self.known.entry(id) {
            Slot::Occupied(known) => (known.into_mut(), false),
            Slot::Vacant(slot) => {
                let speaker = Speaker::of(id, &self.roles, self.external_id, self.options);
                (slot.insert(speaker), true)
            }
        }
    }
}

/// Who a participant id is: the vendor role, the ASAPP role (or why none) and the sender id.
struct Speaker {
    vendor_role: Option<String>,
    role: Result<ParticipantRole, String>,
    sender_id: String,
}

impl Speaker {
    /// The participant `id` of a file whose participants have `roles`.
    fn of(id: &str, roles: &HashMap<&str, &str>, external_id: &str, options: &ReadOptions) -> Self {
        let vendor_role = roles
            .get(id)
            .map(|role| (*role).to_owned())
            .or_else(|| ROLE_NAMED_IDS.contains(&id).then(|| id.to_owned()));
        let role = match &vendor_role {
            Some(vendor_role) => {
                options
                    .role_map
                    .resolve("ParticipantRole", vendor_role, documented_role)
            }
            None => Err("ParticipantId is not one of Participants[]".to_owned()),
        };
        let named_by_role = ROLE_NAMED_IDS.contains(&id)
            || vendor_role
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(id));
        let sender_id = if named_by_role {
            format!("{external_id}:{id}")
        } else {
            id.to_owned()
        };
        Self {
            vendor_role,
            role,
            sender_id,
        }
    }

    /// As a party of the conversation.
    fn party(&self) -> Party {
        Party {
            id: self.sender_id.clone(),
            vendor_role: self.vendor_role.clone().unwrap_or_default(),
            role: self.role.as_ref().ok().cloned(),
            name: None,
        }
    }
}

/// The line of one turn.
fn line<'a>(
    turn: &'a Turn<'_>,
    conversation: &Conversation,
    speakers: &mut Speakers<'a>,
    base: asapp_conversations::chrono::DateTime<asapp_conversations::chrono::Utc>,
) -> Result<crate::transcript::Line<'static>, String> {
    let id = non_blank(turn.participant_id.as_deref()).ok_or("ParticipantId is missing")?;
    let (speaker, _) = speakers.of(id);
    let role = speaker.role.clone()?;
    let text = non_blank(turn.content.as_deref()).ok_or("Content is empty or missing")?;
    let offset = turn
        .begin_offset_millis
        .ok_or("BeginOffsetMillis is missing")?;
    let timestamp = after(base, offset).ok_or("BeginOffsetMillis is out of range")?;
    conversation.line(role, &speaker.sender_id, text, timestamp)
}

#[cfg(test)]
mod tests {
    use super::super::contact_records::RecordTime;
    use super::super::testing::{conversation, read_sample, summary};
    use super::super::{RoleMap, parse_time};
    use super::*;

    fn options(base: &str, role_map: &[&str]) -> ReadOptions {
        ReadOptions {
            role_map: RoleMap::parse(role_map).expect("valid role map"),
            base_time: parse_time(base),
            contact_records: None,
        }
    }

    /// Sample → external id (and where from), conversation fields, and each entry.
    #[test]
    fn samples_read_as_documented() {
        struct Case {
            sample: &'static str,
            role_map: &'static [&'static str],
            external_id_from: &'static str,
            conversation: &'static str,
            entries: &'static [&'static str],
        }
        let cases = [
            Case {
                sample: "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json",
                role_map: &[],
                external_id_from: "CustomerMetadata.ContactId",
                conversation: "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f c-7f3a91 - a-52be07 -",
                entries: &[
                    "/Transcript/0 agent a-52be07 2024-03-01T10:00:00.480Z",
                    "/Transcript/1 customer c-7f3a91 2024-03-01T10:00:04.250Z",
                    "/Transcript/2 system s-10d4ee 2024-03-01T10:00:09.001Z",
                    "/Transcript/3 agent a-52be07 2024-03-01T10:00:12.999Z",
                ],
            },
            Case {
                sample: "7c1d2e3f-0000-4bbb-8ccc-aaaaaaaaaaaa_analysis_redacted_2024-03-02T08:00:00Z.json",
                role_map: &[],
                external_id_from: "CustomerMetadata.ContactId",
                conversation: "7c1d2e3f-0000-4bbb-8ccc-aaaaaaaaaaaa c-0f0f0f - a-1e1e1e -",
                entries: &[
                    "/Transcript/0 agent a-1e1e1e 2024-03-01T10:00:00.100Z",
                    "/Transcript/1 customer c-0f0f0f 2024-03-01T10:00:03.300Z",
                    "/Transcript/2 customer c-0f0f0f 2024-03-01T10:00:07.070Z",
                ],
            },
            Case {
                sample: "3e3e3e3e-1111-4222-8333-444444444444_analysis_2023-11-20T16:40:00Z.json",
                role_map: &[],
                external_id_from: "the file name",
                conversation: "3e3e3e3e-1111-4222-8333-444444444444 3e3e3e3e-1111-4222-8333-444444444444:CUSTOMER - 3e3e3e3e-1111-4222-8333-444444444444:AGENT -",
                entries: &[
                    "/Transcript/0 customer 3e3e3e3e-1111-4222-8333-444444444444:CUSTOMER 2024-03-01T10:00:01.000Z",
                    "/Transcript/1 agent 3e3e3e3e-1111-4222-8333-444444444444:AGENT 2024-03-01T10:00:02.500Z",
                    "/Transcript/2 invalid: Content is empty or missing",
                    "/Transcript/3 invalid: BeginOffsetMillis: found a string, expected u64",
                    "/Transcript/4 invalid: ParticipantId is not one of Participants[]",
                    "/Transcript/5 customer 3e3e3e3e-1111-4222-8333-444444444444:CUSTOMER 2024-03-01T10:00:09.000Z",
                ],
            },
            Case {
                sample: "9a9a9a9a-2222-4333-8444-555555555555_analysis_2024-04-04T12:00:00Z.json",
                role_map: &[],
                external_id_from: "CustomerMetadata.ContactId",
                conversation: "contact-9a9a c-31 - a-32 -",
                entries: &[
                    "/Transcript/0 invalid: ParticipantRole `SUPERVISOR` has no ASAPP role: map it with --role-map 'SUPERVISOR=customer|agent|system'",
                    "/Transcript/1 customer c-31 2024-03-01T10:00:02.000Z",
                    "/Transcript/2 agent a-32 2024-03-01T10:00:03.000Z",
                ],
            },
            Case {
                sample: "9a9a9a9a-2222-4333-8444-555555555555_analysis_2024-04-04T12:00:00Z.json",
                role_map: &["supervisor=agent"],
                external_id_from: "CustomerMetadata.ContactId",
                conversation: "contact-9a9a c-31 - a-30 -",
                entries: &[
                    "/Transcript/0 agent a-30 2024-03-01T10:00:01.000Z",
                    "/Transcript/1 customer c-31 2024-03-01T10:00:02.000Z",
                    "/Transcript/2 agent a-32 2024-03-01T10:00:03.000Z",
                ],
            },
        ];
        for case in cases {
            let options = options("2024-03-01T10:00:00Z", case.role_map);
            let document = read_sample(case.sample, None, &options)
                .unwrap_or_else(|e| panic!("{}: {e}", case.sample));
            assert_eq!(document.format, Format::ContactLens, "{}", case.sample);
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
                document.base_time,
                Some(BaseTime {
                    at: parse_time("2024-03-01T10:00:00Z").expect("time"),
                    source: BaseTimeSource::Option
                })
            );
            assert_eq!(document.skipped_events, 0);
        }
    }

    fn time(text: &str) -> DateTime<Utc> {
        parse_time(text).expect("a time")
    }

    #[test]
    fn the_name_gives_the_contact_the_copy_and_the_time() {
        let cases = [
            (
                "c-1_analysis_2024-01-23T09:00:04Z.json",
                Some((
                    "c-1",
                    CopyKind::Raw,
                    NameTime::At(time("2024-01-23T09:00:04Z")),
                )),
            ),
            (
                "c-1_analysis_redacted_2024-01-23T23:59:59Z.json",
                Some((
                    "c-1",
                    CopyKind::Redacted,
                    NameTime::At(time("2024-01-23T23:59:59Z")),
                )),
            ),
            // Without a time.
            (
                "c-1_analysis_.json",
                Some(("c-1", CopyKind::Raw, NameTime::Missing)),
            ),
            (
                "c-1_analysis_redacted_.json",
                Some(("c-1", CopyKind::Redacted, NameTime::Missing)),
            ),
            (
                "c-1_analysis_redacted.json",
                Some(("c-1", CopyKind::Redacted, NameTime::Missing)),
            ),
            // Malformed times: not a date, not the documented shape, to the minute (the email
            // analysis form), a copy's suffix, an offset instead of Z.
            (
                "c-1_analysis_2024-13-01T09:00:04Z.json",
                Some(("c-1", CopyKind::Raw, NameTime::Malformed)),
            ),
            (
                "c-1_analysis_2024-02-30T09:00:04Z.json",
                Some(("c-1", CopyKind::Raw, NameTime::Malformed)),
            ),
            (
                "c-1_analysis_2024-01-23T25:00:04Z.json",
                Some(("c-1", CopyKind::Raw, NameTime::Malformed)),
            ),
            (
                "c-1_analysis_2024-1-23T09:00:04Z.json",
                Some(("c-1", CopyKind::Raw, NameTime::Malformed)),
            ),
            (
                "c-1_analysis_20260310T22:35_UTC.json",
                Some(("c-1", CopyKind::Raw, NameTime::Malformed)),
            ),
            (
                "c-1_analysis_redacted_2024-01-23T09:00:04Z (1).json",
                Some(("c-1", CopyKind::Redacted, NameTime::Malformed)),
            ),
            (
                "c-1_analysis_2024-01-23T09:00:04+01:00.json",
                Some(("c-1", CopyKind::Raw, NameTime::Malformed)),
            ),
            (
                "c-1_analysis_x.json",
                Some(("c-1", CopyKind::Raw, NameTime::Malformed)),
            ),
            (
                "c-1_analysis_2024-01-23T09:00:04Zé.json",
                Some(("c-1", CopyKind::Raw, NameTime::Malformed)),
            ),
            // Not an analysis file's name.
            ("_analysis_2024-01-23T09:00:04Z.json", None),
            ("transcript.json", None),
            ("stdin", None),
            ("", None),
        ];
        for (name, expected) in cases {
            let got = analysis_name(name).map(|n| (n.contact_id, n.copy, n.time));
            assert_eq!(got, expected, "{name}");
        }
        // The last segment of a path or of an object's URL.
        for file in [
            "Analysis/Voice/2024/01/23/c-1_analysis_2024-01-23T09:00:04Z.json",
            "s3://bucket/connect/Analysis/Voice/2024/01/23/c-1_analysis_2024-01-23T09:00:04Z.json",
            "C:\\exports\\c-1_analysis_2024-01-23T09:00:04Z.json",
        ] {
            let name = analysis_name(super::super::file_name(file)).expect(file);
            assert_eq!(
                (name.contact_id, name.time),
                ("c-1", NameTime::At(time("2024-01-23T09:00:04Z"))),
                "{file}"
            );
        }
    }

    #[test]
    fn the_base_time_comes_from_the_file_name_unless_the_option_gives_one() {
        let bytes = super::super::testing::sample(
            Format::ContactLens,
            "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json",
        );
        let file = "s3://b/Analysis/Voice/2024/03/01/0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json";
        let named = super::super::read_document(file, &bytes, None, &ReadOptions::default())
            .expect("the name has the time");
        assert_eq!(
            named.base_time,
            Some(BaseTime {
                at: time("2024-03-01T10:15:30Z"),
                source: BaseTimeSource::FileName
            })
        );
        assert_eq!(
            summary(&named)[..2],
            [
                "/Transcript/0 agent a-52be07 2024-03-01T10:15:30.480Z",
                "/Transcript/1 customer c-7f3a91 2024-03-01T10:15:34.250Z",
            ]
        );
        assert_eq!(named.copy, Some(CopyKind::Raw));
        let option = options("2024-03-01T10:00:00Z", &[]);
        let overridden =
            super::super::read_document(file, &bytes, None, &option).expect("the option");
        assert_eq!(
            overridden.base_time,
            Some(BaseTime {
                at: time("2024-03-01T10:00:00Z"),
                source: BaseTimeSource::Option
            })
        );
        assert_eq!(BaseTimeSource::FileName.to_string(), "the file name");
    }

    #[test]
    fn without_a_time_in_the_name_or_base_time_the_document_is_refused_naming_the_option() {
        let bytes = super::super::testing::sample(
            Format::ContactLens,
            "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json",
        );
        let refused = |file: &str| {
            super::super::read_document(file, &bytes, None, &ReadOptions::default())
                .expect_err("no base time")
        };
        let error = refused("calls/contact.json");
        assert!(matches!(error.refusal, Refusal::NoBaseTime { .. }));
        assert_eq!(
            error.to_string(),
            "calls/contact.json: contact-lens times are offsets from the start of the contact (BeginOffsetMillis), and the file name has no start time (Amazon Connect names the file <contactId>_analysis_<YYYY-MM-DDThh:mm:ssZ>.json): pass --base-time with that start as an RFC 3339 time (e.g. 2024-01-23T11:42:00Z)"
        );
        let error = refused("c_analysis_2024-01-23T09:00Z.json");
        assert_eq!(
            error.to_string(),
            "c_analysis_2024-01-23T09:00Z.json: contact-lens times are offsets from the start of the contact (BeginOffsetMillis), and the time in the file name is not a YYYY-MM-DDThh:mm:ssZ time (Amazon Connect names the file <contactId>_analysis_<YYYY-MM-DDThh:mm:ssZ>.json): pass --base-time with that start as an RFC 3339 time (e.g. 2024-01-23T11:42:00Z)"
        );
        let error = refused("stdin");
        assert!(matches!(error.refusal, Refusal::NoBaseTime { .. }));
        // The option fills in.
        let option = options("2024-03-01T10:00:00Z", &[]);
        super::super::read_document("stdin", &bytes, None, &option).expect("the option");
    }

    #[test]
    fn the_copy_comes_from_the_content_then_the_name_and_they_must_agree() {
        let document = |output: Option<&str>| {
            let metadata = output.map_or(String::new(), |output| {
                format!(r#""ContentMetadata": {{"Output": "{output}"}}, "#)
            });
            format!(
                r#"{{{metadata}"CustomerMetadata": {{"ContactId": "c"}}, "Participants": [{{"ParticipantId": "C", "ParticipantRole": "CUSTOMER"}}], "Transcript": []}}"#
            )
            .into_bytes()
        };
        let copy = |file: &str, output: Option<&str>| {
            super::super::read_document(
                file,
                &document(output),
                Some(Format::ContactLens),
                &ReadOptions::default(),
            )
            .map(|document| document.copy)
            .map_err(|error| error.to_string())
        };
        let raw = "c_analysis_2024-01-23T09:00:04Z.json";
        let redacted = "c_analysis_redacted_2024-01-23T09:00:04Z.json";
        assert_eq!(copy(raw, Some("Raw")), Ok(Some(CopyKind::Raw)));
        assert_eq!(
            copy(redacted, Some("Redacted")),
            Ok(Some(CopyKind::Redacted))
        );
        assert_eq!(copy(raw, None), Ok(Some(CopyKind::Raw)));
        assert_eq!(copy(redacted, None), Ok(Some(CopyKind::Redacted)));
        assert_eq!(
            copy(redacted, Some("Something else")),
            Ok(Some(CopyKind::Redacted))
        );
        assert_eq!(
            copy("x/c.json", Some("REDACTED")),
            Ok(Some(CopyKind::Redacted))
        );
        assert_eq!(copy("x/c.json", None), Ok(None));
        assert_eq!(
            copy(redacted, Some("Raw")),
            Err(format!(
                "{redacted}: ContentMetadata.Output is raw, but the file name is a redacted copy's: the name and the content must agree on which copy this is (raw or redacted)"
            ))
        );
        assert!(copy(raw, Some("Redacted")).is_err());
        // ContentMetadata of another shape says nothing, and refuses nothing.
        let odd = br#"{"ContentMetadata": "Redacted", "Participants": [{"ParticipantId": "C", "ParticipantRole": "CUSTOMER"}], "Transcript": []}"#;
        let read =
            super::super::read_document(raw, odd, None, &ReadOptions::default()).expect("read");
        assert_eq!(read.copy, Some(CopyKind::Raw));
    }

    #[test]
    fn the_contact_id_comes_from_the_metadata_then_the_file_name() {
        assert_eq!(
            contact_id_of_file_name("abc_analysis_2020-02-04T21:14:16Z.json"),
            Some("abc")
        );
        assert_eq!(
            contact_id_of_file_name("abc_analysis_redacted_2020-02-04T21:14:16Z.json"),
            Some("abc")
        );
        assert_eq!(contact_id_of_file_name("_analysis_x.json"), None);
        assert_eq!(contact_id_of_file_name("transcript.json"), None);
        let document = br#"{"Participants": [], "Transcript": []}"#;
        let error = super::super::read_document(
            "dir/transcript.json",
            document,
            Some(Format::ContactLens),
            &ReadOptions::default(),
        )
        .expect_err("no id");
        assert_eq!(
            error.to_string(),
            "dir/transcript.json: no conversation id: looked for CustomerMetadata.ContactId, then a file name <contactId>_analysis_….json"
        );
        let named = super::super::read_document(
            "Analysis/Voice/2024/01/02/c-9_analysis_.json",
            br#"{"Participants": [{"ParticipantId": "CUSTOMER", "ParticipantRole": "CUSTOMER"}], "Transcript": []}"#,
            Some(Format::ContactLens),
            &ReadOptions::default(),
        )
        .expect("an empty transcript needs no base time");
        assert_eq!(named.external_id, "c-9");
        assert_eq!(named.base_time, None);
    }

    #[test]
    fn a_contact_record_gives_the_start_the_agent_and_the_queue_and_base_time_wins() {
        let mut records = super::super::contact_records::ContactRecords::default();
        records
            .add_file(
                "ctr",
                br#"{"ContactId": "c-1", "InitialContactId": "c-0", "Agent": {"ARN": "arn:aws:connect:r:1:instance/i/agent/u-7", "ConnectedToAgentTimestamp": "2024-01-23T09:00:05Z"}, "Queue": {"Name": "Kites"}, "Recordings": [{"StartTimestamp": "2024-01-23T09:00:06.5Z"}]}
                {"ContactId": "c-2", "Agent": {"Username": "ada"}}"#,
            )
            .expect("records");
        let with_records = ReadOptions {
            contact_records: Some(Arc::new(records)),
            ..ReadOptions::default()
        };
        let document = |id: &str, agents: &[&str]| {
            let mut participants =
                vec![r#"{"ParticipantId": "C", "ParticipantRole": "CUSTOMER"}"#.to_owned()];
            let mut turns = vec![
                r#"{"ParticipantId": "C", "Content": "hi", "BeginOffsetMillis": 1000}"#.to_owned(),
            ];
            for agent in agents {
                participants.push(format!(
                    r#"{{"ParticipantId": "{agent}", "ParticipantRole": "AGENT"}}"#
                ));
                turns.push(format!(r#"{{"ParticipantId": "{agent}", "Content": "hello", "BeginOffsetMillis": 2000}}"#));
            }
            let text = format!(
                r#"{{"CustomerMetadata": {{"ContactId": "{id}"}}, "Participants": [{}], "Transcript": [{}]}}"#,
                participants.join(","),
                turns.join(",")
            );
            let name = format!("{id}_analysis_2024-01-23T09:00:04Z.json");
            move |options: &ReadOptions| {
                super::super::read_document(&name, text.as_bytes(), None, options).expect("read")
            }
        };
        // The recording's start, the agent's id from its ARN for the conversation and the one
        // agent's messages, the queue and the first segment as metadata.
        let read = document("c-1", &["a-1"])(&with_records);
        assert_eq!(
            read.base_time,
            Some(BaseTime {
                at: time("2024-01-23T09:00:06.500Z"),
                source: BaseTimeSource::ContactRecord(RecordTime::RecordingStart)
            })
        );
        assert_eq!(
            summary(&read),
            [
                "/Transcript/0 customer C 2024-01-23T09:00:07.500Z",
                "/Transcript/1 agent u-7 2024-01-23T09:00:08.500Z"
            ]
        );
        assert_eq!(conversation(&read), "c-1 C - u-7 -");
        let line = read.entries[0].line.as_ref().expect("a line");
        let upsert = line.conversation().expect("a conversation");
        assert_eq!(
            upsert.metadata,
            BTreeMap::from([
                ("initialContactId".to_owned(), "c-0".to_owned()),
                ("queue".to_owned(), "Kites".to_owned())
            ])
        );
        // Two agents in the file: each keeps its id; the conversation's agent is the record's.
        let read = document("c-1", &["a-1", "a-2"])(&with_records);
        assert_eq!(conversation(&read), "c-1 C - u-7 -");
        assert_eq!(
            summary(&read)[1..],
            [
                "/Transcript/1 agent a-1 2024-01-23T09:00:08.500Z",
                "/Transcript/2 agent a-2 2024-01-23T09:00:08.500Z"
            ]
        );
        // --base-time wins over the record.
        let option = ReadOptions {
            base_time: parse_time("2024-03-01T10:00:00Z"),
            ..with_records.clone()
        };
        let read = document("c-1", &["a-1"])(&option);
        assert_eq!(
            read.base_time.map(|b| b.source),
            Some(BaseTimeSource::Option)
        );
        assert_eq!(conversation(&read), "c-1 C - u-7 -");
        // A record without a time: the name's; the user name where the ARN is missing.
        let read = document("c-2", &["a-1"])(&with_records);
        assert_eq!(
            read.base_time.map(|b| b.source),
            Some(BaseTimeSource::FileName)
        );
        assert_eq!(conversation(&read), "c-2 C - ada -");
        // No record: as without records.
        let read = document("c-3", &["a-1"])(&with_records);
        assert_eq!(
            read.base_time.map(|b| b.source),
            Some(BaseTimeSource::FileName)
        );
        assert_eq!(conversation(&read), "c-3 C - a-1 -");
        assert!(
            read.entries[0]
                .line
                .as_ref()
                .expect("a line")
                .metadata
                .is_none()
        );
    }

    #[test]
    fn chat_analysis_files_are_refused() {
        let error = super::super::read_document(
            "c_analysis_x.json",
            br#"{"Channel": "CHAT", "Transcript": []}"#,
            None,
            &ReadOptions::default(),
        )
        .expect_err("chat");
        assert_eq!(
            error.to_string(),
            "c_analysis_x.json: a contact-lens analysis file of Channel `CHAT` is not read: only VOICE files are"
        );
    }
}
