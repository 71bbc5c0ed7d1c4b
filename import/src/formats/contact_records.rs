//! Amazon Connect contact records (`--contact-records`): what they tell of each contact that its
//! Contact Lens analysis file does not, kept compactly by `ContactId`.
//!
//! Sources: Amazon Connect Administrator Guide, "Data model for Amazon Connect contact records"
//! (<https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html>); Amazon Connect
//! API Reference, `RecordingInfo`
//! (<https://docs.aws.amazon.com/connect/latest/APIReference/API_RecordingInfo.html>).
//!
//! The files read: contact records as Kinesis Data Firehose writes them to S3, JSON objects back
//! to back, with or without white space (newlines) between them, the file gzip-compressed or not
//! (told by its first bytes, `1f 8b`, not by its name). Amazon Connect delivers a record at least
//! once, and again when it changes: of the records of one `ContactId`, the one with the latest
//! `LastUpdateTimestamp` counts (of equal ones, or none, the one read last). A transferred
//! contact has a record per segment, each with its own `ContactId` (and its own analysis file),
//! linked by `InitialContactId` and `PreviousContactId`.
//!
//! What is kept of a contact's record, and nothing else (a year of records is hundreds of
//! thousands of contacts, 88 bytes each here and the map's slack, agents' ids and queues' names
//! held once):
//! - its base time: the earliest `Recordings[].StartTimestamp` (of the recordings that are not
//!   video), where set, when the recording that Contact Lens analysed started; else
//!   `Agent.ConnectedToAgentTimestamp`, from which Amazon Connect records a call;
//! - the agent's id: the user id at the end of `Agent.ARN` (`…:instance/<instance>/agent/<id>`),
//!   else `Agent.Username`;
//! - `Queue.Name`, and `InitialContactId` where it is not the contact's own.
//!
//! Records hold customers' phone numbers and more: no error or log line shows any value of a
//! record but ids and times, and errors name the file, the byte offset of the record and the
//! field.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read as _;
use std::sync::Arc;

use asapp_conversations::chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::redact::Object;

/// One contact record, as far as it is read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Record<'a> {
    #[serde(borrow)]
    contact_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    initial_contact_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    last_update_timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    agent: Option<Object<AgentInfo<'a>>>,
    #[serde(borrow)]
    queue: Option<Object<QueueInfo<'a>>>,
    #[serde(borrow)]
    recordings: Option<Vec<Object<RecordingInfo<'a>>>>,
}

/// `Agent`: who took the contact.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AgentInfo<'a> {
    #[serde(borrow, rename = "ARN")]
    arn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    username: Option<Cow<'a, str>>,
    #[serde(borrow)]
    connected_to_agent_timestamp: Option<Cow<'a, str>>,
}

/// `Queue`: where the contact waited.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueInfo<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

/// One of `Recordings[]`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordingInfo<'a> {
    #[serde(borrow)]
    start_timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    media_stream_type: Option<Cow<'a, str>>,
}

/// Where a record's base time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordTime {
    /// `Recordings[].StartTimestamp`.
    RecordingStart,
    /// `Agent.ConnectedToAgentTimestamp`.
    ConnectedToAgent,
}

impl RecordTime {
    /// The field, as the record spells it.
    pub fn field(self) -> &'static str {
        match self {
            Self::RecordingStart => "Recordings[].StartTimestamp",
            Self::ConnectedToAgent => "Agent.ConnectedToAgentTimestamp",
        }
    }
}

/// A contact id: a canonical (lower-case) UUID in 16 bytes (big-endian, aligned as bytes so
/// that the key is 24 bytes), as Amazon Connect's are, else its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ContactKey {
    Uuid([u8; 16]),
    Other(Box<str>),
}

impl ContactKey {
    fn of(id: &str) -> Self {
        uuid(id).map_or_else(|| Self::Other(id.into()), |n| Self::Uuid(n.to_be_bytes()))
    }
}

impl fmt::Display for ContactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uuid(bytes) => {
                let hex = format!("{:032x}", u128::from_be_bytes(*bytes));
                write!(
                    f,
                    "{}-{}-{}-{}-{}",
                    &hex[..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..]
                )
            }
            Self::Other(text) => f.write_str(text),
        }
    }
}

