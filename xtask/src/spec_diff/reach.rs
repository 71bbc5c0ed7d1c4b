//! What reaches a schema: each description's operations, matched by `operationId`, with their
//! parameters, request body and responses, handed to a [`Walk`] as request or answer; and the
//! component schemas added or removed.

use std::collections::{BTreeMap, BTreeSet};

use asapp_conversations_spec::METHODS;
use serde_json::Value;

use super::load::{Doc, Located, Resolved, child_pointer, media_schema};
use super::report::{Class, Direction, Report, required_word};
use super::walk::{Role, Walk};

/// A new or removed component schema adds or removes a generated type.
pub(super) fn compare_component_schemas(old: Doc<'_>, new: Doc<'_>, report: &mut Report) {
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
pub(super) fn compare_operations(old: Doc<'_>, new: Doc<'_>, report: &mut Report) {
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
