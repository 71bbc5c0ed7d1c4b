//! The documentation of the generated `Client`'s operations, rendered from the spec.
//!
//! progenitor documents each operation method with its summary, description, method, path and
//! arguments, then a stock example (```` ```ignore ````, with variables that do not exist and the
//! builder's `send()`). [`OperationDocs::of`] renders, from the spec alone, what replaces that
//! example: the error statuses the operation documents, and an example that compiles as a doc
//! test (`no_run`): the awaited builder with every path and query parameter and every required
//! body field set from the description's own examples, the answer's main field read, and the error
//! matched on a typed accessor of `ApiError` where the operation documents its status.
//! [`OperationDocs::apply`] edits the parsed file: those doc lines in place of the stock example,
//! and a pointer to `ClientConfig` first on `Client` and its constructors.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, bail};
use asapp_conversations_spec::{Spec, escape};
use serde_json::{Map, Value};
use syn::parse::Parser as _;

use super::{doc_attribute, snake_case, type_name};

/// The error statuses that `ApiError` has an accessor for, in the order an example prefers them
/// when the operation does not say otherwise. The accessors live in client/src/error.rs; a
/// renamed one breaks the intra-doc links and the doc tests, so `cargo test` notices.
const ACCESSORS: [(&str, &str, &str); 5] = [
    ("404", "is_not_found", "not found"),
    ("409", "is_already_persisted", "already stored"),
    ("429", "is_rate_limited", "rate limited"),
    ("401", "is_unauthorized", "unauthorized"),
    ("403", "is_forbidden", "forbidden"),
];

/// What `Client`'s page says first, right after its title.
const CLIENT_DOC: [&str; 10] = [
    "",
    "Build a client with [`ClientConfig`](crate::ClientConfig): `ClientConfig::from_env()?.build()?`",
    "takes the credentials and the environment from the `ASAPP_*` variables,",
    "`ClientConfig::new(api_id, api_secret)` from code, and `build()` checks every setting before",
    "any request.",
    "",
    "Every operation of the API is a method that returns a request builder: set its parameters and",
    "body, then `.await` it, which sends the request and fails with an [`ApiError`](crate::ApiError).",
    "Each method's documentation shows how, with the description's example values, and lists the",
    "error statuses the description documents for it.",
];

/// What progenitor's constructors say first: they need a `Runtime`, which only `ClientConfig`
/// makes.
const CONSTRUCTOR_DOC: [&str; 5] = [
    "Not the way to build a client: use [`ClientConfig`](crate::ClientConfig), whose `build()`",
    "sets up the credentials, retries and limiter that the [`Runtime`](crate::Runtime) argument",
    "carries (it has no public constructor). progenitor generates this constructor, which",
    "`ClientConfig::build` calls.",
    "",
];

/// The doc lines of every operation that replace progenitor's stock example, by method name.
#[derive(Debug)]
pub(super) struct OperationDocs {
    by_method: BTreeMap<String, Vec<String>>,
}

impl OperationDocs {
    /// Renders the documentation of every operation of the spec.
    pub(super) fn of(spec: &Spec) -> Result<Self> {
        let mut by_method = BTreeMap::new();
        for (pointer, method, path, operation) in spec.operations() {
            let id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .with_context(|| format!("#{pointer} has no operationId"))?;
            let name = snake_case(id);
            let mut lines = error_statuses(spec, &pointer, operation)?;
            lines.push(String::new());
            lines.extend(
                example(spec, &pointer, method, path, &name, operation)
                    .with_context(|| format!("cannot render the example of `{id}`"))?,
            );
            by_method.insert(name, lines);
        }
        Ok(Self { by_method })
    }

    /// The rendered lines of the operation whose method is `name`.
    #[cfg(test)]
    pub(super) fn lines(&self, name: &str) -> Option<&[String]> {
        self.by_method.get(name).map(Vec::as_slice)
    }

