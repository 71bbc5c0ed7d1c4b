//! What every fuzz target checks besides "no panic": the promises the import's readers make of
//! their errors (`asapp_conversations_import::formats` and `transcript`).
//!
//! - **A refusal names its place**: a refused document's error starts with its file name, and a
//!   shape refusal's JSON pointer is one whose parent is in the document; an invalid entry's
//!   pointer is a JSON pointer (empty, or `/`-separated with `~0`/`~1` escapes) to a node of the
//!   document, and its reason is not blank. A document is refused as not JSON exactly when
//!   `serde_json` refuses it as a `Value`, with the same message.
//! - **No error holds a message's text.** A malformed document can hold a message's text in any
//!   string, so the texts are every string value of [`MIN_TEXT`] characters or more but those the
//!   readers show by design: labels (a role, a type) and media types ([`shown_by_design`]). Each
//!   is replaced by a canary (a string no reader takes for anything but a text) wherever it
//!   occurs in a string value of a copy of the input, and the copy is read again: no canary may
//!   appear in its errors, and no text may appear in the input's errors unless it appears in the
//!   copy's too. What is in both did not come from a string value: a key, the file's name, or the
//!   library's own words.
//! - A valid entry's line makes a message; a valid JSON Lines line, written back, reads the same.
//!
//! Assertion messages give places and lengths, never a text.

use std::collections::HashMap;
use std::ops::Range;

use asapp_conversations_import::formats::contact_records::{ContactRecords, RecordsError};
use asapp_conversations_import::formats::{
    Document, DocumentError, Format, ReadOptions, Refusal, RoleMap, read_document,
};
use asapp_conversations_import::transcript::Line;
use serde_json::Value;
use serde_json::value::RawValue;

/// Texts shorter than this (in characters, trimmed) are not looked for in errors: a word that
/// short could be any error's.
pub const MIN_TEXT: usize = 8;

/// The file names and options each document is read with: as a target reads its input several
/// ways, the fuzzer reaches the code behind a base time, a role map and a file name that says
/// which contact and when.
pub fn readings(format: Format) -> Vec<(&'static str, ReadOptions)> {
    let mapped = ReadOptions {
        role_map: RoleMap::parse([
            "CUSTOM_BOT=system",
            "supervisor=agent",
            "Quality Coach=system",
        ])
        .expect("a valid role map"),
        base_time: "2024-01-01T00:00:00Z".parse().ok(),
        contact_records: None,
    };
    match format {
        Format::ContactLens => vec![
            (
                "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json",
                ReadOptions::default(),
            ),
            (
                "s3://bucket/Voice/Redacted/2024/03/02/c-1_analysis_redacted_.json",
                mapped,
            ),
            ("no-time-in-this-name.json", ReadOptions::default()),
        ],
        _ => vec![
            ("transcript.json", ReadOptions::default()),
            ("dir/transcript.json", mapped),
        ],
    }
}

/// Reads `bytes` as the document `file` of `format` (recognised if `None`) with `options`, checks
/// the promises, and returns what was read.
pub fn read_checked(
    file: &str,
    bytes: &[u8],
    format: Option<Format>,
    options: &ReadOptions,
) -> Result<Document, DocumentError> {
    let read = |bytes: &[u8]| read_document(file, bytes, format, options);
    let result = read(bytes);
    let reasons = document_reasons(file, bytes, &result);
    let json = without_bom(bytes);
    if let Some(texts) = Texts::find(json) {
        let bom = &bytes[..bytes.len() - json.len()];
        texts.assert_not_in(&reasons, |copy| {
            let copy = [bom, copy].concat();
            document_reasons(file, &copy, &read(&copy))
        });
    }
    result
}

/// Reads each line of `bytes` as JSON Lines and builds its message and conversation, checking
/// the promises.
pub fn lines_checked(bytes: &[u8]) {
    for line in bytes.split(|b| *b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let reasons = line_reasons(line);
        if let Some(texts) = Texts::find(line.as_bytes()) {
            texts.assert_not_in(&reasons, |copy| {
                line_reasons(std::str::from_utf8(copy).expect("canaries are UTF-8"))
            });
        }
    }
}

