//! What a change of the description does to downstream crates: the report `cargo xtask regen`
//! prints before it regenerates.
//!
//! [`diff`] compares two descriptions (the base the committed code came from, and the one being
//! generated) and returns one [`Change`] per change, each `breaking` or `additive` as a downstream
//! Rust crate sees the regenerated client, with its location as a JSON pointer into the
//! description. It is pure: two documents in, the changes out, sorted by pointer then text.
//!
//! The walk starts from the operations, matched by `operationId`: an operation in one description
//! only is added or removed; for one in both, its parameters and request body are compared as
//! what the client sends (the *request*) and its responses as what the client reads (the
//! *answer*). Schemas are followed through `$ref`, `allOf`, `items`, `additionalProperties` and
//! object properties; each pair of schemas is compared once per operation and direction, which
//! ends reference cycles. A change inside a component is reported at the component, once, with
//! the operations and directions that reach it and the more severe class of the two.
//!
//! The rules, with the regenerated types in mind (builders, `#[non_exhaustive]` structs, string
//! enums that decode unknown values):
//!
//! * requests: a new optional field or parameter is additive, a new required one breaking; a
//!   removed one breaking; optional to required breaking, required to optional additive; a tighter
//!   constraint breaking, a looser one additive;
//! * answers: any new field is additive, a removed one breaking; a field whose Rust type changes
//!   between `T` and `Option<T>` (required or nullable changed) is breaking, while the same
//!   change that leaves the type alone (an optional array or map is a `Vec` or map either way) is
//!   additive; a constraint change is additive unless it changes the Rust type (a plain string
//!   gaining a length bound becomes a newtype; integer bounds choose the integer type);
//! * both: a type or format change, a removed enum value, a `$ref` to another named schema, and
//!   a removed component schema are breaking; a new enum value or component schema is additive;
//! * operations and statuses: removed is breaking, added is additive.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use asapp_conversations_spec::{METHODS, escape};
use serde_json::Value;

/// How a change reaches a downstream crate that upgrades to the regenerated client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    /// Code written against the old client still compiles and reads what it read.
    Additive,
    /// Code written against the old client may stop compiling or stop decoding answers.
    Breaking,
}

impl Class {
    fn breaking_if(breaks: bool) -> Self {
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

/// Every change from `base` to `current`, sorted by pointer, then text.
pub(crate) fn diff(base: &Value, current: &Value) -> Vec<Change> {
    let (old, new) = (Doc(base), Doc(current));
    let mut report = Report::default();
    compare_component_schemas(old, new, &mut report);
    compare_operations(old, new, &mut report);
    report.into_changes()
}

/// Which way the data of a schema travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    /// What the client sends: parameters and request bodies.
    Request,
    /// What the client reads: response bodies.
    Answer,
}

/// An operation that reaches a change, and in which direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Usage {
    direction: Direction,
    operation: String,
}

/// The changes found so far, one per location and fact, however many operations reach it.
#[derive(Debug, Default)]
struct Report {
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
    fn add(&mut self, class: Class, pointer: &str, fact: String, usage: Option<&Usage>) {
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

    fn into_changes(self) -> Vec<Change> {
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

/// One description as plain JSON.
#[derive(Debug, Clone, Copy)]
struct Doc<'a>(&'a Value);

/// A value after following its `$ref`s.
#[derive(Debug)]
struct Resolved<'a> {
    value: &'a Value,
    /// Where the value is: its target's pointer when it was a reference.
    location: String,
    /// The first reference's target (`/components/schemas/X`), if the value was a reference.
    reference: Option<String>,
}

impl<'a> Doc<'a> {
    /// Follows `value`'s chain of local `$ref`s, written at `pointer`. A reference that does not
    /// resolve, points outside the document or loops ends the chain where it is.
    fn resolve(self, value: &'a Value, pointer: &str) -> Resolved<'a> {
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
struct Located<'a> {
    value: &'a Value,
    pointer: String,
}

/// `parent/segment`, with the segment escaped.
fn child_pointer(parent: &str, segment: &str) -> String {
    format!("{parent}/{}", escape(segment))
}

/// The schema of `holder`'s `content` (a request body, response or parameter): its
/// `application/json` media type, or else the first that has a schema.
fn media_schema<'a>(holder: &'a Value, holder_pointer: &str) -> Option<Located<'a>> {
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

/// A new or removed component schema adds or removes a generated type.
fn compare_component_schemas(old: Doc<'_>, new: Doc<'_>, report: &mut Report) {
    let names = |doc: Doc<'_>| -> BTreeSet<String> {
        doc.0
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|schemas| schemas.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (before, after) = (names(old), names(new));
    for name in before.difference(&after) {
        let fact = format!("schema `{name}` removed, and its generated type with it");
        let pointer = child_pointer("/components/schemas", name);
        report.add(Class::Breaking, &pointer, fact, None);
    }
    for name in after.difference(&before) {
        let pointer = child_pointer("/components/schemas", name);
        report.add(
            Class::Additive,
            &pointer,
            format!("schema `{name}` added"),
            None,
        );
    }
}

/// One operation of a description.
#[derive(Debug)]
struct Operation<'a> {
    /// `/paths/<path>/<method>`.
    pointer: String,
    /// `GET /path`.
    route: String,
    value: &'a Value,
    /// The path item, for the parameters that every operation of the path shares.
    path_item: &'a Value,
    path_item_pointer: String,
}

/// Every operation, by `operationId` (progenitor's method name; `METHOD /path` without one).
fn operations(doc: Doc<'_>) -> BTreeMap<String, Operation<'_>> {
    let mut out = BTreeMap::new();
    let Some(paths) = doc.0.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let item = doc.resolve(item, &child_pointer("/paths", path));
        for method in METHODS {
            let Some(operation) = item.value.get(method).filter(|o| o.is_object()) else {
                continue;
            };
            let route = format!("{} {path}", method.to_uppercase());
            let name = operation
                .get("operationId")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .map_or_else(|| route.clone(), str::to_owned);
            out.entry(name).or_insert(Operation {
                pointer: format!("{}/{method}", item.location),
                route,
                value: operation,
                path_item: item.value,
                path_item_pointer: item.location.clone(),
            });
        }
    }
    out
}

/// Operations added, removed or moved, and what changed in those that both descriptions have.
fn compare_operations(old: Doc<'_>, new: Doc<'_>, report: &mut Report) {
    let (before, after) = (operations(old), operations(new));
    for (name, operation) in &before {
        if !after.contains_key(name) {
            let fact = format!("operation `{name}` ({}) removed", operation.route);
            report.add(Class::Breaking, &operation.pointer, fact, None);
        }
    }
    for (name, operation) in &after {
        let Some(previous) = before.get(name) else {
            let fact = format!("operation `{name}` ({}) added", operation.route);
            report.add(Class::Additive, &operation.pointer, fact, None);
            continue;
        };
        if previous.route != operation.route {
            let fact = format!(
                "operation `{name}` moved from {} to {}",
                previous.route, operation.route
            );
            report.add(Class::Breaking, &operation.pointer, fact, None);
        }
        let mut request = Walk::new(old, new, Direction::Request, name, report);
        compare_parameters(previous, operation, &mut request);
        compare_request_bodies(previous, operation, &mut request);
        let mut answer = Walk::new(old, new, Direction::Answer, name, report);
        compare_responses(previous, operation, &mut answer);
    }
}

/// One parameter of an operation, after following its `$ref`.
#[derive(Debug)]
struct Parameter<'a> {
    name: &'a str,
    /// `in`: path, query, header or cookie.
    place: &'a str,
    required: bool,
    /// Where the parameter object is (its component, for a reference).
    pointer: String,
    schema: Option<Located<'a>>,
}

