//! The walk: two schemas compared keyword by keyword for one operation in one direction, following
//! properties, `items` and `additionalProperties`, each pair of locations once.

use std::collections::BTreeSet;

use serde_json::Value;

use super::constraints::{CONSTRAINTS, constraint_fact};
use super::load::{Doc, Located, View};
use super::report::{Class, Direction, Report, Usage, required_word};
use super::shapes::{is_option, rust_shape};

/// What a schema is to its parent, which decides whether its Rust type is an `Option`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Role<'n> {
    /// A request or response body.
    Body,
    /// Array items, map values, a parameter's schema.
    Value,
    /// An object's property, required or not in the base and in the current description.
    Property {
        name: &'n str,
        required: (bool, bool),
    },
}

impl Role<'_> {
    /// Whether the property is required in the base and in the current description.
    fn required(self) -> (Option<bool>, Option<bool>) {
        match self {
            Role::Property {
                required: (was, is),
                ..
            } => (Some(was), Some(is)),
            Role::Body | Role::Value => (None, None),
        }
    }
}

/// An enum value as written in the report.
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => format!("`{text}`"),
        other => format!("`{other}`"),
    }
}

/// What `additionalProperties` allows.
#[derive(Debug)]
enum Extra<'a> {
    Anything,
    Nothing,
    Typed(Located<'a>),
}

impl<'a> Extra<'a> {
    fn of(view: &View<'a>) -> Self {
        match view.keyword("additionalProperties") {
            None | Some((_, Value::Bool(true))) => Self::Anything,
            Some((_, Value::Bool(false))) => Self::Nothing,
            Some((location, schema)) => Self::Typed(Located {
                value: schema,
                pointer: format!("{location}/additionalProperties"),
            }),
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Self::Anything => "any value",
            Self::Nothing => "none",
            Self::Typed(_) => "a schema",
        }
    }
}

/// Two objects with properties and none in common.
fn unrelated(before: &View<'_>, after: &View<'_>) -> bool {
    let (was, is) = (before.properties(), after.properties());
    before.kind() == Some("object")
        && after.kind() == Some("object")
        && !was.is_empty()
        && !is.is_empty()
        && was.keys().all(|name| !is.contains_key(name))
}

/// The schema comparisons of one operation in one direction.
#[derive(Debug)]
pub(super) struct Walk<'a, 'r> {
    pub(super) old: Doc<'a>,
    pub(super) new: Doc<'a>,
    direction: Direction,
    usage: Usage,
    report: &'r mut Report,
    /// The pairs of schema locations already compared: each once, which ends reference cycles.
    compared: BTreeSet<(String, String)>,
}

impl<'a, 'r> Walk<'a, 'r> {
    pub(super) fn new(
        old: Doc<'a>,
        new: Doc<'a>,
        direction: Direction,
        operation: &str,
        report: &'r mut Report,
    ) -> Self {
        Self {
            old,
            new,
            direction,
            usage: Usage {
                direction,
                operation: operation.to_owned(),
            },
            report,
            compared: BTreeSet::new(),
        }
    }

    pub(super) fn note(&mut self, class: Class, pointer: &str, fact: impl Into<String>) {
        self.report
            .add(class, pointer, fact.into(), Some(&self.usage));
    }

    /// Compares two optional schemas; gaining or losing one (a body, a parameter's schema)
    /// changes the Rust type.
    pub(super) fn schema_pair(
        &mut self,
        old: Option<&Located<'a>>,
        new: Option<&Located<'a>>,
        at: &str,
        role: Role<'_>,
    ) {
        match (old, new) {
            (Some(old), Some(new)) => self.schemas(old, new, role),
            (None, Some(_)) => self.note(Class::Breaking, at, "schema added"),
            (Some(_), None) => self.note(Class::Breaking, at, "schema removed"),
            (None, None) => {}
        }
    }

