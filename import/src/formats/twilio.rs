//! Twilio Conversational (Voice) Intelligence transcripts with their sentences (`twilio`).
//!
//! Sources: Twilio docs, "Conversational Intelligence - Transcript Sentence Subresource"
//! (<https://www.twilio.com/docs/conversational-intelligence/api/transcript-sentence-subresource>:
//! `media_channel`, `sentence_index`, `start_time`/`end_time` as offsets in seconds from the
//! beginning of the transcript, given as strings or numbers and possibly `null`, `transcript`;
//! the list answer `{"sentences": […], "meta": {…}}` of `GET /v2/Transcripts/{sid}/Sentences`);
//! "Conversational Intelligence - Transcript Resource"
//! (<https://www.twilio.com/docs/conversational-intelligence/api/transcript-resource>: `sid`,
//! `date_created`, `media_start_time` ("the date that this Transcript's media was started"),
//! `channel`, the media channel describing the source and the participant mapping);
//! "Voice Intelligence - Best Practices"
//! (<https://www.twilio.com/docs/voice/intelligence/voice-intelligence-best-practices>: channel 1
//! of a dual-channel recording is treated as the "Agent" and channel 2 as the "Customer" unless
//! participants say otherwise).
//!
//! The document accepted, as an operator saves the two answers of Twilio's API: a JSON object
//! with
//! - `sentences`: the sentences (required); the Sentences list answer as it is (its `meta` is
//!   used only for the transcript's sid), its pages joined into one array;
//! - `transcript`: the Transcript resource, `GET /v2/Transcripts/{sid}` (optional). Its fields
//!   `sid`, `media_start_time` and `channel` may instead be at the top level, next to
//!   `sentences` (the resource with the sentences added). Of `channel`, `participants[]` of
//!   `{channel_participant, role, user_id, full_name}` is read.
//!
//! Mapping:
//! - `externalId`: the transcript's `sid` (`transcript.sid`, else `sid`), else the `GT…` sid in
//!   the Sentences answer's `meta.url`; else the document is refused.
//! - Role: the `role` of the participant whose `channel_participant` is the sentence's
//!   `media_channel` (free text, matched case-insensitively): `agent` → agent, `customer` →
//!   customer, anything else through the role map. A channel with no participant takes
//!   Twilio's default label (1 `Agent`, 2 `Customer`), which the role map can remap too; any
//!   other channel without a participant is invalid.
//! - Sender id: the participant's `user_id`, else `<sid>:channel-<media_channel>`. Names:
//!   `full_name`.
//! - Time: `start_time` seconds after `media_start_time` (`--base-time` if the document has
//!   none; neither refuses the document), converted to milliseconds from its decimal digits,
//!   exactly (digits past the millisecond are dropped). `date_created` is not a base: it is when
//!   the Transcript resource was created, after the call.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

use asapp_conversations::types::ParticipantRole;

use super::redact::{Object, entry, pointer, top_level};
use super::{
    Conversation, Document, Format, MessageEntry, Parties, Party, ReadOptions, Refusal, after,
    choose_base, non_blank, parse_time,
};
use crate::transcript::Line;

/// The document: the sentences, with the transcript resource nested or at the top level,
/// borrowed from its text; each sentence is left as its text (`T`), to be read on its own (or
/// ignored, to tell why the document does not fit).
#[derive(Debug, Deserialize)]
struct SavedTranscript<'a, T = &'a RawValue> {
    #[serde(borrow)]
    transcript: Option<Object<TranscriptResource<'a>>>,
    #[serde(borrow, flatten)]
    top_level: TranscriptResource<'a>,
    sentences: Vec<T>,
    #[serde(borrow)]
    meta: Option<Object<ListMeta<'a>>>,
}

/// What is read of the Transcript resource.
#[derive(Debug, Default, Deserialize)]
struct TranscriptResource<'a> {
    #[serde(borrow)]
    sid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    media_start_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    channel: Option<Object<Channel<'a>>>,
}

/// The resource's media channel: its participant mapping.
#[derive(Debug, Default, Deserialize)]
struct Channel<'a> {
    #[serde(borrow, default)]
    participants: Vec<Object<ChannelParticipant<'a>>>,
}

