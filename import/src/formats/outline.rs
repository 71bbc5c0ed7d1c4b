//! One pass over a JSON text that checks it and keeps only its *outline*: the parts that
//! [`super::detect::detect_value`]'s rules look at, as a small [`Value`], and whether any object
//! repeats a key.
//!
//! - **Checked as a `Value` is**: every string is decoded (escapes, surrogate pairs, UTF-8),
//!   every number must be in range, nesting is limited as serde_json limits it, so that
//!   [`outline`] fails exactly when `serde_json::from_slice::<Value>` does, with the same
//!   message. Nothing else is kept: scalars become `null`, arrays keep their first item where the
//!   rules look at it, objects keep the keys the rules name ([`TOP`]).
//! - **Repeated keys**: a `Value` keeps the last of them; typed structures read from the text
//!   would refuse them, so [`Outline::repeated_keys`] tells the reader to read the text of the
//!   document's `Value` instead. An object of more than [`MAX_KEYS`] keys counts as repeating
//!   one, rather than comparing them all.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// What the rules look at in a value: some keys of an object (each with what they look at in
/// its value), and the first item of an array.
#[derive(Debug)]
struct Look {
    keys: &'static [(&'static str, Look)],
    first_item: Option<&'static Look>,
}

/// Nothing: only whether the value is an array, an object or a scalar.
const NOTHING: Look = Look {
    keys: &[],
    first_item: None,
};

/// The top level, for every rule of [`super::detect::detect_value`]: its keys, whether
/// `Transcript`'s first turn has offsets, and whether a top-level array's first item is a chat
/// item.
const TOP: Look = Look {
    keys: &[
        ("sentences", NOTHING),
        ("transcripts", NOTHING),
        ("conversationId", NOTHING),
        ("conversationStartTime", NOTHING),
        (
            "Transcript",
            Look {
                keys: &[],
                first_item: Some(&Look {
                    keys: &[("BeginOffsetMillis", NOTHING)],
                    first_item: None,
                }),
            },
        ),
        ("ContentMetadata", NOTHING),
        ("JobStatus", NOTHING),
        ("CustomerMetadata", NOTHING),
        ("Channel", NOTHING),
        ("externalId", NOTHING),
        ("senderId", NOTHING),
        ("text", NOTHING),
        ("role", NOTHING),
    ],
    first_item: Some(&Look {
        keys: &[
            ("AbsoluteTime", NOTHING),
            ("ParticipantRole", NOTHING),
            ("ContentType", NOTHING),
        ],
        first_item: None,
    }),
};

/// Keys of one object compared for repeats, at the most.
const MAX_KEYS: usize = 64;

/// A checked JSON text, outlined.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Outline {
    /// The parts of the value the detection rules look at.
    pub(super) value: Value,
    /// Whether an object has a key twice (or more than [`MAX_KEYS`] keys).
    pub(super) repeated_keys: bool,
}

/// Checks `text`, one whole JSON text, and outlines it; the error is the one parsing it as a
/// `Value` gives.
pub(super) fn outline(text: &[u8]) -> Result<Outline, serde_json::Error> {
    // Text known to be UTF-8 is read without checking each string again; other bytes are read
    // as a `Value` reads them, so that the error is the same.
    match std::str::from_utf8(text) {
        Ok(text) => outline_from(serde_json::Deserializer::from_str(text)),
        Err(_) => outline_from(serde_json::Deserializer::from_slice(text)),
    }
}

/// Outlines what `deserializer` reads, to its end.
fn outline_from<'de, R: serde_json::de::Read<'de>>(
    mut deserializer: serde_json::Deserializer<R>,
) -> Result<Outline, serde_json::Error> {
    let mut keys = Keys::default();
    let value = Prune {
        keys: &mut keys,
        look: &TOP,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(Outline {
        value,
        repeated_keys: keys.repeated,
    })
}

/// The keys of the objects being read, innermost last, for telling a repeated key.
#[derive(Debug, Default)]
struct Keys<'de> {
    open: Vec<Cow<'de, str>>,
    repeated: bool,
}

impl<'de> Keys<'de> {
    /// Adds `key` to the object whose keys start at `start`.
    fn add(&mut self, start: usize, key: Cow<'de, str>) {
        let object = self.open.get(start..).unwrap_or_default();
        if object.len() >= MAX_KEYS || object.contains(&key) {
            self.repeated = true;
        } else {
            self.open.push(key);
        }
    }
}

