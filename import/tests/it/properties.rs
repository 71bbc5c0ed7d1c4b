//! Property tests of the readers, on the stable toolchain (the coverage-guided fuzz targets are in
//! `fuzz/`, run by `import/benches/fuzz.sh`): random bytes, random JSON documents made of the
//! formats' keys, and the sample documents (and contact records) mutated (bytes flipped, inserted
//! or cut off; a JSON node replaced by a value of another type, or deleted) go to every reader:
//! each vendor format's, format recognition, JSON Lines and contact records.
//!
//! Checked: no reader panics; every refusal names its place (a document's error starts with its
//! file name, a pointer is a JSON pointer into the document); a valid entry makes a message; and
//! no error holds any text of the samples, which the mutations also put where an id, a role, a
//! time or a number belongs.
//!
//! Deterministic: a fixed seed and no failure files, so that a run is the same every time.

use std::sync::LazyLock;

use asapp_conversations_import::Format;
use asapp_conversations_import::formats::contact_records::ContactRecords;
use asapp_conversations_import::formats::{
    Document, DocumentError, ReadOptions, Refusal, RoleMap, is_jsonl, read_document,
};
use asapp_conversations_import::transcript::Line;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Map, Value, json};

/// One property's runner: `cases` cases from a fixed seed, nothing written on failure.
fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(17),
        failure_persistence: None,
        ..Config::default()
    }
}

/// A sample document: its format's folder, its name and its bytes.
struct Sample {
    format: &'static str,
    name: String,
    bytes: Vec<u8>,
}

/// Every sample under `tests/data/formats/<format>/`, in name order.
static SAMPLES: LazyLock<Vec<Sample>> = LazyLock::new(|| {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats");
    let mut samples = Vec::new();
    for format in ["contact-lens", "connect-chat", "genesys", "twilio", "jsonl"] {
        let mut names: Vec<String> = std::fs::read_dir(root.join(format))
            .expect("a samples folder")
            .map(|entry| {
                entry
                    .expect("an entry")
                    .file_name()
                    .into_string()
                    .expect("UTF-8")
            })
            .collect();
        names.sort();
        for name in names {
            let bytes = std::fs::read(root.join(format).join(&name)).expect("a sample");
            samples.push(Sample {
                format,
                name,
                bytes,
            });
        }
    }
    samples
});

/// The samples' message texts (the string values of `Content`, `text` and `transcript`), of 8
/// characters or more and not labels (which errors may show, as roles): no error may hold one.
static TEXTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut texts = Vec::new();
    for sample in SAMPLES.iter() {
        for line in sample.bytes.split(|b| *b == b'\n') {
            if let Ok(value) = serde_json::from_slice::<Value>(line) {
                collect_texts(&value, &mut texts);
            }
        }
        if let Ok(value) = serde_json::from_slice::<Value>(&sample.bytes) {
            collect_texts(&value, &mut texts);
        }
    }
    texts.sort();
    texts.dedup();
    assert!(texts.len() > 20, "{} texts in the samples", texts.len());
    texts
});

fn collect_texts(value: &Value, texts: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match value {
                    Value::String(text)
                        if ["Content", "text", "transcript"].contains(&key.as_str())
                            && text.trim().chars().count() >= 8
                            && !is_label(text) =>
                    {
                        texts.push(text.trim().to_owned());
                    }
                    other => collect_texts(other, texts),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_texts(item, texts)),
        _ => {}
    }
}

/// Whether the readers may show `value` as a label: short, letters, digits and `_-/ ` only.
fn is_label(value: &str) -> bool {
    let value = value.trim();
    value.chars().count() <= 40
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | ' '))
}

/// Values of contact records that no error may show: a phone number, a card number, an email
/// address.
const RECORD_SECRETS: [&str; 3] = ["+15555550100", "4111 1111 1111 1111", "ada@example.com"];

/// The file names and options every input is read with: with and without a base time and a role
/// map, under a Contact Lens name that gives the contact and its start, and under a plain name.
static READINGS: LazyLock<Vec<(&'static str, ReadOptions)>> = LazyLock::new(|| {
    let mapped = ReadOptions {
        role_map: RoleMap::parse(["CUSTOM_BOT=system", "supervisor=agent"]).expect("valid"),
        base_time: "2024-01-01T00:00:00Z".parse().ok(),
        contact_records: None,
    };
    vec![
        (
            "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json",
            ReadOptions::default(),
        ),
        ("dir/transcript.json", mapped),
    ]
});