    /// Replaces progenitor's stock example of every operation with its rendered lines, and puts
    /// the pointer to `ClientConfig` first on `Client` and its constructors.
    pub(super) fn apply(&self, file: &mut syn::File) -> Result<()> {
        let mut documented = Vec::new();
        let mut client_documented = false;
        for item in &mut file.items {
            match item {
                syn::Item::Struct(item) if item.ident == "Client" => {
                    // After the title, before the API's description.
                    let title = item
                        .attrs
                        .iter()
                        .position(|attr| doc_line(attr).is_some())
                        .context("progenitor's `Client` has no doc comment")?;
                    item.attrs
                        .splice(title + 1..title + 1, doc_attributes(&CLIENT_DOC)?);
                    client_documented = true;
                }
                syn::Item::Impl(item) if item.trait_.is_none() && is_client(&item.self_ty) => {
                    for member in &mut item.items {
                        let syn::ImplItem::Fn(function) = member else {
                            continue;
                        };
                        let name = function.sig.ident.to_string();
                        if name == "new" || name == "new_with_client" {
                            function
                                .attrs
                                .splice(0..0, doc_attributes(&CONSTRUCTOR_DOC)?);
                        } else if let Some(lines) = self.by_method.get(&name) {
                            replace_stock_example(&mut function.attrs, lines)
                                .with_context(|| format!("in the doc of `Client::{name}`"))?;
                            documented.push(name);
                        }
                    }
                }
                _ => {}
            }
        }
        if !client_documented {
            bail!("progenitor emitted no `Client` struct to document");
        }
        if let Some(missing) = self
            .by_method
            .keys()
            .find(|name| !documented.contains(name))
        {
            bail!("progenitor emitted no `Client::{missing}` to document");
        }
        Ok(())
    }
}

fn is_client(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(path) if path.qself.is_none() && path.path.is_ident("Client"))
}

/// The text of a `#[doc = "…"]` attribute.
fn doc_line(attr: &syn::Attribute) -> Option<String> {
    let syn::Meta::NameValue(meta) = &attr.meta else {
        return None;
    };
    if !meta.path.is_ident("doc") {
        return None;
    }
    match &meta.value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => Some(text.value()),
        _ => None,
    }
}

/// One outer doc attribute per line.
fn doc_attributes<S: AsRef<str>>(lines: &[S]) -> Result<Vec<syn::Attribute>> {
    let mut tokens = proc_macro2::TokenStream::new();
    for line in lines {
        tokens.extend([
            proc_macro2::TokenTree::Punct(proc_macro2::Punct::new(
                '#',
                proc_macro2::Spacing::Alone,
            )),
            doc_attribute(line.as_ref(), proc_macro2::Span::call_site()),
        ]);
    }
    syn::Attribute::parse_outer
        .parse2(tokens)
        .context("a rendered doc line is not a doc attribute")
}

/// Replaces the attributes from progenitor's ```` ```ignore ```` line to the closing fence with
/// `lines`. The doc attributes hold one line each (`split_doc_lines` ran before parsing).
fn replace_stock_example(attrs: &mut Vec<syn::Attribute>, lines: &[String]) -> Result<()> {
    let lines_of: Vec<Option<String>> = attrs.iter().map(doc_line).collect();
    let start = lines_of
        .iter()
        .position(|line| line.as_deref().is_some_and(|l| l.starts_with("```ignore")))
        .context("progenitor's doc has no ```ignore example to replace")?;
    let end = lines_of[start + 1..]
        .iter()
        .position(|line| line.as_deref().map(str::trim) == Some("```"))
        .map(|offset| start + 1 + offset)
        .context("progenitor's ```ignore example is not closed")?;
    // One blank line between progenitor's text and ours.
    let lines = match (start.checked_sub(1).map(|i| &lines_of[i]), lines) {
        (Some(Some(before)), [first, rest @ ..])
            if before.trim().is_empty() && first.is_empty() =>
        {
            rest
        }
        _ => lines,
    };
    attrs.splice(start..=end, doc_attributes(lines)?);
    Ok(())
}