/// A participant of a channel.
#[derive(Debug, Deserialize)]
struct ChannelParticipant<'a> {
    channel_participant: Option<Value>,
    #[serde(borrow)]
    role: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    full_name: Option<Cow<'a, str>>,
}

/// The list answer's metadata.
#[derive(Debug, Deserialize)]
struct ListMeta<'a> {
    #[serde(borrow)]
    url: Option<Cow<'a, str>>,
}

/// One sentence.
#[derive(Debug, Deserialize)]
struct Sentence<'a> {
    media_channel: Option<Value>,
    start_time: Option<Value>,
    #[serde(borrow)]
    transcript: Option<Cow<'a, str>>,
}

/// Twilio's documented roles, free text matched case-insensitively.
fn documented_role(role: &str) -> Option<ParticipantRole> {
    match role.to_ascii_lowercase().as_str() {
        "agent" => Some(ParticipantRole::Agent),
        "customer" => Some(ParticipantRole::Customer),
        _ => None,
    }
}

/// Twilio's default label of a channel no participant describes.
fn default_label(channel: u64) -> Option<&'static str> {
    match channel {
        1 => Some("Agent"),
        2 => Some("Customer"),
        _ => None,
    }
}

/// A channel number: an integer, or a string of digits.
fn channel_number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a saved transcript with its sentences from its text.
pub(super) fn read(text: &str, options: &ReadOptions) -> Result<Document, Refusal> {
    let saved: SavedTranscript =
        top_level::<Object<_>, Object<SavedTranscript<'_, IgnoredAny>>>(text, Format::Twilio)?.0;
    let nested = saved.transcript.as_ref();
    let (external_id, external_id_from) = external_id(&saved)?;
    let start = media_start_time(&saved)?;
    let base_time = choose_base(start, options);
    let base = match base_time {
        Some(base) => base.at,
        None if saved.sentences.is_empty() => Default::default(),
        None => {
            return Err(Refusal::NoBaseTime {
                explanation: "twilio sentence times are offsets from the start of the media and the document has no media_start_time",
            });
        }
    };
    let participants = nested
        .and_then(|t| t.channel.as_ref())
        .filter(|c| !c.participants.is_empty())
        .or(saved.top_level.channel.as_ref())
        .map_or(&[][..], |c| &c.participants[..]);
    let channels = Channels {
        participants,
        external_id: &external_id,
        options,
    };
    let sentences: Vec<(String, Result<Sentence<'_>, String>)> = saved
        .sentences
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            let at = pointer("/sentences", index);
            let sentence = entry(raw, &at);
            (at, sentence)
        })
        .collect();
    let mut parties = Parties::default();
    for participant in participants {
        if let Some(channel) = participant
            .channel_participant
            .as_ref()
            .and_then(channel_number)
        {
            parties.add(channels.speaker(channel).party());
        }
    }
    for (_, sentence) in &sentences {
        if let Some(channel) = sentence
            .as_ref()
            .ok()
            .and_then(|s| s.media_channel.as_ref())
            .and_then(channel_number)
        {
            parties.add(channels.speaker(channel).party());
        }
    }
    let conversation = parties.conversation(&external_id)?;
    let entries = sentences
        .into_iter()
        .map(|(at, sentence)| MessageEntry {
            pointer: at,
            line: sentence.and_then(|s| line(&s, &channels, &conversation, base)),
        })
        .collect();
    Ok(Document {
        format: Format::Twilio,
        external_id,
        external_id_from,
        entries,
        base_time,
        skipped_events: 0,
        skipped_attachments: 0,
        copy: None,
    })
}

/// The transcript's sid: the resource's, else the one in the list answer's `meta.url`.
fn external_id(saved: &SavedTranscript<'_>) -> Result<(String, &'static str), Refusal> {
    let nested = saved
        .transcript
        .as_ref()
        .and_then(|t| non_blank(t.sid.as_deref()));
    if let Some(sid) = nested {
        return Ok((sid.trim().to_owned(), "transcript.sid"));
    }
    if let Some(sid) = non_blank(saved.top_level.sid.as_deref()) {
        return Ok((sid.trim().to_owned(), "sid"));
    }
    saved
        .meta
        .as_ref()
        .and_then(|meta| meta.url.as_deref())
        .and_then(sid_of_sentences_url)
        .map(|sid| (sid.to_owned(), "meta.url"))
        .ok_or(Refusal::NoExternalId {
            looked_for: "transcript.sid, sid, then the transcript in meta.url",
        })
}