/// `id` as a number, if it is a UUID written as `ContactKey`'s `Display` writes it back.
fn uuid(id: &str) -> Option<u128> {
    let bytes = id.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut n: u128 = 0;
    for (at, byte) in bytes.iter().enumerate() {
        if matches!(at, 8 | 13 | 18 | 23) {
            if *byte != b'-' {
                return None;
            }
            continue;
        }
        let digit = match byte {
            b'0'..=b'9' => byte - b'0',
            b'a'..=b'f' => byte - b'a' + 10,
            _ => return None,
        };
        n = (n << 4) | u128::from(digit);
    }
    Some(n)
}

/// What is kept of the record that counts for one contact.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Kept {
    /// `LastUpdateTimestamp`, in milliseconds since the epoch (`i64::MIN` for none).
    last_update: i64,
    base: Option<(DateTime<Utc>, RecordTime)>,
    agent: Option<Arc<str>>,
    queue: Option<Arc<str>>,
    /// `InitialContactId`, where it is another contact's (boxed: most contacts are not
    /// transferred ones).
    initial: Option<Box<ContactKey>>,
}

/// What a contact's record says, for its analysis file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    /// The contact's start, and the field it came from.
    pub base: Option<(DateTime<Utc>, RecordTime)>,
    /// The agent's id.
    pub agent_id: Option<Arc<str>>,
    /// `Queue.Name`.
    pub queue: Option<Arc<str>>,
    /// `InitialContactId`, where the contact is a later segment of a transferred one.
    pub initial_contact_id: Option<String>,
}

/// The contact records read, by contact.
#[derive(Default)]
pub struct ContactRecords {
    contacts: HashMap<ContactKey, Kept>,
    /// Agent ids and queue names, each held once.
    interned: HashSet<Arc<str>>,
    files: u64,
    records: u64,
}

impl fmt::Debug for ContactRecords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContactRecords")
            .field("files", &self.files)
            .field("records", &self.records)
            .field("contacts", &self.contacts.len())
            .finish_non_exhaustive()
    }
}

/// A file of contact records that cannot be read: the file, where, and why (never a value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: not contact records as Kinesis Data Firehose writes them: {place}{reason}", place = place(*at))]
pub struct RecordsError {
    /// The file or object, as the user named it.
    pub file: String,
    /// The byte offset of the record (of the decompressed text, for a gzip file).
    pub at: Option<u64>,
    /// Why.
    pub reason: String,
}

fn place(at: Option<u64>) -> String {
    at.map_or(String::new(), |at| format!("at byte {at}: "))
}