/// The error statuses the operation documents, as a list with the `ApiError` accessor of each
/// status that has one.
fn error_statuses(spec: &Spec, pointer: &str, operation: &Value) -> Result<Vec<String>> {
    let responses = operation
        .get("responses")
        .and_then(Value::as_object)
        .with_context(|| format!("#{pointer} has no responses"))?;
    let mut lines = vec![
        String::new(),
        "Documented error statuses, each an [`ApiError`](crate::ApiError) with the status and"
            .to_owned(),
        "ASAPP's error details:".to_owned(),
    ];
    let mut listed = false;
    for (status, response) in responses {
        let description = spec
            .resolve(response)
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim();
        let line = if status == "default" {
            format!("- any other 4xx or 5xx (`default`): {description}")
        } else if status.starts_with(['4', '5']) {
            // "404 - Not Found" is "Not Found" beside its status.
            let description = description
                .strip_prefix(status.as_str())
                .and_then(|rest| rest.strip_prefix(" - "))
                .unwrap_or(description);
            let mut line = format!("- `{status}`: {description}");
            if let Some((_, accessor, _)) = ACCESSORS.iter().find(|(s, _, _)| s == status) {
                line.push_str(&format!(
                    " ([`ApiError::{accessor}`](crate::ApiError::{accessor}))"
                ));
            }
            line
        } else {
            continue;
        };
        lines.push(line);
        listed = true;
    }
    if !listed {
        lines.truncate(1);
        lines.push("The description documents no error status.".to_owned());
    }
    Ok(lines)
}

/// What an example needs imported.
#[derive(Debug, Default)]
struct Uses {
    types: bool,
    dates: bool,
}

/// Whether an expression is an argument of a builder setter, which converts it with `TryInto`
/// (a `&str` for a `String`, a builder for its struct), or must be of the field's type itself
/// (an item of a `Vec`, the value inside `Some`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Setter,
    Exact,
}

/// The example of one operation as doc lines, fences included.
fn example(
    spec: &Spec,
    pointer: &str,
    method: &str,
    path: &str,
    name: &str,
    operation: &Value,
) -> Result<Vec<String>> {
    let mut uses = Uses::default();
    let mut chain = vec!["client".to_owned(), format!("    .{name}()")];
    for (parameter_pointer, parameter) in parameters(spec, pointer, path, operation)? {
        let parameter_name = parameter
            .get("name")
            .and_then(Value::as_str)
            .with_context(|| format!("#{parameter_pointer} has no name"))?;
        let value = parameter_example(spec, &parameter_pointer, parameter)?;
        let schema = parameter
            .get("schema")
            .with_context(|| format!("#{parameter_pointer} has no schema"))?;
        let argument = expression(
            spec,
            &mut uses,
            schema,
            value,
            &format!("{parameter_pointer}/example"),
            Position::Setter,
        )?;
        push_call(&mut chain, &rust_name(parameter_name)?, argument, 1);
    }
    if let Some(body) = operation.get("requestBody") {
        let body_pointer = format!("{pointer}/requestBody");
        let media = spec
            .resolve(body)
            .pointer("/content/application~1json")
            .with_context(|| format!("#{body_pointer} has no application/json content"))?;
        let schema = media
            .get("schema")
            .with_context(|| format!("#{body_pointer} has no schema"))?;
        let (value_pointer, value) = body_example(spec, &body_pointer, media, schema)?;
        let argument = expression(
            spec,
            &mut uses,
            schema,
            value,
            &value_pointer,
            Position::Setter,
        )?;
        push_call(&mut chain, "body", argument, 1);
    }
    chain.push("    .await".to_owned());

    let mut lines = vec!["```no_run".to_owned()];
    if uses.dates {
        lines.push("use asapp_conversations::chrono::{DateTime, Utc};".to_owned());
    }
    if uses.types {
        lines.push("use asapp_conversations::types;".to_owned());
    }
    lines.extend([
        "# async fn example() -> Result<(), Box<dyn std::error::Error>> {".to_owned(),
        "# let client = asapp_conversations::ClientConfig::from_env()?.build()?;".to_owned(),
    ]);
    let (first, rest) = chain.split_first().context("an empty chain")?;
    lines.push(format!("match {first}"));
    lines.extend(rest.iter().cloned());
    lines.push("{".to_owned());
    lines.extend(read_answer(spec, pointer, operation)?);
    if let Some((_, accessor, what)) = accessor(method, operation) {
        lines.push(format!(
            "    Err(error) if error.{accessor}() => println!(\"{what}: {{error}}\"),"
        ));
    }
    lines.extend([
        "    Err(error) => return Err(error.into()),".to_owned(),
        "}".to_owned(),
        "# Ok(())".to_owned(),
        "# }".to_owned(),
        "```".to_owned(),
    ]);
    Ok(lines)
}

