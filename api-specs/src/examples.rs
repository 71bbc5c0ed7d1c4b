//! Finds every example in a description, with the schema that applies to it.
//!
//! The walk visits request bodies, responses, parameters, headers and schemas (and their
//! properties, items and compositions) wherever they are written, in `paths` or in `components`.
//! Objects that are only a `$ref` are skipped: their target is visited where it is written.

use serde_json::{Map, Value};

use crate::{METHODS, Spec, escape};

/// What kind of place an example was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExampleKind {
    /// A request body's media type.
    RequestBody,
    /// A response's media type; `status` is the key it is listed under (`200`, `default`), or the
    /// response's component name when it is written in `components.responses`.
    Response {
        /// Status code or component name.
        status: String,
    },
    /// A parameter or a header.
    Parameter {
        /// The parameter's `name`.
        name: String,
    },
    /// A schema's own `example`.
    Schema,
}

/// One example and the schema it must satisfy.
#[derive(Debug, Clone)]
pub struct Example {
    /// Where the example's value is written, as a JSON pointer into the document.
    pub pointer: String,
    /// The example's value, with a `$ref` to `components.examples` followed.
    pub value: Value,
    /// Where the applicable schema is written, as a JSON pointer into the document. The schema
    /// there may itself be a `$ref`.
    pub schema_pointer: String,
    /// What kind of place the example was found in.
    pub kind: ExampleKind,
}

impl Spec {
    /// Every example in the document, in document order.
    pub fn examples(&self) -> Vec<Example> {
        let mut walk = Walk {
            spec: self,
            found: Vec::new(),
        };
        let doc = self.document();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let item_pointer = format!("/paths/{}", escape(path));
                walk.parameters(&item_pointer, item);
                for method in METHODS {
                    let Some(operation) = item.get(method) else {
                        continue;
                    };
                    let op_pointer = format!("{item_pointer}/{method}");
                    walk.parameters(&op_pointer, operation);
                    if let Some(body) = operation.get("requestBody") {
                        walk.content(&format!("{op_pointer}/requestBody"), body, || {
                            ExampleKind::RequestBody
                        });
                    }
                    for (status, response) in entries(operation.get("responses")) {
                        walk.response(
                            &format!("{op_pointer}/responses/{}", escape(status)),
                            status,
                            response,
                        );
                    }
                }
            }
        }
        let components = doc.get("components");
        let component = |kind: &str| entries(components.and_then(|c| c.get(kind)));
        for (name, schema) in component("schemas") {
            walk.schema(&format!("/components/schemas/{}", escape(name)), schema);
        }
        for (name, parameter) in component("parameters") {
            walk.parameter(
                &format!("/components/parameters/{}", escape(name)),
                name,
                parameter,
            );
        }
        for (name, header) in component("headers") {
            walk.parameter(
                &format!("/components/headers/{}", escape(name)),
                name,
                header,
            );
        }
        for (name, body) in component("requestBodies") {
            walk.content(
                &format!("/components/requestBodies/{}", escape(name)),
                body,
                || ExampleKind::RequestBody,
            );
        }
        for (name, response) in component("responses") {
            walk.response(
                &format!("/components/responses/{}", escape(name)),
                name,
                response,
            );
        }
        walk.found
    }
}

fn entries(value: Option<&Value>) -> impl Iterator<Item = (&String, &Value)> {
    value
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(Map::iter)
}

fn is_reference(value: &Value) -> bool {
    value.get("$ref").is_some()
}

struct Walk<'a> {
    spec: &'a Spec,
    found: Vec<Example>,
}

impl Walk<'_> {
    fn parameters(&mut self, owner_pointer: &str, owner: &Value) {
        if let Some(parameters) = owner.get("parameters").and_then(Value::as_array) {
            for (i, parameter) in parameters.iter().enumerate() {
                let name = parameter.get("name").and_then(Value::as_str).unwrap_or("");
                self.parameter(&format!("{owner_pointer}/parameters/{i}"), name, parameter);
            }
        }
    }

    fn parameter(&mut self, pointer: &str, name: &str, parameter: &Value) {
        if is_reference(parameter) {
            return;
        }
        let kind = || ExampleKind::Parameter {
            name: name.to_owned(),
        };
        if let Some(schema) = parameter.get("schema") {
            let schema_pointer = format!("{pointer}/schema");
            self.schema(&schema_pointer, schema);
            self.examples_of(pointer, parameter, &schema_pointer, kind);
        }
        self.content(pointer, parameter, kind);
    }

    fn response(&mut self, pointer: &str, status: &str, response: &Value) {
        if is_reference(response) {
            return;
        }
        self.content(pointer, response, || ExampleKind::Response {
            status: status.to_owned(),
        });
        for (name, header) in entries(response.get("headers")) {
            self.parameter(&format!("{pointer}/headers/{}", escape(name)), name, header);
        }
    }

    /// The media types under `owner.content`.
    fn content(&mut self, owner_pointer: &str, owner: &Value, kind: impl Fn() -> ExampleKind) {
        if is_reference(owner) {
            return;
        }
        for (media_type, media) in entries(owner.get("content")) {
            let pointer = format!("{owner_pointer}/content/{}", escape(media_type));
            let Some(schema) = media.get("schema") else {
                continue;
            };
            let schema_pointer = format!("{pointer}/schema");
            self.schema(&schema_pointer, schema);
            self.examples_of(&pointer, media, &schema_pointer, &kind);
        }
    }

    /// `example` and `examples` of a media type, parameter or header.
    fn examples_of(
        &mut self,
        pointer: &str,
        owner: &Value,
        schema_pointer: &str,
        kind: impl Fn() -> ExampleKind,
    ) {
        if let Some(value) = owner.get("example") {
            self.push(
                format!("{pointer}/example"),
                value.clone(),
                schema_pointer,
                kind(),
            );
        }
        for (name, example) in entries(owner.get("examples")) {
            let example_pointer = format!("{pointer}/examples/{}", escape(name));
            let resolved = match example.get("$ref").and_then(Value::as_str) {
                Some(target) => target
                    .strip_prefix('#')
                    .and_then(|p| self.spec.document().pointer(p)),
                None => Some(example),
            };
            if let Some(value) = resolved.and_then(|e| e.get("value")) {
                self.push(
                    format!("{example_pointer}/value"),
                    value.clone(),
                    schema_pointer,
                    kind(),
                );
            }
        }
    }

    fn schema(&mut self, pointer: &str, schema: &Value) {
        if is_reference(schema) {
            return;
        }
        if let Some(value) = schema.get("example") {
            self.push(
                format!("{pointer}/example"),
                value.clone(),
                pointer,
                ExampleKind::Schema,
            );
        }
        for (name, property) in entries(schema.get("properties")) {
            self.schema(&format!("{pointer}/properties/{}", escape(name)), property);
        }
        for key in ["items", "not", "additionalProperties"] {
            if let Some(child) = schema.get(key).filter(|c| c.is_object()) {
                self.schema(&format!("{pointer}/{key}"), child);
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(members) = schema.get(key).and_then(Value::as_array) {
                for (i, member) in members.iter().enumerate() {
                    self.schema(&format!("{pointer}/{key}/{i}"), member);
                }
            }
        }
    }

    fn push(&mut self, pointer: String, value: Value, schema_pointer: &str, kind: ExampleKind) {
        self.found.push(Example {
            pointer,
            value,
            schema_pointer: schema_pointer.to_owned(),
            kind,
        });
    }
}