impl ContactRecords {
    /// Reads the records of one file, `bytes` (gzip-compressed or not), named `file` in errors.
    pub fn add_file(&mut self, file: &str, bytes: &[u8]) -> Result<(), RecordsError> {
        let error = |at: Option<u64>, reason: String| RecordsError {
            file: file.to_owned(),
            at,
            reason,
        };
        let decompressed;
        let text = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(bytes)
                .read_to_end(&mut out)
                .map_err(|e| error(None, format!("gzip-compressed, but not readable: {e}")))?;
            decompressed = out;
            decompressed.as_slice()
        } else {
            bytes
        };
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        let mut stream = serde_json::Deserializer::from_slice(text).into_iter::<&RawValue>();
        loop {
            let start = stream.byte_offset();
            let Some(next) = stream.next() else { break };
            let raw = next.map_err(|e| {
                // Where the record that does not parse starts (white space skipped).
                let at = text[start..]
                    .iter()
                    .position(|b| !b.is_ascii_whitespace())
                    .map_or(start, |skip| start + skip);
                let why = match e.classify() {
                    serde_json::error::Category::Eof => "a record is cut short",
                    _ => "not JSON",
                };
                error(Some(at as u64), why.to_owned())
            })?;
            let at = stream.byte_offset() - raw.get().len();
            self.add_record(raw.get())
                .map_err(|reason| error(Some(at as u64), reason))?;
        }
        self.files += 1;
        Ok(())
    }

    /// Reads one record's text; the error names the field, never its value.
    fn add_record(&mut self, text: &str) -> Result<(), String> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let record: Object<Record> =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
                let path = e.path().to_string();
                if e.inner().classify() != serde_json::error::Category::Data {
                    // A string escape that is no character (a lone surrogate): the first pass only
                    // skipped the string, and its path may be no field's (`?`, for a key).
                    "not JSON".to_owned()
                } else if path == "." || path.is_empty() {
                    "a record is not a JSON object of the documented fields".to_owned()
                } else {
                    format!("{path} is not of the documented type")
                }
            })?;
        let contact_id =
            non_blank(record.contact_id.as_deref()).ok_or("a record has no ContactId")?;
        let key = ContactKey::of(contact_id);
        let last_update = time(
            record.last_update_timestamp.as_deref(),
            "LastUpdateTimestamp",
        )?
        .map_or(i64::MIN, |t| t.timestamp_millis());
        self.records += 1;
        if let Some(kept) = self.contacts.get(&key)
            && kept.last_update > last_update
        {
            return Ok(());
        }
        let mut recording_start: Option<DateTime<Utc>> = None;
        for recording in record.recordings.iter().flatten() {
            let video = recording
                .media_stream_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("VIDEO"));
            if video {
                continue;
            }
            if let Some(start) = time(
                recording.start_timestamp.as_deref(),
                "Recordings[].StartTimestamp",
            )? {
                recording_start = Some(recording_start.map_or(start, |s| s.min(start)));
            }
        }
        let agent = record.agent.as_ref();
        let connected = time(
            agent.and_then(|a| a.connected_to_agent_timestamp.as_deref()),
            "Agent.ConnectedToAgentTimestamp",
        )?;
        let base = recording_start
            .map(|at| (at, RecordTime::RecordingStart))
            .or(connected.map(|at| (at, RecordTime::ConnectedToAgent)));
        let agent_id = agent.and_then(|a| {
            non_blank(a.arn.as_deref())
                .and_then(|arn| arn.rsplit_once("/agent/"))
                .map(|(_, id)| id.trim())
                .filter(|id| !id.is_empty() && !id.contains('/'))
                .or(non_blank(a.username.as_deref()).map(str::trim))
        });
        let queue = record
            .queue
            .as_ref()
            .and_then(|q| non_blank(q.name.as_deref()));
        let initial = non_blank(record.initial_contact_id.as_deref())
            .filter(|initial| *initial != contact_id)
            .map(|initial| Box::new(ContactKey::of(initial)));
        let kept = Kept {
            last_update,
            base,
            agent: agent_id.map(|id| self.intern(id)),
            queue: queue.map(|name| self.intern(name)),
            initial,
        };
        self.contacts.insert(key, kept);
        Ok(())
    }

    fn intern(&mut self, text: &str) -> Arc<str> {
        if let Some(known) = self.interned.get(text) {
            return known.clone();
        }
        let text: Arc<str> = text.into();
        self.interned.insert(text.clone());
        text
    }

    /// What the record of `contact_id` says, if one was read.
    pub fn get(&self, contact_id: &str) -> Option<ContactRecord> {
        let kept = self.contacts.get(&ContactKey::of(contact_id.trim()))?;
        Some(ContactRecord {
            base: kept.base,
            agent_id: kept.agent.clone(),
            queue: kept.queue.clone(),
            initial_contact_id: kept.initial.as_ref().map(ToString::to_string),
        })
    }

    /// Whether a record of `contact_id` was read.
    pub fn has(&self, contact_id: &str) -> bool {
        self.contacts
            .contains_key(&ContactKey::of(contact_id.trim()))
    }

    /// Files read.
    pub fn files(&self) -> u64 {
        self.files
    }

    /// Records read, duplicates included.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Contacts: records less their duplicates.
    pub fn contacts(&self) -> u64 {
        self.contacts.len() as u64
    }

    /// A fingerprint of everything kept, whatever the order the records came in: for the
    /// checkpoint, so that a resume with records that say something else is refused.
    pub fn fingerprint(&self) -> String {
        let mut sum: u64 = 0;
        for (key, kept) in &self.contacts {
            let mut hash = Fnv::default();
            hash.text(&key.to_string());
            match kept.base {
                Some((at, from)) => {
                    hash.bytes(&at.timestamp_millis().to_le_bytes());
                    hash.text(from.field());
                }
                None => hash.text(""),
            }
            hash.text(kept.agent.as_deref().unwrap_or(""));
            hash.text(kept.queue.as_deref().unwrap_or(""));
            hash.text(
                &kept
                    .initial
                    .as_ref()
                    .map_or(String::new(), |k| k.to_string()),
            );
            sum = sum.wrapping_add(hash.0);
        }
        format!("{} contacts {sum:016x}", self.contacts.len())
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
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// A text and its length, so that two fields never run together.
    fn text(&mut self, text: &str) {
        self.bytes(&(text.len() as u64).to_le_bytes());
        self.bytes(text.as_bytes());
    }
}

fn non_blank(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.trim().is_empty())
}

