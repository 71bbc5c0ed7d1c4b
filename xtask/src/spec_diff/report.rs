//! The report: each change's class, location and fact, and the operations that reach it, kept
//! once per location and fact with the more severe class, then written out as [`Change`]s.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// How a change reaches a downstream crate that upgrades to the regenerated client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    /// Code written against the old client still compiles and reads what it read.
    Additive,
    /// Code written against the old client may stop compiling or stop decoding answers.
    Breaking,
}

impl Class {
    /// `Breaking` when `breaks`, else `Additive`.
    pub(super) fn breaking_if(breaks: bool) -> Self {
        if breaks {
            Self::Breaking
        } else {
            Self::Additive
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Additive => "additive",
            Self::Breaking => "breaking",
        })
    }
}

/// One change between two descriptions, displayed as one line of the report:
/// `breaking: #/components/schemas/Message/properties/text: property `text` removed (request: createMessage)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    /// Whether downstream code may break.
    pub(crate) class: Class,
    /// Where, as a JSON pointer into the description (`#/…`); into the base for what was removed.
    pub(crate) pointer: String,
    /// What changed there, with the operations (and request or answer) it concerns.
    pub(crate) what: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.class, self.pointer, self.what)
    }
}

/// Which way the data of a schema travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Direction {
    /// What the client sends: parameters and request bodies.
    Request,
    /// What the client reads: response bodies.
    Answer,
}

/// An operation that reaches a change, and in which direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Usage {
    pub(super) direction: Direction,
    pub(super) operation: String,
}

/// The changes found so far, one per location and fact, however many operations reach it.
#[derive(Debug, Default)]
pub(super) struct Report {
    entries: BTreeMap<(String, String), Entry>,
}

/// A fact at one location: the most severe class any use gave it, and the uses.
#[derive(Debug)]
struct Entry {
    class: Class,
    usages: BTreeSet<Usage>,
}

impl Report {
    /// Records `fact` at `pointer` (a pointer without the leading `#`).
    pub(super) fn add(&mut self, class: Class, pointer: &str, fact: String, usage: Option<&Usage>) {
        let entry = self
            .entries
            .entry((pointer.to_owned(), fact))
            .or_insert(Entry {
                class,
                usages: BTreeSet::new(),
            });
        entry.class = entry.class.max(class);
        entry.usages.extend(usage.cloned());
    }

    /// The changes, one per location and fact, sorted by pointer, then text.
    pub(super) fn into_changes(self) -> Vec<Change> {
        let mut changes: Vec<Change> = self
            .entries
            .into_iter()
            .map(|((pointer, fact), entry)| Change {
                class: entry.class,
                pointer: format!("#{pointer}"),
                what: match describe_usages(&entry.usages) {
                    Some(usages) => format!("{fact} ({usages})"),
                    None => fact,
                },
            })
            .collect();
        changes.sort_by(|a, b| (&a.pointer, &a.what).cmp(&(&b.pointer, &b.what)));
        changes
    }
}

/// `request: createMessage; answer: getMessage, getMessages`, or `None` without uses.
fn describe_usages(usages: &BTreeSet<Usage>) -> Option<String> {
    let parts: Vec<String> = [
        (Direction::Request, "request"),
        (Direction::Answer, "answer"),
    ]
    .into_iter()
    .filter_map(|(direction, label)| {
        let operations: Vec<&str> = usages
            .iter()
            .filter(|usage| usage.direction == direction)
            .map(|usage| usage.operation.as_str())
            .collect();
        (!operations.is_empty()).then(|| format!("{label}: {}", operations.join(", ")))
    })
    .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// `required` or `optional`, as the facts say it.
pub(super) fn required_word(required: bool) -> &'static str {
    if required { "required" } else { "optional" }
}