/// The reasons a line gives: its refusal, or its message's and conversation's errors.
fn line_reasons(text: &str) -> Vec<String> {
    match Line::parse(text) {
        Err(reason) => {
            assert!(!reason.trim().is_empty(), "a line refused with no reason");
            vec![reason]
        }
        Ok(line) => {
            assert!(
                !line.external_id.is_empty() && !line.text.is_empty(),
                "a line read with an empty externalId or text"
            );
            let written = serde_json::to_string(&line).expect("a line serializes");
            assert!(
                Line::parse(&written).as_ref() == Ok(&line),
                "a line written back ({} bytes) does not read the same",
                written.len()
            );
            [line.message().err(), line.conversation().err()]
                .into_iter()
                .flatten()
                .collect()
        }
    }
}

/// Checks that a refused document, or each invalid entry of one read, names its place; the
/// reasons given.
fn document_reasons(
    file: &str,
    bytes: &[u8],
    result: &Result<Document, DocumentError>,
) -> Vec<String> {
    let value = serde_json::from_slice::<Value>(without_bom(bytes));
    match result {
        Err(error) => {
            let shown = error.to_string();
            assert!(
                error.file == file && shown.starts_with(&format!("{file}: ")),
                "a refusal does not start with the file's name"
            );
            match (&error.refusal, &value) {
                (Refusal::NotJson(reason), Err(not_json)) => assert!(
                    *reason == not_json.to_string(),
                    "refused as not JSON with another reason than serde_json's"
                ),
                (Refusal::NotJson(_), Ok(_)) => panic!("JSON refused as not JSON"),
                (Refusal::LinesNotDocument, _) => {}
                (_, Err(_)) => panic!("not JSON, refused for something else"),
                (Refusal::Shape { pointer, .. }, Ok(value)) => {
                    assert_pointer(pointer);
                    let parent = &pointer[..pointer.rfind('/').unwrap_or(0)];
                    assert!(
                        value.pointer(parent).is_some(),
                        "a shape refusal at {pointer}, whose parent is not in the document"
                    );
                }
                (_, Ok(_)) => {}
            }
            vec![shown]
        }
        Ok(document) => {
            let value = value.expect("a document read is JSON");
            let mut reasons = Vec::new();
            for entry in &document.entries {
                assert_pointer(&entry.pointer);
                assert!(
                    value.pointer(&entry.pointer).is_some(),
                    "entry {} is not in the document",
                    entry.pointer
                );
                match &entry.line {
                    Err(reason) => {
                        assert!(!reason.trim().is_empty(), "{}: no reason", entry.pointer);
                        reasons.push(reason.clone());
                    }
                    Ok(line) => {
                        assert!(
                            line.external_id == document.external_id.as_str(),
                            "{}: a line of another conversation",
                            entry.pointer
                        );
                        if let Err(reason) = line.message() {
                            panic!(
                                "{}: a valid entry makes no message ({} bytes of reason)",
                                entry.pointer,
                                reason.len()
                            );
                        }
                        reasons.extend(line.conversation().err());
                    }
                }
            }
            reasons
        }
    }
}

/// Panics unless `pointer` is a JSON pointer (RFC 6901): empty, or `/`-separated segments in
/// which `~` only starts `~0` or `~1`.
fn assert_pointer(pointer: &str) {
    let escapes_valid = pointer
        .match_indices('~')
        .all(|(at, _)| matches!(pointer.as_bytes().get(at + 1), Some(b'0' | b'1')));
    assert!(
        (pointer.is_empty() || pointer.starts_with('/')) && escapes_valid,
        "not a JSON pointer: {pointer}"
    );
}

/// `bytes` without a UTF-8 byte order mark, as the readers take it.
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The message texts of one JSON text, and copies of it with texts replaced by canaries.
#[derive(Debug)]
struct Texts {
    /// The JSON text.
    json: String,
    /// Its string values that hold texts, in the order they appear.
    strings: Vec<StringValue>,
    /// The texts, longest first, trimmed.
    texts: Vec<String>,
    /// What the canaries are made of: a run of `¤` that the JSON text does not hold (the fuzzer
    /// learns a canary, and puts it in a key).
    marker: String,
}

