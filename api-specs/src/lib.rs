//! Loads, checks and walks the Conversations API description, `api-specs/conversations.yaml`.
//!
//! `cargo xtask regen` checks the description with [`Spec::check`] before it generates the client,
//! and the conformance tests walk every example with [`Spec::examples`]. Both read the same file
//! through the same code, so what the generator accepts is what the tests hold it to.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The crate's README, whose examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadme;

mod examples;
mod json_schema;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use examples::{Example, ExampleKind};
pub use json_schema::SchemaValidator;

/// The description's path relative to the workspace root, as it appears in messages.
pub const SPEC_FILE: &str = "api-specs/conversations.yaml";

/// The workspace root: the folder holding `api-specs/`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Why a description could not be loaded or does not pass its checks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file that was read.
        path: String,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The file is not valid YAML.
    #[error("{path} is not valid YAML: {source}")]
    Yaml {
        /// The file that was read.
        path: String,
        /// What the YAML parser said, with line and column.
        source: serde_yaml_ng::Error,
    },
    /// The document is not an OpenAPI 3.0 description that `openapiv3` can read.
    #[error("{path} is not an OpenAPI 3.0 document: {message}")]
    OpenApi {
        /// The file that was read.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The description was read but breaks one or more rules; each line names a location.
    #[error("{path} has {} problem(s):\n{}", problems.len(), Problems(problems))]
    Invalid {
        /// The file that was read.
        path: String,
        /// One entry per problem, each naming its location in the file.
        problems: Vec<Problem>,
    },
}

/// One rule a description breaks, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the file, as a JSON pointer into the document (`/paths/~1a/get/...`).
    pub pointer: String,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at #{}: {}", self.pointer, self.message)
    }
}