impl<'a> Parameter<'a> {
    fn read(resolved: Resolved<'a>) -> Option<Self> {
        let value = resolved.value;
        let name = value.get("name")?.as_str()?;
        let place = value.get("in")?.as_str()?;
        let required =
            place == "path" || value.get("required").and_then(Value::as_bool) == Some(true);
        let schema = match value.get("schema") {
            Some(schema) => Some(Located {
                value: schema,
                pointer: format!("{}/schema", resolved.location),
            }),
            None => media_schema(value, &resolved.location),
        };
        Some(Self {
            name,
            place,
            required,
            pointer: resolved.location,
            schema,
        })
    }

    fn describe(&self) -> String {
        format!("parameter `{}` ({})", self.name, self.place)
    }
}

/// An operation's parameters by `(in, name)`: the path item's, overridden by the operation's.
fn parameters<'a>(
    doc: Doc<'a>,
    operation: &Operation<'a>,
) -> BTreeMap<(&'a str, &'a str), Parameter<'a>> {
    let mut out = BTreeMap::new();
    let holders = [
        (operation.path_item, operation.path_item_pointer.as_str()),
        (operation.value, operation.pointer.as_str()),
    ];
    for (holder, holder_pointer) in holders {
        let Some(list) = holder.get("parameters").and_then(Value::as_array) else {
            continue;
        };
        for (index, entry) in list.iter().enumerate() {
            let resolved = doc.resolve(entry, &format!("{holder_pointer}/parameters/{index}"));
            if let Some(parameter) = Parameter::read(resolved) {
                out.insert((parameter.place, parameter.name), parameter);
            }
        }
    }
    out
}

/// Parameters added, removed, moved (same name, another `in`), made required or optional, and
/// their schemas.
fn compare_parameters<'a>(
    old_operation: &Operation<'a>,
    new_operation: &Operation<'a>,
    walk: &mut Walk<'a, '_>,
) {
    let mut before = parameters(walk.old, old_operation);
    let mut after = parameters(walk.new, new_operation);
    let mut pairs = Vec::new();
    let same_place: Vec<_> = before
        .keys()
        .filter(|key| after.contains_key(*key))
        .copied()
        .collect();
    for key in same_place {
        if let (Some(was), Some(is)) = (before.remove(&key), after.remove(&key)) {
            pairs.push((was, is));
        }
    }
    let moved: Vec<_> = before
        .keys()
        .filter_map(|&old_key| {
            let new_key = after.keys().find(|(_, name)| *name == old_key.1)?;
            Some((old_key, *new_key))
        })
        .collect();
    for (old_key, new_key) in moved {
        if let (Some(was), Some(is)) = (before.remove(&old_key), after.remove(&new_key)) {
            let fact = format!(
                "parameter `{}` moved from {} to {}",
                is.name, was.place, is.place
            );
            walk.note(Class::Breaking, &is.pointer, fact);
            pairs.push((was, is));
        }
    }
    for removed in before.values() {
        walk.note(
            Class::Breaking,
            &removed.pointer,
            format!("{} removed", removed.describe()),
        );
    }
    for added in after.values() {
        let fact = format!(
            "{} added, {}",
            added.describe(),
            required_word(added.required)
        );
        walk.note(Class::breaking_if(added.required), &added.pointer, fact);
    }
    for (was, is) in &pairs {
        if was.required != is.required {
            let fact = format!("{} made {}", is.describe(), required_word(is.required));
            walk.note(Class::breaking_if(is.required), &is.pointer, fact);
        }
        let at = format!("{}/schema", is.pointer);
        walk.schema_pair(was.schema.as_ref(), is.schema.as_ref(), &at, Role::Value);
    }
}

fn required_word(required: bool) -> &'static str {
    if required { "required" } else { "optional" }
}

/// An operation's request body, after following its `$ref`.
#[derive(Debug)]
struct RequestBody<'a> {
    /// Where the operation names it: `/paths/<path>/<method>/requestBody`.
    pointer: String,
    required: bool,
    schema: Option<Located<'a>>,
}

fn request_body<'a>(doc: Doc<'a>, operation: &Operation<'a>) -> Option<RequestBody<'a>> {
    let pointer = format!("{}/requestBody", operation.pointer);
    let resolved = doc.resolve(operation.value.get("requestBody")?, &pointer);
    Some(RequestBody {
        required: resolved.value.get("required").and_then(Value::as_bool) == Some(true),
        schema: media_schema(resolved.value, &resolved.location),
        pointer,
    })
}

/// A request body added, removed, made required or optional, and its schema.
fn compare_request_bodies<'a>(
    old_operation: &Operation<'a>,
    new_operation: &Operation<'a>,
    walk: &mut Walk<'a, '_>,
) {
    match (
        request_body(walk.old, old_operation),
        request_body(walk.new, new_operation),
    ) {
        (None, None) => {}
        (Some(was), None) => walk.note(Class::Breaking, &was.pointer, "request body removed"),
        (None, Some(is)) => {
            let fact = format!("request body added, {}", required_word(is.required));
            walk.note(Class::breaking_if(is.required), &is.pointer, fact);
        }
        (Some(was), Some(is)) => {
            if was.required != is.required {
                let fact = format!("request body made {}", required_word(is.required));
                walk.note(Class::breaking_if(is.required), &is.pointer, fact);
            }
            walk.schema_pair(
                was.schema.as_ref(),
                is.schema.as_ref(),
                &is.pointer,
                Role::Body,
            );
        }
    }
}

/// One response of an operation, after following its `$ref`.
#[derive(Debug)]
struct Response<'a> {
    /// Where the operation lists it: `/paths/<path>/<method>/responses/<status>`.
    pointer: String,
    schema: Option<Located<'a>>,
}

/// An operation's responses by status (`200`, `4XX`, `default`).
fn responses<'a>(doc: Doc<'a>, operation: &Operation<'a>) -> BTreeMap<&'a str, Response<'a>> {
    let list_pointer = format!("{}/responses", operation.pointer);
    operation
        .value
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(status, response)| {
            let pointer = child_pointer(&list_pointer, status);
            let resolved = doc.resolve(response, &pointer);
            let schema = media_schema(resolved.value, &resolved.location);
            (status.as_str(), Response { pointer, schema })
        })
        .collect()
}