    fn schemas(&mut self, old: &Located<'a>, new: &Located<'a>, role: Role<'_>) {
        let before = View::of(self.old, old);
        let after = View::of(self.new, new);
        if matches!(role, Role::Body) && unrelated(&before, &after) {
            let fact = "replaced by an unrelated schema, with no property in common";
            self.note(Class::Breaking, &new.pointer, fact);
            return;
        }
        self.compare_reference(&before, &after, &new.pointer);
        // Whether the value is an `Option` depends on where it is, so this comes before the
        // check that each pair of locations is compared once.
        self.compare_optionality(&before, &after, role, &new.pointer);
        if !self
            .compared
            .insert((before.location.clone(), after.location.clone()))
        {
            return;
        }
        if !self.compare_kind(&before, &after) {
            return;
        }
        self.compare_composition(&before, &after);
        self.compare_format(&before, &after);
        self.compare_enum(&before, &after);
        self.compare_constraints(&before, &after);
        self.compare_properties(&before, &after);
        self.compare_items(&before, &after);
        self.compare_additional_properties(&before, &after);
    }

    /// A `$ref` to another named schema: the Rust type is another one.
    fn compare_reference(&mut self, before: &View<'a>, after: &View<'a>, pointer: &str) {
        if let (Some(was), Some(is)) = (&before.reference, &after.reference)
            && was != is
        {
            let fact = format!("now `#{is}` instead of `#{was}`: the Rust type changes");
            self.note(Class::Breaking, pointer, fact);
        }
    }

    /// `required` and `nullable`: in a request, the tighter is breaking; in an answer, what
    /// changes the Rust type between `T` and `Option<T>`.
    fn compare_optionality(
        &mut self,
        before: &View<'a>,
        after: &View<'a>,
        role: Role<'_>,
        pointer: &str,
    ) {
        let (was_required, is_required) = role.required();
        let type_changes = is_option(before, was_required) != is_option(after, is_required);
        let direction = self.direction;
        let class = |tighter: bool| match direction {
            Direction::Request => Class::breaking_if(tighter),
            Direction::Answer => Class::breaking_if(type_changes),
        };
        if let Role::Property {
            name,
            required: (was, is),
        } = role
            && was != is
        {
            let fact = format!("property `{name}` made {}", required_word(is));
            let class = class(is);
            self.note(class, pointer, fact);
        }
        let nullable = after.nullable();
        if before.nullable() != nullable {
            let fact = if nullable {
                "made nullable"
            } else {
                "no longer nullable"
            };
            self.note(class(!nullable), &after.keyword_pointer("nullable"), fact);
        }
    }

    /// Returns whether the types match; a changed type is breaking and ends the comparison there.
    fn compare_kind(&mut self, before: &View<'a>, after: &View<'a>) -> bool {
        let (was, is) = (before.kind(), after.kind());
        if was == is {
            return true;
        }
        let shown =
            |kind: Option<&str>| kind.map_or_else(|| "any".to_owned(), |k| format!("`{k}`"));
        let fact = format!("type changed from {} to {}", shown(was), shown(is));
        self.note(Class::Breaking, &after.keyword_pointer("type"), fact);
        false
    }

    /// `oneOf`, `anyOf` and `not` are not compared member by member: any change is breaking.
    fn compare_composition(&mut self, before: &View<'a>, after: &View<'a>) {
        for keyword in ["oneOf", "anyOf", "not"] {
            if before.value(keyword) != after.value(keyword) {
                let fact = format!("`{keyword}` changed (not compared member by member)");
                self.note(Class::Breaking, &after.keyword_pointer(keyword), fact);
            }
        }
    }

    fn compare_format(&mut self, before: &View<'a>, after: &View<'a>) {
        let fact = match (before.string("format"), after.string("format")) {
            (Some(was), Some(is)) if was != is => format!("format changed from `{was}` to `{is}`"),
            (None, Some(is)) => format!("format `{is}` added"),
            (Some(was), None) => format!("format `{was}` removed"),
            _ => return,
        };
        self.note(Class::Breaking, &after.keyword_pointer("format"), fact);
    }