/// `GT…` of `https://intelligence.twilio.com/v2/Transcripts/GT…/Sentences?…`.
fn sid_of_sentences_url(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("/Transcripts/")?;
    let sid = rest.split(['/', '?']).next()?;
    let is_sid =
        sid.len() == 34 && sid.starts_with("GT") && sid[2..].chars().all(|c| c.is_ascii_hexdigit());
    is_sid.then_some(sid)
}

/// The document's `media_start_time` (nested or at the top level), with its field name.
fn media_start_time(
    saved: &SavedTranscript<'_>,
) -> Result<Option<(super::Time, &'static str)>, Refusal> {
    let nested = saved
        .transcript
        .as_ref()
        .and_then(|t| non_blank(t.media_start_time.as_deref()))
        .map(|t| {
            (
                t,
                "transcript.media_start_time",
                "/transcript/media_start_time",
            )
        });
    let top_level = non_blank(saved.top_level.media_start_time.as_deref())
        .map(|t| (t, "media_start_time", "/media_start_time"));
    match nested.or(top_level) {
        None => Ok(None),
        Some((text, field, at)) => parse_time(text)
            .map(|time| Some((time, field)))
            .ok_or(Refusal::BadBaseTime { pointer: at }),
    }
}

/// How media channels map to speakers.
struct Channels<'a> {
    participants: &'a [Object<ChannelParticipant<'a>>],
    external_id: &'a str,
    options: &'a ReadOptions,
}

/// Who speaks on a channel.
struct Speaker {
    vendor_role: String,
    role: Result<ParticipantRole, String>,
    sender_id: String,
    name: Option<String>,
}

impl Speaker {
    fn party(&self) -> Party {
        Party {
            id: self.sender_id.clone(),
            vendor_role: self.vendor_role.clone(),
            role: self.role.as_ref().ok().cloned(),
            name: self.name.clone(),
        }
    }
}

impl Channels<'_> {
    /// The speaker of `channel`: its participant, else Twilio's default label.
    fn speaker(&self, channel: u64) -> Speaker {
        let participant = self.participants.iter().find(|p| {
            p.channel_participant
                .as_ref()
                .and_then(channel_number)
                .is_some_and(|n| n == channel)
        });
        let vendor_role = participant
            .and_then(|p| non_blank(p.role.as_deref()))
            .or_else(|| default_label(channel));
        let role = match vendor_role {
            Some(role) => self.options.role_map.resolve("role", role, documented_role),
            None => Err(format!(
                "media_channel {channel} has no participant in channel.participants"
            )),
        };
        let sender_id = match participant.and_then(|p| non_blank(p.user_id.as_deref())) {
            Some(user_id) => user_id.trim().to_owned(),
            None => format!("{}:channel-{channel}", self.external_id),
        };
        Speaker {
            vendor_role: vendor_role.unwrap_or_default().to_owned(),
            role,
            sender_id,
            name: participant.and_then(|p| non_blank(p.full_name.as_deref()).map(str::to_owned)),
        }
    }
}

/// The line of one sentence.
fn line(
    sentence: &Sentence<'_>,
    channels: &Channels<'_>,
    conversation: &Conversation,
    base: super::Time,
) -> Result<Line<'static>, String> {
    let channel = sentence
        .media_channel
        .as_ref()
        .ok_or("media_channel is missing")?;
    let channel = channel_number(channel).ok_or("media_channel is not a channel number")?;
    let speaker = channels.speaker(channel);
    let role = speaker.role?;
    let text = non_blank(sentence.transcript.as_deref()).ok_or("transcript is empty or missing")?;
    let start = match &sentence.start_time {
        None | Some(Value::Null) => return Err("start_time is missing".to_owned()),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::String(text)) => text.clone(),
        Some(_) => return Err("start_time is not a number of seconds".to_owned()),
    };
    let millis = seconds_to_millis(&start).ok_or("start_time is not a number of seconds")?;
    let timestamp = after(base, millis).ok_or("start_time is out of range")?;
    conversation.line(role, &speaker.sender_id, text, timestamp)
}

