//! Every example in the spec against the generated types.
//!
//! For each example, wherever it is written: it deserializes into the generated type for its
//! location and serializes back to the same JSON; it is valid against the spec's schema and
//! against the generated type's own (schemars) schema. Then the example is changed at every depth
//! (see [`Expect`]): removing any required property makes deserialization fail; replacing any
//! enum value with one the spec does not list decodes and serializes back unchanged (while the
//! spec's schema, which the sandbox checks requests against, still refuses it); adding a property
//! the spec does not describe to any object decodes, and the property is ignored; replacing any
//! string that has a `pattern` (an id) with values around it decodes exactly when the spec's
//! schema accepts the value.

use std::any::type_name;

use asapp_conversations_spec::{Example, SchemaValidator, Spec};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::spec_types;

/// Checks one example value against one generated type.
pub(crate) type Check = fn(&Value, &[Mutation]) -> Result<(), String>;

/// A change to an example, and what the generated type must do with it.
#[derive(Debug, Clone)]
pub(crate) struct Mutation {
    /// What was changed, naming the JSON path.
    description: String,
    /// The example with the change applied.
    value: Value,
    expect: Expect,
}

/// What a generated type does with a changed example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Deserialization fails: a required property is missing.
    Refused,
    /// It decodes and serializes back to the changed value: an enum value ASAPP may add later.
    KeptAsSent,
    /// It decodes to the example's value: a property ASAPP may add later is ignored.
    Ignored,
    /// It decodes and serializes back to the changed value, which the spec's schema accepts too.
    Accepted,
}

/// The check for type `T`: round trip, schemars schema, and every mutation as expected.
pub(crate) fn check<T>(example: &Value, mutations: &[Mutation]) -> Result<(), String>
where
    T: DeserializeOwned + Serialize + schemars::JsonSchema,
{
    let name = type_name::<T>();
    let typed: T = serde_json::from_value(example.clone())
        .map_err(|e| format!("does not deserialize into {name}: {e}"))?;
    let back =
        serde_json::to_value(&typed).map_err(|e| format!("{name} does not serialize: {e}"))?;
    if let Some(difference) = first_difference(example, &back, String::new()) {
        return Err(format!(
            "round trip through {name} changes it: {difference}"
        ));
    }

    let schema = serde_json::to_value(schemars::schema_for!(T)).map_err(|e| e.to_string())?;
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| format!("schemars schema of {name} does not compile: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(example)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "invalid against the schemars schema of {name}: {errors:?}"
        ));
    }

    for mutation in mutations {
        let decoded = serde_json::from_value::<T>(mutation.value.clone());
        let outcome = match (mutation.expect, decoded) {
            (Expect::Refused, Ok(_)) => Err("accepts it".to_owned()),
            (Expect::Refused, Err(_)) => Ok(()),
            (_, Err(error)) => Err(format!("refuses it: {error}")),
            (expect, Ok(typed)) => {
                let again = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
                let wanted = if matches!(expect, Expect::KeptAsSent | Expect::Accepted) {
                    &mutation.value
                } else {
                    example
                };
                match first_difference(wanted, &again, String::new()) {
                    None => Ok(()),
                    Some(difference) => Err(format!("changes it: {difference}")),
                }
            }
        };
        outcome.map_err(|why| {
            format!(
                "{name}, given the example with {}, {why}",
                mutation.description
            )
        })?;
    }
    Ok(())
}

