//! The constraint keywords compared (`pattern`, lengths, counts, bounds): which way each
//! restricts, whether a change tightens it, and how the change is written.

use serde_json::Value;

/// Which way a constraint keyword restricts.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bound {
    /// `minLength` and the like: a higher value is tighter.
    Lower,
    /// `maxLength` and the like: a lower value is tighter.
    Upper,
    /// `pattern`: any change may reject what passed, so it counts as tighter.
    Pattern,
}

/// The constraints compared, and how each restricts.
pub(super) const CONSTRAINTS: [(&str, Bound); 9] = [
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
    pub(super) fn tightens(self, was: Option<&Value>, is: Option<&Value>) -> Option<bool> {
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

/// The fact for a constraint `keyword` changed from `was` to `is`.
pub(super) fn constraint_fact(keyword: &str, was: Option<&Value>, is: Option<&Value>) -> String {
    match (was, is) {
        (Some(was), Some(is)) => format!("`{keyword}` changed from {was} to {is}"),
        (None, Some(is)) => format!("`{keyword}: {is}` added"),
        (Some(was), None) => format!("`{keyword}: {was}` removed"),
        (None, None) => format!("`{keyword}` unchanged"),
    }
}