impl Texts {
    /// The texts of `json`, if it is one JSON text.
    fn find(json: &[u8]) -> Option<Self> {
        let json = std::str::from_utf8(json).ok()?;
        let top: &RawValue = serde_json::from_str(json).ok()?;
        let mut strings = Vec::new();
        collect_strings(json, top, &mut strings);
        let mut texts: Vec<String> = strings
            .iter()
            .map(|string| string.value.trim())
            .filter(|text| text.chars().count() >= MIN_TEXT && !shown_by_design(text))
            .map(str::to_owned)
            .collect();
        texts.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        texts.dedup();
        // A value shown by design keeps a text it holds: a media type such as
        // `application/vnd.amazonaws.connect.message.interactive` holds `e.interactive`.
        strings.retain(|string| !shown_by_design(&string.value));
        strings.sort_by_key(|string| string.at.start);
        let marker = (1..)
            .map(|n| "\u{a4}".repeat(n))
            .find(|marker| !json.contains(&format!("{marker}canary")))
            .expect("a marker");
        Some(Self {
            json: json.to_owned(),
            strings,
            texts,
            marker,
        })
    }

    /// The canary that replaces the `n`th text.
    fn canary(&self, n: usize) -> String {
        format!("{marker}canary {n}{marker}", marker = self.marker)
    }

    /// The JSON text with every occurrence, in a string value, of each text `replace` picks by
    /// its number replaced by that text's canary.
    fn replaced(&self, replace: impl Fn(usize) -> bool) -> Vec<u8> {
        let mut copy = String::with_capacity(self.json.len());
        let mut copied = 0;
        for string in &self.strings {
            let mut value = string.value.clone();
            for (n, text) in self.texts.iter().enumerate().filter(|(n, _)| replace(*n)) {
                value = value.replace(text.as_str(), &self.canary(n));
            }
            if value != string.value {
                copy.push_str(&self.json[copied..string.at.start]);
                copy.push_str(&serde_json::to_string(&value).expect("a string"));
                copied = string.at.end;
            }
        }
        copy.push_str(&self.json[copied..]);
        copy.into_bytes()
    }

    /// Panics if an error holds a text: a canary in the reasons `read` gives for a copy with
    /// every text replaced, or a text in `reasons` (the JSON text's) that is not in that copy's.
    /// Such a text is read again with it alone replaced, as replacing every text can make a
    /// valid value invalid (a time) and so change the reasons: a text in both did not come from
    /// a string value but from a key, the file's name, or the library's own words.
    fn assert_not_in(&self, reasons: &[String], read: impl Fn(&[u8]) -> Vec<String>) {
        let holds = |reasons: &[String], part: &str| {
            reasons.iter().any(|r| without_positions(r).contains(part))
        };
        let every_replaced = read(&self.replaced(|_| true));
        for (n, text) in self.texts.iter().enumerate() {
            let leaked = || {
                format!(
                    "an error holds text {n} ({} characters)",
                    text.chars().count()
                )
            };
            assert!(!holds(&every_replaced, &self.canary(n)), "{}", leaked());
            // The copies' strings differ in length, so their reasons' positions differ: compare
            // with positions masked (a text may be a reason, position and all, of this input).
            let text = without_positions(text);
            if holds(reasons, &text) && !holds(&every_replaced, &text) {
                let one_replaced = read(&self.replaced(|m| m == n));
                assert!(
                    !holds(&one_replaced, &self.canary(n)) && holds(&one_replaced, &text),
                    "{}",
                    leaked()
                );
            }
        }
    }
}

/// `text` with the number after each `line ` and `column ` (a position serde_json names) masked
/// as `#`.
fn without_positions(text: &str) -> String {
    let mut masked = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["line ", "column "]
        .iter()
        .filter_map(|word| rest.find(word).map(|at| at + word.len()))
        .min()
    {
        masked.push_str(&rest[..at]);
        rest = &rest[at..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            masked.push('#');
            rest = &rest[digits..];
        }
    }
    masked.push_str(rest);
    masked
}

