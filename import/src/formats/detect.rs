//! Recognising a document's format from its content: from its first bytes ([`detect`], which
//! streaming inputs such as JSON Lines need, and [`is_jsonl`] for the import's question), or from
//! its [`outline`] once it is checked as JSON ([`detect_value`]). Nothing here reads a document.

use std::borrow::Cow;

use serde_json::Value;

use super::{Format, outline};

/// Whether an input that starts with `first_bytes` is JSON Lines: whether `detect` says so,
/// without parsing anything when the first bytes cannot hold the `externalId` that the first
/// line of JSON Lines has.
pub fn is_jsonl(first_bytes: &[u8]) -> bool {
    may_hold_external_id(first_bytes) && detect(first_bytes) == Some(Format::Jsonl)
}

/// Whether `bytes` may hold the key `externalId`: spelled out, or with an escape `\u004…` to
/// `\u007…` (the letters) for some of its characters.
fn may_hold_external_id(bytes: &[u8]) -> bool {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    let of_a_letter =
        |(at, _): (usize, &str)| matches!(text.as_bytes().get(at + 4), Some(b'4'..=b'7'));
    // `contains` first: it is much faster than `match_indices`.
    text.contains("externalId")
        || (text.contains("\\u00") && text.match_indices("\\u00").any(of_a_letter))
}

/// The format of an input from its first bytes (64 KiB or so: JSON Lines are recognised from
/// their first line, which must be whole; a vendor document from the keys it starts with), or
/// `None`: refuse the input then with [`Refusal::UnknownFormat`], which lists what was tried.
///
/// [`Refusal::UnknownFormat`]: super::Refusal::UnknownFormat
pub(super) fn detect(first_bytes: &[u8]) -> Option<Format> {
    let text = strip_bom(first_bytes);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let text = &text[start..];
    let first_line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    match outline::outline(first_line) {
        Ok(outline) => detect_value(&outline.value),
        Err(_) => sniff_keys(text),
    }
}