/// The accessor an example matches its error on: a read's 404, a write's 409 (else its 404), and
/// otherwise the first documented status that has one.
fn accessor(method: &str, operation: &Value) -> Option<(&'static str, &'static str, &'static str)> {
    let documented = |status: &str| {
        operation
            .get("responses")
            .and_then(|responses| responses.get(status))
            .is_some()
    };
    let preferred: &[&str] = if method == "get" {
        &["404"]
    } else {
        &["409", "404"]
    };
    preferred
        .iter()
        .filter_map(|status| ACCESSORS.iter().find(|(s, _, _)| s == status))
        .chain(ACCESSORS.iter())
        .find(|(status, _, _)| documented(status))
        .copied()
}

/// The `Ok` arm: the answer's main field, the first required property (else the first), read;
/// an array's items each read the same way; a status alone when the answer has no field.
fn read_answer(spec: &Spec, pointer: &str, operation: &Value) -> Result<Vec<String>> {
    let success = operation
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .find(|(status, _)| status.starts_with('2'))
        .map(|(_, response)| spec.resolve(response))
        .with_context(|| format!("#{pointer} has no success response"))?;
    let status = vec!["    Ok(answer) => println!(\"{}\", answer.status()),".to_owned()];
    let Some(schema) = success.pointer("/content/application~1json/schema") else {
        return Ok(status);
    };
    let Some(field) = main_field(spec.resolve(schema)) else {
        return Ok(status);
    };
    let field_schema = spec.resolve(&spec.resolve(schema)["properties"][&field]);
    let field = rust_name(&field)?;
    if let Some(items) = field_schema.get("items")
        && let Some(item_field) = main_field(spec.resolve(items))
    {
        return Ok(vec![
            "    Ok(answer) => {".to_owned(),
            format!("        for item in &answer.{field} {{"),
            format!(
                "            println!(\"{{:?}}\", item.{});",
                rust_name(&item_field)?
            ),
            "        }".to_owned(),
            "    }".to_owned(),
        ]);
    }
    Ok(vec![format!(
        "    Ok(answer) => println!(\"{{:?}}\", answer.{field}),"
    )])
}

/// An object schema's main property: the first required one, else the first.
fn main_field(schema: &Value) -> Option<String> {
    let properties = schema.get("properties").and_then(Value::as_object)?;
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|name| properties.contains_key(*name))
        .or_else(|| properties.keys().next().map(String::as_str))
        .map(str::to_owned)
}

/// The operation's parameters with where each is written: every path parameter in the order of
/// the path template, then the query and header parameters in the order written (the path
/// item's, then the operation's, which override them).
fn parameters<'a>(
    spec: &'a Spec,
    pointer: &str,
    path: &str,
    operation: &'a Value,
) -> Result<Vec<(String, &'a Value)>> {
    let item_pointer = pointer
        .rsplit_once('/')
        .map(|(item, _)| item.to_owned())
        .context("an operation pointer without a method")?;
    let item = spec
        .document()
        .pointer(&item_pointer)
        .with_context(|| format!("#{item_pointer} does not exist"))?;
    let mut all: Vec<(String, &Value)> = Vec::new();
    for (owner_pointer, owner) in [(item_pointer.as_str(), item), (pointer, operation)] {
        for (index, parameter) in owner
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            // Where the parameter is written: the target of its `$ref`, if it is one.
            let written = match parameter.get("$ref").and_then(Value::as_str) {
                Some(target) => target.trim_start_matches('#').to_owned(),
                None => format!("{owner_pointer}/parameters/{index}"),
            };
            let parameter = spec.resolve(parameter);
            let key = |p: &Value| (p.get("name").cloned(), p.get("in").cloned());
            all.retain(|(_, earlier)| key(earlier) != key(parameter));
            all.push((written, parameter));
        }
    }
    let location = |p: &Value| p.get("in").and_then(Value::as_str).map(str::to_owned);
    let name = |p: &Value| p.get("name").and_then(Value::as_str).map(str::to_owned);
    let mut ordered = Vec::new();
    for segment in path.split('/') {
        if let Some(template) = segment
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
        {
            let found = all
                .iter()
                .find(|(_, p)| {
                    location(p).as_deref() == Some("path") && name(p).as_deref() == Some(template)
                })
                .with_context(|| format!("#{pointer}: no path parameter `{template}`"))?;
            ordered.push(found.clone());
        }
    }
    for (parameter_pointer, parameter) in &all {
        let required = parameter.get("required").and_then(Value::as_bool) == Some(true);
        match location(parameter).as_deref() {
            Some("query") => ordered.push((parameter_pointer.clone(), *parameter)),
            Some("header") if required => ordered.push((parameter_pointer.clone(), *parameter)),
            _ => {}
        }
    }
    Ok(ordered)
}

