//! Validates JSON values against the description's schemas with a JSON Schema validator.
//!
//! An OpenAPI 3.0 schema is an extended subset of JSON Schema draft 4 (Wright draft 00). The one
//! extension that changes which values are valid is `nullable`, which is rewritten here into
//! draft-4 terms; `example` and other annotations are dropped. `$ref`s into `#/components/...`
//! resolve because the converted components travel inside the validator's root document.

use serde_json::{Map, Value, json};

use crate::Spec;

/// A compiled validator for the schema written at one place in the description.
#[derive(Debug)]
pub struct SchemaValidator {
    validator: jsonschema::Validator,
}

impl SchemaValidator {
    /// Compiles the schema written at `schema_pointer` (a JSON pointer into the document).
    pub fn new(spec: &Spec, schema_pointer: &str) -> Result<Self, String> {
        let document = spec.document();
        let schema = document
            .pointer(schema_pointer)
            .ok_or_else(|| format!("no schema at #{schema_pointer}"))?;
        let components = document
            .get("components")
            .and_then(|c| c.get("schemas"))
            .map(to_draft4)
            .unwrap_or_else(|| json!({}));
        let root = json!({
            "allOf": [to_draft4(schema)],
            "components": { "schemas": components },
        });
        let validator = jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("schema at #{schema_pointer} does not compile: {e}"))?;
        Ok(Self { validator })
    }

    /// Whether `value` is valid: cheaper than [`SchemaValidator::errors`] when it is.
    pub fn is_valid(&self, value: &Value) -> bool {
        self.validator.is_valid(value)
    }

    /// Every way `value` breaks the schema, each naming the JSON path inside `value` and the rule
    /// broken, never the value itself: a value can be a customer's words (a message's text, or a
    /// whole array of messages for `maxItems`), and these messages reach error answers and logs.
    pub fn errors(&self, value: &Value) -> Vec<String> {
        self.validator
            .iter_errors(value)
            .map(|error| {
                let path = error.instance_path().to_string();
                let path = if path.is_empty() { "/" } else { &path };
                format!("{path}: {}", error.masked())
            })
            .collect()
    }
}

/// Keywords that only annotate an OpenAPI schema; dropping them keeps instance data (such as an
/// example's `id` property) out of the validator's view.
const ANNOTATIONS: [&str; 7] = [
    "example",
    "externalDocs",
    "xml",
    "discriminator",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// Rewrites an OpenAPI 3.0 schema (and everything below it) into JSON Schema draft 4.
pub(crate) fn to_draft4(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                if ANNOTATIONS.contains(&key.as_str()) || key == "nullable" || key.starts_with("x-")
                {
                    continue;
                }
                let value = match key.as_str() {
                    // Maps from names to schemas: convert each schema, keep the names.
                    "properties" | "schemas" | "definitions" => match value {
                        Value::Object(children) => Value::Object(
                            children
                                .iter()
                                .map(|(name, child)| (name.clone(), to_draft4(child)))
                                .collect(),
                        ),
                        other => other.clone(),
                    },
                    // Data, not schemas.
                    "enum" | "default" | "required" => value.clone(),
                    _ => to_draft4(value),
                };
                out.insert(key.clone(), value);
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                allow_null(out)
            } else {
                Value::Object(out)
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(to_draft4).collect()),
        other => other.clone(),
    }
}

/// `nullable: true` admits `null` beside whatever the schema admits.
fn allow_null(mut schema: Map<String, Value>) -> Value {
    match schema.get("type").cloned() {
        Some(Value::String(t)) if !schema.contains_key("$ref") => {
            schema.insert("type".to_owned(), json!([t, "null"]));
            if let Some(Value::Array(values)) = schema.get_mut("enum") {
                values.push(Value::Null);
            }
            Value::Object(schema)
        }
        _ => json!({ "anyOf": [{ "type": "null" }, Value::Object(schema)] }),
    }
}
