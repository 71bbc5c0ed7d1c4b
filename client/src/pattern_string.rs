//! Strings the description constrains with a `pattern`, such as ASAPP's ids: a newtype over
//! `String` that holds only a matching value.
//!
//! Every pattern of the description is one character class repeated (`^[A-Z0-9]+$`), which
//! `cargo xtask regen` checks. It writes one [`pattern_string!`] invocation per such schema into
//! `strings.rs`, with the class as a byte pattern, and tells progenitor to use these types in
//! place of the ones it would generate: those compile the pattern with a regular expression
//! engine on first use and run it on every id sent or received, which a loop over the bytes does
//! in a tenth of the time, with no engine among the client's dependencies. The types have the
//! same traits and errors as progenitor's.

/// Declares a pattern-constrained string: `Name = "pattern" as one_or_more(class)` (or
/// `any_number_of`), where `class` is a pattern over the bytes of the value, all ASCII.
///
/// ```text
/// pattern_string! {
///     /// ASAPP's identifier for a conversation.
///     ConversationId = "^[A-Z0-9]+$" as one_or_more(b'A'..=b'Z' | b'0'..=b'9');
/// }
/// ```
macro_rules! pattern_string {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident = $pattern:literal as $repeat:ident($class:pat);
    )*) => {$(
        $(#[doc = $doc])*
        #[derive(
            ::serde::Serialize, Clone, Debug, Eq, Hash, Ord, PartialEq, PartialOrd,
            ::schemars::JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Whether `value` matches the pattern: no byte outside the class, and as many as
            /// the repetition asks for.
            fn matches(value: &str) -> bool {
                pattern_string!(@enough $repeat, value)
                    && value.bytes().all(|byte| matches!(byte, $class))
            }
        }

        impl ::std::ops::Deref for $name {
            type Target = String;
            fn deref(&self) -> &String {
                &self.0
            }
        }

        impl ::std::convert::From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = crate::types::error::ConversionError;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                if !Self::matches(value) {
                    return Err(concat!("doesn't match pattern \"", $pattern, "\"").into());
                }
                Ok(Self(value.to_owned()))
            }
        }

        impl ::std::convert::TryFrom<&str> for $name {
            type Error = crate::types::error::ConversionError;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                value.parse()
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = crate::types::error::ConversionError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                if !Self::matches(&value) {
                    return Err(concat!("doesn't match pattern \"", $pattern, "\"").into());
                }
                Ok(Self(value))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
            where
                D: ::serde::Deserializer<'de>,
            {
                String::deserialize(deserializer)?
                    .try_into()
                    .map_err(|e: crate::types::error::ConversionError| {
                        <D::Error as ::serde::de::Error>::custom(e.to_string())
                    })
            }
        }
    )*};
    (@enough one_or_more, $value:ident) => {
        !$value.is_empty()
    };
    (@enough any_number_of, $value:ident) => {
        true
    };
}