/// Whether the readers may show `value`, or a part of it, as they do by design: a label (a role,
/// a type: short, and only letters, digits and `_-/ `), or a media type (`type/subtype` of token
/// characters, before any `;`). Written here again on purpose, not taken from the readers
/// (`redact::label`, `connect_chat`'s media type): the check is what the readers promise, so a
/// reader that shows more than this is caught.
pub fn shown_by_design(value: &str) -> bool {
    let value = value.trim();
    let label = value.chars().count() <= 40
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | ' '));
    let token = |part: &str| {
        !part.is_empty()
            && part.len() <= 100
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_'))
    };
    let media_type = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .split_once('/')
        .is_some_and(|(kind, subtype)| token(kind) && token(subtype));
    label || media_type
}

/// A string value of a JSON text.
#[derive(Debug)]
struct StringValue {
    /// Its literal in the JSON text, quotes included.
    at: Range<usize>,
    /// What it says.
    value: String,
}

/// Adds the string values in `value` (a part of `json`) to `found`.
fn collect_strings(json: &str, value: &RawValue, found: &mut Vec<StringValue>) {
    let raw = value.get();
    match raw.as_bytes().first() {
        Some(b'{') => {
            // Into a map, the last of a repeated key counts, as in the document's `Value`.
            let Ok(object) = serde_json::from_str::<HashMap<String, &RawValue>>(raw) else {
                return;
            };
            for value in object.into_values() {
                collect_strings(json, value, found);
            }
        }
        Some(b'[') => {
            let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(raw) else {
                return;
            };
            for item in items {
                collect_strings(json, item, found);
            }
        }
        Some(b'"') => {
            let Ok(value) = serde_json::from_str::<String>(raw) else {
                return;
            };
            // `raw` borrows from `json`: where it starts there.
            let start = raw.as_ptr() as usize - json.as_ptr() as usize;
            found.push(StringValue {
                at: start..start + raw.len(),
                value,
            });
        }
        _ => {}
    }
}

/// Reads `bytes` as the contact records file `file` into `records`, checking that an error names
/// the file and a byte of the input (unless it is gzip that is not), and says nothing but the
/// reader's words and the documented fields' names.
pub fn records_checked(
    records: &mut ContactRecords,
    file: &str,
    bytes: &[u8],
) -> Result<(), RecordsError> {
    let result = records.add_file(file, bytes);
    if let Err(error) = &result {
        assert!(
            error.file == file && error.to_string().starts_with(&format!("{file}: ")),
            "a contact records error does not start with the file's name"
        );
        let gzip = bytes.starts_with(&[0x1f, 0x8b]);
        if !gzip {
            let at = error.at.expect("an error in plain text names its byte");
            assert!(
                at < without_bom(bytes).len() as u64,
                "byte {at} is past the end"
            );
        }
        assert!(
            records_reason(&error.reason) || (gzip && error.at.is_none()),
            "not one of the reader's reasons ({} bytes)",
            error.reason.len()
        );
    }
    result
}

/// Whether `reason` is one the contact records reader gives, naming only documented fields.
fn records_reason(reason: &str) -> bool {
    const FIXED: [&str; 4] = [
        "a record is cut short",
        "not JSON",
        "a record is not a JSON object of the documented fields",
        "a record has no ContactId",
    ];
    const TIMES: [&str; 3] = [
        "LastUpdateTimestamp",
        "Recordings[].StartTimestamp",
        "Agent.ConnectedToAgentTimestamp",
    ];
    const FIELDS: [&str; 12] = [
        "ContactId",
        "InitialContactId",
        "LastUpdateTimestamp",
        "Agent",
        "ARN",
        "Username",
        "ConnectedToAgentTimestamp",
        "Queue",
        "Name",
        "Recordings",
        "StartTimestamp",
        "MediaStreamType",
    ];
    if let Some(field) = reason.strip_suffix(" is not a yyyy-mm-ddThh:mm:ssZ time") {
        return TIMES.contains(&field);
    }
    if let Some(path) = reason.strip_suffix(" is not of the documented type") {
        // serde_path_to_error's path: `Agent.Username`, `Recordings[2].StartTimestamp`.
        return path.split('.').all(|segment| {
            let name = segment.trim_end_matches(|c: char| c.is_ascii_digit() || "[]".contains(c));
            FIELDS.contains(&name)
        });
    }
    FIXED.contains(&reason)
}