struct Problems<'a>(&'a [Problem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

/// A loaded description: the raw document, for walking, and its `openapiv3` form, for generating.
#[derive(Debug, Clone)]
pub struct Spec {
    origin: String,
    document: Value,
    openapi: openapiv3::OpenAPI,
}

/// The HTTP methods an OpenAPI path item can hold, in the order the walk visits them.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The text of `api-specs/conversations.yaml`, built into the crate: for programs that serve or
/// check the API without the repository at hand, such as the sandbox.
pub const SPEC_TEXT: &str = include_str!("../conversations.yaml");

impl Spec {
    /// The description built into the crate ([`SPEC_TEXT`]).
    pub fn embedded() -> Result<Self, SpecError> {
        Self::from_yaml(SPEC_TEXT, SPEC_FILE)
    }

    /// Loads the workspace's description, `api-specs/conversations.yaml`.
    pub fn load() -> Result<Self, SpecError> {
        Self::from_file(&workspace_root().join(SPEC_FILE), SPEC_FILE)
    }

    /// Loads a description from `path`; `origin` names it in messages.
    pub fn from_file(path: &Path, origin: &str) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: origin.to_owned(),
            source,
        })?;
        Self::from_yaml(&text, origin)
    }

    /// Reads a description from YAML (or JSON) text; `origin` names it in messages.
    ///
    /// This checks only what reading needs: YAML syntax, an `openapi` version of 3.0.x, and the
    /// structure `openapiv3` expects. [`Spec::check`] applies the remaining rules.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, SpecError> {
        let document: Value = serde_yaml_ng::from_str(text).map_err(|source| SpecError::Yaml {
            path: origin.to_owned(),
            source,
        })?;
        let openapi_error = |message: String| SpecError::OpenApi {
            path: origin.to_owned(),
            message,
        };
        match document.get("openapi").and_then(Value::as_str) {
            Some(version) if is_openapi_30(version) => {}
            Some(version) => {
                return Err(openapi_error(format!(
                    "`openapi: {version}` is not supported: progenitor reads OpenAPI 3.0.x only"
                )));
            }
            None => {
                return Err(openapi_error(
                    "the top-level `openapi` version string is missing".to_owned(),
                ));
            }
        }
        let openapi =
            serde_json::from_value(document.clone()).map_err(|e| openapi_error(e.to_string()))?;
        Ok(Self {
            origin: origin.to_owned(),
            document,
            openapi,
        })
    }

    /// The name of the file this description came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The document as plain JSON, as written.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The document in `openapiv3`'s typed form.
    pub fn openapi(&self) -> &openapiv3::OpenAPI {
        &self.openapi
    }

    /// Applies every rule the generator and the tests rely on, and reports all problems at once:
    /// each operation has an `operationId`, unique across the document; every `$ref` resolves;
    /// every enum, every object with properties and every string `pattern` is a named component
    /// schema; every example is valid against the schema that applies to it.
    pub fn check(&self) -> Result<(), SpecError> {
        let mut problems = self.operation_id_problems();
        problems.extend(self.reference_problems());
        problems.extend(self.inline_type_problems());
        if problems.is_empty() {
            problems.extend(self.success_type_problems());
        }
        if problems.is_empty() {
            // Validating examples needs every reference to resolve.
            problems.extend(self.example_problems());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SpecError::Invalid {
                path: self.origin.clone(),
                problems,
            })
        }
    }

    /// Every operation as `(pointer, method, path, operation object)`, in document order.
    pub fn operations(&self) -> Vec<(String, &'static str, &str, &Value)> {
        let mut out = Vec::new();
        let Some(paths) = self.document.get("paths").and_then(Value::as_object) else {
            return out;
        };
        for (path, item) in paths {
            for method in METHODS {
                if let Some(operation) = item.get(method) {
                    let pointer = format!("/paths/{}/{method}", escape(path));
                    out.push((pointer, method, path.as_str(), operation));
                }
            }
        }
        out
    }

    fn operation_id_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut seen: BTreeMap<&str, String> = BTreeMap::new();
        for (pointer, method, path, operation) in self.operations() {
            match operation.get("operationId").and_then(Value::as_str) {
                None | Some("") => problems.push(Problem {
                    pointer,
                    message: format!(
                        "{} {path} has no operationId; progenitor names methods after it",
                        method.to_uppercase()
                    ),
                }),
                Some(id) => {
                    if let Some(first) = seen.get(id) {
                        problems.push(Problem {
                            pointer: format!("{pointer}/operationId"),
                            message: format!("operationId `{id}` is already used at #{first}"),
                        });
                    } else {
                        seen.insert(id, format!("{pointer}/operationId"));
                    }
                }
            }
        }
        problems
    }

    /// progenitor 0.15 decodes every success status into the first one's type, so success
    /// responses with different schemas would be silently misread.
    fn success_type_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (pointer, _, _, operation) in self.operations() {
            let mut first: Option<(&String, Option<&Value>)> = None;
            for (status, response) in operation
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(status, _)| status.starts_with('2'))
            {
                let schema = self
                    .resolve(response)
                    .get("content")
                    .and_then(|c| c.get("application/json"))
                    .and_then(|m| m.get("schema"));
                match first {
                    None => first = Some((status, schema)),
                    Some((first_status, first_schema)) if first_schema != schema => {
                        problems.push(Problem {
                            pointer: format!("{pointer}/responses/{status}"),
                            message: format!(
                                "success statuses {first_status} and {status} have different \
                                 schemas; the generated client would decode both as {first_status}'s"
                            ),
                        });
                    }
                    Some(_) => {}
                }
            }
        }
        problems
    }

    /// Follows `$ref`s to their target within the document (the value itself otherwise).
    pub fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| self.document.pointer(p))
        {
            Some(target) => self.resolve(target),
            None => value,
        }
    }

    fn reference_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        visit_objects(
            &self.document,
            &mut String::new(),
            &mut |pointer, object| {
                let Some(Value::String(target)) = object.get("$ref") else {
                    return;
                };
                let resolves = target
                    .strip_prefix('#')
                    .is_some_and(|p| self.document.pointer(p).is_some());
                if !resolves {
                    problems.push(Problem {
                        pointer: pointer.to_owned(),
                        message: format!("`$ref: {target}` does not resolve within the document"),
                    });
                }
            },
        );
        problems
    }

    /// The generator gives enums and structs their forward-compatible form by component name
    /// (an open enum; a `#[non_exhaustive]` struct), and patterned strings their checked newtype:
    /// one written inline would be named by typify and miss it.
    fn inline_type_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        visit_objects(
            &self.document,
            &mut String::new(),
            &mut |pointer, object| {
                // A component, or a member of a component's `allOf`, which typify merges into
                // the component's own type.
                let rest = pointer.strip_prefix("/components/schemas/");
                let merged =
                    rest.and_then(|rest| rest.split_once('/'))
                        .is_some_and(|(_, member)| {
                            member
                                .strip_prefix("allOf/")
                                .is_some_and(|index| index.bytes().all(|b| b.is_ascii_digit()))
                        });
                let component = rest.is_some_and(|rest| !rest.contains('/'));
                // A `properties` map holds schemas by name: a property called `enum` is not the
                // keyword.
                if component || pointer.ends_with("/properties") {
                    return;
                }
                // A pattern merged by `allOf` would still be typify's to check.
                let what = if object.get("pattern").is_some_and(Value::is_string) {
                    "a string pattern"
                } else if merged {
                    return;
                } else if object.get("enum").is_some_and(Value::is_array) {
                    "an enum"
                } else if object.get("properties").is_some_and(Value::is_object) {
                    "an object with properties"
                } else {
                    return;
                };
                problems.push(Problem {
                    pointer: pointer.to_owned(),
                    message: format!(
                        "{what} is written inline; move it under components/schemas and `$ref` it, \
                     so that the client gives it a forward-compatible type"
                    ),
                });
            },
        );
        problems
    }

    fn example_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut validators: BTreeMap<String, SchemaValidator> = BTreeMap::new();
        for example in self.examples() {
            let validator = match validators.get(&example.schema_pointer) {
                Some(v) => v,
                None => match SchemaValidator::new(self, &example.schema_pointer) {
                    Ok(v) => validators
                        .entry(example.schema_pointer.clone())
                        .or_insert(v),
                    Err(message) => {
                        problems.push(Problem {
                            pointer: example.schema_pointer.clone(),
                            message,
                        });
                        continue;
                    }
                },
            };
            for error in validator.errors(&example.value) {
                problems.push(Problem {
                    pointer: example.pointer.clone(),
                    message: format!("example does not match its schema: {error}"),
                });
            }
        }
        problems
    }
}