/// The format of a parsed document, from its structure. A document's [`outline`] keeps what
/// these rules look at: a rule that looks at more must have it kept there too.
pub(super) fn detect_value(value: &Value) -> Option<Format> {
    match value {
        Value::Array(items) => items
            .first()
            .and_then(Value::as_object)
            .is_some_and(|item| {
                ["AbsoluteTime", "ParticipantRole", "ContentType"]
                    .iter()
                    .any(|key| item.contains_key(*key))
            })
            .then_some(Format::ConnectChat),
        Value::Object(map) => {
            let has = |key: &str| map.contains_key(key);
            let is_array = |key: &str| map.get(key).is_some_and(Value::is_array);
            if is_array("sentences") {
                Some(Format::Twilio)
            } else if is_array("transcripts")
                || (has("conversationId") && has("conversationStartTime"))
            {
                Some(Format::Genesys)
            } else if is_array("Transcript") {
                let first_turn_has_offsets = map
                    .get("Transcript")
                    .and_then(|t| t.get(0))
                    .is_some_and(|turn| turn.get("BeginOffsetMillis").is_some());
                let analysis = [
                    "ContentMetadata",
                    "JobStatus",
                    "CustomerMetadata",
                    "Channel",
                ]
                .iter()
                .any(|key| has(key));
                Some(if analysis || first_turn_has_offsets {
                    Format::ContactLens
                } else {
                    Format::ConnectChat
                })
            } else if has("externalId") && (has("senderId") || has("text") || has("role")) {
                Some(Format::Jsonl)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Keys that only one vendor format uses, for recognising a document from its first bytes.
const DISTINCTIVE_KEYS: [(Format, &[&str]); 4] = [
    (
        Format::ContactLens,
        &[
            "BeginOffsetMillis",
            "JobStatus",
            "ContentMetadata",
            "LoudnessScore",
            "ConversationCharacteristics",
            "CustomerMetadata",
        ],
    ),
    (
        Format::ConnectChat,
        &[
            "AbsoluteTime",
            "InitialContactId",
            "AWSAccountId",
            "DisplayName",
        ],
    ),
    (
        Format::Genesys,
        &[
            "conversationStartTime",
            "phrases",
            "participantPurpose",
            "communicationId",
            "transcriptId",
        ],
    ),
    (
        Format::Twilio,
        &[
            "sentences",
            "media_channel",
            "sentence_index",
            "media_start_time",
            "channel_participant",
        ],
    ),
];

/// The vendor format whose distinctive keys the text has most of; `None` on a tie.
fn sniff_keys(text: &[u8]) -> Option<Format> {
    let mut scores: Vec<(Format, usize)> = DISTINCTIVE_KEYS
        .iter()
        .map(|(format, keys)| (*format, keys.iter().filter(|k| has_key(text, k)).count()))
        .filter(|(_, score)| *score > 0)
        .collect();
    scores.sort_by_key(|(_, score)| std::cmp::Reverse(*score));
    match scores.as_slice() {
        [(format, _)] => Some(*format),
        [(format, best), (_, next), ..] if best > next => Some(*format),
        _ => None,
    }
}

/// Whether `"key"` occurs in `text` as a JSON object key (not escaped inside a string).
fn has_key(text: &[u8], key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    let quoted = quoted.as_bytes();
    text.windows(quoted.len()).enumerate().any(|(at, window)| {
        window == quoted
            && (at == 0 || text[at - 1] != b'\\')
            && text[at + quoted.len()..]
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|b| *b == b':')
    })
}

/// `bytes` without a UTF-8 byte order mark.
pub(super) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{sample, sample_names};
    use super::super::{ReadOptions, Refusal, read_document};
    use super::*;

    /// Every sample is recognised as the format of its folder, from its first bytes and from
    /// the whole document.
    #[test]
    fn every_sample_is_detected_as_its_format() {
        for (format, name) in sample_names() {
            let bytes = sample(format, &name);
            assert_eq!(detect(&bytes), Some(format), "{name} from its first bytes");
            let prefix = &bytes[..bytes.len().min(1024)];
            assert_eq!(detect(prefix), Some(format), "{name} from 1 KiB");
            if format != Format::Jsonl {
                let value: Value = serde_json::from_slice(&bytes).expect("JSON");
                assert_eq!(detect_value(&value), Some(format), "{name} as a document");
            }
        }
    }

    #[test]
    fn junk_is_detected_as_nothing_and_the_error_lists_the_formats_tried() {
        for junk in [
            &b""[..],
            b"   ",
            b"id,text\n1,hello\n",
            b"{\"hello\": \"world\"}",
            b"[1, 2, 3]",
            b"\"just a string\"",
            b"\xff\xfe\x00junk",
        ] {
            assert_eq!(detect(junk), None, "{junk:?}");
        }
        let error = read_document(
            "junk.json",
            b"{\"hello\": 1}",
            None,
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "junk.json: not a known transcript format (tried jsonl, contact-lens, connect-chat, genesys, twilio)"
        );
        let error =
            read_document("junk.csv", b"id,text", None, &ReadOptions::default()).unwrap_err();
        assert!(matches!(error.refusal, Refusal::NotJson(_)), "{error}");
    }

    #[test]
    fn detection_ignores_keys_quoted_inside_strings() {
        let text = br#"{"note": "the word \"sentences\": here", "phrases": []"#;
        assert_eq!(detect(text), Some(Format::Genesys));
    }

    #[test]
    fn jsonl_is_detected_from_its_first_line_and_not_read_as_a_document() {
        let bytes = sample(Format::Jsonl, "call.jsonl");
        assert_eq!(detect(&bytes), Some(Format::Jsonl));
        let error = read_document(
            "call.jsonl",
            &bytes,
            Some(Format::Jsonl),
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(error.refusal, Refusal::LinesNotDocument);
    }
}