/// A parameter's example: its `example`, else the first of its `examples`, else its schema's.
fn parameter_example<'a>(spec: &'a Spec, pointer: &str, parameter: &'a Value) -> Result<&'a Value> {
    if let Some(value) = parameter.get("example") {
        return Ok(value);
    }
    if let Some(value) = parameter
        .get("examples")
        .and_then(Value::as_object)
        .and_then(|examples| examples.values().next())
        .and_then(|example| spec.resolve(example).get("value"))
    {
        return Ok(value);
    }
    if let Some(value) = parameter
        .get("schema")
        .and_then(|schema| spec.resolve(schema).get("example"))
    {
        return Ok(value);
    }
    bail!(
        "#{pointer}: parameter `{}` has no example for the operation's documentation; give it \
         an `example` (or its schema one)",
        parameter
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    )
}

/// A request body's example, with where it is written: the media type's `example`, else the
/// smallest of its `examples` (the first by name among equals), else its schema's.
fn body_example<'a>(
    spec: &'a Spec,
    pointer: &str,
    media: &'a Value,
    schema: &'a Value,
) -> Result<(String, &'a Value)> {
    let media_pointer = format!("{pointer}/content/application~1json");
    if let Some(value) = media.get("example") {
        return Ok((format!("{media_pointer}/example"), value));
    }
    let smallest = media
        .get("examples")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(name, example)| {
            let value = spec.resolve(example).get("value")?;
            Some((value.to_string().len(), name, value))
        })
        .min_by_key(|(size, _, _)| *size);
    if let Some((_, name, value)) = smallest {
        return Ok((
            format!("{media_pointer}/examples/{}/value", escape(name)),
            value,
        ));
    }
    if let Some(value) = spec.resolve(schema).get("example") {
        return Ok((format!("{media_pointer}/schema/example"), value));
    }
    bail!(
        "#{pointer}: the request body has no example for the operation's documentation; give \
         its media type an `example` or `examples` (or its schema an `example`)"
    )
}

