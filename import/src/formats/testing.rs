//! Helpers for the formats' tests: the sample documents under `cli/tests/data/formats/<format>/`,
//! and a one-line summary of each entry of a document, for tables of expectations.

use std::path::PathBuf;

use asapp_conversations::chrono::SecondsFormat;
use serde_json::Value;

use super::redact::pointer;
use super::{Document, DocumentError, Format, ReadOptions, read_document};

/// The folder of `format`'s samples.
fn folder(format: Format) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/formats")
        .join(format.name())
}

/// Every sample, with the format of its folder, in name order.
pub(super) fn sample_names() -> Vec<(Format, String)> {
    let mut names = Vec::new();
    for format in Format::ALL {
        let mut inside: Vec<String> = std::fs::read_dir(folder(format))
            .unwrap_or_else(|e| panic!("{}: {e}", folder(format).display()))
            .map(|entry| {
                entry
                    .expect("a directory entry")
                    .file_name()
                    .into_string()
                    .expect("a UTF-8 name")
            })
            .collect();
        inside.sort();
        names.extend(inside.into_iter().map(|name| (format, name)));
    }
    names
}

/// The bytes of sample `name` of `format`.
pub(super) fn sample(format: Format, name: &str) -> Vec<u8> {
    let path = folder(format).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Sample `name` of `folder_format`, read as `format` (detected if `None`).
pub(super) fn read_sample_of(
    folder_format: Format,
    name: &str,
    format: Option<Format>,
    options: &ReadOptions,
) -> Result<Document, DocumentError> {
    read_document(name, &sample(folder_format, name), format, options)
}

/// Sample `name` (of whichever folder holds it), read as `format`.
pub(super) fn read_sample(
    name: &str,
    format: Option<Format>,
    options: &ReadOptions,
) -> Result<Document, DocumentError> {
    let (folder_format, _) = sample_names()
        .into_iter()
        .find(|(_, n)| n == name)
        .unwrap_or_else(|| panic!("no sample {name}"));
    read_sample_of(folder_format, name, format, options)
}

/// Every message text of a sample: the string values of the keys formats keep text in
/// (`Content`, `text`, `transcript`), in the JSON document or in each JSON line.
pub(super) fn texts_of(bytes: &[u8]) -> Vec<String> {
    let mut texts = Vec::new();
    let values: Vec<Value> = match serde_json::from_slice(bytes) {
        Ok(value) => vec![value],
        Err(_) => bytes
            .split(|b| *b == b'\n')
            .filter_map(|line| serde_json::from_slice(line).ok())
            .collect(),
    };
    for value in &values {
        collect_texts(value, &mut texts);
    }
    texts
}

fn collect_texts(value: &Value, texts: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match value {
                    Value::String(text)
                        if ["Content", "text", "transcript"].contains(&key.as_str()) =>
                    {
                        // Blank or tiny texts would match any message; the samples have none
                        // that matter.
                        if text.trim().chars().count() >= 8 {
                            texts.push(text.clone());
                        }
                    }
                    other => collect_texts(other, texts),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_texts(item, texts)),
        _ => {}
    }
}

/// `value` with one node replaced by `replacement`, for every node but the root.
pub(super) fn each_node_replaced(value: &Value, replacement: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut pointers = Vec::new();
    collect_pointers(value, String::new(), &mut pointers);
    for pointer in pointers {
        let mut copy = value.clone();
        if let Some(node) = copy.pointer_mut(&pointer) {
            *node = replacement.clone();
            out.push(copy);
        }
    }
    out
}

fn collect_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let child = pointer(&at, key);
                out.push(child.clone());
                collect_pointers(value, child, out);
            }
        }
        Value::Array(items) => {
            for (index, value) in items.iter().enumerate() {
                let child = pointer(&at, index);
                out.push(child.clone());
                collect_pointers(value, child, out);
            }
        }
        _ => {}
    }
}

/// Each entry in one line: `pointer role sender timestamp`, or `pointer invalid: reason`.
pub(super) fn summary(document: &Document) -> Vec<String> {
    document
        .entries
        .iter()
        .map(|entry| match &entry.line {
            Ok(line) => format!(
                "{} {} {} {}",
                entry.pointer,
                line.role,
                line.sender_id,
                line.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true)
            ),
            Err(reason) => format!("{} invalid: {reason}", entry.pointer),
        })
        .collect()
}

/// The conversation fields of the document's first valid line:
/// `externalId customerId customerName agentId agentName` (`-` for none).
pub(super) fn conversation(document: &Document) -> String {
    let line = document
        .entries
        .iter()
        .find_map(|entry| entry.line.as_ref().ok())
        .expect("a valid line");
    let or_dash = |value: Option<&str>| value.unwrap_or("-").to_owned();
    format!(
        "{} {} {} {} {}",
        line.external_id,
        line.customer_id,
        or_dash(line.customer_name.as_deref()),
        or_dash(line.agent_id.as_deref()),
        or_dash(line.agent_name.as_deref()),
    )
}