fn is_openapi_30(version: &str) -> bool {
    version
        .strip_prefix("3.0.")
        .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()))
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Whether `pointer` is an entry of an `examples` map (`…/examples/<name>`).
fn is_named_example(pointer: &str) -> bool {
    pointer
        .rsplit_once('/')
        .is_some_and(|(parent, _)| parent.ends_with("/examples"))
}

/// Calls `found` with every object of the document and its pointer, except inside example data.
fn visit_objects(
    value: &Value,
    pointer: &mut String,
    found: &mut impl FnMut(&str, &serde_json::Map<String, Value>),
) {
    match value {
        Value::Object(map) => {
            found(pointer, map);
            for (key, child) in map {
                // Examples are data: a `$ref` key inside one is not a reference. `example` is the
                // keyword except where it names a property; `value` holds a named example's data.
                let is_example_data = (key == "example" && !pointer.ends_with("/properties"))
                    || (key == "value" && is_named_example(pointer));
                if is_example_data {
                    continue;
                }
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape(key));
                visit_objects(child, pointer, found);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                visit_objects(child, pointer, found);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/A'}
              example: {name: x}
components:
  schemas:
    A:
      type: object
      required: [name]
      properties:
        name: {type: string}
        when: {type: string, format: date-time, nullable: true}
"#;

    fn problems(text: &str) -> Vec<Problem> {
        match Spec::from_yaml(text, "test.yaml").and_then(|s| s.check()) {
            Err(SpecError::Invalid { problems, .. }) => problems,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn the_workspace_description_passes_every_check() {
        let spec = Spec::load().unwrap();
        spec.check().unwrap();
    }

    #[test]
    fn a_minimal_description_passes() {
        Spec::from_yaml(MINIMAL, "test.yaml")
            .unwrap()
            .check()
            .unwrap();
    }

    #[test]
    fn openapi_31_is_refused_by_name() {
        let err = Spec::from_yaml(&MINIMAL.replace("3.0.3", "3.1.0"), "t.yaml").unwrap_err();
        assert!(
            err.to_string()
                .contains("`openapi: 3.1.0` is not supported"),
            "{err}"
        );
    }

    #[test]
    fn yaml_errors_name_the_line() {
        let err = Spec::from_yaml("openapi: 3.0.3\ninfo: [\n", "t.yaml").unwrap_err();
        assert!(matches!(err, SpecError::Yaml { .. }), "{err}");
        assert!(err.to_string().contains("line"), "{err}");
    }

    #[test]
    fn missing_and_duplicate_operation_ids_are_reported() {
        let text = MINIMAL.replace(
            "    get:\n",
            "    post:\n      operationId: getA\n      responses: {'204': {description: none}}\n    put:\n      responses: {'204': {description: none}}\n    get:\n",
        );
        let problems = problems(&text);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].message.contains("PUT /a has no operationId"));
        assert_eq!(problems[1].pointer, "/paths/~1a/post/operationId");
        assert!(problems[1].message.contains("already used"), "{problems:?}");
    }

    #[test]
    fn an_example_that_breaks_its_schema_names_its_location() {
        let problems = problems(&MINIMAL.replace("example: {name: x}", "example: {name: 1}"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].pointer,
            "/paths/~1a/get/responses/200/content/application~1json/example"
        );
        assert!(problems[0].message.contains("/name"), "{problems:?}");
    }

    #[test]
    fn nullable_and_formats_follow_openapi_30() {
        let ok = MINIMAL.replace("example: {name: x}", "example: {name: x, when: null}");
        Spec::from_yaml(&ok, "t.yaml").unwrap().check().unwrap();
        let bad = MINIMAL.replace("example: {name: x}", "example: {name: x, when: yesterday}");
        assert_eq!(problems(&bad).len(), 1);
    }

    #[test]
    fn example_data_is_not_taken_for_references() {
        let text = MINIMAL.replace(
            "example: {name: x}",
            "examples: {odd: {value: {name: x, $ref: not-a-reference}}}",
        );
        let text = text.replace(
            "name: {type: string}",
            "name: {type: string}\n        example: {$ref: '#/components/schemas/Missing'}",
        );
        let problems = problems(&text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].pointer,
            "/components/schemas/A/properties/example"
        );
    }

    #[test]
    fn success_statuses_with_different_schemas_are_reported() {
        let text = MINIMAL.replace(
            "              example: {name: x}\n",
            "              example: {name: x}\n        '201':\n          description: other\n          content: {application/json: {schema: {type: string}}}\n",
        );
        let problems = problems(&text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer, "/paths/~1a/get/responses/201");
    }

    #[test]
    fn inline_enums_and_objects_are_reported() {
        let text = MINIMAL.replace(
            "        name: {type: string}\n",
            "        name: {type: string}\n        kind: {type: string, enum: [a, b]}\n        \
             inner: {type: object, properties: {x: {type: string}}}\n        \
             properties: {type: object, additionalProperties: {type: string}}\n",
        );
        let problems = problems(&text);
        assert_eq!(problems.len(), 2, "{problems:?}");
        // In the document's key order.
        assert_eq!(
            problems[0].pointer,
            "/components/schemas/A/properties/inner"
        );
        assert!(
            problems[0]
                .message
                .starts_with("an object with properties is written inline")
        );
        assert_eq!(problems[1].pointer, "/components/schemas/A/properties/kind");
        assert!(problems[1].message.starts_with("an enum is written inline"));
    }

    #[test]
    fn an_inline_pattern_is_reported_even_merged_by_all_of() {
        let text = format!(
            "{MINIMAL}    B:\n      allOf:\n        - $ref: '#/components/schemas/A'\n        \
             - {{type: string, pattern: '^[a-z]+$'}}\n    C: {{type: string, pattern: '^[a-z]+$'}}\n"
        );
        let problems = problems(&text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer, "/components/schemas/B/allOf/1");
        assert!(
            problems[0]
                .message
                .starts_with("a string pattern is written inline")
        );
    }

    #[test]
    fn an_object_merged_into_a_component_by_all_of_is_not_inline() {
        let text = format!(
            "{MINIMAL}    B:\n      allOf:\n        - $ref: '#/components/schemas/A'\n        \
             - {{type: object, properties: {{y: {{type: string}}}}}}\n"
        );
        Spec::from_yaml(&text, "t.yaml").unwrap().check().unwrap();
    }

    #[test]
    fn dangling_references_are_reported() {
        let problems = problems(&MINIMAL.replace("schemas/A'}", "schemas/B'}"));
        assert!(
            problems[0].message.contains("does not resolve"),
            "{problems:?}"
        );
    }
}
