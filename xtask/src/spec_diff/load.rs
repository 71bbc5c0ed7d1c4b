//! Reading one description: following `$ref`s, locating a schema (a pointer beside the value),
//! and a schema as the generator sees it, with its `allOf` members.

use std::collections::{BTreeMap, BTreeSet};

use asapp_conversations_spec::escape;
use serde_json::Value;

/// One description as plain JSON.
#[derive(Debug, Clone, Copy)]
pub(super) struct Doc<'a>(pub(super) &'a Value);

/// A value after following its `$ref`s.
#[derive(Debug)]
pub(super) struct Resolved<'a> {
    pub(super) value: &'a Value,
    /// Where the value is: its target's pointer when it was a reference.
    pub(super) location: String,
    /// The first reference's target (`/components/schemas/X`), if the value was a reference.
    pub(super) reference: Option<String>,
}

impl<'a> Doc<'a> {
    /// Follows `value`'s chain of local `$ref`s, written at `pointer`. A reference that does not
    /// resolve, points outside the document or loops ends the chain where it is.
    pub(super) fn resolve(self, value: &'a Value, pointer: &str) -> Resolved<'a> {
        let mut resolved = Resolved {
            value,
            location: pointer.to_owned(),
            reference: None,
        };
        let mut seen = BTreeSet::new();
        while let Some(target) = resolved
            .value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|target| target.strip_prefix('#'))
        {
            let Some(next) = self.0.pointer(target) else {
                break;
            };
            if !seen.insert(target) {
                break;
            }
            resolved.reference.get_or_insert_with(|| target.to_owned());
            resolved.value = next;
            resolved.location = target.to_owned();
        }
        resolved
    }
}

/// A schema (or a reference to one) and where it is written.
#[derive(Debug, Clone)]
pub(super) struct Located<'a> {
    pub(super) value: &'a Value,
    pub(super) pointer: String,
}

/// `parent/segment`, with the segment escaped.
pub(super) fn child_pointer(parent: &str, segment: &str) -> String {
    format!("{parent}/{}", escape(segment))
}

/// The schema of `holder`'s `content` (a request body, response or parameter): its
/// `application/json` media type, or else the first that has a schema.
pub(super) fn media_schema<'a>(holder: &'a Value, holder_pointer: &str) -> Option<Located<'a>> {
    let content = holder.get("content")?.as_object()?;
    let (media, entry) = content.get_key_value("application/json").or_else(|| {
        content
            .iter()
            .find(|(_, entry)| entry.get("schema").is_some())
    })?;
    Some(Located {
        value: entry.get("schema")?,
        pointer: format!(
            "{}/schema",
            child_pointer(&format!("{holder_pointer}/content"), media)
        ),
    })
}

/// A schema as the generator sees it: its location after references, and its `allOf` members
/// (each once), whose keywords and properties it has.
#[derive(Debug)]
pub(super) struct View<'a> {
    /// Where the schema is; findings about its own keywords point here.
    pub(super) location: String,
    /// The named schema it refers to (`/components/schemas/X`), if it is a `$ref`.
    pub(super) reference: Option<String>,
    /// The schema, then its `allOf` members, depth first, each with its location.
    parts: Vec<(String, &'a Value)>,
}

impl<'a> View<'a> {
    pub(super) fn of(doc: Doc<'a>, schema: &Located<'a>) -> Self {
        let resolved = doc.resolve(schema.value, &schema.pointer);
        let mut view = Self {
            location: resolved.location.clone(),
            reference: resolved.reference,
            parts: Vec::new(),
        };
        view.gather(doc, resolved.value, resolved.location);
        view
    }

    /// Adds `schema` and the members of its `allOf`, skipping any already there (cycles).
    fn gather(&mut self, doc: Doc<'a>, schema: &'a Value, location: String) {
        if self.parts.iter().any(|(seen, _)| *seen == location) {
            return;
        }
        self.parts.push((location.clone(), schema));
        let Some(members) = schema.get("allOf").and_then(Value::as_array) else {
            return;
        };
        for (index, member) in members.iter().enumerate() {
            let member = doc.resolve(member, &format!("{location}/allOf/{index}"));
            self.gather(doc, member.value, member.location);
        }
    }

    /// The first part's value of `keyword`, with that part's location.
    pub(super) fn keyword(&self, keyword: &str) -> Option<(&str, &'a Value)> {
        self.parts
            .iter()
            .find_map(|(location, part)| Some((location.as_str(), part.get(keyword)?)))
    }

    pub(super) fn value(&self, keyword: &str) -> Option<&'a Value> {
        self.keyword(keyword).map(|(_, value)| value)
    }

    /// Where `keyword` is, or would be on the schema itself.
    pub(super) fn keyword_pointer(&self, keyword: &str) -> String {
        let location = self
            .keyword(keyword)
            .map_or(self.location.as_str(), |(at, _)| at);
        format!("{location}/{keyword}")
    }

    pub(super) fn string(&self, keyword: &str) -> Option<&'a str> {
        self.value(keyword).and_then(Value::as_str)
    }

    /// The declared `type`, or `object` or `array` as its keywords imply.
    pub(super) fn kind(&self) -> Option<&'a str> {
        if let Some(kind) = self.string("type") {
            Some(kind)
        } else if self.value("properties").is_some() || self.value("additionalProperties").is_some()
        {
            Some("object")
        } else if self.value("items").is_some() {
            Some("array")
        } else {
            None
        }
    }

    pub(super) fn nullable(&self) -> bool {
        self.value("nullable").and_then(Value::as_bool) == Some(true)
    }

    pub(super) fn enumeration(&self) -> Option<&'a [Value]> {
        self.value("enum")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
    }

    /// Every part's properties (the first definition of a name wins), each where it is written.
    pub(super) fn properties(&self) -> BTreeMap<&'a str, Located<'a>> {
        let mut out = BTreeMap::new();
        for (location, part) in &self.parts {
            let Some(properties) = part.get("properties").and_then(Value::as_object) else {
                continue;
            };
            for (name, schema) in properties {
                out.entry(name.as_str()).or_insert_with(|| Located {
                    value: schema,
                    pointer: child_pointer(&format!("{location}/properties"), name),
                });
            }
        }
        out
    }

    /// Every part's `required` names.
    pub(super) fn required(&self) -> BTreeSet<&'a str> {
        self.parts
            .iter()
            .filter_map(|(_, part)| part.get("required").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    }
}