/// The first place where two JSON values differ, as `JSON path: expected vs found`.
pub(crate) fn first_difference(expected: &Value, found: &Value, path: String) -> Option<String> {
    match (expected, found) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let child = format!("{path}/{key}");
                match b.get(key) {
                    Some(other) => {
                        if let Some(d) = first_difference(value, other, child) {
                            return Some(d);
                        }
                    }
                    // An optional nullable property holds no value either way: the generated
                    // type leaves it out rather than writing `null`. (A `null` where the schema
                    // does not allow one fails the validation against the spec's schema.)
                    None if value.is_null() => {}
                    None => return Some(format!("{child}: {value} was dropped")),
                }
            }
            b.keys()
                .find(|key| !a.contains_key(*key))
                .map(|key| format!("{path}/{key}: {} was added", b[key]))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, format!("{path}/{i}"))),
        _ if expected == found => None,
        _ => Some(format!(
            "{}: {expected} became {found}",
            if path.is_empty() { "/" } else { &path }
        )),
    }
}

/// The generated type's check for the schema written at `pointer`.
fn check_for(spec: &Spec, pointer: &str) -> Result<Check, String> {
    let schema = spec
        .document()
        .pointer(pointer)
        .ok_or_else(|| format!("no schema at #{pointer}"))?;
    if let Some(name) = pointer
        .strip_prefix("/components/schemas/")
        .filter(|n| !n.contains('/'))
    {
        return spec_types::component(name).ok_or_else(|| {
            format!("no generated type for component `{name}`: run `cargo xtask regen`")
        });
    }
    if let Some(target) = single_reference(schema) {
        return check_for(spec, target);
    }
    let kind = schema.get("type").and_then(Value::as_str);
    let format = schema.get("format").and_then(Value::as_str);
    let constrained = [
        "pattern",
        "minLength",
        "maxLength",
        "enum",
        "minItems",
        "maxItems",
    ]
    .iter()
    .any(|k| schema.get(*k).is_some());
    match (kind, format, constrained) {
        (Some("string"), Some("date-time"), false) => {
            Ok(check::<asapp_conversations::chrono::DateTime<asapp_conversations::chrono::Utc>>)
        }
        (Some("string"), None, false) => Ok(check::<String>),
        (Some("object"), None, false) if schema.get("properties").is_none() => {
            match schema.get("additionalProperties") {
                Some(v) if v.get("type").and_then(Value::as_str) == Some("string") => {
                    Ok(check::<std::collections::BTreeMap<String, String>>)
                }
                None | Some(Value::Bool(true)) => Ok(check::<Map<String, Value>>),
                Some(_) => Err(format!("no known generated type for the map at #{pointer}")),
            }
        }
        _ => Err(format!(
            "the example's schema at #{pointer} is inline and has no known generated type; \
             give it a name under components.schemas"
        )),
    }
}

/// The `$ref` target of a schema that is only a reference, directly or as the one member of an
/// `allOf` that adds nothing but annotations (as the error responses are written).
fn single_reference(schema: &Value) -> Option<&str> {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        return target.strip_prefix('#');
    }
    let members = schema.get("allOf")?.as_array()?;
    let annotations_only = schema
        .as_object()?
        .keys()
        .all(|k| ["allOf", "description", "title", "example"].contains(&k.as_str()));
    match members.as_slice() {
        [only] if annotations_only => only.get("$ref")?.as_str()?.strip_prefix('#'),
        _ => None,
    }
}

/// The changes to `example`, at every depth: each required property removed, each enum value
/// replaced by one outside the enum, a property the schema does not describe added to each
/// object, and each patterned string replaced by values around it, which the type must accept
/// exactly when `validator` (the spec's schema for `example`) does.
fn mutations(
    spec: &Spec,
    validator: &SchemaValidator,
    schema_pointer: &str,
    example: &Value,
) -> Vec<Mutation> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    let walk = Walk { spec, validator };
    walk.collect(schema_pointer, example, example, &mut path, &mut out);
    out
}

/// Values around a patterned string `value`: empty, each ASCII character alone and after it,
/// lower case, and characters beyond ASCII that a careless check might take for letters.
fn around(value: &str) -> Vec<String> {
    let mut out = vec![String::new(), value.to_lowercase()];
    for byte in 0..=0x7f_u8 {
        out.push(char::from(byte).to_string());
        out.push(format!("{value}{}", char::from(byte)));
    }
    for other in ["É", "\u{212a}", "\u{ff21}", "١"] {
        out.push(other.to_owned());
        out.push(format!("{value}{other}"));
    }
    out
}

