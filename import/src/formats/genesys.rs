//! Genesys Cloud Speech and Text Analytics transcript documents (`genesys`).
//!
//! Sources: Genesys Cloud Developer Center, "Transcript URL"
//! (<https://developer.genesys.cloud/api/rest/v2/speechtextanalytics/transcript_url>: the
//! document behind the pre-signed URL of
//! `GET /api/v2/speechandtextanalytics/conversations/{conversationId}/communications/{communicationId}/transcripturl`,
//! and its transcript schema); the Genesys Cloud Developer Forum, "Voice Transcription API
//! Response" (<https://developer.genesys.cloud/forum/t/voice-transcription-api-response/10653>:
//! a phrase's `startTimeMs` is milliseconds since the epoch, and `participantPurpose` is all
//! that attributes a phrase, so `internal` phrases of a transferred call cannot be told apart by
//! agent); Genesys Cloud Resource Center, "Work with a voice transcript" (external = customer;
//! internal = IVR, ACD, agent, conference or voicemail).
//!
//! The document accepted: a JSON object with
//! - `conversationId` (required for the conversation id), `conversationStartTime` (epoch ms);
//! - `participants[]` of `{participantPurpose, userId, …}` (optional);
//! - `transcripts[]`, each with `phrases[]` of `{text, participantPurpose, startTimeMs, offset, …}`;
//!   `communicationId`, `words`, `duration`, `analytics` and the rest are ignored.
//!
//! Mapping:
//! - `externalId`: `conversationId` (a conversation's several communications are one
//!   conversation).
//! - Role, from the phrase's `participantPurpose`: `internal` → agent, `external` → customer,
//!   `ivr` and `acd` → system; any other purpose needs the role map, which can also remap these.
//! - Time: `startTimeMs`, an absolute time in epoch milliseconds (a phrase earlier than
//!   `conversationStartTime` is invalid: that would be an offset, not a time). A phrase without
//!   `startTimeMs` but with `offset` as a number of milliseconds takes it after
//!   `conversationStartTime` (else `--base-time`; neither refuses the document). This offset
//!   rule is this reader's reading of the schema, which does not say what `offset` is counted
//!   from; documents seen carry `startTimeMs`.
//! - Sender ids: phrases carry no participant id. An `internal` phrase's sender is the agent's
//!   `userId` when exactly one participant with purpose `internal`, `agent` or `user` has one;
//!   otherwise (and for every other purpose) it is `<conversationId>:<purpose>`, e.g.
//!   `conv-1:external`. The conversation's customer is `<conversationId>:external` (or the first
//!   remapped purpose); its agent is the first such participant's `userId`, else the derived id
//!   of the first agent phrase. No names.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

use asapp_conversations::types::ParticipantRole;

use super::redact::{Object, entry, pointer, top_level};
use super::{
    BaseTime, Conversation, Document, Format, MessageEntry, ReadOptions, Refusal, Time, after,
    choose_base, non_blank,
};
use crate::transcript::Line;
use asapp_conversations::chrono::DateTime;

/// What is read of the transcript document, borrowed from its text; each phrase is left as its
/// text (`T`), to be read on its own (or ignored, to tell why the document does not fit).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TranscriptDocument<'a, T = &'a RawValue> {
    #[serde(borrow)]
    conversation_id: Option<Cow<'a, str>>,
    conversation_start_time: Option<i64>,
    #[serde(borrow, default)]
    participants: Vec<Object<Participant<'a>>>,
    // `Vec::new`, not `default`, which would need `T: Default`.
    #[serde(default = "Vec::new")]
    transcripts: Vec<Object<Transcript<T>>>,
}

/// A participant of the communication.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Participant<'a> {
    #[serde(borrow)]
    participant_purpose: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_id: Option<Cow<'a, str>>,
}

/// One transcript of the communication.
#[derive(Debug, Deserialize)]
struct Transcript<T> {
    #[serde(default = "Vec::new")]
    phrases: Vec<T>,
}

/// One phrase.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Phrase<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    participant_purpose: Option<Cow<'a, str>>,
    start_time_ms: Option<i64>,
    offset: Option<Value>,
}

