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
//!
//! One file per concern, the data flowing down the list:
//!
//! * `reach`: the operations (and component schemas) of the two descriptions, and what of each
//!   operation reaches a schema, as request or answer;
//! * `walk`: two schemas compared for one operation and direction, keyword by keyword;
//! * `shapes`: the Rust type typify gives a schema, which decides what an answer's change breaks;
//! * `constraints`: the constraint keywords and which way each restricts;
//! * `load`: one description read as JSON: `$ref`s followed, schemas located, `allOf` gathered;
//! * `report`: the changes kept once per location and fact, then written out.

mod constraints;
mod load;
mod reach;
mod report;
mod shapes;
#[cfg(test)]
mod tests;
mod walk;

use serde_json::Value;

use self::load::Doc;
use self::report::{Change, Report};

/// Every change from `base` to `current`, sorted by pointer, then text.
pub(crate) fn diff(base: &Value, current: &Value) -> Vec<Change> {
    let (old, new) = (Doc(base), Doc(current));
    let mut report = Report::default();
    reach::compare_component_schemas(old, new, &mut report);
    reach::compare_operations(old, new, &mut report);
    report.into_changes()
}