    /// A new value is additive (the enums decode unknown values); a removed one is breaking, and
    /// so is becoming or ceasing to be an enum (the Rust type changes).
    fn compare_enum(&mut self, before: &View<'a>, after: &View<'a>) {
        let pointer = after.keyword_pointer("enum");
        match (before.enumeration(), after.enumeration()) {
            (None, None) => {}
            (None, Some(values)) => {
                let values: Vec<String> = values.iter().map(shown).collect();
                let fact = format!("now restricted to {}", values.join(", "));
                self.note(Class::Breaking, &pointer, fact);
            }
            (Some(_), None) => self.note(Class::Breaking, &pointer, "no longer an enum"),
            (Some(was), Some(is)) => {
                for value in was.iter().filter(|value| !is.contains(value)) {
                    let fact = format!("value {} removed", shown(value));
                    self.note(Class::Breaking, &pointer, fact);
                }
                for value in is.iter().filter(|value| !was.contains(value)) {
                    let fact = format!("value {} added", shown(value));
                    self.note(Class::Additive, &pointer, fact);
                }
            }
        }
    }

    /// In a request, a tighter constraint is breaking; in an answer, one that changes the Rust
    /// type.
    fn compare_constraints(&mut self, before: &View<'a>, after: &View<'a>) {
        let type_changes = rust_shape(before) != rust_shape(after);
        for (keyword, bound) in CONSTRAINTS {
            let (was, is) = (before.value(keyword), after.value(keyword));
            let Some(tighter) = bound.tightens(was, is) else {
                continue;
            };
            let class = match self.direction {
                Direction::Request => Class::breaking_if(tighter),
                Direction::Answer => Class::breaking_if(type_changes),
            };
            let fact = constraint_fact(keyword, was, is);
            self.note(class, &after.keyword_pointer(keyword), fact);
        }
    }

    fn compare_properties(&mut self, before: &View<'a>, after: &View<'a>) {
        let (was, is) = (before.properties(), after.properties());
        if after.kind() == Some("object") && was.is_empty() != is.is_empty() {
            let fact = if was.is_empty() {
                let names: Vec<String> = is.keys().map(|name| format!("`{name}`")).collect();
                format!(
                    "gains its first properties ({}): the Rust type changes from a map to a struct",
                    names.join(", ")
                )
            } else {
                "loses its last property: the Rust type changes from a struct to a map".to_owned()
            };
            self.note(Class::Breaking, &after.keyword_pointer("properties"), fact);
            return;
        }
        let (was_required, is_required) = (before.required(), after.required());
        for (name, property) in &was {
            if !is.contains_key(name) {
                self.note(
                    Class::Breaking,
                    &property.pointer,
                    format!("property `{name}` removed"),
                );
            }
        }
        for (name, property) in &is {
            match was.get(name) {
                Some(previous) => {
                    let required = (was_required.contains(name), is_required.contains(name));
                    self.schemas(previous, property, Role::Property { name, required });
                }
                None => {
                    let required = is_required.contains(name);
                    let class = match self.direction {
                        Direction::Request => Class::breaking_if(required),
                        Direction::Answer => Class::Additive,
                    };
                    let fact = format!("property `{name}` added, {}", required_word(required));
                    self.note(class, &property.pointer, fact);
                }
            }
        }
    }

    fn compare_items(&mut self, before: &View<'a>, after: &View<'a>) {
        let items = |view: &View<'a>| {
            view.keyword("items").map(|(location, schema)| Located {
                value: schema,
                pointer: format!("{location}/items"),
            })
        };
        let (was, is) = (items(before), items(after));
        let at = after.keyword_pointer("items");
        match (&was, &is) {
            (Some(was), Some(is)) => self.schemas(was, is, Role::Value),
            (None, Some(_)) => self.note(Class::Breaking, &at, "items schema added"),
            (Some(_), None) => self.note(Class::Breaking, &at, "items schema removed"),
            (None, None) => {}
        }
    }

    fn compare_additional_properties(&mut self, before: &View<'a>, after: &View<'a>) {
        match (Extra::of(before), Extra::of(after)) {
            (Extra::Typed(was), Extra::Typed(is)) => self.schemas(&was, &is, Role::Value),
            (was, is) if was.describe() != is.describe() => {
                let fact = format!(
                    "`additionalProperties` changed from {} to {}",
                    was.describe(),
                    is.describe()
                );
                self.note(
                    Class::Breaking,
                    &after.keyword_pointer("additionalProperties"),
                    fact,
                );
            }
            _ => {}
        }
    }
}
