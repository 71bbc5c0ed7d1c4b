//! The API as the description defines it, read once at start-up: each operation's method, path
//! template, documented statuses, error examples and request body schema, and the routing of a
//! request to an operation.

use std::collections::{BTreeMap, BTreeSet};

use asapp_conversations_spec::{SchemaValidator, Spec, SpecError};
use axum::http::Method;
use serde_json::Value;

/// The nine operations the sandbox implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    CreateOrUpdateConversation,
    GetConversations,
    GetConversation,
    PostAuthenticate,
    CreateMessage,
    CreateBatchMessages,
    GetMessages,
    GetMessage,
    GetMessagesByExternalId,
}

impl Kind {
    fn from_operation_id(id: &str) -> Option<Self> {
        Some(match id {
            "createOrUpdateConversation" => Self::CreateOrUpdateConversation,
            "getConversations" => Self::GetConversations,
            "getConversation" => Self::GetConversation,
            "postAuthenticate" => Self::PostAuthenticate,
            "createMessage" => Self::CreateMessage,
            "createBatchMessages" => Self::CreateBatchMessages,
            "getMessages" => Self::GetMessages,
            "getMessage" => Self::GetMessage,
            "getMessagesByExternalId" => Self::GetMessagesByExternalId,
            _ => return None,
        })
    }
}

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter(String),
}

/// One operation of the description.
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) kind: Kind,
    /// The spec's operationId.
    pub(crate) id: String,
    pub(crate) method: Method,
    template: Vec<Segment>,
    /// Every status the operation lists explicitly (not `default`).
    pub(crate) statuses: BTreeSet<u16>,
    /// The success status.
    pub(crate) success: u16,
    /// Each documented error status's example body.
    pub(crate) error_examples: BTreeMap<u16, Value>,
    /// The request body's schema, when the operation takes a body.
    pub(crate) body: Option<SchemaValidator>,
    /// Required query parameters.
    pub(crate) required_query: Vec<String>,
}

impl Operation {
    /// Whether the operation lists `status`.
    pub(crate) fn documents(&self, status: u16) -> bool {
        self.statuses.contains(&status)
    }
}

/// A problem with the description that stops the sandbox from serving it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The description does not load.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The description has something the sandbox does not implement.
    #[error("the description's {what} is not supported by the sandbox")]
    Unsupported {
        /// What.
        what: String,
    },
}

/// Where a request goes.
#[derive(Debug)]
pub(crate) enum Route<'a> {
    Found {
        operation: &'a Operation,
        /// Path parameters by name, percent-decoded.
        parameters: BTreeMap<String, String>,
    },
    /// The path exists with other methods (the value for `Allow`).
    MethodNotAllowed(String),
    NotFound,
}

/// Every operation of the description.
#[derive(Debug)]
pub(crate) struct Model {
    operations: Vec<Operation>,
}

impl Model {
    pub(crate) fn new(spec: &Spec) -> Result<Self, ModelError> {
        let unsupported = |what: String| ModelError::Unsupported { what };
        let mut operations = Vec::new();
        for (pointer, method, path, operation) in spec.operations() {
            let id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kind = Kind::from_operation_id(id)
                .ok_or_else(|| unsupported(format!("operation `{id}` at #{pointer}")))?;
            let method = Method::from_bytes(method.to_uppercase().as_bytes())
                .map_err(|_| unsupported(format!("method of #{pointer}")))?;
            let template = path
                .trim_start_matches('/')
                .split('/')
                .map(
                    |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => Segment::Parameter(name.to_owned()),
                        None => Segment::Literal(segment.to_owned()),
                    },
                )
                .collect();
            let mut statuses = BTreeSet::new();
            let mut success = None;
            let mut error_examples = BTreeMap::new();
            for (status, response) in operation
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let Ok(code) = status.parse::<u16>() else {
                    continue;
                };
                statuses.insert(code);
                if code < 300 {
                    success = Some(code);
                } else if let Some(example) = response_example(spec, response) {
                    error_examples.insert(code, example.clone());
                }
            }
            let success =
                success.ok_or_else(|| unsupported(format!("#{pointer} without a success")))?;
            let body = match operation.get("requestBody") {
                None => None,
                Some(_) => {
                    let schema = format!("{pointer}/requestBody/content/application~1json/schema");
                    Some(SchemaValidator::new(spec, &schema).map_err(unsupported)?)
                }
            };
            let required_query = spec
                .document()
                .pointer(&format!(
                    "/paths/{}/parameters",
                    asapp_conversations_spec::escape(path)
                ))
                .into_iter()
                .chain(operation.get("parameters"))
                .filter_map(Value::as_array)
                .flatten()
                .map(|p| spec.resolve(p))
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            operations.push(Operation {
                kind,
                id: id.to_owned(),
                method,
                template,
                statuses,
                success,
                error_examples,
                body,
                required_query,
            });
        }
        Ok(Self { operations })
    }

    /// The operation for `method` on `path`. Literal segments win over parameters, as OpenAPI
    /// says: `…/messages/batch` is the batch path, not a message id.
    pub(crate) fn route(&self, method: &Method, path: &str) -> Route<'_> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut best: Option<(usize, Vec<&Operation>)> = None;
        for operation in &self.operations {
            let Some(literals) = matches(&operation.template, &segments) else {
                continue;
            };
            match &mut best {
                Some((score, found)) if *score == literals => found.push(operation),
                Some((score, _)) if *score > literals => {}
                _ => best = Some((literals, vec![operation])),
            }
        }
        let Some((_, candidates)) = best else {
            return Route::NotFound;
        };
        // HEAD is GET without a body.
        let wanted = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        match candidates.iter().find(|o| o.method == *wanted) {
            Some(operation) => {
                let mut parameters = BTreeMap::new();
                for (segment, value) in operation.template.iter().zip(&segments) {
                    if let Segment::Parameter(name) = segment {
                        let decoded = percent_encoding::percent_decode_str(value)
                            .decode_utf8_lossy()
                            .into_owned();
                        parameters.insert(name.clone(), decoded);
                    }
                }
                Route::Found {
                    operation,
                    parameters,
                }
            }
            None => {
                let mut allowed: Vec<&str> = candidates.iter().map(|o| o.method.as_str()).collect();
                if allowed.contains(&"GET") {
                    allowed.push("HEAD");
                }
                allowed.sort_unstable();
                allowed.dedup();
                Route::MethodNotAllowed(allowed.join(", "))
            }
        }
    }
}

/// A response's JSON example: the media type's `example`, its first named `examples` entry, or
/// the schema's `example`.
fn response_example<'a>(spec: &'a Spec, response: &'a Value) -> Option<&'a Value> {
    let media = spec
        .resolve(response)
        .get("content")
        .and_then(|c| c.get("application/json"))?;
    media
        .get("example")
        .or_else(|| {
            media
                .get("examples")
                .and_then(Value::as_object)
                .and_then(|named| named.values().next())
                .map(|example| spec.resolve(example))
                .and_then(|example| example.get("value"))
        })
        .or_else(|| media.get("schema").and_then(|schema| schema.get("example")))
}

/// How many literal segments of `template` match `segments`, if all of it matches.
fn matches(template: &[Segment], segments: &[&str]) -> Option<usize> {
    if template.len() != segments.len() {
        return None;
    }
    let mut literals = 0;
    for (part, segment) in template.iter().zip(segments) {
        match part {
            Segment::Literal(literal) if literal == segment => literals += 1,
            Segment::Literal(_) => return None,
            Segment::Parameter(_) if segment.is_empty() => return None,
            Segment::Parameter(_) => {}
        }
    }
    Some(literals)
}