/// A key, borrowed from the text unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads one value, checked, keeping what `look` says.
struct Prune<'k, 'de> {
    keys: &'k mut Keys<'de>,
    look: &'static Look,
}

impl<'de> DeserializeSeed<'de> for Prune<'_, 'de> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Prune<'_, 'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_str<E>(self, _: &str) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut kept = Vec::new();
        if let Some(first) = self.look.first_item {
            let seed = Prune {
                keys: &mut *self.keys,
                look: first,
            };
            kept.extend(items.next_element_seed(seed)?);
        }
        loop {
            let seed = Prune {
                keys: &mut *self.keys,
                look: &NOTHING,
            };
            if items.next_element_seed(seed)?.is_none() {
                break;
            }
        }
        Ok(Value::Array(kept))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let start = self.keys.open.len();
        let mut kept = Map::new();
        while let Some(Key(key)) = entries.next_key()? {
            let look = self.look.keys.iter().find(|(name, _)| *name == key);
            self.keys.add(start, key);
            let seed = Prune {
                keys: &mut *self.keys,
                look: look.map_or(&NOTHING, |(_, look)| look),
            };
            let value = entries.next_value_seed(seed)?;
            if let Some((name, _)) = look {
                kept.insert((*name).to_owned(), value);
            }
        }
        self.keys.open.truncate(start);
        Ok(Value::Object(kept))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::detect::detect_value;
    use super::super::testing::{each_node_replaced, sample, sample_names};
    use super::*;

    /// The outline is detected as the whole value is: for every sample, and for every sample
    /// with any one node replaced by an array, an object or a string.
    #[test]
    fn the_outline_is_detected_as_the_value() {
        let replacements = [
            serde_json::json!([{"BeginOffsetMillis": 1, "ContentType": "text/plain"}]),
            serde_json::json!({"externalId": "x", "text": "y"}),
            Value::String("x".to_owned()),
        ];
        for (format, name) in sample_names() {
            if format == Format::Jsonl {
                continue;
            }
            let value: Value = serde_json::from_slice(&sample(format, &name)).expect("JSON");
            let mut values = vec![value.clone()];
            for replacement in &replacements {
                values.extend(each_node_replaced(&value, replacement));
            }
            for value in values {
                let text = serde_json::to_vec(&value).expect("JSON");
                let outline = outline(&text).expect("checked");
                assert_eq!(detect_value(&outline.value), detect_value(&value), "{name}");
                assert!(!outline.repeated_keys, "{name}");
            }
        }
    }

    /// What a `Value` refuses is refused with the same message, however deep in the document.
    #[test]
    fn what_a_value_refuses_is_refused_alike() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let texts: [&[u8]; 11] = [
            b"",
            b"{\"a\": 1,}",
            b"{\"a\": 1e999}",
            b"{\"Transcript\": [{\"Content\": \"\\ud800\"}]}",
            b"{\"a\": \"\\uDC00x\"}",
            b"{\"a\": \"\xff\"}",
            b"{\"a\": \"tab\there\"}",
            b"[1, 2] 3",
            b"{\"a\" 1}",
            b"{\"a\": [tru]}",
            deep.as_bytes(),
        ];
        for text in texts {
            let value = serde_json::from_slice::<Value>(text).map(|_| ());
            let outlined = outline(text).map(|_| ());
            assert_eq!(
                outlined.map_err(|e| e.to_string()),
                value.map_err(|e| e.to_string()),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        assert!(outline(b" {\"a\": [1.5e300, -0, \"\\ud83d\\ude00\"]} ").is_ok());
    }

    #[test]
    fn repeated_keys_are_told_at_any_depth() {
        let outline = |text: &str| outline(text.as_bytes()).expect("JSON").repeated_keys;
        assert!(!outline(
            r#"{"a": {"a": 1, "b": {"a": 2}}, "b": [{"a": 1}, {"a": 2}]}"#
        ));
        assert!(outline(r#"{"a": 1, "a": 2}"#));
        assert!(outline(r#"{"x": [{"Content": 1, "Id": 2, "Content": 3}]}"#));
        assert!(outline(r#"{"x": {"a": 1, "\u0061": 2}}"#));
        let many: Vec<String> = (0..=MAX_KEYS).map(|i| format!("\"k{i}\": {i}")).collect();
        assert!(outline(&format!("{{{}}}", many.join(", "))));
    }
}
