//! Reasons safe to show: everything that turns a parse failure, or a vendor's value, into the
//! words of an error, which never quote a document's text (a malformed document could hold a
//! customer's message anywhere). A value is shown only as a [`label`]; a part that does not fit
//! its format's shape is told as its JSON [`pointer()`] and serde's message rewritten without
//! the value it quotes ([`top_level`] for a whole document, [`entry`] for one entry). The shape
//! itself: every struct the readers read is read through an [`Object`], which takes a JSON object
//! only, where serde's derived structs would also read an array, item by field.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::{Format, Refusal};

/// `value` if it looks like a label (a role, a content type, a channel name): short, and only
/// letters, digits and `_-/ `; `None` for anything else, which is then not shown, since a
/// malformed document could hold a message's text anywhere.
pub(super) fn label(value: &str) -> Option<&str> {
    let value = value.trim();
    let is_label = !value.is_empty()
        && value.chars().count() <= 40
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | ' '));
    is_label.then_some(value)
}

/// `value`, quoted as a label, or a note that it is not shown.
pub(super) fn shown(value: &str) -> String {
    match label(value) {
        Some(label) => format!("`{label}`"),
        None => "(a value that is not a label, not shown)".to_owned(),
    }
}

/// `segment` appended to the JSON pointer `parent` (escaped as RFC 6901 says).
pub(super) fn pointer(parent: &str, segment: impl fmt::Display) -> String {
    use std::fmt::Write as _;
    let mut pointer = format!("{parent}/");
    let start = pointer.len();
    // Writing to a `String` does not fail.
    let _ = write!(pointer, "{segment}");
    if let Some(written) = pointer.get(start..)
        && written.contains(['~', '/'])
    {
        let escaped = written.replace('~', "~0").replace('/', "~1");
        pointer.truncate(start);
        pointer.push_str(&escaped);
    }
    pointer
}

/// A `T` (a struct) read only from a JSON object. serde's derived structs also read an array,
/// item by field, which would take `["VOICE", [], …]` for a Contact Lens document (its entries at
/// pointers that the document does not have) and `["c-1"]` for a contact record: every struct
/// the readers read is one of these, or read through one.
#[derive(Debug)]
pub(super) struct Object<T>(pub(super) T);

impl<T> Deref for Object<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Takes a map only, and reads the `T` from its entries.
        struct Fields<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for Fields<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer.deserialize_map(Fields(PhantomData)).map(Self)
    }
}

/// A part of a document that does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mismatch {
    /// Where, as a JSON pointer.
    pointer: String,
    /// What is wrong, without any of the document's values.
    reason: String,
}

impl Mismatch {
    /// As a whole-document error of `format`.
    fn into_error(self, format: Format) -> Refusal {
        Refusal::Shape {
            format,
            pointer: self.pointer,
            reason: self.reason,
        }
    }

    /// As an entry's reason: the field within the entry at `entry`, and what is wrong.
    fn within(self, entry: &str) -> String {
        let field = self
            .pointer
            .strip_prefix(entry)
            .unwrap_or(&self.pointer)
            .trim_start_matches('/');
        if field.is_empty() {
            self.reason
        } else {
            format!("{field}: {}", self.reason)
        }
    }
}

/// `text`, a whole document, as its top level `T`, its entries left as their text. Where it is
/// not one, the reason is the one the document's `Value` read as `U` gives (`T` with its entries
/// ignored): see [`value_mismatch`].
pub(super) fn top_level<'a, T: Deserialize<'a>, U: Deserialize<'a>>(
    text: &'a str,
    format: Format,
) -> Result<T, Refusal> {
    serde_json::from_str(text).map_err(|_| value_mismatch::<U>(text, "").into_error(format))
}

/// The entry `raw` (found at `at`) as a `T`, read from its own text, a JSON object ([`Object`]);
/// the error is the entry's reason (see [`value_mismatch`]), so that the other entries still
/// import.
pub(super) fn entry<'a, T: Deserialize<'a>>(raw: &'a RawValue, at: &str) -> Result<T, String> {
    serde_json::from_str::<Object<T>>(raw.get())
        .map(|object| object.0)
        .map_err(|_| value_mismatch::<Object<T>>(raw.get(), at).within(at))
}

/// Why `text` (found at `at`, checked JSON without repeated keys) is not a `T`, as deserializing
/// its `Value` tells: reading the text stops at the first wrong field in the text's order, while
/// a `Value` has its fields in key order, so the reason would change with the order of the keys.
fn value_mismatch<'a, T: Deserialize<'a>>(text: &str, at: &str) -> Mismatch {
    let value = serde_json::from_str::<Value>(text);
    match value.map(|value| deserialize_at::<T>(value, at)) {
        Ok(Err(mismatch)) => mismatch,
        // Not for checked JSON that `T` did not fit.
        Ok(Ok(_)) | Err(_) => Mismatch {
            pointer: at.to_owned(),
            reason: "not valid here".to_owned(),
        },
    }
}

/// `deserializer`'s value (found at `at`) as a `T`; the error says where and what, never echoing
/// a value.
fn deserialize_at<'de, T: Deserialize<'de>>(
    deserializer: impl serde::Deserializer<'de>,
    at: &str,
) -> Result<T, Mismatch> {
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let mut pointer = at.to_owned();
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    pointer = self::pointer(&pointer, index);
                }
                serde_path_to_error::Segment::Map { key } => {
                    pointer = self::pointer(&pointer, key);
                }
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        Mismatch {
            pointer,
            reason: safe_reason(&error.inner().to_string()),
        }
    })
}

/// What serde says, without the value it may quote: `invalid type: string "…", expected u64`
/// becomes `found a string, expected u64`. The expected part comes from this module's types;
/// any message not known to be free of values becomes a generic one.
fn safe_reason(message: &str) -> String {
    const KINDS: [&str; 9] = [
        "string",
        "integer",
        "floating point",
        "boolean",
        "null",
        "map",
        "sequence",
        "unit",
        "char",
    ];
    let unexpected = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    if let Some(rest) = unexpected {
        let found = KINDS
            .iter()
            .find(|kind| rest.starts_with(*kind))
            .map_or_else(|| "a value".to_owned(), |kind| format!("a {kind}"));
        return match message.rfind(", expected ") {
            Some(at) => format!("found {found}, expected {}", &message[at + 11..]),
            None => format!("found {found} of the wrong type"),
        };
    }
    let names_only = message.starts_with("missing field `")
        || message.starts_with("duplicate field `")
        || message.starts_with("invalid length ");
    if names_only {
        message.to_owned()
    } else {
        "not valid here".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_are_rewritten_without_values() {
        assert_eq!(
            safe_reason(r#"invalid type: string "Hello, \"Ada\", expected u64", expected u64"#),
            "found a string, expected u64"
        );
        assert_eq!(
            safe_reason("invalid type: floating point `1.5`, expected i64"),
            "found a floating point, expected i64"
        );
        assert_eq!(
            safe_reason("missing field `Transcript`"),
            "missing field `Transcript`"
        );
        assert_eq!(safe_reason("something else entirely"), "not valid here");
    }

    #[test]
    fn labels_are_shown_and_other_values_are_not() {
        assert_eq!(label(" CUSTOM_BOT "), Some("CUSTOM_BOT"));
        assert_eq!(label("text/plain"), Some("text/plain"));
        assert_eq!(label("Quality Analyst"), Some("Quality Analyst"));
        assert_eq!(label("My parrot ate the router manual."), None);
        assert_eq!(label(""), None);
    }
}