/// A record's time field: `yyyy-mm-ddThh:mm:ssZ`, with or without fractions of a second (any
/// RFC 3339 time); absent, null or empty is none.
fn time(text: Option<&str>, field: &str) -> Result<Option<DateTime<Utc>>, String> {
    match non_blank(text) {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| format!("{field} is not a yyyy-mm-ddThh:mm:ssZ time")),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    const C1: &str = "11111111-2222-4333-8444-555555555555";
    const C2: &str = "22222222-2222-4333-8444-555555555555";

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("a time")
    }

    /// A record written from the documented field list; `recording` is its
    /// `Recordings[].StartTimestamp`.
    fn record(id: &str, updated: &str, recording: Option<&str>, connected: &str) -> String {
        serde_json::json!({
            "AWSAccountId": "000000000000",
            "Channel": "VOICE",
            "ContactId": id,
            "InitialContactId": null,
            "PreviousContactId": null,
            "InitiationMethod": "INBOUND",
            "InitiationTimestamp": "2024-01-23T08:59:00Z",
            "ConnectedToSystemTimestamp": "2024-01-23T08:59:01Z",
            "DisconnectTimestamp": "2024-01-23T09:10:00Z",
            "LastUpdateTimestamp": updated,
            "CustomerEndpoint": {"Address": "+15555550100", "Type": "TELEPHONE_NUMBER"},
            "Agent": {
                "ARN": "arn:aws:connect:us-east-1:000000000000:instance/00000000-1111-4222-8333-444444444444/agent/a1a1a1a1-0000-4000-8000-000000000001",
                "Username": "grace.hopper@example.com",
                "ConnectedToAgentTimestamp": connected,
                "AgentInteractionDuration": 540,
            },
            "Queue": {"ARN": "arn:aws:connect:us-east-1:000000000000:instance/x/queue/q", "Name": "Kite repairs", "EnqueueTimestamp": "2024-01-23T08:59:30Z"},
            "Recording": {"Location": "bucket/connect/CallRecordings/x.wav", "Status": "AVAILABLE", "Type": "AUDIO"},
            "Recordings": [{"Location": "bucket/connect/CallRecordings/x.wav", "MediaStreamType": "AUDIO", "ParticipantType": "ALL", "StartTimestamp": recording, "Status": "AVAILABLE", "StorageType": "S3"}],
            "Attributes": {"account": "4111 1111 1111 1111"},
        })
        .to_string()
    }

    fn read(files: &[&[u8]]) -> Result<ContactRecords, RecordsError> {
        let mut records = ContactRecords::default();
        for (n, bytes) in files.iter().enumerate() {
            records.add_file(&format!("records-{n}"), bytes)?;
        }
        Ok(records)
    }

    #[test]
    fn records_back_to_back_or_on_lines_gzip_or_not_are_read_and_the_latest_counts() {
        let first = record(
            C1,
            "2024-01-23T09:10:05Z",
            Some("2024-01-23T09:00:04.250Z"),
            "2024-01-23T09:00:03Z",
        );
        let later = record(C1, "2024-01-23T09:20:00Z", None, "2024-01-23T09:00:06Z");
        let other = record(
            C2,
            "2024-01-23T10:00:00Z",
            Some("2024-01-23T09:30:00Z"),
            "2024-01-23T09:29:59Z",
        );
        // No separator at all, then newlines; the later record of C1 comes first in the second
        // file, and the older one after it (delivered again) loses.
        let packed = format!("{first}{other}");
        let lines = format!("{later}\n{first}\n\n");
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(lines.as_bytes()).expect("gzip");
        let gzip = gzip.finish().expect("gzip");
        for files in [
            [packed.as_bytes(), lines.as_bytes()],
            [packed.as_bytes(), gzip.as_slice()],
            [gzip.as_slice(), packed.as_bytes()],
        ] {
            let records = read(&files).expect("records");
            assert_eq!(
                (records.files(), records.records(), records.contacts()),
                (2, 4, 2)
            );
            let c1 = records.get(C1).expect("C1");
            // The later record has no recording start: its agent's connection is the base.
            assert_eq!(
                c1.base,
                Some((at("2024-01-23T09:00:06Z"), RecordTime::ConnectedToAgent))
            );
            assert_eq!(
                c1.agent_id.as_deref(),
                Some("a1a1a1a1-0000-4000-8000-000000000001")
            );
            assert_eq!(c1.queue.as_deref(), Some("Kite repairs"));
            assert_eq!(c1.initial_contact_id, None);
            let c2 = records.get(C2).expect("C2");
            assert_eq!(
                c2.base,
                Some((at("2024-01-23T09:30:00Z"), RecordTime::RecordingStart))
            );
            assert_eq!(records.get("33333333-2222-4333-8444-555555555555"), None);
            // The same records in any order, the same fingerprint.
            assert_eq!(
                records.fingerprint(),
                read(&[lines.as_bytes(), packed.as_bytes()])
                    .expect("records")
                    .fingerprint()
            );
        }
        // Concatenated gzip members (files joined) read as one.
        let joined = [gzip.clone(), gzip].concat();
        assert_eq!(read(&[&joined]).expect("records").records(), 4);
        // An empty file has no records.
        assert_eq!(read(&[b"", b" \n"]).expect("empty").contacts(), 0);
    }

    #[test]
    fn missing_fields_are_none_and_the_ids_are_read_as_documented() {
        let records = read(&[br#"{"ContactId": "c-1"}
            {"ContactId": "c-2", "InitialContactId": "c-1", "PreviousContactId": "c-1", "Agent": {"Username": "ada"}, "Queue": null, "Recordings": null, "LastUpdateTimestamp": "2024-01-23T09:00:00Z"}
            {"ContactId": "c-3", "InitialContactId": "c-3", "Agent": {"ARN": "arn:aws:connect:r:1:instance/i/agent/", "Username": "bob", "ConnectedToAgentTimestamp": null}, "Recordings": [{"MediaStreamType": "VIDEO", "StartTimestamp": "2024-01-23T08:00:00Z"}, {"StartTimestamp": "2024-01-23T08:00:05Z"}, {"StartTimestamp": "2024-01-23T08:00:02Z"}]}"#]).expect("records");
        assert_eq!(
            records.get("c-1"),
            Some(ContactRecord {
                base: None,
                agent_id: None,
                queue: None,
                initial_contact_id: None
            })
        );
        let c2 = records.get("c-2").expect("c-2");
        assert_eq!(
            (
                c2.agent_id.as_deref(),
                c2.initial_contact_id.as_deref(),
                c2.base
            ),
            (Some("ada"), Some("c-1"), None)
        );
        // An ARN without an id after /agent/ gives way to the user name; the earliest recording
        // that is not video.
        let c3 = records.get("c-3").expect("c-3");
        assert_eq!(
            (c3.agent_id.as_deref(), c3.initial_contact_id.as_deref()),
            (Some("bob"), None)
        );
        assert_eq!(
            c3.base,
            Some((at("2024-01-23T08:00:02Z"), RecordTime::RecordingStart))
        );
        // Equal update times, or none: the one read last.
        let records = read(&[br#"{"ContactId": "c", "Queue": {"Name": "first"}}{"ContactId": "c", "Queue": {"Name": "second"}}"#]).expect("records");
        assert_eq!(
            records.get("c").expect("c").queue.as_deref(),
            Some("second")
        );
        // Upper-case UUIDs are not folded.
        let lower = "abcdef01-2222-4333-8444-555555555555";
        let upper = lower.to_uppercase();
        let records =
            read(&[format!(r#"{{"ContactId": "{upper}"}}{{"ContactId": "{lower}"}}"#).as_bytes()])
                .expect("records");
        assert_eq!(records.contacts(), 2);
        assert!(records.has(&upper) && records.has(lower));
        assert_eq!(
            ContactKey::of(lower),
            ContactKey::Uuid(0xabcdef01_2222_4333_8444_555555555555_u128.to_be_bytes())
        );
        assert_eq!(ContactKey::of(lower).to_string(), lower);
        // What a contact costs, besides the map's own slack: a year of records is hundreds of
        // thousands of contacts.
        assert!(std::mem::size_of::<(ContactKey, Kept)>() <= 88);
    }

    #[test]
    fn a_malformed_file_names_the_file_the_byte_and_the_field_never_a_value() {
        let good = record(C1, "2024-01-23T09:10:05Z", None, "2024-01-23T09:00:03Z");
        let offset = good.len() + 1;
        let cases: Vec<(Vec<u8>, String)> = vec![
            (format!("{good}\n{{\"ContactId\": \"+15555550100").into_bytes(), format!("at byte {offset}: a record is cut short")),
            (format!("{good}\n+15555550100").into_bytes(), format!("at byte {offset}: not JSON")),
            (format!("{good}\n[\"+15555550100\"]").into_bytes(), format!("at byte {offset}: a record is not a JSON object of the documented fields")),
            (format!("{good}\n{{\"Queue\": {{\"Name\": \"x\"}}}}").into_bytes(), format!("at byte {offset}: a record has no ContactId")),
            (format!("{good}\n{{\"ContactId\": \"c\", \"Agent\": {{\"Username\": 15555550100}}}}").into_bytes(), format!("at byte {offset}: Agent.Username is not of the documented type")),
            (format!("{good}\n{{\"ContactId\": \"c\", \"LastUpdateTimestamp\": \"+15555550100\"}}").into_bytes(), format!("at byte {offset}: LastUpdateTimestamp is not a yyyy-mm-ddThh:mm:ssZ time")),
            (format!("{good}\n{{\"ContactId\": \"c\", \"Recordings\": [{{\"StartTimestamp\": \"+15555550100\"}}]}}").into_bytes(), format!("at byte {offset}: Recordings[].StartTimestamp is not a yyyy-mm-ddThh:mm:ssZ time")),
            (vec![0x1f, 0x8b, 0x08, 0x00, 0x15, 0x55], "gzip-compressed, but not readable: ".to_owned()),
        ];
        for (bytes, expected) in cases {
            let error = read(&[&bytes]).expect_err("malformed");
            let shown = error.to_string();
            assert!(
                shown.starts_with(&format!("records-0: not contact records as Kinesis Data Firehose writes them: {expected}")),
                "{shown}"
            );
            assert!(
                !shown.contains("5555550100") && !shown.contains("1111"),
                "{shown}"
            );
        }
    }

    /// Found by the fuzz target `contact_records`: a string escape that is no character (a lone
    /// surrogate) passes the first pass, which only skips strings, and failed the record's own
    /// parse with a path of `?` when it was in a key: "? is not of the documented type", naming
    /// no field and wrong, since the record is not JSON.
    #[test]
    fn an_escape_that_is_no_character_makes_the_record_not_json() {
        let good = record(C1, "2024-01-23T09:10:05Z", None, "2024-01-23T09:00:03Z");
        let offset = good.len() + 1;
        for bad in [
            r#"{"ContactId": "c", "PreviousContactId\uf83d\ude00": null}"#,
            r#"{"ContactId": "c", "Agent": {"Username": "ada\ude00"}}"#,
            r#"{"ContactId": "\ud800"}"#,
        ] {
            let error = read(&[format!("{good}\n{bad}").as_bytes()]).expect_err("not JSON");
            assert_eq!(
                error.to_string(),
                format!(
                    "records-0: not contact records as Kinesis Data Firehose writes them: at byte {offset}: not JSON"
                )
            );
        }
    }

    /// Found by the fuzz target `contact_records`: serde's derived structs read an array item by
    /// field, so that `[1923237654327]` was refused as "[0] is not of the documented type", and
    /// `["c-1"]` read as the record of contact `c-1`; a record, and each part of it the reader
    /// reads, must be a JSON object.
    #[test]
    fn a_record_or_a_part_of_one_that_is_an_array_is_refused() {
        let good = record(C1, "2024-01-23T09:10:05Z", None, "2024-01-23T09:00:03Z");
        let offset = good.len() + 1;
        for (bad, reason) in [
            (
                "[1923237654327]",
                "a record is not a JSON object of the documented fields",
            ),
            (
                r#"["c-1", null, null, null, null, null]"#,
                "a record is not a JSON object of the documented fields",
            ),
            (
                r#"{"ContactId": "c", "Agent": ["arn", "ada"]}"#,
                "Agent is not of the documented type",
            ),
            (
                r#"{"ContactId": "c", "Recordings": [["2024-01-23T08:00:00Z"]]}"#,
                "Recordings[0] is not of the documented type",
            ),
        ] {
            let error = read(&[format!("{good}\n{bad}").as_bytes()]).expect_err("refused");
            assert_eq!(
                error.to_string(),
                format!(
                    "records-0: not contact records as Kinesis Data Firehose writes them: at byte {offset}: {reason}"
                )
            );
        }
    }

    #[test]
    fn no_input_panics() {
        for bytes in [
            &b"{"[..],
            b"}",
            b"null",
            b"\x1f\x8b",
            b"\x1f",
            b"{\"ContactId\": null}",
            b"{\"ContactId\": \"c\", \"Agent\": []}",
            b"{\"ContactId\": \"c\", \"Recordings\": {}}",
            b"{\"ContactId\": \"c\", \"LastUpdateTimestamp\": \"9999-12-31T23:59:59Z\"}",
        ] {
            let _ = read(&[bytes]);
        }
        let deep = "[".repeat(10_000);
        assert!(read(&[deep.as_bytes()]).is_err());
    }
}
