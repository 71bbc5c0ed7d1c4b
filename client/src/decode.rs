//! [`DecodeError`]: where and why a JSON body did not decode, told without any of its content.
//!
//! Bodies carry customer messages, which are personal data. serde's messages quote the value
//! they refuse (``invalid type: string "…", expected …``), so an answer that breaks the
//! description would put a customer's words into an error message, a log line or a trace. A
//! `DecodeError` keeps the JSON path, the line and column, and the reason with every quoted value
//! left out.

use std::fmt;

use serde::de::DeserializeOwned;

/// Where and why a JSON body did not decode into its type, without any of the body's content.
///
/// ```
/// use asapp_conversations::{DecodeError, types};
///
/// let body = br#"{"items": [{"text": "my card is 4111-1111", "sender": "customer"}]}"#;
/// let error = DecodeError::decode::<types::GetMessagesResponse>(body).unwrap_err();
/// assert_eq!(error.path(), "items[0].sender");
/// assert_eq!(
///     error.to_string(),
///     "at items[0].sender (line 1, column 64): invalid type: string, expected struct MessageSender"
/// );
/// assert!(!format!("{error:?}").contains("4111"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    path: String,
    line: usize,
    column: usize,
    reason: String,
}

impl DecodeError {
    /// Decodes `json` as a `T`; on failure, says where and why, without the content.
    pub fn decode<T: DeserializeOwned>(json: &[u8]) -> Result<T, Self> {
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let value = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| Self::new(error.path().to_string(), error.inner()))?;
        // Anything after the value, as serde_json::from_slice refuses it.
        deserializer.end().map_err(|error| Self::new(".", &error))?;
        Ok(value)
    }

    /// Describes `error`, met at `path` of the document (such as `items[0].text`, or `.` for the
    /// whole), with the values it quotes left out.
    pub fn new(path: impl Into<String>, error: &serde_json::Error) -> Self {
        Self {
            path: path.into(),
            line: error.line(),
            column: error.column(),
            reason: reason(error),
        }
    }

    /// The JSON path where decoding stopped, such as `items[1].sender.role` (`.` for the whole
    /// body).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The line of the body where decoding stopped, from 1 (0 when not known).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column of that line, from 1 (0 when not known).
    pub fn column(&self) -> usize {
        self.column
    }

    /// Why, such as `missing field `text`` or `invalid type: integer, expected a string`.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at {} (line {}, column {}): {}",
            self.path, self.line, self.column, self.reason
        )
    }
}

impl std::error::Error for DecodeError {}

/// serde_json's reason for `error`, with any value it quotes left out.
fn reason(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let printed = error.to_string();
    // serde_json prints `<message> at line N column M`.
    let message = printed
        .rfind(" at line ")
        .map_or(printed.as_str(), |at| &printed[..at]);
    match error.classify() {
        // serde_json's own messages, such as `expected value` or `EOF while parsing a string`,
        // never quote the input.
        Category::Syntax | Category::Eof | Category::Io => message.to_owned(),
        Category::Data => data_reason(message),
    }
}

/// A message of serde's data errors, without what it quotes from the body. The names between
/// backticks in `missing field`, `duplicate field` and `unknown field` are keys, not values;
/// everything else serde quotes is a value.
fn data_reason(message: &str) -> String {
    let keys = ["missing field `", "duplicate field `", "unknown field `"];
    if keys.iter().any(|key| message.starts_with(key)) {
        return message.to_owned();
    }
    // `invalid type: string "…", expected …`, `invalid value: integer `7`, expected …`: keep the
    // kind of what was found and what was expected.
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let kind = rest.split([' ', ',']).next().unwrap_or_default();
            return match rest.rfind(", expected ") {
                Some(at) => format!("{prefix}{kind}{}", &rest[at..]),
                None => format!("{prefix}{kind}"),
            };
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return match rest.rfind(", expected ") {
            Some(at) => format!("unknown variant{}", &rest[at..]),
            None => "unknown variant".to_owned(),
        };
    }
    // Any other message (a length, a format, a pattern): its quoted parts left out.
    unquoted(message)
}

/// `text` with every `"…"` and `` `…` `` part replaced by `…`.
fn unquoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote = None;
    for c in text.chars() {
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None if c == '"' || c == '`' => {
                quote = Some(c);
                out.push('…');
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types;

    const MARKER: &str = "MARKER-the-customer-said-this";

    fn message(json: serde_json::Value) -> DecodeError {
        DecodeError::decode::<types::GetMessagesResponse>(json.to_string().as_bytes()).unwrap_err()
    }

    #[test]
    fn no_reason_quotes_the_body() {
        let item = |field: &str, value: serde_json::Value| {
            let mut item = serde_json::json!({
                "text": MARKER,
                "sender": {"role": "customer", "externalId": "c"},
                "messageId": "01GMXE90AEV7H3J4DPBDKB1R79",
                "createdTimestamp": "2021-11-23T12:13:16.853Z",
                "clientTimestamp": "2021-11-23T12:13:14.555Z",
            });
            item[field] = value;
            serde_json::json!({"items": [item]})
        };
        let cases = [
            (
                item("sender", MARKER.into()),
                "items[0].sender",
                "invalid type: string, expected struct MessageSender",
            ),
            (
                item("text", serde_json::json!({MARKER: MARKER})),
                "items[0].text",
                "invalid type: map, expected a string",
            ),
            (
                item("text", serde_json::json!([MARKER])),
                "items[0].text",
                "invalid type: sequence, expected a string",
            ),
            (
                item("createdTimestamp", MARKER.into()),
                "items[0].createdTimestamp",
                "input contains invalid characters",
            ),
            (
                item("messageId", "".into()),
                "items[0].messageId",
                "shorter than 1 characters",
            ),
            (
                item("text", 7.into()),
                "items[0].text",
                "invalid type: integer, expected a string",
            ),
        ];
        for (body, path, reason) in cases {
            let error = message(body);
            assert_eq!((error.path(), error.reason()), (path, reason));
            for rendering in [error.to_string(), format!("{error:?}")] {
                assert!(!rendering.contains("MARKER"), "{rendering}");
            }
        }
        let missing = message(serde_json::json!({"items": [{"text": MARKER}]}));
        assert_eq!(missing.reason(), "missing field `clientTimestamp`");
        let truncated = format!(r#"{{"items": [{{"text": "{MARKER}"#);
        let error =
            DecodeError::decode::<types::GetMessagesResponse>(truncated.as_bytes()).unwrap_err();
        assert_eq!(error.reason(), "EOF while parsing a string");
        assert!(!format!("{error} {error:?}").contains("MARKER"));
        let trailing = format!(r#"{{"items": []}} "{MARKER}""#);
        let error =
            DecodeError::decode::<types::GetMessagesResponse>(trailing.as_bytes()).unwrap_err();
        assert_eq!((error.path(), error.reason()), (".", "trailing characters"));
    }

    #[test]
    fn other_messages_lose_what_they_quote() {
        assert_eq!(
            data_reason("unknown variant `MARKER`, expected `a` or `b`"),
            "unknown variant, expected `a` or `b`"
        );
        assert_eq!(
            data_reason(r#"doesn't match pattern "MARKER""#),
            "doesn't match pattern …"
        );
        assert_eq!(
            data_reason("invalid length 2, expected 3"),
            "invalid length 2, expected 3"
        );
    }
}