/// Feeds `bytes` to every reader and checks the promises.
fn check_every_reader(bytes: &[u8]) -> Result<(), TestCaseError> {
    let lines = is_jsonl(bytes);
    for (file, options) in READINGS.iter() {
        for format in std::iter::once(None).chain(Format::ALL.map(Some)) {
            let result = read_document(file, bytes, format, options);
            if format.is_none() && lines {
                prop_assert!(
                    matches!(&result, Err(e) if e.refusal == Refusal::LinesNotDocument),
                    "JSON Lines not refused as a document"
                );
            }
            check_document(file, bytes, format, &result)?;
        }
    }
    for line in bytes.split(|b| *b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        match Line::parse(line) {
            Err(reason) => check_no_text("a line's", &reason)?,
            Ok(line) => {
                for reason in [line.message().err(), line.conversation().err()]
                    .into_iter()
                    .flatten()
                {
                    check_no_text("a valid line's", &reason)?;
                }
            }
        }
    }
    check_records(bytes)
}

/// Checks what reading `bytes` as the document `file` of `format` gave.
fn check_document(
    file: &str,
    bytes: &[u8],
    format: Option<Format>,
    result: &Result<Document, DocumentError>,
) -> Result<(), TestCaseError> {
    let json = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value = serde_json::from_slice::<Value>(json).ok();
    match result {
        Err(error) => {
            let shown = error.to_string();
            prop_assert!(
                shown.starts_with(&format!("{file}: ")),
                "a refusal as {format:?} does not start with the file's name"
            );
            check_no_text("a refusal's", &shown)?;
            if let Refusal::Shape { pointer, .. } = &error.refusal {
                check_pointer(pointer)?;
                let parent = &pointer[..pointer.rfind('/').unwrap_or(0)];
                prop_assert!(
                    value.as_ref().and_then(|v| v.pointer(parent)).is_some(),
                    "a shape refusal at {pointer}, whose parent is not in the document"
                );
            }
        }
        Ok(document) => {
            prop_assert!(value.is_some(), "a document read that is not JSON");
            for entry in &document.entries {
                check_pointer(&entry.pointer)?;
                prop_assert!(
                    value
                        .as_ref()
                        .and_then(|v| v.pointer(&entry.pointer))
                        .is_some(),
                    "entry {} is not in the document",
                    entry.pointer
                );
                match &entry.line {
                    Err(reason) => {
                        prop_assert!(!reason.trim().is_empty(), "{}: no reason", entry.pointer);
                        check_no_text("an entry's", reason)?;
                    }
                    Ok(line) => {
                        prop_assert!(line.message().is_ok(), "{}: no message", entry.pointer);
                        if let Err(reason) = line.conversation() {
                            check_no_text("a conversation's", &reason)?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Checks that `bytes` read as contact records either are, or are refused naming the file and
/// without any value of a record.
fn check_records(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut records = ContactRecords::default();
    if let Err(error) = records.add_file("records.json", bytes) {
        let shown = error.to_string();
        prop_assert!(
            shown.starts_with("records.json: "),
            "a contact records error does not start with the file's name"
        );
        check_no_text("a contact records error", &shown)?;
        for secret in RECORD_SECRETS {
            prop_assert!(
                !shown.contains(secret),
                "a contact records error shows a value"
            );
        }
    }
    Ok(())
}

/// Fails if `reason` holds a sample's text (named by its number, not shown).
fn check_no_text(whose: &str, reason: &str) -> Result<(), TestCaseError> {
    let found = TEXTS.iter().position(|text| reason.contains(text.as_str()));
    prop_assert!(found.is_none(), "{whose} error holds text {found:?}");
    Ok(())
}

/// Fails unless `pointer` is a JSON pointer: empty, or `/`-separated with `~0`/`~1` escapes.
fn check_pointer(pointer: &str) -> Result<(), TestCaseError> {
    let escapes_valid = pointer
        .match_indices('~')
        .all(|(at, _)| matches!(pointer.as_bytes().get(at + 1), Some(b'0' | b'1')));
    prop_assert!(
        (pointer.is_empty() || pointer.starts_with('/')) && escapes_valid,
        "not a JSON pointer: {pointer}"
    );
    Ok(())
}

/// The keys the readers look for, to build random documents that reach past the top level.
const KEYS: [&str; 40] = [
    "Transcript",
    "Participants",
    "ParticipantId",
    "ParticipantRole",
    "Content",
    "BeginOffsetMillis",
    "CustomerMetadata",
    "ContactId",
    "ContentMetadata",
    "Output",
    "Channel",
    "JobStatus",
    "AbsoluteTime",
    "ContentType",
    "Type",
    "DisplayName",
    "InitialContactId",
    "conversationId",
    "conversationStartTime",
    "participants",
    "participantPurpose",
    "userId",
    "transcripts",
    "phrases",
    "text",
    "startTimeMs",
    "offset",
    "transcript",
    "sentences",
    "sid",
    "media_start_time",
    "channel",
    "channel_participant",
    "role",
    "media_channel",
    "start_time",
    "meta",
    "url",
    "externalId",
    "timestamp",
];

/// Strings the readers give meaning to: roles, types, times, offsets, ids.
const WORDS: [&str; 20] = [
    "AGENT",
    "CUSTOMER",
    "SYSTEM",
    "SUPERVISOR",
    "external",
    "internal",
    "acd",
    "Agent",
    "Customer",
    "MESSAGE",
    "EVENT",
    "ATTACHMENT",
    "text/plain",
    "VOICE",
    "Redacted",
    "2024-01-23T11:42:42Z",
    "9999-12-31T23:59:59-23:59",
    "1.5",
    "GT0123456789abcdef0123456789abcdef",
    "https://intelligence.twilio.com/v2/Transcripts/GT0123456789abcdef0123456789abcdef/Sentences",
];

/// A JSON scalar: of any type, a word the readers know, or a sample's text.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(0.5), Just(-1.0), Just(1e300), any::<f64>()]
            .prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
                .map(Value::Number)),
        select(&WORDS[..]).prop_map(Value::from),
        any::<Index>().prop_map(|i| Value::from(TEXTS[i.index(TEXTS.len())].as_str())),
        "[ -~]{0,12}".prop_map(Value::from),
    ]
}

/// Any JSON value, a few levels deep, its keys mostly the readers'.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![4 => select(&KEYS[..]).prop_map(str::to_owned), 1 => "[a-z]{1,6}"];
    scalar().prop_recursive(4, 48, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A change to an input.
#[derive(Debug, Clone)]
enum Mutation {
    /// One byte XORed with a mask that is not zero.
    Flip(Index, u8),
    /// The input cut short.
    Truncate(Index),
    /// Bytes inserted.
    Insert(Index, Vec<u8>),
    /// One node of the JSON (of one line of JSON Lines) replaced by another value.
    Replace(Index, Index, Value),
    /// One node deleted: a key of its object, or an item of its array.
    Delete(Index, Index),
}

/// Tokens inserted whole: JSON's punctuation and literals, a string escape that is no character
/// (a lone surrogate, which only a string's decoding refuses), a byte order mark, gzip's magic.
const TOKENS: [&str; 11] = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "\\ud800",
    "\u{feff}",
    "\u{1f}\u{8b}",
];

/// Bytes to insert: random ones, or a token.
fn inserted() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..8),
        select(&TOKENS[..]).prop_map(|token| token.as_bytes().to_vec()),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<Index>(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip(at, mask)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), inserted()).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        4 => (any::<Index>(), any::<Index>(), json())
            .prop_map(|(line, node, value)| Mutation::Replace(line, node, value)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(line, node)| Mutation::Delete(line, node)),
    ]
}