/// The walk of an example, with what decides a patterned string's fate.
struct Walk<'a> {
    spec: &'a Spec,
    validator: &'a SchemaValidator,
}

impl Walk<'_> {
    fn collect(
        &self,
        schema_pointer: &str,
        root: &Value,
        value: &Value,
        path: &mut Vec<String>,
        out: &mut Vec<Mutation>,
    ) {
        let spec = self.spec;
        let Some(schema) = spec.document().pointer(schema_pointer) else {
            return;
        };
        if let Some(target) = single_reference(schema) {
            return self.collect(target, root, value, path, out);
        }
        let at = |path: &[String]| format!("/{}", path.join("/"));
        if let (Some(_), Some(text)) = (schema.get("pattern"), value.as_str()) {
            for probe in around(text) {
                let mut changed = root.clone();
                *pointer_mut(&mut changed, path) = Value::String(probe.clone());
                let expect = if self.validator.errors(&changed).is_empty() {
                    Expect::Accepted
                } else {
                    Expect::Refused
                };
                out.push(Mutation {
                    description: format!("the patterned string at {} as {probe:?}", at(path)),
                    value: changed,
                    expect,
                });
            }
        }
        if schema.get("enum").is_some() && value.is_string() {
            let mut changed = root.clone();
            *pointer_mut(&mut changed, path) = Value::String("not-a-documented-value".into());
            out.push(Mutation {
                description: format!("an unknown enum value at {}", at(path)),
                value: changed,
                expect: Expect::KeptAsSent,
            });
        }
        if let (Some(properties), Some(_)) = (
            schema.get("properties").and_then(Value::as_object),
            value.as_object(),
        ) {
            let mut changed = root.clone();
            if let Some(object) = pointer_mut(&mut changed, path).as_object_mut() {
                let name = "undescribedProperty";
                assert!(
                    !properties.contains_key(name),
                    "{schema_pointer} describes {name}"
                );
                object.insert(
                    name.to_owned(),
                    serde_json::json!({"nested": [1, "two", {"three": null}]}),
                );
            }
            out.push(Mutation {
                description: format!("an undescribed property in {}", at(path)),
                value: changed,
                expect: Expect::Ignored,
            });
        }
        if let (Some(required), Some(object)) = (
            schema.get("required").and_then(Value::as_array),
            value.as_object(),
        ) {
            for key in required
                .iter()
                .filter_map(Value::as_str)
                .filter(|k| object.contains_key(*k))
            {
                let mut changed = root.clone();
                if let Some(parent) = pointer_mut(&mut changed, path).as_object_mut() {
                    parent.remove(key);
                }
                out.push(Mutation {
                    description: format!("required property {}/{key} removed", at(path)),
                    value: changed,
                    expect: Expect::Refused,
                });
            }
        }
        if let (Some(properties), Some(object)) = (
            schema.get("properties").and_then(Value::as_object),
            value.as_object(),
        ) {
            for (key, child) in object {
                if properties.contains_key(key) {
                    path.push(key.clone());
                    let child_pointer = format!(
                        "{schema_pointer}/properties/{}",
                        asapp_conversations_spec::escape(key)
                    );
                    self.collect(&child_pointer, root, child, path, out);
                    path.pop();
                }
            }
        }
        if let (Some(_), Some(items)) = (schema.get("items"), value.as_array()) {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                self.collect(&format!("{schema_pointer}/items"), root, item, path, out);
                path.pop();
            }
        }
    }
}

fn pointer_mut<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |v, key| match v {
        Value::Object(map) => map.get_mut(key).expect("path taken from this value"),
        Value::Array(items) => &mut items[key.parse::<usize>().expect("array index")],
        _ => unreachable!("path taken from this value"),
    })
}