/// The Rust expression of `value` for `schema`, as lines (the first unindented).
fn expression(
    spec: &Spec,
    uses: &mut Uses,
    schema: &Value,
    value: &Value,
    at: &str,
    position: Position,
) -> Result<Vec<String>> {
    let component = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .map(type_name);
    let resolved = spec.resolve(schema);
    let unsupported = |what: &str| {
        anyhow::anyhow!(
            "#{at}: cannot write {what} in the operation's documentation example (extend \
             xtask/src/regen/operation_docs.rs)"
        )
    };
    if let Some(values) = resolved.get("enum").and_then(Value::as_array) {
        let name = component.ok_or_else(|| unsupported("an enum that is not a component"))?;
        let text = value
            .as_str()
            .ok_or_else(|| unsupported("a non-string enum value"))?;
        if !values.contains(value) {
            bail!("#{at}: `{text}` is not one of the enum's values");
        }
        uses.types = true;
        return Ok(vec![format!("types::{name}::{}", type_name(text))]);
    }
    match resolved.get("type").and_then(Value::as_str) {
        Some("string") => {
            let text = value
                .as_str()
                .with_context(|| format!("#{at}: the example is not a string"))?;
            let literal = format!("{text:?}");
            match resolved.get("format").and_then(Value::as_str) {
                Some("date-time") => {
                    uses.dates = true;
                    return Ok(vec![format!("{literal}.parse::<DateTime<Utc>>()?")]);
                }
                Some(other) if other != "uuid" && other != "email" && other != "uri" => {
                    return Err(unsupported(&format!("a string of format `{other}`")));
                }
                _ => {}
            }
            let constrained = ["pattern", "minLength", "maxLength"]
                .iter()
                .any(|key| resolved.get(key).is_some());
            Ok(vec![match (position, component, constrained) {
                // A setter takes a `&str` for a `String` and for a checked string alike.
                (Position::Setter, _, _) => literal,
                (Position::Exact, None, false) => format!("{literal}.to_owned()"),
                (Position::Exact, Some(name), _) => {
                    uses.types = true;
                    format!("types::{name}::try_from({literal})?")
                }
                (Position::Exact, None, true) => {
                    return Err(unsupported("a constrained string outside a setter"));
                }
            }])
        }
        Some("boolean") => Ok(vec![
            value
                .as_bool()
                .with_context(|| format!("#{at}: the example is not a boolean"))?
                .to_string(),
        ]),
        Some("integer") if position == Position::Setter => Ok(vec![
            value
                .as_i64()
                .with_context(|| format!("#{at}: the example is not an integer"))?
                .to_string(),
        ]),
        Some("array") => {
            let items = resolved
                .get("items")
                .with_context(|| format!("#{at}: the array has no `items`"))?;
            let values = value
                .as_array()
                .with_context(|| format!("#{at}: the example is not an array"))?;
            let mut lines = vec!["vec![".to_owned()];
            for (index, item) in values.iter().enumerate() {
                let item = expression(
                    spec,
                    uses,
                    items,
                    item,
                    &format!("{at}/{index}"),
                    Position::Exact,
                )?;
                let count = item.len();
                for (line_index, line) in item.into_iter().enumerate() {
                    let comma = if line_index + 1 == count { "," } else { "" };
                    lines.push(format!("    {line}{comma}"));
                }
            }
            lines.push("]".to_owned());
            Ok(lines)
        }
        Some("object") if resolved.get("properties").is_some() => {
            let name = component.ok_or_else(|| unsupported("an object that is not a component"))?;
            uses.types = true;
            let builder = builder(spec, uses, &name, resolved, value, at)?;
            match position {
                Position::Setter => Ok(builder),
                Position::Exact => {
                    let mut lines = vec![format!("types::{name}::try_from(")];
                    let count = builder.len();
                    for (index, line) in builder.into_iter().enumerate() {
                        let comma = if index + 1 == count { "," } else { "" };
                        lines.push(format!("    {line}{comma}"));
                    }
                    lines.push(")?".to_owned());
                    Ok(lines)
                }
            }
        }
        Some(other) => Err(unsupported(&format!("a value of type `{other}` here"))),
        None => Err(unsupported("a schema without a `type`")),
    }
}

/// `types::X::builder()` with every required field set from the example, and as many of the
/// example's other fields, in name order, as `minProperties` asks for.
fn builder(
    spec: &Spec,
    uses: &mut Uses,
    name: &str,
    schema: &Value,
    value: &Value,
    at: &str,
) -> Result<Vec<String>> {
    let object = value
        .as_object()
        .with_context(|| format!("#{at}: the example is not an object"))?;
    let properties: &Map<String, Value> = schema
        .get("properties")
        .and_then(Value::as_object)
        .with_context(|| format!("#{at}: the schema has no properties"))?;
    let mut fields: Vec<(&str, bool)> = Vec::new();
    for required in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !object.contains_key(required) {
            bail!("#{at}: the example has no `{required}`, which the schema requires");
        }
        fields.push((required, true));
    }
    let wanted = schema
        .get("minProperties")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    for key in object.keys() {
        if fields.len() as u64 >= wanted {
            break;
        }
        if properties.contains_key(key) && !fields.iter().any(|(field, _)| field == key) {
            fields.push((key, false));
        }
    }
    if (fields.len() as u64) < wanted {
        bail!(
            "#{at}: the example has fewer than the `minProperties: {wanted}` the schema asks for"
        );
    }
    let mut lines = vec![format!("types::{name}::builder()")];
    for (field, required) in fields {
        let field_at = format!("{at}/{}", escape(field));
        let field_schema = &properties[field];
        let argument = if required {
            expression(
                spec,
                uses,
                field_schema,
                &object[field],
                &field_at,
                Position::Setter,
            )?
        } else {
            let mut inner = expression(
                spec,
                uses,
                field_schema,
                &object[field],
                &field_at,
                Position::Exact,
            )?;
            if let Some(first) = inner.first_mut() {
                first.insert_str(0, "Some(");
            }
            if let Some(last) = inner.last_mut() {
                last.push(')');
            }
            inner
        };
        push_call(&mut lines, &rust_name(field)?, argument, 1);
    }
    // A builder that sets one short field reads best on one line.
    if lines.len() == 2 && lines.iter().map(|l| l.trim().len()).sum::<usize>() <= 60 {
        let joined = format!("{}{}", lines[0], lines[1].trim());
        return Ok(vec![joined]);
    }
    Ok(lines)
}