impl Mutation {
    /// `bytes` changed (JSON changes only where the chosen line is JSON).
    fn apply(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        match self {
            Self::Flip(at, mask) if !bytes.is_empty() => {
                let at = at.index(bytes.len());
                bytes[at] ^= mask;
            }
            Self::Truncate(at) => bytes.truncate(at.index(bytes.len() + 1)),
            Self::Insert(at, inserted) => {
                let at = at.index(bytes.len() + 1);
                bytes.splice(at..at, inserted.iter().copied());
            }
            Self::Replace(line, node, value) => {
                return on_json_line(bytes, line, |json| {
                    if let Some(target) = node_at(json, node).and_then(|p| json.pointer_mut(&p)) {
                        *target = value.clone();
                    }
                });
            }
            Self::Delete(line, node) => {
                return on_json_line(bytes, line, |json| {
                    let Some(pointer) = node_at(json, node) else {
                        return;
                    };
                    let (parent, last) = pointer.rsplit_once('/').expect("not the root");
                    let last = last.replace("~1", "/").replace("~0", "~");
                    match json.pointer_mut(parent) {
                        Some(Value::Object(map)) => {
                            map.remove(&last);
                        }
                        Some(Value::Array(items)) => {
                            items.remove(last.parse::<usize>().expect("an index"));
                        }
                        _ => {}
                    }
                });
            }
            Self::Flip(..) => {}
        }
        bytes
    }
}

