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
//! - Time: `BeginOffsetMillis` after the start of the contact. The file has no absolute time, so
//!   the base is `--base-time` (the contact's start, e.g. from the contact record); without it a
//!   document with turns is refused.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry as Slot;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use asapp_conversations::types::ParticipantRole;

use super::{
    Conversation, Document, ErrorKind, Format, Options, Parties, Party, after, choose_base, entry,
    non_blank, pointer, shown, top_level,
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
    participants: Vec<Participant<'a>>,
    #[serde(borrow)]
    customer_metadata: Option<CustomerMetadata<'a>>,
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
pub(super) fn read(text: &str, file_name: &str, options: &Options) -> Result<Document, ErrorKind> {
    let file: AnalysisFile = top_level::<_, AnalysisFile<IgnoredAny>>(text, Format::ContactLens)?;
    if let Some(channel) = file.channel.as_deref().filter(|c| *c != "VOICE") {
        return Err(ErrorKind::Unsupported(format!(
            "a contact-lens analysis file of Channel {} is not read: only VOICE files are",
            shown(channel)
        )));
    }
    let (external_id, external_id_from) = external_id(&file, file_name)?;
    let base_time = choose_base(None, options);
    let base = match base_time {
        Some(base) => base.at,
        None if file.transcript.is_empty() => Default::default(),
        None => {
            return Err(ErrorKind::NoBaseTime {
                explanation: "contact-lens times are offsets from the start of the contact (BeginOffsetMillis) and the file has no start time",
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
    let conversation = parties.conversation(&external_id)?;
    let entries = pointers
        .into_iter()
        .zip(&turns)
        .map(|(at, turn)| {
            let line = match turn {
                Ok(turn) => line(turn, &conversation, &mut speakers, base),
                Err(reason) => Err(reason.clone()),
            };
            super::Entry { pointer: at, line }
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
    })
}

/// The contact id: `CustomerMetadata.ContactId`, else the file name's.
fn external_id(
    file: &AnalysisFile<'_>,
    file_name: &str,
) -> Result<(String, &'static str), ErrorKind> {
    let from_metadata = file
        .customer_metadata
        .as_ref()
        .and_then(|m| non_blank(m.contact_id.as_deref()));
    if let Some(id) = from_metadata {
        return Ok((id.trim().to_owned(), "CustomerMetadata.ContactId"));
    }
    contact_id_of_file_name(file_name)
        .map(|id| (id.to_owned(), "the file name"))
        .ok_or(ErrorKind::NoExternalId {
            looked_for: "CustomerMetadata.ContactId, then a file name <contactId>_analysis_….json",
        })
}

/// `<contactId>` of `<contactId>_analysis_….json` (raw) or `<contactId>_analysis_redacted_….json`.
fn contact_id_of_file_name(file_name: &str) -> Option<&str> {
    let (contact_id, _) = file_name.split_once("_analysis_")?;
    (!contact_id.trim().is_empty()).then_some(contact_id)
}

/// The speakers of a file, each participant id worked out once.
struct Speakers<'a> {
    /// The role of each id of `Participants[]`.
    roles: HashMap<&'a str, &'a str>,
    external_id: &'a str,
    options: &'a Options,
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
    fn of(id: &str, roles: &HashMap<&str, &str>, external_id: &str, options: &Options) -> Self {
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
    use super::super::testing::{conversation, read_sample, summary};
    use super::super::{BaseTime, BaseTimeSource, RoleMap, parse_time};
    use super::*;

    fn options(base: &str, role_map: &[&str]) -> Options {
        Options {
            role_map: RoleMap::parse(role_map).expect("valid role map"),
            base_time: parse_time(base),
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

    #[test]
    fn without_base_time_the_document_is_refused_naming_the_option() {
        let error = read_sample(
            "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json",
            None,
            &Options::default(),
        )
        .expect_err("no base time");
        assert!(matches!(error.kind, ErrorKind::NoBaseTime { .. }));
        assert_eq!(
            error.to_string(),
            "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json: contact-lens times are offsets from the start of the contact (BeginOffsetMillis) and the file has no start time: pass --base-time with that start as an RFC 3339 time (e.g. 2024-01-23T11:42:00Z)"
        );
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
            &Options::default(),
        )
        .expect_err("no id");
        assert_eq!(
            error.to_string(),
            "dir/transcript.json: no conversation id: looked for CustomerMetadata.ContactId, then a file name <contactId>_analysis_….json"
        );
        let named = super::super::read_document(
            "Analysis/Voice/2024/01/02/c-9_analysis_2024-01-02T03:04:05Z.json",
            br#"{"Participants": [{"ParticipantId": "CUSTOMER", "ParticipantRole": "CUSTOMER"}], "Transcript": []}"#,
            Some(Format::ContactLens),
            &Options::default(),
        )
        .expect("an empty transcript needs no base time");
        assert_eq!(named.external_id, "c-9");
        assert_eq!(named.base_time, None);
    }

    #[test]
    fn chat_analysis_files_are_refused() {
        let error = super::super::read_document(
            "c_analysis_x.json",
            br#"{"Channel": "CHAT", "Transcript": []}"#,
            None,
            &Options::default(),
        )
        .expect_err("chat");
        assert_eq!(
            error.to_string(),
            "c_analysis_x.json: a contact-lens analysis file of Channel `CHAT` is not read: only VOICE files are"
        );
    }
}
