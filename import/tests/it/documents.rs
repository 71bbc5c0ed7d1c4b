//! [`formats::read_document`] on a Genesys Cloud document held in memory: the conversation, its
//! entries and their JSON pointers; a broken entry is an error naming its pointer (and not the
//! phrase's text), while the others read; a document of the wrong shape is refused, naming where.

use asapp_conversations_import::Format;
use asapp_conversations_import::asapp_conversations::types::ParticipantRole;
use asapp_conversations_import::formats::{self, ReadOptions, Refusal};
use serde_json::Value;

use super::support::genesys;

/// A phrase's text that must not be shown.
const SECRET: &str = "the vault code is PLUM-7731";

#[test]
fn a_genesys_document_gives_its_conversation_and_entries_with_pointers() {
    let (bytes, expected) = genesys("genesys-read", 5);
    let document =
        formats::read_document("in-memory.json", &bytes, None, &ReadOptions::default()).unwrap();
    assert_eq!(document.format, Format::Genesys);
    assert_eq!(document.external_id, "genesys-read");
    assert_eq!(document.external_id_from, "conversationId");
    // Absolute times: no base time used.
    assert_eq!(document.base_time, None);
    // Two phrases in the first transcript, three in the second.
    let pointers: Vec<&str> = document
        .entries
        .iter()
        .map(|e| e.pointer.as_str())
        .collect();
    assert_eq!(
        pointers,
        [
            "/transcripts/0/phrases/0",
            "/transcripts/0/phrases/1",
            "/transcripts/1/phrases/0",
            "/transcripts/1/phrases/1",
            "/transcripts/1/phrases/2",
        ]
    );
    let wanted = &expected.0["genesys-read"];
    for (p, (entry, (text, time))) in document.entries.iter().zip(wanted).enumerate() {
        let line = entry.line.as_ref().unwrap();
        assert_eq!(line.external_id, "genesys-read");
        assert_eq!(&line.text, text);
        assert_eq!(&line.timestamp, time);
        // The external party is the customer (with an id derived from the conversation's), the
        // internal one the agent, the one participant with a userId.
        assert_eq!(line.customer_id, "genesys-read:external");
        assert_eq!(line.agent_id.as_deref(), Some("agent-genesys"));
        if p.is_multiple_of(2) {
            assert_eq!(line.role, ParticipantRole::Customer);
            assert_eq!(line.sender_id, "genesys-read:external");
        } else {
            assert_eq!(line.role, ParticipantRole::Agent);
            assert_eq!(line.sender_id, "agent-genesys");
        }
        // Each entry is a message ASAPP takes.
        line.message().unwrap();
    }
}

#[test]
fn a_broken_entry_is_an_error_naming_its_pointer_and_the_others_read() {
    let (bytes, _) = genesys("genesys-broken", 4);
    let mut value: Value = serde_json::from_slice(&bytes).unwrap();
    // The second transcript's first phrase: its text is a secret, and its purpose no role.
    let phrase = value.pointer_mut("/transcripts/1/phrases/0").unwrap();
    phrase["text"] = SECRET.into();
    phrase["participantPurpose"] = "poltergeist".into();
    // The first transcript's second phrase: not a phrase at all, but the secret as a string.
    *value.pointer_mut("/transcripts/0/phrases/1").unwrap() = SECRET.into();
    let bytes = serde_json::to_vec(&value).unwrap();

    let document =
        formats::read_document("broken.json", &bytes, None, &ReadOptions::default()).unwrap();
    let read: Vec<(&str, Result<&str, &str>)> = document
        .entries
        .iter()
        .map(|entry| {
            (
                entry.pointer.as_str(),
                entry
                    .line
                    .as_ref()
                    .map(|line| line.text.as_ref())
                    .map_err(String::as_str),
            )
        })
        .collect();
    assert_eq!(read.len(), 4, "{read:?}");
    assert_eq!(
        read[0],
        ("/transcripts/0/phrases/0", Ok("phrase 0 of genesys-broken"))
    );
    assert_eq!(read[1].0, "/transcripts/0/phrases/1");
    assert_eq!(read[2].0, "/transcripts/1/phrases/0");
    assert_eq!(
        read[3],
        ("/transcripts/1/phrases/1", Ok("phrase 3 of genesys-broken"))
    );
    let not_a_phrase = read[1].1.unwrap_err();
    let no_role = read[2].1.unwrap_err();
    assert!(
        no_role.contains("poltergeist"),
        "a label is shown: {no_role}"
    );
    assert!(no_role.contains("role-map"), "{no_role}");
    for reason in [not_a_phrase, no_role] {
        assert!(!reason.contains(SECRET), "{reason}");
    }
}

#[test]
fn a_document_of_the_wrong_shape_is_refused_naming_where() {
    let (bytes, _) = genesys("genesys-shape", 2);
    let mut value: Value = serde_json::from_slice(&bytes).unwrap();
    value["transcripts"] = SECRET.into();
    let bytes = serde_json::to_vec(&value).unwrap();
    let refused = formats::read_document(
        "shape.json",
        &bytes,
        Some(Format::Genesys),
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(refused.file, "shape.json");
    let Refusal::Shape {
        format, pointer, ..
    } = &refused.refusal
    else {
        panic!("not a shape refusal: {refused:?}");
    };
    assert_eq!(*format, Format::Genesys);
    assert_eq!(pointer, "/transcripts");
    let shown = refused.to_string();
    assert!(
        shown.starts_with("shape.json: not a genesys document: at /transcripts: "),
        "{shown}"
    );
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!format!("{refused:?}").contains(SECRET));

    // Not JSON: refused as such.
    let refused = formats::read_document(
        "garbage.json",
        b"{\"conversationId\": ",
        None,
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(refused.refusal, Refusal::NotJson(_)),
        "{refused:?}"
    );
}