/// Appends `.name(argument)` to a method chain, indented by `depth` levels: on one line when the
/// argument is one line, else with the argument on lines of its own, as rustfmt writes it.
fn push_call(chain: &mut Vec<String>, name: &str, argument: Vec<String>, depth: usize) {
    let indent = "    ".repeat(depth);
    if let [line] = argument.as_slice() {
        chain.push(format!("{indent}.{name}({line})"));
        return;
    }
    // A `vec![…]` opens on the call's line and closes on its last.
    if let [first, items @ .., last] = argument.as_slice()
        && first.ends_with('[')
        && last == "]"
    {
        chain.push(format!("{indent}.{name}({first}"));
        chain.extend(items.iter().map(|item| format!("{indent}{item}")));
        chain.push(format!("{indent}{last})"));
        return;
    }
    chain.push(format!("{indent}.{name}("));
    let count = argument.len();
    for (index, line) in argument.into_iter().enumerate() {
        let comma = if index + 1 == count { "," } else { "" };
        chain.push(format!("{indent}    {line}{comma}"));
    }
    chain.push(format!("{indent})"));
}

/// The Rust name progenitor and typify give a parameter or property: its snake_case, which must
/// be an identifier.
fn rust_name(name: &str) -> Result<String> {
    let rust = snake_case(name);
    if !name.chars().all(|c| c.is_ascii_alphanumeric())
        || syn::parse_str::<syn::Ident>(&rust).is_err()
    {
        bail!(
            "`{name}` has no plain Rust name (snake_case `{rust}`) for the operation's \
             documentation example (extend xtask/src/regen/operation_docs.rs)"
        );
    }
    Ok(rust)
}

#[cfg(test)]
mod tests {
    use super::*;
    use asapp_conversations_spec::workspace_root;

    fn docs() -> OperationDocs {
        OperationDocs::of(&Spec::load().unwrap()).unwrap()
    }

    #[test]
    fn a_read_awaits_its_builder_and_matches_not_found() {
        let docs = docs();
        let lines = docs.lines("get_conversation").unwrap().join("\n");
        let want = "\n\
Documented error statuses, each an [`ApiError`](crate::ApiError) with the status and
ASAPP's error details:
- `400`: Bad request
- `401`: Unauthorized ([`ApiError::is_unauthorized`](crate::ApiError::is_unauthorized))
- `403`: Forbidden ([`ApiError::is_forbidden`](crate::ApiError::is_forbidden))
- `404`: Not Found ([`ApiError::is_not_found`](crate::ApiError::is_not_found))
- `422`: Unprocessable Entity
- `429`: Too Many Requests ([`ApiError::is_rate_limited`](crate::ApiError::is_rate_limited))
- `503`: Service Unavailable
- any other 4xx or 5xx (`default`): 500 - Internal Server Error

```no_run
# async fn example() -> Result<(), Box<dyn std::error::Error>> {
# let client = asapp_conversations::ClientConfig::from_env()?.build()?;
match client
    .get_conversation()
    .conversation_id(\"01BX5ZZKBKACTAV9WEVGEMMVRZ\")
    .await
{
    Ok(answer) => println!(\"{:?}\", answer.external_id),
    Err(error) if error.is_not_found() => println!(\"not found: {error}\"),
    Err(error) => return Err(error.into()),
}
# Ok(())
# }
```";
        assert_eq!(lines, want);
    }