/// `bytes` with `change` made to the JSON of one of its lines (the whole, if it is one JSON
/// text), chosen by `line`; unchanged if that is not JSON.
fn on_json_line(bytes: Vec<u8>, line: &Index, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    if let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) {
        change(&mut json);
        return serde_json::to_vec_pretty(&json).expect("JSON");
    }
    let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    let at = line.index(lines.len());
    if let Ok(mut json) = serde_json::from_slice::<Value>(&lines[at]) {
        change(&mut json);
        lines[at] = serde_json::to_vec(&json).expect("JSON");
    }
    lines.join(&b'\n')
}

/// The pointer of one node of `json` but the root, chosen by `node`.
fn node_at(json: &Value, node: &Index) -> Option<String> {
    fn walk(value: &Value, at: &str, out: &mut Vec<String>) {
        let escape = |key: &str| key.replace('~', "~0").replace('/', "~1");
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let child = format!("{at}/{}", escape(key));
                    walk(value, &child, out);
                    out.push(child);
                }
            }
            Value::Array(items) => {
                for (index, value) in items.iter().enumerate() {
                    let child = format!("{at}/{index}");
                    walk(value, &child, out);
                    out.push(child);
                }
            }
            _ => {}
        }
    }
    let mut pointers = Vec::new();
    walk(json, "", &mut pointers);
    (!pointers.is_empty()).then(|| pointers.swap_remove(node.index(pointers.len())))
}

/// Contact records as Kinesis Data Firehose writes them: two records on lines.
fn records() -> Vec<u8> {
    let record = |id: &str, updated: &str| {
        json!({
            "ContactId": id,
            "InitialContactId": "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6e",
            "LastUpdateTimestamp": updated,
            "CustomerEndpoint": {"Address": RECORD_SECRETS[0], "Type": "TELEPHONE_NUMBER"},
            "Agent": {
                "ARN": "arn:aws:connect:us-east-1:000000000000:instance/i/agent/a-1",
                "Username": RECORD_SECRETS[2],
                "ConnectedToAgentTimestamp": "2024-03-01T10:15:30Z",
            },
            "Queue": {"Name": "Llama rentals"},
            "Recordings": [{"MediaStreamType": "AUDIO", "StartTimestamp": "2024-03-01T10:15:31Z"}],
            "Attributes": {"account": RECORD_SECRETS[1]},
        })
        .to_string()
    };
    format!(
        "{}\n{}\n",
        record(
            "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f",
            "2024-03-01T10:40:00Z"
        ),
        record("c-2", "2024-03-01T10:41:00Z")
    )
    .into_bytes()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_bytes_are_refused_naming_their_place(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        check_every_reader(&bytes)?;
    }
}

proptest! {
    #![proptest_config(config(768))]

    #[test]
    fn random_documents_of_the_readers_keys_keep_their_promises(document in json()) {
        check_every_reader(&serde_json::to_vec(&document).expect("JSON"))?;
    }

    #[test]
    fn mutated_samples_keep_the_readers_promises(
        sample in any::<Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let sample = &SAMPLES[sample.index(SAMPLES.len())];
        let bytes = mutations
            .iter()
            .fold(sample.bytes.clone(), |bytes, mutation| mutation.apply(bytes));
        check_every_reader(&bytes).map_err(|e| {
            TestCaseError::fail(format!("{}/{} mutated: {e}", sample.format, sample.name))
        })?;
    }

    #[test]
    fn mutated_contact_records_are_read_or_refused_without_their_values(
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let bytes = mutations
            .iter()
            .fold(records(), |bytes, mutation| mutation.apply(bytes));
        check_records(&bytes)?;
    }
}