/// Statuses added or removed, the success schema (the first 2xx on each side, as progenitor
/// decodes it, even when its status changed) and the schemas of the statuses kept.
fn compare_responses<'a>(
    old_operation: &Operation<'a>,
    new_operation: &Operation<'a>,
    walk: &mut Walk<'a, '_>,
) {
    let before = responses(walk.old, old_operation);
    let after = responses(walk.new, new_operation);
    for (status, response) in &before {
        if !after.contains_key(status) {
            walk.note(
                Class::Breaking,
                &response.pointer,
                format!("status {status} removed"),
            );
        }
    }
    for (status, response) in &after {
        if !before.contains_key(status) {
            walk.note(
                Class::Additive,
                &response.pointer,
                format!("status {status} added"),
            );
        }
    }
    fn success<'s>(responses: &BTreeMap<&'s str, Response<'_>>) -> Option<&'s str> {
        responses
            .keys()
            .copied()
            .find(|status| status.starts_with('2'))
    }
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let (Some(was), Some(is)) = (success(&before), success(&after)) {
        pairs.push((was, is));
    }
    for status in after.keys() {
        if before.contains_key(status)
            && !pairs.iter().any(|(was, is)| was == status || is == status)
        {
            pairs.push((status, status));
        }
    }
    for (was, is) in pairs {
        if let (Some(was), Some(is)) = (before.get(was), after.get(is)) {
            walk.schema_pair(
                was.schema.as_ref(),
                is.schema.as_ref(),
                &is.pointer,
                Role::Body,
            );
        }
    }
}

/// What a schema is to its parent, which decides whether its Rust type is an `Option`.
#[derive(Debug, Clone, Copy)]
enum Role<'n> {
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

/// A schema as the generator sees it: its location after references, and its `allOf` members
/// (each once), whose keywords and properties it has.
#[derive(Debug)]
struct View<'a> {
    /// Where the schema is; findings about its own keywords point here.
    location: String,
    /// The named schema it refers to (`/components/schemas/X`), if it is a `$ref`.
    reference: Option<String>,
    /// The schema, then its `allOf` members, depth first, each with its location.
    parts: Vec<(String, &'a Value)>,
}

impl<'a> View<'a> {
    fn of(doc: Doc<'a>, schema: &Located<'a>) -> Self {
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
    fn keyword(&self, keyword: &str) -> Option<(&str, &'a Value)> {
        self.parts
            .iter()
            .find_map(|(location, part)| Some((location.as_str(), part.get(keyword)?)))
    }

    fn value(&self, keyword: &str) -> Option<&'a Value> {
        self.keyword(keyword).map(|(_, value)| value)
    }

    /// Where `keyword` is, or would be on the schema itself.
    fn keyword_pointer(&self, keyword: &str) -> String {
        let location = self
            .keyword(keyword)
            .map_or(self.location.as_str(), |(at, _)| at);
        format!("{location}/{keyword}")
    }

    fn string(&self, keyword: &str) -> Option<&'a str> {
        self.value(keyword).and_then(Value::as_str)
    }

    /// The declared `type`, or `object` or `array` as its keywords imply.
    fn kind(&self) -> Option<&'a str> {
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

    fn nullable(&self) -> bool {
        self.value("nullable").and_then(Value::as_bool) == Some(true)
    }

    fn enumeration(&self) -> Option<&'a [Value]> {
        self.value("enum")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
    }

    /// Every part's properties (the first definition of a name wins), each where it is written.
    fn properties(&self) -> BTreeMap<&'a str, Located<'a>> {
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
    fn required(&self) -> BTreeSet<&'a str> {
        self.parts
            .iter()
            .filter_map(|(_, part)| part.get("required").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    }
}

/// Whether typify makes the value an `Option`: a nullable schema always, a property the
/// description does not require unless its absence has a value (an inline array or map, which is
/// empty, or a `default`).
fn is_option(view: &View<'_>, required: Option<bool>) -> bool {
    view.nullable() || (required == Some(false) && !absence_has_a_value(view))
}

fn absence_has_a_value(view: &View<'_>) -> bool {
    if view.value("default").is_some() {
        return true;
    }
    view.reference.is_none()
        && match view.kind() {
            Some("array") => true,
            Some("object") => view.properties().is_empty(),
            _ => false,
        }
}

/// What about a schema decides its Rust type beyond its `type` and `format`, as typify 0.8 picks
/// it.
#[derive(Debug, PartialEq, Eq)]
enum RustShape {
    /// `String`.
    String,
    /// A newtype around `String` that checks `pattern`, `minLength` and `maxLength`.
    CheckedString,
    /// The integer type the bounds and format choose.
    Integer(&'static str),
    /// `[T; N]`, when `minItems` equals `maxItems`.
    FixedArray(u64),
    /// Anything whose type its constraints do not change.
    Other,
}

/// String formats typify maps to their own types, whatever the constraints.
const NATIVE_STRING_FORMATS: [&str; 6] = ["uuid", "date", "date-time", "ip", "ipv4", "ipv6"];

fn rust_shape(view: &View<'_>) -> RustShape {
    let number = |keyword| view.value(keyword).and_then(Value::as_f64);
    match view.kind() {
        Some("string")
            if view.enumeration().is_none()
                && !view
                    .string("format")
                    .is_some_and(|format| NATIVE_STRING_FORMATS.contains(&format)) =>
        {
            let checked = ["pattern", "minLength", "maxLength"]
                .iter()
                .any(|keyword| view.value(keyword).is_some());
            if checked {
                RustShape::CheckedString
            } else {
                RustShape::String
            }
        }
        Some("integer") => RustShape::Integer(integer_type(
            view.string("format"),
            number("minimum"),
            number("maximum"),
        )),
        Some("array") => {
            let count = |keyword| view.value(keyword).and_then(Value::as_u64);
            match (count("minItems"), count("maxItems")) {
                (Some(min), Some(max)) if min == max && min > 0 => RustShape::FixedArray(min),
                _ => RustShape::Other,
            }
        }
        _ => RustShape::Other,
    }
}

/// typify 0.8's integer formats, most restrictive first: format, type, the non-zero type used
/// for `minimum: 1`, and the type's bounds.
const INTEGER_FORMATS: [(&str, &str, &str, f64, f64); 10] = [
    ("int8", "i8", "NonZeroU8", i8::MIN as f64, i8::MAX as f64),
    ("uint8", "u8", "NonZeroU8", u8::MIN as f64, u8::MAX as f64),
    (
        "int16",
        "i16",
        "NonZeroU16",
        i16::MIN as f64,
        i16::MAX as f64,
    ),
    (
        "uint16",
        "u16",
        "NonZeroU16",
        u16::MIN as f64,
        u16::MAX as f64,
    ),
    ("int", "i32", "NonZeroU32", i32::MIN as f64, i32::MAX as f64),
    (
        "int32",
        "i32",
        "NonZeroU32",
        i32::MIN as f64,
        i32::MAX as f64,
    ),
    (
        "uint",
        "u32",
        "NonZeroU32",
        u32::MIN as f64,
        u32::MAX as f64,
    ),
    (
        "uint32",
        "u32",
        "NonZeroU32",
        u32::MIN as f64,
        u32::MAX as f64,
    ),
    (
        "int64",
        "i64",
        "NonZeroU64",
        i64::MIN as f64,
        i64::MAX as f64,
    ),
    (
        "uint64",
        "u64",
        "NonZeroU64",
        u64::MIN as f64,
        u64::MAX as f64,
    ),
];

/// The Rust integer type typify 0.8 gives `format`, `minimum` and `maximum` (its
/// `convert_integer`, without `multipleOf` and defaults).
fn integer_type(format: Option<&str>, minimum: Option<f64>, maximum: Option<f64>) -> &'static str {
    let (mut min, mut max) = (minimum, maximum);
    let known = format.and_then(|format| INTEGER_FORMATS.iter().find(|entry| entry.0 == format));
    if let Some(&(_, ty, non_zero, lowest, highest)) = known {
        if min.is_none_or(|min| min >= lowest) && max.is_none_or(|max| max <= highest) {
            return if min == Some(1.0) { non_zero } else { ty };
        }
        min.get_or_insert(lowest);
        max.get_or_insert(highest);
    }
    let close = |a: f64, b: f64| (a - b).abs() <= f64::EPSILON;
    let by_bounds = INTEGER_FORMATS
        .iter()
        .rev()
        .find_map(|&(_, ty, non_zero, lowest, highest)| match (min, max) {
            (None, Some(max)) => close(highest, max).then_some(ty),
            (Some(1.0), _) => Some(non_zero),
            (Some(min), None) => close(lowest, min).then_some(ty),
            (Some(min), Some(max)) => (close(lowest, min) && close(highest, max)).then_some(ty),
            (None, None) => None,
        });
    by_bounds.unwrap_or("i64")
}