fn check_example(spec: &Spec, example: &Example) -> Result<(), String> {
    let validator = SchemaValidator::new(spec, &example.schema_pointer)?;
    let errors = validator.errors(&example.value);
    if !errors.is_empty() {
        return Err(format!("invalid against the spec's schema: {errors:?}"));
    }
    let mutations = mutations(spec, &validator, &example.schema_pointer, &example.value);
    // What the type keeps for forward compatibility, the spec still refuses: the sandbox, which
    // checks requests against it, answers 400 to an enum value the spec does not list.
    for mutation in mutations.iter().filter(|m| m.expect == Expect::KeptAsSent) {
        if validator.errors(&mutation.value).is_empty() {
            return Err(format!(
                "the spec's schema accepts the example with {}",
                mutation.description
            ));
        }
    }
    let check = check_for(spec, &example.schema_pointer)?;
    check(&example.value, &mutations)
}

#[test]
fn every_example_conforms_to_its_generated_type() {
    let spec = Spec::load().unwrap();
    let examples = spec.examples();
    let failures: Vec<String> = examples
        .iter()
        .filter_map(|example| {
            check_example(&spec, example)
                .err()
                .map(|e| format!("example at #{}: {e}", example.pointer))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} example(s) fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_walk_reaches_every_kind_of_example() {
    use asapp_conversations_spec::ExampleKind;
    let spec = Spec::load().unwrap();
    let examples = spec.examples();
    let count = |f: fn(&ExampleKind) -> bool| examples.iter().filter(|e| f(&e.kind)).count();
    // Request bodies, success and error responses, schemas and properties, parameters: the spec
    // has each, and a walk that misses a kind would silently test less.
    assert!(count(|k| matches!(k, ExampleKind::RequestBody)) >= 7);
    assert!(count(|k| matches!(k, ExampleKind::Response { status } if status == "200")) >= 8);
    assert!(
        count(|k| matches!(k, ExampleKind::Response { status } if status == "DefaultError")) == 1
    );
    assert!(count(|k| matches!(k, ExampleKind::Schema)) >= 10);
    assert!(count(|k| matches!(k, ExampleKind::Parameter { .. })) >= 3);
    let property_examples = examples
        .iter()
        .filter(|e| e.schema_pointer.contains("/properties/"))
        .count();
    assert!(property_examples >= 3, "{property_examples}");
}

#[test]
fn a_wrong_example_is_caught() {
    // The checks themselves must be able to fail: an example whose field has the wrong type,
    // one with an unknown field value for an enum, and a value the generated type cannot hold.
    let spec = Spec::load().unwrap();
    let message = Example {
        pointer: "/test".into(),
        value: serde_json::json!({"text": "hi", "sender": {"role": "bot", "externalId": "x"}, "timestamp": "2021-11-23T12:13:14Z"}),
        schema_pointer: "/components/schemas/Message".into(),
        kind: asapp_conversations_spec::ExampleKind::Schema,
    };
    let error = check_example(&spec, &message).unwrap_err();
    assert!(error.contains("/sender/role"), "{error}");

    let check = check_for(&spec, "/components/schemas/Message").unwrap();
    let lossy = serde_json::json!({"text": "hi", "sender": {"role": "agent", "externalId": "x"}, "timestamp": "2021-11-23T12:13:14.000Z"});
    let error = check(&lossy, &[]).unwrap_err();
    assert!(error.contains("/timestamp"), "{error}");

    let fine = serde_json::json!({"text": "hi", "sender": {"role": "agent", "externalId": "x"}, "timestamp": "2021-11-23T12:13:14Z"});
    let forgiving = Mutation {
        description: "nothing changed".into(),
        value: fine.clone(),
        expect: Expect::Refused,
    };
    let error = check(&fine, &[forgiving]).unwrap_err();
    assert!(
        error.contains("given the example with nothing changed, accepts it"),
        "{error}"
    );

    // A property the type drops is not "kept as sent", and a changed enum value is not
    // "ignored".
    let mut extra = fine.clone();
    extra["sender"]["undescribed"] = Value::Bool(true);
    let dropped = Mutation {
        description: "an extra property".into(),
        value: extra,
        expect: Expect::KeptAsSent,
    };
    let error = check(&fine, &[dropped]).unwrap_err();
    assert!(error.contains("changes it: /sender/undescribed"), "{error}");
    let mut role = fine.clone();
    role["sender"]["role"] = "virtual_agent".into();
    let kept = Mutation {
        description: "another role".into(),
        value: role,
        expect: Expect::Ignored,
    };
    let error = check(&fine, &[kept]).unwrap_err();
    assert!(error.contains("changes it: /sender/role"), "{error}");
}

#[test]
fn answers_are_changed_at_every_depth() {
    // Forward compatibility is tested where it matters: in answers, an unknown enum value and an
    // undescribed property nested inside lists and objects.
    let spec = Spec::load().unwrap();
    let mut kept = Vec::new();
    let mut ignored = Vec::new();
    for example in spec.examples() {
        if !matches!(&example.kind, asapp_conversations_spec::ExampleKind::Response { status } if status == "200")
        {
            continue;
        }
        let validator = SchemaValidator::new(&spec, &example.schema_pointer).unwrap();
        for mutation in mutations(&spec, &validator, &example.schema_pointer, &example.value) {
            match mutation.expect {
                Expect::KeptAsSent => kept.push(mutation.description),
                Expect::Ignored => ignored.push(mutation.description),
                Expect::Accepted | Expect::Refused => {}
            }
        }
    }
    assert!(
        kept.iter().any(|d| d.ends_with("at /items/0/sender/role")),
        "{kept:?}"
    );
    assert!(
        ignored.iter().any(|d| d.ends_with("in /items/0/sender")),
        "{ignored:?}"
    );
}

#[test]
fn patterned_strings_are_accepted_exactly_when_the_spec_accepts_them() {
    // Every example of a patterned string (the ids, as path parameters and as schemas) is changed
    // to the values around it; `every_example_conforms_to_its_generated_type` checks that the
    // type decides each as the spec's schema does. Here: that the walk produced both outcomes for
    // every patterned component, and the ones that matter.
    let spec = Spec::load().unwrap();
    let patterned: Vec<&String> = spec
        .document()
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .unwrap()
        .iter()
        .filter(|(_, schema)| schema.get("pattern").is_some())
        .map(|(name, _)| name)
        .collect();
    assert!(!patterned.is_empty());
    for name in patterned {
        let pointer = format!("/components/schemas/{name}");
        let example = spec
            .examples()
            .into_iter()
            .find(|e| e.schema_pointer == pointer)
            .unwrap_or_else(|| panic!("{pointer} has no example"));
        let validator = SchemaValidator::new(&spec, &pointer).unwrap();
        let probes = mutations(&spec, &validator, &pointer, &example.value);
        let text = example.value.as_str().unwrap();
        let outcome = |probe: &str| {
            probes
                .iter()
                .find(|m| m.value == probe)
                .map(|m| m.expect)
                .unwrap_or_else(|| panic!("{name}: no probe {probe:?}"))
        };
        assert_eq!(outcome(&format!("{text}7")), Expect::Accepted, "{name}");
        for refused in [
            String::new(),
            format!("{text}a"),
            format!("{text}\n"),
            format!("{text}."),
            "\u{ff21}".to_owned(),
            "\u{212a}".to_owned(),
        ] {
            assert_eq!(outcome(&refused), Expect::Refused, "{name}: {refused:?}");
        }
        let check = check_for(&spec, &pointer).unwrap();
        check(&example.value, &probes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