    #[test]
    fn a_body_is_built_from_the_smallest_example_with_builders() {
        let docs = docs();
        let lines = docs
            .lines("create_or_update_conversation")
            .unwrap()
            .join("\n");
        for want in [
            "use asapp_conversations::chrono::{DateTime, Utc};",
            "use asapp_conversations::types;",
            "    .body(\n        types::TimeBasedConversation::builder()\n",
            "            .external_id(\"conversation-2024-0001\")\n",
            "            .customer(types::Customer::builder().external_id(\"customer-0001\"))\n",
            "            .timestamp(\"2024-01-23T11:42:42Z\".parse::<DateTime<Utc>>()?),\n",
            "    Err(error) if error.is_already_persisted() =>",
        ] {
            assert!(lines.contains(want), "{want}\n---\n{lines}");
        }
        // `minProperties` asks for one of the credentials' optional fields, inside `Some`.
        let lines = docs.lines("post_authenticate").unwrap().join("\n");
        assert!(
            lines.contains(
                "                types::AuthPayload::builder()\n                    \
                 .token(Some(\"cGFzc3dvcmQ=\".to_owned())),\n"
            ),
            "{lines}"
        );
        // A batch's messages are values, converted from their builders.
        let lines = docs.lines("create_batch_messages").unwrap().join("\n");
        assert!(lines.contains("types::Message::try_from("), "{lines}");
    }

    #[test]
    fn every_operation_has_an_example_that_awaits_its_builder() {
        let spec = Spec::load().unwrap();
        let docs = OperationDocs::of(&spec).unwrap();
        for (pointer, _, _, operation) in spec.operations() {
            let name = snake_case(operation["operationId"].as_str().unwrap());
            let lines = docs
                .lines(&name)
                .unwrap_or_else(|| panic!("#{pointer}: no doc"));
            let text = lines.join("\n");
            assert!(text.contains("```no_run\n"), "#{pointer}\n{text}");
            assert!(
                text.contains(&format!("    .{name}()\n")),
                "#{pointer}\n{text}"
            );
            assert!(text.contains("\n    .await\n"), "#{pointer}\n{text}");
            assert!(!text.contains(".send()"), "#{pointer}\n{text}");
            assert!(
                text.contains("Documented error statuses"),
                "#{pointer}\n{text}"
            );
        }
    }

    #[test]
    fn the_client_file_has_no_stock_example_and_points_to_client_config_first() {
        let spec = Spec::load().unwrap();
        let files = super::super::render(&spec).unwrap();
        let client = &files
            .iter()
            .find(|file| file.path == super::super::CLIENT_FILE)
            .unwrap()
            .contents;
        assert!(!client.contains("```ignore"), "a stock example is left");
        assert_eq!(
            client.matches("///```no_run\n").count(),
            spec.operations().len()
        );
        let title = client.find("///Client for Conversations API\n").unwrap();
        assert!(
            client[title..].starts_with(
                "///Client for Conversations API\n///\n///Build a client with [`ClientConfig`]"
            ),
            "{}",
            &client[title..title + 200]
        );
        for constructor in ["pub fn new(", "pub fn new_with_client("] {
            let at = client.find(constructor).unwrap();
            // The doc lines right above the function, first to last.
            let doc: Vec<&str> = client[..at]
                .lines()
                .rev()
                .skip(1)
                .map(str::trim)
                .take_while(|line| line.starts_with("///"))
                .collect();
            assert_eq!(
                doc.last().copied(),
                Some(
                    "///Not the way to build a client: use [`ClientConfig`](crate::ClientConfig), \
                     whose `build()`"
                ),
                "{constructor}"
            );
        }
    }

    #[test]
    fn a_missing_example_is_an_error() {
        let text =
            std::fs::read_to_string(workspace_root().join(asapp_conversations_spec::SPEC_FILE))
                .unwrap()
                // The parameter's example and its schema's.
                .replace("      example: 01BX5ZZKBKACTAV9WEVGEMMVRZ\n", "");
        let spec = Spec::from_yaml(&text, "test.yaml").unwrap();
        let error = format!("{:#}", OperationDocs::of(&spec).unwrap_err());
        assert!(
            error.contains("parameter `conversationId` has no example"),
            "{error}"
        );
        assert!(
            error.contains("#/components/parameters/conversationId"),
            "{error}"
        );
    }
}