/// A non-negative decimal number of seconds (`12`, `1.24`, `3.5e1`) as whole milliseconds,
/// computed from its digits so that no binary fraction rounds it; digits past the millisecond
/// are dropped. `None` for anything else, or beyond `u64`.
fn seconds_to_millis(text: &str) -> Option<u64> {
    let text = text.trim();
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits_only(whole) || !digits_only(fraction) {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    if digits.len() > 38 || !(-60..=60).contains(&exponent) {
        return None;
    }
    let value: u128 = digits.parse().ok()?;
    let fraction_len = i32::try_from(fraction.len()).ok()?;
    // value × 10^(exponent − fraction digits) seconds = value × 10^shift milliseconds.
    let shift = exponent - fraction_len + 3;
    let millis = if shift >= 0 {
        value.checked_mul(10u128.checked_pow(u32::try_from(shift).ok()?)?)?
    } else {
        match 10u128.checked_pow(u32::try_from(-shift).ok()?) {
            Some(divisor) => value / divisor,
            None => 0,
        }
    };
    u64::try_from(millis).ok()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{conversation, read_sample, summary};
    use super::super::{BaseTime, BaseTimeSource, RoleMap, read_document};
    use super::*;

    #[test]
    fn seconds_become_exact_milliseconds() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("12", Some(12_000)),
            ("1.24", Some(1_240)),
            ("0.1", Some(100)),
            ("2.0005", Some(2_000)),
            ("59.999999", Some(59_999)),
            ("3.5e1", Some(35_000)),
            ("1E-3", Some(1)),
            ("1e-7", Some(0)),
            (".5", Some(500)),
            ("7.", Some(7_000)),
            ("000.250", Some(250)),
            ("-1", None),
            ("", None),
            (".", None),
            ("1.2.3", None),
            ("one", None),
            ("1e999", None),
            ("99999999999999999999999999999999999999999", None),
        ];
        for (text, expected) in cases {
            assert_eq!(seconds_to_millis(text), *expected, "{text}");
        }
        // JSON numbers go through their shortest decimal form, which is what the file says.
        let number: Value = serde_json::from_str("1.24").expect("JSON");
        assert_eq!(seconds_to_millis(&number.to_string()), Some(1_240));
    }

    /// Sample → external id, conversation fields, entries and base time.
    #[test]
    fn samples_read_as_documented() {
        struct Case {
            sample: &'static str,
            role_map: &'static [&'static str],
            base_time: Option<&'static str>,
            external_id_from: &'static str,
            conversation: &'static str,
            entries: &'static [&'static str],
            base: (&'static str, BaseTimeSource),
        }
        let cases = [
            Case {
                sample: "transcript-and-sentences.json",
                role_map: &[],
                base_time: Some("2030-01-01T00:00:00Z"),
                external_id_from: "transcript.sid",
                conversation: "GT0123456789abcdef0123456789abcdef u-cust-881 Pip Wobblesworth u-agent-5 Agent Thistle",
                entries: &[
                    "/sentences/0 agent u-agent-5 2024-08-01T15:30:00.480Z",
                    "/sentences/1 customer u-cust-881 2024-08-01T15:30:03.100Z",
                    "/sentences/2 agent u-agent-5 2024-08-01T15:30:07.000Z",
                    "/sentences/3 invalid: start_time is missing",
                    "/sentences/4 customer u-cust-881 2024-08-01T15:30:12.345Z",
                    "/sentences/5 invalid: role `Quality Coach` has no ASAPP role: map it with --role-map 'Quality Coach=customer|agent|system'",
                ],
                base: (
                    "2024-08-01T15:30:00Z",
                    BaseTimeSource::Field("transcript.media_start_time"),
                ),
            },
            Case {
                sample: "transcript-and-sentences.json",
                role_map: &["quality coach=system"],
                base_time: None,
                external_id_from: "transcript.sid",
                conversation: "GT0123456789abcdef0123456789abcdef u-cust-881 Pip Wobblesworth u-agent-5 Agent Thistle",
                entries: &[
                    "/sentences/0 agent u-agent-5 2024-08-01T15:30:00.480Z",
                    "/sentences/1 customer u-cust-881 2024-08-01T15:30:03.100Z",
                    "/sentences/2 agent u-agent-5 2024-08-01T15:30:07.000Z",
                    "/sentences/3 invalid: start_time is missing",
                    "/sentences/4 customer u-cust-881 2024-08-01T15:30:12.345Z",
                    "/sentences/5 system GT0123456789abcdef0123456789abcdef:channel-3 2024-08-01T15:30:20.000Z",
                ],
                base: (
                    "2024-08-01T15:30:00Z",
                    BaseTimeSource::Field("transcript.media_start_time"),
                ),
            },
            Case {
                sample: "sentences-answer-only.json",
                role_map: &[],
                base_time: Some("2024-08-02T10:00:00Z"),
                external_id_from: "meta.url",
                conversation: "GTfedcba9876543210fedcba9876543210 GTfedcba9876543210fedcba9876543210:channel-2 - GTfedcba9876543210fedcba9876543210:channel-1 -",
                entries: &[
                    "/sentences/0 agent GTfedcba9876543210fedcba9876543210:channel-1 2024-08-02T10:00:01.500Z",
                    "/sentences/1 customer GTfedcba9876543210fedcba9876543210:channel-2 2024-08-02T10:00:04.020Z",
                    "/sentences/2 invalid: media_channel 3 has no participant in channel.participants",
                    "/sentences/3 invalid: start_time is not a number of seconds",
                    "/sentences/4 customer GTfedcba9876543210fedcba9876543210:channel-2 2024-08-02T10:01:40.000Z",
                ],
                base: ("2024-08-02T10:00:00Z", BaseTimeSource::Option),
            },
            Case {
                sample: "resource-with-sentences-added.json",
                role_map: &[],
                base_time: None,
                external_id_from: "sid",
                conversation: "GTaaaabbbbccccddddeeeeffff00001111 u-c Moss u-a -",
                entries: &[
                    "/sentences/0 customer u-c 2024-08-03T18:00:02.000Z",
                    "/sentences/1 agent u-a 2024-08-03T18:00:05.750Z",
                ],
                base: (
                    "2024-08-03T18:00:00Z",
                    BaseTimeSource::Field("media_start_time"),
                ),
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
            assert_eq!(document.format, Format::Twilio, "{}", case.sample);
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
                    at: parse_time(case.base.0).expect("time"),
                    source: case.base.1
                }),
                "{}",
                case.sample
            );
        }
    }

    #[test]
    fn without_media_start_time_or_option_the_document_is_refused() {
        let error = read_sample("sentences-answer-only.json", None, &ReadOptions::default())
            .expect_err("no base");
        assert_eq!(
            error.to_string(),
            "sentences-answer-only.json: twilio sentence times are offsets from the start of the media and the document has no media_start_time: pass --base-time with that start as an RFC 3339 time (e.g. 2024-01-23T11:42:00Z)"
        );
    }

    #[test]
    fn a_bad_media_start_time_is_named() {
        let document =
            br#"{"transcript": {"sid": "GT1", "media_start_time": "last week"}, "sentences": []}"#;
        let error = read_document("t.json", document, None, &ReadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "t.json: at /transcript/media_start_time: not an RFC 3339 time"
        );
    }

    #[test]
    fn the_sid_of_a_sentences_url() {
        assert_eq!(
            sid_of_sentences_url(
                "https://intelligence.twilio.com/v2/Transcripts/GT0123456789abcdef0123456789abcdef/Sentences?PageSize=50&Page=0"
            ),
            Some("GT0123456789abcdef0123456789abcdef")
        );
        assert_eq!(
            sid_of_sentences_url("https://intelligence.twilio.com/v2/Transcripts/Sentences"),
            None
        );
    }
}