/// Which way a constraint keyword restricts.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// `minLength` and the like: a higher value is tighter.
    Lower,
    /// `maxLength` and the like: a lower value is tighter.
    Upper,
    /// `pattern`: any change may reject what passed, so it counts as tighter.
    Pattern,
}

/// The constraints compared, and how each restricts.
const CONSTRAINTS: [(&str, Bound); 9] = [
    ("pattern", Bound::Pattern),
    ("minLength", Bound::Lower),
    ("maxLength", Bound::Upper),
    ("minItems", Bound::Lower),
    ("maxItems", Bound::Upper),
    ("minProperties", Bound::Lower),
    ("maxProperties", Bound::Upper),
    ("minimum", Bound::Lower),
    ("maximum", Bound::Upper),
];

impl Bound {
    /// `Some(true)` when the change rejects more, `Some(false)` when it rejects less, `None`
    /// when there is no change.
    fn tightens(self, was: Option<&Value>, is: Option<&Value>) -> Option<bool> {
        match (was, is) {
            (was, is) if was == is => None,
            (None, Some(_)) => Some(true),
            (Some(_), None) => Some(false),
            (Some(was), Some(is)) => Some(match (self, was.as_f64(), is.as_f64()) {
                (Bound::Lower, Some(was), Some(is)) => is > was,
                (Bound::Upper, Some(was), Some(is)) => is < was,
                _ => true,
            }),
            (None, None) => None,
        }
    }
}