/// Genesys's documented purposes.
fn documented_role(purpose: &str) -> Option<ParticipantRole> {
    match purpose.to_ascii_lowercase().as_str() {
        "internal" => Some(ParticipantRole::Agent),
        "external" => Some(ParticipantRole::Customer),
        "ivr" | "acd" => Some(ParticipantRole::System),
        _ => None,
    }
}

/// The participant purposes that are agents.
const AGENT_PURPOSES: [&str; 3] = ["internal", "agent", "user"];

/// The document's field that is its base time.
const START_FIELD: &str = "conversationStartTime";

/// Reads a transcript document from its text.
pub(super) fn read(text: &str, options: &ReadOptions) -> Result<Document, Refusal> {
    let document: TranscriptDocument =
        top_level::<Object<_>, Object<TranscriptDocument<'_, IgnoredAny>>>(text, Format::Genesys)?
            .0;
    let external_id = non_blank(document.conversation_id.as_deref())
        .ok_or(Refusal::NoExternalId {
            looked_for: "conversationId",
        })?
        .trim()
        .to_owned();
    let start = match document.conversation_start_time {
        Some(ms) => Some(
            DateTime::from_timestamp_millis(ms).ok_or(Refusal::BadBaseTime {
                pointer: "/conversationStartTime",
            })?,
        ),
        None => None,
    };
    let base = choose_base(start.map(|at| (at, START_FIELD)), options);
    let agent_user_ids = agent_user_ids(&document.participants);
    let senders = Senders {
        external_id: &external_id,
        agent_user_id: match agent_user_ids.as_slice() {
            [only] => Some(only.as_str()),
            _ => None,
        },
    };
    let phrases = phrases(&document);
    let resolve = |purpose: &str| {
        options
            .role_map
            .resolve("participantPurpose", purpose, documented_role)
    };
    let conversation = conversation(&phrases, &senders, &resolve, agent_user_ids.first());
    let mut used_base = false;
    let mut entries = Vec::with_capacity(phrases.len());
    for (at, phrase) in phrases {
        let line = match phrase {
            Err(reason) => Err(reason),
            Ok(phrase) => match time(&phrase, document.conversation_start_time, base)? {
                Err(reason) => Err(reason),
                Ok((timestamp, from_base)) => {
                    used_base |= from_base;
                    line(&phrase, &conversation, &senders, &resolve, timestamp)
                }
            },
        };
        entries.push(MessageEntry { pointer: at, line });
    }
    Ok(Document {
        format: Format::Genesys,
        external_id,
        external_id_from: "conversationId",
        entries,
        base_time: base.filter(|_| used_base),
        skipped_events: 0,
        skipped_attachments: 0,
        copy: None,
    })
}

/// Every phrase of every transcript, with its pointer, in document order.
fn phrases<'a>(document: &TranscriptDocument<'a>) -> Vec<(String, Result<Phrase<'a>, String>)> {
    let mut phrases = Vec::new();
    for (t, transcript) in document.transcripts.iter().enumerate() {
        let transcript_at = pointer(&pointer("/transcripts", t), "phrases");
        for (p, raw) in transcript.phrases.iter().enumerate() {
            let at = pointer(&transcript_at, p);
            let phrase = entry(raw, &at);
            phrases.push((at, phrase));
        }
    }
    phrases
}

/// The distinct `userId`s of the agent participants, in document order.
fn agent_user_ids(participants: &[Object<Participant<'_>>]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for participant in participants {
        let is_agent = participant.participant_purpose.as_deref().is_some_and(|p| {
            AGENT_PURPOSES
                .iter()
                .any(|a| a.eq_ignore_ascii_case(p.trim()))
        });
        if let Some(id) = non_blank(participant.user_id.as_deref()).filter(|_| is_agent)
            && !ids.iter().any(|known| known == id)
        {
            ids.push(id.to_owned());
        }
    }
    ids
}

/// How phrases get their sender ids.
struct Senders<'a> {
    external_id: &'a str,
    /// The one agent's user id, if the document names exactly one.
    agent_user_id: Option<&'a str>,
}

impl Senders<'_> {
    /// The sender id of a phrase of `purpose`.
    fn of(&self, purpose: &str) -> String {
        let purpose = purpose.trim().to_lowercase();
        match self.agent_user_id {
            Some(user_id) if purpose == "internal" => user_id.to_owned(),
            _ => format!("{}:{purpose}", self.external_id),
        }
    }
}

