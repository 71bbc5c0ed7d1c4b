//! The Rust type typify gives a schema, as far as a change can alter it: whether the value is an
//! `Option`, and what the constraints make of a string, an integer or an array.

use serde_json::Value;

use super::load::View;

/// Whether typify makes the value an `Option`: a nullable schema always, a property the
/// description does not require unless its absence has a value (an inline array or map, which is
/// empty, or a `default`).
pub(super) fn is_option(view: &View<'_>, required: Option<bool>) -> bool {
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
pub(super) enum RustShape {
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

/// The shape typify gives `view`'s Rust type.
pub(super) fn rust_shape(view: &View<'_>) -> RustShape {
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

#[cfg(test)]
mod tests {
    use super::integer_type;

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
}