fn constraint_fact(keyword: &str, was: Option<&Value>, is: Option<&Value>) -> String {
    match (was, is) {
        (Some(was), Some(is)) => format!("`{keyword}` changed from {was} to {is}"),
        (None, Some(is)) => format!("`{keyword}: {is}` added"),
        (Some(was), None) => format!("`{keyword}: {was}` removed"),
        (None, None) => format!("`{keyword}` unchanged"),
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
struct Walk<'a, 'r> {
    old: Doc<'a>,
    new: Doc<'a>,
    direction: Direction,
    usage: Usage,
    report: &'r mut Report,
    /// The pairs of schema locations already compared: each once, which ends reference cycles.
    compared: BTreeSet<(String, String)>,
}

impl<'a, 'r> Walk<'a, 'r> {
    fn new(
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

    fn note(&mut self, class: Class, pointer: &str, fact: impl Into<String>) {
        self.report
            .add(class, pointer, fact.into(), Some(&self.usage));
    }

    /// Compares two optional schemas; gaining or losing one (a body, a parameter's schema)
    /// changes the Rust type.
    fn schema_pair(
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

#[cfg(test)]
mod tests {
    use super::*;
    use asapp_conversations_spec::{SPEC_FILE, Spec, workspace_root};

    /// The description each case edits: requests and answers sharing `Kind` and `Owner`, a
    /// `$ref` cycle through `Node`, errors through an `allOf` wrapper.
    const BASE: &str = r#"
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /items:
    get:
      operationId: listItems
      parameters:
        - $ref: '#/components/parameters/search'
        - name: limit
          in: query
          schema: {type: integer, format: int32, maximum: 100}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ItemList'}
        default:
          $ref: '#/components/responses/Problem'
    post:
      operationId: createItem
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/NewItem'}
      responses:
        '200':
          description: created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
        '409':
          description: exists
        default:
          $ref: '#/components/responses/Problem'
  /items/{itemId}:
    parameters:
      - name: itemId
        in: path
        required: true
        schema: {$ref: '#/components/schemas/ItemId'}
    get:
      operationId: getItem
      responses:
        '200':
          description: found
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
        '404':
          $ref: '#/components/responses/Problem'
components:
  parameters:
    search:
      name: search
      in: query
      required: false
      schema: {type: string, maxLength: 64}
  responses:
    Problem:
      description: failure
      content:
        application/json:
          schema:
            description: The problem.
            allOf:
              - $ref: '#/components/schemas/Problem'
  schemas:
    ItemId: {type: string, pattern: '^[a-z0-9]+$'}
    Kind:
      type: string
      enum: [book, game]
    Status:
      type: string
      enum: [active, retired]
    Owner:
      type: object
      required: [id]
      properties:
        id: {type: string}
        email: {type: string}
    NewItem:
      type: object
      required: [name, kind]
      properties:
        name: {type: string, minLength: 1, maxLength: 50}
        kind: {$ref: '#/components/schemas/Kind'}
        owner: {$ref: '#/components/schemas/Owner'}
        note: {type: string}
        tags:
          type: array
          maxItems: 10
          items: {type: string}
    Item:
      type: object
      required: [id, name, kind, created]
      properties:
        id: {type: string}
        name: {type: string}
        kind: {$ref: '#/components/schemas/Kind'}
        owner: {$ref: '#/components/schemas/Owner'}
        status: {$ref: '#/components/schemas/Status'}
        created: {type: string, format: date-time}
        remark: {type: string, nullable: true}
        labels:
          type: array
          items: {type: string}
        attributes:
          type: object
          additionalProperties: {type: string}
        outline: {$ref: '#/components/schemas/Node'}
    Node:
      type: object
      required: [label]
      properties:
        label: {type: string}
        children:
          type: array
          items: {$ref: '#/components/schemas/Node'}
    ItemList:
      type: object
      properties:
        items:
          type: array
          items: {$ref: '#/components/schemas/Item'}
    Problem:
      type: object
      required: [message]
      properties:
        message: {type: string}
        code: {type: string}
"#;

    /// Operations whose answers hold an `Item`.
    const ITEM_ANSWERS: &str = "answer: createItem, getItem, listItems";

    /// One kind of change: edits to [`BASE`] giving the base and the current description (each
    /// `(text, replacement)` must match exactly once), and the report expected.
    struct Case {
        name: &'static str,
        base: &'static [(&'static str, &'static str)],
        current: &'static [(&'static str, &'static str)],
        expected: &'static [&'static str],
    }

    const NONE: &[(&str, &str)] = &[];

    /// `BASE` with `edits`, checked the way `cargo xtask regen` checks a description.
    fn document(case: &str, edits: &[(&str, &str)]) -> Value {
        let mut text = BASE.to_owned();
        for (from, to) in edits {
            assert_eq!(
                text.matches(from).count(),
                1,
                "{case}: {from:?} must occur once"
            );
            text = text.replacen(from, to, 1);
        }
        let spec = Spec::from_yaml(&text, case).unwrap_or_else(|e| panic!("{case}: {e}"));
        spec.check().unwrap_or_else(|e| panic!("{case}: {e}"));
        spec.document().clone()
    }

    fn report(base: &Value, current: &Value) -> Vec<String> {
        diff(base, current).iter().map(Change::to_string).collect()
    }

    fn run(cases: &[Case]) {
        let mut failures = Vec::new();
        for case in cases {
            let base = document(case.name, case.base);
            let current = document(case.name, case.current);
            let expected: Vec<String> = case
                .expected
                .iter()
                .map(|line| line.replace("{ITEM_ANSWERS}", ITEM_ANSWERS))
                .collect();
            let actual = report(&base, &current);
            if actual != expected {
                failures.push(format!(
                    "{}:\n  expected {expected:#?}\n  actual {actual:#?}",
                    case.name
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn no_change_is_an_empty_report() {
        run(&[
            Case {
                name: "identical",
                base: NONE,
                current: NONE,
                expected: &[],
            },
            Case {
                name: "descriptions and examples only",
                base: NONE,
                current: &[
                    ("description: found", "description: found it"),
                    (
                        "label: {type: string}",
                        "label: {type: string, description: x, example: y}",
                    ),
                ],
                expected: &[],
            },
            Case {
                name: "an allOf wrapper replaced by its reference",
                base: NONE,
                current: &[(
                    "            description: The problem.\n            allOf:\n              - $ref: '#/components/schemas/Problem'\n",
                    "            $ref: '#/components/schemas/Problem'\n",
                )],
                expected: &[],
            },
        ]);
    }

    #[test]
    fn operations_added_removed_and_moved() {
        const DELETE: (&str, &str) = (
            "    get:\n      operationId: getItem\n",
            "    delete:\n      operationId: deleteItem\n      responses:\n        '204': {description: gone}\n    get:\n      operationId: getItem\n",
        );
        run(&[
            Case {
                name: "operation added",
                base: NONE,
                current: &[DELETE],
                expected: &[
                    "additive: #/paths/~1items~1{itemId}/delete: operation `deleteItem` (DELETE /items/{itemId}) added",
                ],
            },
            Case {
                name: "operation removed",
                base: &[DELETE],
                current: NONE,
                expected: &[
                    "breaking: #/paths/~1items~1{itemId}/delete: operation `deleteItem` (DELETE /items/{itemId}) removed",
                ],
            },
            Case {
                name: "operation moved to another path",
                base: NONE,
                current: &[("  /items/{itemId}:\n", "  /things/{itemId}:\n")],
                expected: &[
                    "breaking: #/paths/~1things~1{itemId}/get: operation `getItem` moved from GET /items/{itemId} to GET /things/{itemId}",
                ],
            },
        ]);
    }

    #[test]
    fn statuses_added_and_removed() {
        run(&[
            Case {
                name: "status added",
                base: NONE,
                current: &[(
                    "        '409':\n",
                    "        '422':\n          description: invalid\n        '409':\n",
                )],
                expected: &[
                    "additive: #/paths/~1items/post/responses/422: status 422 added (answer: createItem)",
                ],
            },
            Case {
                name: "status removed",
                base: NONE,
                current: &[("        '409':\n          description: exists\n", "")],
                expected: &[
                    "breaking: #/paths/~1items/post/responses/409: status 409 removed (answer: createItem)",
                ],
            },
            Case {
                name: "default removed",
                base: NONE,
                current: &[(
                    "              schema: {$ref: '#/components/schemas/ItemList'}\n        default:\n          $ref: '#/components/responses/Problem'\n",
                    "              schema: {$ref: '#/components/schemas/ItemList'}\n",
                )],
                expected: &[
                    "breaking: #/paths/~1items/get/responses/default: status default removed (answer: listItems)",
                ],
            },
            Case {
                name: "success status changed",
                base: NONE,
                current: &[(
                    "        '200':\n          description: found\n",
                    "        '203':\n          description: found\n",
                )],
                expected: &[
                    "breaking: #/paths/~1items~1{itemId}/get/responses/200: status 200 removed (answer: getItem)",
                    "additive: #/paths/~1items~1{itemId}/get/responses/203: status 203 added (answer: getItem)",
                ],
            },
            Case {
                name: "answer body removed",
                base: NONE,
                current: &[(
                    "          description: found\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Item'}\n",
                    "          description: found\n",
                )],
                expected: &[
                    "breaking: #/paths/~1items~1{itemId}/get/responses/200: schema removed (answer: getItem)",
                ],
            },
        ]);
    }

    #[test]
    fn parameters() {
        const PAGE_OPTIONAL: (&str, &str) = (
            "          schema: {type: integer, format: int32, maximum: 100}\n",
            "          schema: {type: integer, format: int32, maximum: 100}\n        - {name: page, in: query, schema: {type: integer}}\n",
        );
        run(&[
            Case {
                name: "optional parameter added",
                base: NONE,
                current: &[PAGE_OPTIONAL],
                expected: &[
                    "additive: #/paths/~1items/get/parameters/2: parameter `page` (query) added, optional (request: listItems)",
                ],
            },
            Case {
                name: "required parameter added",
                base: NONE,
                current: &[(
                    "          schema: {type: integer, format: int32, maximum: 100}\n",
                    "          schema: {type: integer, format: int32, maximum: 100}\n        - {name: page, in: query, required: true, schema: {type: integer}}\n",
                )],
                expected: &[
                    "breaking: #/paths/~1items/get/parameters/2: parameter `page` (query) added, required (request: listItems)",
                ],
            },
            Case {
                name: "parameter removed",
                base: &[PAGE_OPTIONAL],
                current: NONE,
                expected: &[
                    "breaking: #/paths/~1items/get/parameters/2: parameter `page` (query) removed (request: listItems)",
                ],
            },
            Case {
                name: "parameter made required",
                base: NONE,
                current: &[("      required: false\n", "      required: true\n")],
                expected: &[
                    "breaking: #/components/parameters/search: parameter `search` (query) made required (request: listItems)",
                ],
            },
            Case {
                name: "parameter made optional",
                base: &[("      required: false\n", "      required: true\n")],
                current: NONE,
                expected: &[
                    "additive: #/components/parameters/search: parameter `search` (query) made optional (request: listItems)",
                ],
            },
            Case {
                name: "parameter moved",
                base: NONE,
                current: &[(
                    "      in: query\n      required: false\n",
                    "      in: header\n      required: false\n",
                )],
                expected: &[
                    "breaking: #/components/parameters/search: parameter `search` moved from query to header (request: listItems)",
                ],
            },
            Case {
                name: "parameter type changed",
                base: NONE,
                current: &[(
                    "{type: integer, format: int32, maximum: 100}",
                    "{type: string}",
                )],
                expected: &[
                    "breaking: #/paths/~1items/get/parameters/1/schema/type: type changed from `integer` to `string` (request: listItems)",
                ],
            },
            Case {
                name: "parameter format changed",
                base: NONE,
                current: &[("format: int32, maximum: 100", "format: int64, maximum: 100")],
                expected: &[
                    "breaking: #/paths/~1items/get/parameters/1/schema/format: format changed from `int32` to `int64` (request: listItems)",
                ],
            },
            Case {
                name: "path parameter pattern changed",
                base: NONE,
                current: &[("pattern: '^[a-z0-9]+$'", "pattern: '^[a-z]+$'")],
                expected: &[
                    r#"breaking: #/components/schemas/ItemId/pattern: `pattern` changed from "^[a-z0-9]+$" to "^[a-z]+$" (request: getItem)"#,
                ],
            },
            Case {
                name: "parameter maximum raised",
                base: NONE,
                current: &[("maximum: 100}", "maximum: 500}")],
                expected: &[
                    "additive: #/paths/~1items/get/parameters/1/schema/maximum: `maximum` changed from 100 to 500 (request: listItems)",
                ],
            },
            Case {
                name: "parameter maxLength removed",
                base: NONE,
                current: &[("{type: string, maxLength: 64}", "{type: string}")],
                expected: &[
                    "additive: #/components/parameters/search/schema/maxLength: `maxLength: 64` removed (request: listItems)",
                ],
            },
        ]);
    }

    #[test]
    fn request_bodies() {
        const OPTIONAL_BODY: (&str, &str) = (
            "      requestBody:\n        required: true\n",
            "      requestBody:\n        required: false\n",
        );
        run(&[
            Case {
                name: "request body made optional",
                base: NONE,
                current: &[OPTIONAL_BODY],
                expected: &[
                    "additive: #/paths/~1items/post/requestBody: request body made optional (request: createItem)",
                ],
            },
            Case {
                name: "request body made required",
                base: &[OPTIONAL_BODY],
                current: NONE,
                expected: &[
                    "breaking: #/paths/~1items/post/requestBody: request body made required (request: createItem)",
                ],
            },
            Case {
                name: "request body removed",
                base: NONE,
                current: &[(
                    "      requestBody:\n        required: true\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/NewItem'}\n",
                    "",
                )],
                expected: &[
                    "breaking: #/paths/~1items/post/requestBody: request body removed (request: createItem)",
                ],
            },
            Case {
                name: "optional request body added",
                base: NONE,
                current: &[(
                    "      operationId: getItem\n",
                    "      operationId: getItem\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/NewItem'}\n",
                )],
                expected: &[
                    "additive: #/paths/~1items~1{itemId}/get/requestBody: request body added, optional (request: getItem)",
                ],
            },
        ]);
    }

    #[test]
    fn request_fields() {
        const COLOR: (&str, &str) = (
            "        note: {type: string}\n",
            "        note: {type: string}\n        color: {type: string}\n",
        );
        run(&[
            Case {
                name: "new optional request field",
                base: NONE,
                current: &[COLOR],
                expected: &[
                    "additive: #/components/schemas/NewItem/properties/color: property `color` added, optional (request: createItem)",
                ],
            },
            Case {
                name: "new required request field",
                base: NONE,
                current: &[
                    COLOR,
                    ("required: [name, kind]", "required: [name, kind, color]"),
                ],
                expected: &[
                    "breaking: #/components/schemas/NewItem/properties/color: property `color` added, required (request: createItem)",
                ],
            },
            Case {
                name: "request field removed",
                base: &[COLOR],
                current: NONE,
                expected: &[
                    "breaking: #/components/schemas/NewItem/properties/color: property `color` removed (request: createItem)",
                ],
            },
            Case {
                name: "request field made required",
                base: NONE,
                current: &[("required: [name, kind]", "required: [name, kind, note]")],
                expected: &[
                    "breaking: #/components/schemas/NewItem/properties/note: property `note` made required (request: createItem)",
                ],
            },
            Case {
                name: "request field made optional",
                base: NONE,
                current: &[("required: [name, kind]", "required: [name]")],
                expected: &[
                    "additive: #/components/schemas/NewItem/properties/kind: property `kind` made optional (request: createItem)",
                ],
            },
            Case {
                name: "request field type changed",
                base: NONE,
                current: &[(
                    "name: {type: string, minLength: 1, maxLength: 50}",
                    "name: {type: integer}",
                )],
                expected: &[
                    "breaking: #/components/schemas/NewItem/properties/name/type: type changed from `string` to `integer` (request: createItem)",
                ],
            },
            Case {
                name: "request constraints tightened",
                base: NONE,
                current: &[
                    ("minLength: 1, maxLength: 50", "minLength: 2, maxLength: 40"),
                    (
                        "          maxItems: 10\n",
                        "          minItems: 1\n          maxItems: 10\n",
                    ),
                ],
                expected: &[
                    "breaking: #/components/schemas/NewItem/properties/name/maxLength: `maxLength` changed from 50 to 40 (request: createItem)",
                    "breaking: #/components/schemas/NewItem/properties/name/minLength: `minLength` changed from 1 to 2 (request: createItem)",
                    "breaking: #/components/schemas/NewItem/properties/tags/minItems: `minItems: 1` added (request: createItem)",
                ],
            },
            Case {
                name: "request constraints loosened",
                base: NONE,
                current: &[
                    ("minLength: 1, maxLength: 50", "maxLength: 80"),
                    ("          maxItems: 10\n", ""),
                ],
                expected: &[
                    "additive: #/components/schemas/NewItem/properties/name/maxLength: `maxLength` changed from 50 to 80 (request: createItem)",
                    "additive: #/components/schemas/NewItem/properties/name/minLength: `minLength: 1` removed (request: createItem)",
                    "additive: #/components/schemas/NewItem/properties/tags/maxItems: `maxItems: 10` removed (request: createItem)",
                ],
            },
            Case {
                name: "request field made nullable",
                base: NONE,
                current: &[(
                    "note: {type: string}",
                    "note: {type: string, nullable: true}",
                )],
                expected: &[
                    "additive: #/components/schemas/NewItem/properties/note/nullable: made nullable (request: createItem)",
                ],
            },
            Case {
                name: "request field no longer nullable",
                base: &[(
                    "note: {type: string}",
                    "note: {type: string, nullable: true}",
                )],
                current: NONE,
                expected: &[
                    "breaking: #/components/schemas/NewItem/properties/note/nullable: no longer nullable (request: createItem)",
                ],
            },
            Case {
                name: "request items walked",
                base: NONE,
                current: &[(
                    "          maxItems: 10\n          items: {type: string}\n",
                    "          maxItems: 10\n          items: {type: string, format: uuid}\n",
                )],
                expected: &[
                    "breaking: #/components/schemas/NewItem/properties/tags/items/format: format `uuid` added (request: createItem)",
                ],
            },
        ]);
    }

    #[test]
    fn answer_fields() {
        run(&[
            Case {
                name: "new answer field, required",
                base: NONE,
                current: &[
                    (
                        "        id: {type: string}\n        name:",
                        "        id: {type: string}\n        size: {type: number}\n        name:",
                    ),
                    (
                        "required: [id, name, kind, created]",
                        "required: [id, name, kind, created, size]",
                    ),
                ],
                expected: &[
                    "additive: #/components/schemas/Item/properties/size: property `size` added, required ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer field removed",
                base: NONE,
                current: &[
                    ("        id: {type: string}\n        name:", "        name:"),
                    (
                        "required: [id, name, kind, created]",
                        "required: [name, kind, created]",
                    ),
                ],
                expected: &[
                    "breaking: #/components/schemas/Item/properties/id: property `id` removed ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer field made optional",
                base: NONE,
                current: &[(
                    "required: [id, name, kind, created]",
                    "required: [id, name, kind]",
                )],
                expected: &[
                    "breaking: #/components/schemas/Item/properties/created: property `created` made optional ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer field made required",
                base: NONE,
                current: &[(
                    "required: [id, name, kind, created]",
                    "required: [id, name, kind, created, status]",
                )],
                expected: &[
                    "breaking: #/components/schemas/Item/properties/status: property `status` made required ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer nullable field made required: an Option either way",
                base: NONE,
                current: &[(
                    "required: [id, name, kind, created]",
                    "required: [id, name, kind, created, remark]",
                )],
                expected: &[
                    "additive: #/components/schemas/Item/properties/remark: property `remark` made required ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer array made required: a Vec either way",
                base: NONE,
                current: &[(
                    "required: [id, name, kind, created]",
                    "required: [id, name, kind, created, labels]",
                )],
                expected: &[
                    "additive: #/components/schemas/Item/properties/labels: property `labels` made required ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer field type changed",
                base: NONE,
                current: &[(
                    "        id: {type: string}\n        name:",
                    "        id: {type: integer}\n        name:",
                )],
                expected: &[
                    "breaking: #/components/schemas/Item/properties/id/type: type changed from `string` to `integer` ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer field format changed",
                base: NONE,
                current: &[("format: date-time}", "format: date}")],
                expected: &[
                    "breaking: #/components/schemas/Item/properties/created/format: format changed from `date-time` to `date` ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer string gains a maxLength: String becomes a newtype",
                base: NONE,
                current: &[(
                    "        id: {type: string}\n        name:",
                    "        id: {type: string, maxLength: 40}\n        name:",
                )],
                expected: &[
                    r#"breaking: #/components/schemas/Item/properties/id/maxLength: `maxLength: 40` added ({ITEM_ANSWERS})"#,
                ],
            },
            Case {
                name: "answer newtype gains a maxLength: the same newtype",
                base: &[(
                    "        id: {type: string}\n        name:",
                    "        id: {type: string, minLength: 1}\n        name:",
                )],
                current: &[(
                    "        id: {type: string}\n        name:",
                    "        id: {type: string, minLength: 1, maxLength: 40}\n        name:",
                )],
                expected: &[
                    r#"additive: #/components/schemas/Item/properties/id/maxLength: `maxLength: 40` added ({ITEM_ANSWERS})"#,
                ],
            },
            Case {
                name: "answer date-time gains maxLength: still a DateTime",
                base: NONE,
                current: &[("format: date-time}", "format: date-time, maxLength: 40}")],
                expected: &[
                    "additive: #/components/schemas/Item/properties/created/maxLength: `maxLength: 40` added ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer integer gains minimum 0: still an i32",
                base: &[(
                    "        name: {type: string}\n",
                    "        name: {type: string}\n        count: {type: integer, format: int32}\n",
                )],
                current: &[(
                    "        name: {type: string}\n",
                    "        name: {type: string}\n        count: {type: integer, format: int32, minimum: 0}\n",
                )],
                expected: &[
                    "additive: #/components/schemas/Item/properties/count/minimum: `minimum: 0` added ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer integer gains minimum 1: becomes a NonZeroU32",
                base: &[(
                    "        name: {type: string}\n",
                    "        name: {type: string}\n        count: {type: integer, format: int32}\n",
                )],
                current: &[(
                    "        name: {type: string}\n",
                    "        name: {type: string}\n        count: {type: integer, format: int32, minimum: 1}\n",
                )],
                expected: &[
                    "breaking: #/components/schemas/Item/properties/count/minimum: `minimum: 1` added ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "optional answer field no longer nullable: an Option either way",
                base: NONE,
                current: &[(
                    "remark: {type: string, nullable: true}",
                    "remark: {type: string}",
                )],
                expected: &[
                    "additive: #/components/schemas/Item/properties/remark/nullable: no longer nullable ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "required answer field made nullable: T becomes Option<T>",
                base: NONE,
                current: &[(
                    "        name: {type: string}\n        kind:",
                    "        name: {type: string, nullable: true}\n        kind:",
                )],
                expected: &[
                    "breaking: #/components/schemas/Item/properties/name/nullable: made nullable ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer map values walked through additionalProperties",
                base: NONE,
                current: &[(
                    "additionalProperties: {type: string}",
                    "additionalProperties: {type: integer}",
                )],
                expected: &[
                    "breaking: #/components/schemas/Item/properties/attributes/additionalProperties/type: type changed from `string` to `integer` ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer items walked",
                base: NONE,
                current: &[(
                    "          type: array\n          items: {type: string}\n",
                    "          type: array\n          items: {type: string, format: uuid}\n",
                )],
                expected: &[
                    "breaking: #/components/schemas/Item/properties/labels/items/format: format `uuid` added ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer map gains its first property",
                base: &[
                    (
                        "        name: {type: string}\n",
                        "        name: {type: string}\n        extra: {$ref: '#/components/schemas/Extra'}\n",
                    ),
                    ("    Node:\n", "    Extra: {type: object}\n    Node:\n"),
                ],
                current: &[
                    (
                        "        name: {type: string}\n",
                        "        name: {type: string}\n        extra: {$ref: '#/components/schemas/Extra'}\n",
                    ),
                    (
                        "    Node:\n",
                        "    Extra: {type: object, properties: {a: {type: string}}}\n    Node:\n",
                    ),
                ],
                expected: &[
                    "breaking: #/components/schemas/Extra/properties: gains its first properties (`a`): the Rust type changes from a map to a struct ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "error envelope walked through allOf",
                base: NONE,
                current: &[(
                    "        message: {type: string}\n        code: {type: string}\n",
                    "        message: {type: string}\n",
                )],
                expected: &[
                    "breaking: #/components/schemas/Problem/properties/code: property `code` removed ({ITEM_ANSWERS})",
                ],
            },
        ]);
    }

    #[test]
    fn enums() {
        run(&[
            Case {
                name: "new answer enum value",
                base: NONE,
                current: &[(
                    "enum: [active, retired]",
                    "enum: [active, retired, archived]",
                )],
                expected: &[
                    "additive: #/components/schemas/Status/enum: value `archived` added ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "answer enum value removed",
                base: NONE,
                current: &[("enum: [active, retired]", "enum: [active]")],
                expected: &[
                    "breaking: #/components/schemas/Status/enum: value `retired` removed ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "shared enum value added: request and answer, once",
                base: NONE,
                current: &[("enum: [book, game]", "enum: [book, game, toy]")],
                expected: &[
                    "additive: #/components/schemas/Kind/enum: value `toy` added (request: createItem; {ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "shared enum value removed",
                base: NONE,
                current: &[("enum: [book, game]", "enum: [book]")],
                expected: &[
                    "breaking: #/components/schemas/Kind/enum: value `game` removed (request: createItem; {ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "a free string becomes an enum",
                base: &[
                    (
                        "        label: {type: string}\n",
                        "        label: {$ref: '#/components/schemas/Label'}\n",
                    ),
                    ("    Node:\n", "    Label: {type: string}\n    Node:\n"),
                ],
                current: &[
                    (
                        "        label: {type: string}\n",
                        "        label: {$ref: '#/components/schemas/Label'}\n",
                    ),
                    (
                        "    Node:\n",
                        "    Label: {type: string, enum: [a, b]}\n    Node:\n",
                    ),
                ],
                expected: &[
                    "breaking: #/components/schemas/Label/enum: now restricted to `a`, `b` ({ITEM_ANSWERS})",
                ],
            },
        ]);
    }

    #[test]
    fn shared_components_take_the_more_severe_class() {
        run(&[
            Case {
                name: "shared field made optional: additive to send, breaking to read",
                base: NONE,
                current: &[("      required: [id]\n", "      required: []\n")],
                expected: &[
                    "breaking: #/components/schemas/Owner/properties/id: property `id` made optional (request: createItem; {ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "shared field added, required: breaking to send, additive to read",
                base: NONE,
                current: &[
                    (
                        "        email: {type: string}\n",
                        "        email: {type: string}\n        team: {type: string}\n",
                    ),
                    ("      required: [id]\n", "      required: [id, team]\n"),
                ],
                expected: &[
                    "breaking: #/components/schemas/Owner/properties/team: property `team` added, required (request: createItem; {ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "shared field added, optional: additive both ways",
                base: NONE,
                current: &[(
                    "        email: {type: string}\n",
                    "        email: {type: string}\n        team: {type: string}\n",
                )],
                expected: &[
                    "additive: #/components/schemas/Owner/properties/team: property `team` added, optional (request: createItem; {ITEM_ANSWERS})",
                ],
            },
        ]);
    }

    #[test]
    fn references() {
        const DETAILS: (&str, &str) = (
            "    ItemList:\n",
            "    ItemDetails:\n      allOf:\n        - $ref: '#/components/schemas/Item'\n        - type: object\n          properties:\n            history: {type: array, items: {type: string}}\n    ItemList:\n",
        );
        run(&[
            Case {
                name: "a $ref cycle ends, and a change inside it is reported once",
                base: NONE,
                current: &[(
                    "        label: {type: string}\n",
                    "        label: {type: string}\n        weight: {type: number}\n",
                )],
                expected: &[
                    "additive: #/components/schemas/Node/properties/weight: property `weight` added, optional ({ITEM_ANSWERS})",
                ],
            },
            Case {
                name: "success schema changed to a related one: the field differences",
                base: &[DETAILS],
                current: &[
                    DETAILS,
                    (
                        "          description: found\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Item'}\n",
                        "          description: found\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/ItemDetails'}\n",
                    ),
                ],
                expected: &[
                    "additive: #/components/schemas/ItemDetails/allOf/1/properties/history: property `history` added, optional (answer: getItem)",
                    "breaking: #/paths/~1items~1{itemId}/get/responses/200/content/application~1json/schema: now `#/components/schemas/ItemDetails` instead of `#/components/schemas/Item`: the Rust type changes (answer: getItem)",
                ],
            },
            Case {
                name: "success schema replaced by an unrelated one",
                base: NONE,
                current: &[(
                    "          description: found\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Item'}\n",
                    "          description: found\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Problem'}\n",
                )],
                expected: &[
                    "breaking: #/paths/~1items~1{itemId}/get/responses/200/content/application~1json/schema: replaced by an unrelated schema, with no property in common (answer: getItem)",
                ],
            },
            Case {
                name: "component schema added",
                base: NONE,
                current: &[DETAILS],
                expected: &[
                    "additive: #/components/schemas/ItemDetails: schema `ItemDetails` added",
                ],
            },
            Case {
                name: "component schema removed",
                base: &[DETAILS],
                current: NONE,
                expected: &[
                    "breaking: #/components/schemas/ItemDetails: schema `ItemDetails` removed, and its generated type with it",
                ],
            },
        ]);
    }

    #[test]
    fn a_reference_cycle_of_allof_ends() {
        let cyclic = |extra: &str| {
            serde_json::json!({
                "openapi": "3.0.3",
                "paths": {"/a": {"get": {"operationId": "getA", "responses": {"200": {
                    "description": "ok",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}
                }}}}},
                "components": {"schemas": {
                    "A": {"allOf": [{"$ref": "#/components/schemas/B"}], "properties": {"a": {"$ref": "#/components/schemas/A"}}},
                    "B": {"allOf": [{"$ref": "#/components/schemas/A"}], "properties": {extra: {"type": "string"}}},
                    "Loop": {"$ref": "#/components/schemas/Loop"}
                }}
            })
        };
        assert_eq!(
            report(&cyclic("b"), &cyclic("c")),
            [
                "breaking: #/components/schemas/B/properties/b: property `b` removed (answer: getA)",
                "additive: #/components/schemas/B/properties/c: property `c` added, optional (answer: getA)",
            ]
        );
    }

    #[test]
    fn documents_that_are_not_descriptions_give_no_panic() {
        let odd = [
            serde_json::json!(null),
            serde_json::json!({"paths": []}),
            serde_json::json!({"paths": {"/a": {"get": {"parameters": [1, {"name": 2}], "responses": []}}}}),
            serde_json::json!({"paths": {"/a": {"$ref": "#/nowhere"}}, "components": {"schemas": 3}}),
        ];
        for base in &odd {
            for current in &odd {
                let _ = diff(base, current);
            }
        }
    }

    #[test]
    fn integer_types_follow_typify() {
        assert_eq!(integer_type(None, None, None), "i64");
        assert_eq!(integer_type(Some("int32"), None, Some(100.0)), "i32");
        assert_eq!(integer_type(Some("int32"), Some(1.0), None), "NonZeroU32");
        assert_eq!(integer_type(None, Some(0.0), None), "u64");
        assert_eq!(integer_type(None, Some(1.0), None), "NonZeroU64");
        assert_eq!(integer_type(None, Some(0.0), Some(255.0)), "u8");
        assert_eq!(integer_type(Some("uint8"), Some(-1.0), None), "i64");
    }

    fn workspace_description() -> String {
        std::fs::read_to_string(workspace_root().join(SPEC_FILE)).unwrap()
    }

    fn workspace_document(text: &str) -> Value {
        Spec::from_yaml(text, SPEC_FILE).unwrap().document().clone()
    }

    #[test]
    fn the_workspace_description_against_itself_is_empty() {
        let document = workspace_document(&workspace_description());
        assert_eq!(report(&document, &document), Vec::<String>::new());
    }

    #[test]
    fn a_new_participant_role_is_one_additive_line() {
        let text = workspace_description();
        let roles = "      enum:\n        - agent\n        - customer\n        - system\n";
        assert_eq!(text.matches(roles).count(), 1);
        let edited = text.replacen(roles, &format!("{roles}        - virtual_agent\n"), 1);
        assert_eq!(
            report(&workspace_document(&text), &workspace_document(&edited)),
            [
                "additive: #/components/schemas/ParticipantRole/enum: value `virtual_agent` added \
                 (request: createBatchMessages, createMessage; \
                 answer: getMessage, getMessages, getMessagesByExternalId)"
            ]
        );
    }
}