/// The conversation: the first customer phrase's sender (else the derived external party), and
/// the first agent participant (else the first agent phrase's sender).
fn conversation(
    phrases: &[(String, Result<Phrase<'_>, String>)],
    senders: &Senders<'_>,
    resolve: &impl Fn(&str) -> Result<ParticipantRole, String>,
    first_agent_user_id: Option<&String>,
) -> Conversation {
    let first_sender = |role: ParticipantRole| {
        phrases
            .iter()
            .filter_map(|(_, phrase)| phrase.as_ref().ok())
            .filter_map(|phrase| non_blank(phrase.participant_purpose.as_deref()))
            .find(|purpose| resolve(purpose).as_ref() == Ok(&role))
            .map(|purpose| senders.of(purpose))
    };
    Conversation {
        external_id: senders.external_id.to_owned(),
        customer_id: first_sender(ParticipantRole::Customer)
            .unwrap_or_else(|| senders.of("external")),
        customer_name: None,
        agent_id: first_agent_user_id
            .cloned()
            .or_else(|| first_sender(ParticipantRole::Agent)),
        agent_name: None,
        metadata: None,
    }
}

/// The phrase's time and whether it came from the base; the outer error refuses the document
/// (an offset and no base time), the inner one is the phrase's.
fn time(
    phrase: &Phrase<'_>,
    conversation_start: Option<i64>,
    base: Option<BaseTime>,
) -> Result<Result<(Time, bool), String>, Refusal> {
    if let Some(ms) = phrase.start_time_ms {
        if conversation_start.is_some_and(|start| ms < start) {
            return Ok(Err("startTimeMs is before conversationStartTime".to_owned()));
        }
        return Ok(DateTime::from_timestamp_millis(ms)
            .map(|t| (t, false))
            .ok_or_else(|| "startTimeMs is out of range".to_owned()));
    }
    let Some(offset) = &phrase.offset else {
        return Ok(Err("startTimeMs and offset are both missing".to_owned()));
    };
    let Some(offset) = offset.as_u64() else {
        return Ok(Err("offset is not a number of milliseconds".to_owned()));
    };
    let base = base.ok_or(Refusal::NoBaseTime {
        explanation: "a genesys phrase has only an offset and the document has no conversationStartTime",
    })?;
    Ok(after(base.at, offset)
        .map(|t| (t, true))
        .ok_or_else(|| "offset is out of range".to_owned()))
}

/// The line of one phrase.
fn line(
    phrase: &Phrase<'_>,
    conversation: &Conversation,
    senders: &Senders<'_>,
    resolve: &impl Fn(&str) -> Result<ParticipantRole, String>,
    timestamp: Time,
) -> Result<Line<'static>, String> {
    let purpose =
        non_blank(phrase.participant_purpose.as_deref()).ok_or("participantPurpose is missing")?;
    let role = resolve(purpose)?;
    let text = non_blank(phrase.text.as_deref()).ok_or("text is empty or missing")?;
    conversation.line(role, &senders.of(purpose), text, timestamp)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{conversation, read_sample, summary};
    use super::super::{BaseTimeSource, RoleMap, parse_time, read_document};
    use super::*;

    /// Sample → conversation fields, entries and base time.
    #[test]
    fn samples_read_as_documented() {
        struct Case {
            sample: &'static str,
            role_map: &'static [&'static str],
            base_time: Option<&'static str>,
            conversation: &'static str,
            entries: &'static [&'static str],
            base: Option<(&'static str, BaseTimeSource)>,
        }
        let cases = [
            Case {
                sample: "ivr-then-agent.json",
                role_map: &[],
                base_time: None,
                conversation: "6f1c2d3e-aaaa-4bbb-8ccc-000000000001 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:external - u-ag-0042 -",
                entries: &[
                    "/transcripts/0/phrases/0 system 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:ivr 2024-07-08T14:00:01.250Z",
                    "/transcripts/0/phrases/1 customer 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:external 2024-07-08T14:00:06.000Z",
                    "/transcripts/0/phrases/2 agent u-ag-0042 2024-07-08T14:00:30.007Z",
                    "/transcripts/0/phrases/3 invalid: startTimeMs is before conversationStartTime",
                    "/transcripts/0/phrases/4 customer 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:external 2024-07-08T14:00:45.500Z",
                    "/transcripts/1/phrases/0 agent u-ag-0042 2024-07-08T14:01:00.000Z",
                ],
                base: None,
            },
            Case {
                sample: "ivr-then-agent.json",
                role_map: &["IVR=agent"],
                base_time: None,
                conversation: "6f1c2d3e-aaaa-4bbb-8ccc-000000000001 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:external - u-ag-0042 -",
                entries: &[
                    "/transcripts/0/phrases/0 agent 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:ivr 2024-07-08T14:00:01.250Z",
                    "/transcripts/0/phrases/1 customer 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:external 2024-07-08T14:00:06.000Z",
                    "/transcripts/0/phrases/2 agent u-ag-0042 2024-07-08T14:00:30.007Z",
                    "/transcripts/0/phrases/3 invalid: startTimeMs is before conversationStartTime",
                    "/transcripts/0/phrases/4 customer 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:external 2024-07-08T14:00:45.500Z",
                    "/transcripts/1/phrases/0 agent u-ag-0042 2024-07-08T14:01:00.000Z",
                ],
                base: None,
            },
            Case {
                sample: "transfer-and-offsets.json",
                role_map: &[],
                base_time: None,
                conversation: "conv-transfer-9 conv-transfer-9:external - u-first -",
                entries: &[
                    "/transcripts/0/phrases/0 customer conv-transfer-9:external 2024-07-09T09:00:02.000Z",
                    "/transcripts/0/phrases/1 agent conv-transfer-9:internal 2024-07-09T09:00:04.500Z",
                    "/transcripts/0/phrases/2 invalid: participantPurpose `voicemail` has no ASAPP role: map it with --role-map 'voicemail=customer|agent|system'",
                    "/transcripts/0/phrases/3 system conv-transfer-9:acd 2024-07-09T09:00:20.000Z",
                    "/transcripts/0/phrases/4 invalid: offset is not a number of milliseconds",
                    "/transcripts/0/phrases/5 invalid: text is empty or missing",
                    "/transcripts/0/phrases/6 invalid: participantPurpose is missing",
                ],
                base: Some((
                    "2024-07-09T09:00:00Z",
                    BaseTimeSource::Field("conversationStartTime"),
                )),
            },
        ];
        for case in cases {
            let options = ReadOptions {
                role_map: RoleMap::parse(case.role_map).expect("valid role map"),
                base_time: case.base_time.and_then(parse_time),
                contact_records: None,
            };
            let document = read_sample(case.sample, None, &options)
                .unwrap_or_else(|e| panic!("{}: {e}", case.sample));
            assert_eq!(document.format, Format::Genesys, "{}", case.sample);
            assert_eq!(document.external_id_from, "conversationId");
            assert_eq!(
                conversation(&document),
                case.conversation,
                "{}",
                case.sample
            );
            assert_eq!(summary(&document), case.entries, "{}", case.sample);
            assert_eq!(
                document.base_time,
                case.base.map(|(at, source)| BaseTime {
                    at: parse_time(at).expect("time"),
                    source
                }),
                "{}",
                case.sample
            );
        }
    }

    #[test]
    fn an_offset_without_any_base_time_refuses_the_document_and_the_option_fills_in() {
        let document = br#"{"conversationId": "c-1", "transcripts": [{"phrases": [
            {"text": "Hello? Is this the lighthouse?", "participantPurpose": "external", "offset": 1500}
        ]}]}"#;
        let error = read_document("g.json", document, None, &ReadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "g.json: a genesys phrase has only an offset and the document has no conversationStartTime: pass --base-time with that start as an RFC 3339 time (e.g. 2024-01-23T11:42:00Z)"
        );
        let options = ReadOptions {
            base_time: parse_time("2024-01-01T00:00:00Z"),
            ..ReadOptions::default()
        };
        let read = read_document("g.json", document, None, &options).expect("with --base-time");
        assert_eq!(
            summary(&read),
            ["/transcripts/0/phrases/0 customer c-1:external 2024-01-01T00:00:01.500Z"]
        );
        assert_eq!(
            read.base_time.map(|b| b.source),
            Some(BaseTimeSource::Option)
        );
    }

    #[test]
    fn no_conversation_id_refuses_the_document() {
        let error = read_document(
            "g.json",
            br#"{"transcripts": []}"#,
            None,
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "g.json: no conversation id: looked for conversationId"
        );
    }
}
