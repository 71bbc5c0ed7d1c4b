//! Enums that keep working when ASAPP adds a value: every enum of the description becomes an
//! *open* enum, whose listed values are variants and whose other values decode to `Unknown`,
//! keeping the string ASAPP sent.
//!
//! `cargo xtask regen` writes one [`open_enum!`] invocation per enum of the description into
//! `enums.rs`, and tells progenitor to use these types in place of the closed enums it would
//! generate. The enums are `#[non_exhaustive]`, so a value the description adds later becomes a
//! new variant without breaking code that matches on the enum: such code already has a `_` arm,
//! which is where the new value went before.

use std::fmt;

/// A value of an enum that this version of the crate does not know: ASAPP sent it, but the
/// description the crate was generated from does not list it.
///
/// It cannot be made outside the crate, so an `Unknown` variant always holds a value that none of
/// the enum's variants stands for; [`UnknownValue::as_str`] gives it as ASAPP sent it.
/// Matching on a particular unknown string is fragile: once a later version of the crate lists
/// the value, it arrives as its own variant instead.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownValue(Box<str>);

impl UnknownValue {
    pub(crate) fn new(value: impl Into<Box<str>>) -> Self {
        Self(value.into())
    }

    /// The value as ASAPP sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The schema of an open enum: a string, usually one of `known`.
pub(crate) fn schema(description: &str, known: &[&str]) -> schemars::schema::Schema {
    use schemars::schema::{
        InstanceType, Metadata, Schema, SchemaObject, SingleOrVec, SubschemaValidation,
    };
    let string = || SchemaObject {
        instance_type: Some(SingleOrVec::Single(Box::new(InstanceType::String))),
        ..SchemaObject::default()
    };
    let listed = SchemaObject {
        enum_values: Some(known.iter().map(|value| (*value).into()).collect()),
        ..string()
    };
    Schema::Object(SchemaObject {
        metadata: Some(Box::new(Metadata {
            description: Some(description.to_owned()),
            ..Metadata::default()
        })),
        subschemas: Some(Box::new(SubschemaValidation {
            any_of: Some(vec![Schema::Object(listed), Schema::Object(string())]),
            ..SubschemaValidation::default()
        })),
        ..string()
    })
}

/// Declares an open enum: the listed values as variants, plus `Unknown` for any other string.
///
/// ```text
/// open_enum! {
///     /// What part a participant plays.
///     ParticipantRole: "What part a participant plays." {
///         /// `agent`
///         Agent = "agent",
///     }
/// }
/// ```
macro_rules! open_enum {
    ($(
        $(#[$meta:meta])*
        $name:ident: $description:literal {
            $( $(#[$variant_meta:meta])* $variant:ident = $value:literal, )*
        }
    )*) => {$(
        $(#[$meta])*
        ///
        /// A value the description does not list decodes to `Unknown`, which keeps it as sent and
        /// encodes it back unchanged: see [`UnknownValue`]($crate::UnknownValue).
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )*
            /// A value this version of the crate does not know, as ASAPP sent it.
            Unknown($crate::UnknownValue),
        }

        impl $name {
            /// The values the description lists, in its order.
            pub const KNOWN: &'static [&'static str] = &[$($value),*];

            /// The value as it goes over the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $value, )*
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether the value is one the description does not list.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<&str> for $name {
            /// The variant for `value`; `Unknown` for a value the description does not list.
            fn from(value: &str) -> Self {
                match value {
                    $( $value => Self::$variant, )*
                    other => Self::Unknown($crate::UnknownValue::new(other)),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            /// The variant for `value`; `Unknown` for a value the description does not list.
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    $( $value => Self::$variant, )*
                    _ => Self::Unknown($crate::UnknownValue::new(value)),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            /// Never fails: see [`From<&str>`](#impl-From%3C%26str%3E-for-Self).
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                struct Visitor;

                impl ::serde::de::Visitor<'_> for Visitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a string (", stringify!($name), ")"))
                    }

                    fn visit_str<E: ::serde::de::Error>(
                        self,
                        value: &str,
                    ) -> ::std::result::Result<$name, E> {
                        Ok($name::from(value))
                    }

                    fn visit_string<E: ::serde::de::Error>(
                        self,
                        value: ::std::string::String,
                    ) -> ::std::result::Result<$name, E> {
                        Ok($name::from(value))
                    }
                }

                deserializer.deserialize_str(Visitor)
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::string::String {
                stringify!($name).to_owned()
            }

            fn json_schema(
                _: &mut ::schemars::r#gen::SchemaGenerator,
            ) -> ::schemars::schema::Schema {
                $crate::open_enum::schema($description, Self::KNOWN)
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    use crate::types::ParticipantRole;

    #[test]
    fn known_values_are_variants_and_others_are_kept() {
        let roles: Vec<ParticipantRole> =
            serde_json::from_str(r#"["agent", "customer", "system", "virtual_agent"]"#).unwrap();
        assert_eq!(roles[0], ParticipantRole::Agent);
        assert_eq!(roles[2], ParticipantRole::System);
        assert!(roles[3].is_unknown());
        assert_eq!(roles[3].as_str(), "virtual_agent");
        assert_eq!(
            serde_json::to_string(&roles).unwrap(),
            r#"["agent","customer","system","virtual_agent"]"#
        );
        assert_eq!(ParticipantRole::from("agent"), ParticipantRole::Agent);
        assert_eq!(
            "virtual_agent".parse::<ParticipantRole>().unwrap(),
            roles[3]
        );
        assert_eq!(ParticipantRole::KNOWN, ["agent", "customer", "system"]);
    }

    #[test]
    fn a_value_that_is_not_a_string_is_refused() {
        let error = serde_json::from_str::<ParticipantRole>("7").unwrap_err();
        assert!(
            error.to_string().contains("a string (ParticipantRole)"),
            "{error}"
        );
    }

    #[test]
    fn the_schema_accepts_any_string_and_lists_the_known_ones() {
        let schema = serde_json::to_value(schemars::schema_for!(ParticipantRole)).unwrap();
        assert_eq!(
            schema["anyOf"][0]["enum"],
            serde_json::json!(["agent", "customer", "system"])
        );
        assert_eq!(schema["type"], "string");
    }
}
