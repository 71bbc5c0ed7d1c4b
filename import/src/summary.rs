//! [`Summary`]: what an import did, returned when it ends; `asapp import` prints it as JSON.

use asapp_conversations::chrono::{DateTime, Utc};

/// What an import did. Serialized in camelCase, as `asapp import` prints it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Summary {
    /// Messages sent and acknowledged by this import.
    pub messages: u64,
    /// Conversations upserted.
    pub conversations: u64,
    /// Batches acknowledged.
    pub batches: u64,
    /// Messages found already stored: acknowledged by an import before, or read back.
    pub already_stored: u64,
    /// Lines of JSON Lines, and message entries of vendor documents, that were invalid.
    pub invalid_lines: u64,
    /// Of `invalid_lines`, the entries of vendor documents.
    #[serde(skip)]
    pub invalid_entries: u64,
    /// Vendor documents refused whole (not JSON, no known format, no base time, …).
    pub invalid_documents: u64,
    /// Vendor items without text left out on purpose: joins, leaves, typing, attachments.
    pub skipped_events: u64,
    /// Contact Lens copies not sent because the contact's other copy is among the inputs and
    /// was chosen: each contact is imported once.
    pub copies_left_aside: u64,
    /// The base times of the conversations read from offsets: the option's, or each document's
    /// own field or file name, with how many conversations used each.
    pub base_times: Vec<BaseTimeUsed>,
    /// With contact records: what was read, and how many Contact Lens conversations had a
    /// record and how many had none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_records: Option<ContactRecordsUsed>,
    /// The client-side rate limit at the end, in requests per second: where it settled after
    /// ASAPP's 429s (`None` without one).
    pub rate_limit: Option<f64>,
    /// How long the import took.
    pub seconds: f64,
    /// Messages acknowledged a second.
    pub messages_per_second: f64,
    /// Requests the client sent again (after a 429, a 5xx or a transport failure).
    pub retries: u64,
    /// Answers with status 429, retried or not.
    pub rate_limited: u64,
    /// Time requests waited for the client-side rate limit, summed over the requests in flight.
    pub limiter_wait_seconds: f64,
}

impl Summary {
    /// How many lines, entries and documents were invalid, as one sentence
    /// (`1 invalid line and 3 invalid documents were not imported; every valid one was`);
    /// `None` if none was.
    pub fn invalid_sentence(&self) -> Option<String> {
        let lines = self.invalid_lines - self.invalid_entries;
        let counted = [
            (lines, "invalid line", "invalid lines"),
            (self.invalid_entries, "invalid entry", "invalid entries"),
            (
                self.invalid_documents,
                "invalid document",
                "invalid documents",
            ),
        ];
        let parts: Vec<String> = counted
            .iter()
            .filter(|(n, _, _)| *n > 0)
            .map(|(n, one, many)| match n {
                1 => format!("1 {one}"),
                n => format!("{n} {many}"),
            })
            .collect();
        let (last, rest) = parts.split_last()?;
        let listed = match rest {
            [] => last.clone(),
            rest => format!("{} and {last}", rest.join(", ")),
        };
        let verb = if parts.len() == 1 && counted.iter().any(|(n, _, _)| *n == 1) {
            "was"
        } else {
            "were"
        };
        let valid = if self.invalid_entries == 0 && self.invalid_documents == 0 {
            "line"
        } else {
            "one"
        };
        Some(format!(
            "{listed} {verb} not imported; every valid {valid} was"
        ))
    }
}

/// A base time conversations' offsets were added to, and how many.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BaseTimeUsed {
    /// `--base-time`, the documents' field that gave each its own, `file name`, or `contact
    /// record`.
    pub from: &'static str,
    /// The option's value (each document's own is in the document or its name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_time: Option<DateTime<Utc>>,
    /// For the documents' own field or name, the earliest base it gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earliest: Option<DateTime<Utc>>,
    /// For the documents' own field or name, the latest base it gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<DateTime<Utc>>,
    /// How many conversations.
    pub conversations: u64,
}

/// The contact records read, and the Contact Lens conversations they were found for.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContactRecordsUsed {
    /// Files or objects read.
    pub files: u64,
    /// Records read, duplicates included.
    pub records: u64,
    /// Contacts they are of: each contact's latest record counts.
    pub contacts: u64,
    /// Contact Lens conversations sent with their contact's record.
    pub conversations_with_record: u64,
    /// Contact Lens conversations whose contact had no record (their base time from the file
    /// name, or the option).
    pub conversations_without_record: u64,
}

#[cfg(test)]
mod tests {
    use super::Summary;

    fn invalid(lines: u64, entries: u64, documents: u64) -> Option<String> {
        Summary {
            messages: 0,
            conversations: 0,
            batches: 0,
            already_stored: 0,
            invalid_lines: lines + entries,
            invalid_entries: entries,
            invalid_documents: documents,
            skipped_events: 0,
            copies_left_aside: 0,
            base_times: Vec::new(),
            contact_records: None,
            rate_limit: None,
            seconds: 0.0,
            messages_per_second: 0.0,
            retries: 0,
            rate_limited: 0,
            limiter_wait_seconds: 0.0,
        }
        .invalid_sentence()
    }

    #[test]
    fn the_last_word_counts_lines_entries_and_documents_each_as_what_they_are() {
        assert_eq!(invalid(0, 0, 0), None);
        assert_eq!(
            invalid(1, 0, 0).unwrap(),
            "1 invalid line was not imported; every valid line was"
        );
        assert_eq!(
            invalid(5, 0, 0).unwrap(),
            "5 invalid lines were not imported; every valid line was"
        );
        assert_eq!(
            invalid(0, 0, 3).unwrap(),
            "3 invalid documents were not imported; every valid one was"
        );
        assert_eq!(
            invalid(1, 0, 2).unwrap(),
            "1 invalid line and 2 invalid documents were not imported; every valid one was"
        );
        assert_eq!(
            invalid(2, 1, 1).unwrap(),
            "2 invalid lines, 1 invalid entry and 1 invalid document were not imported; every \
             valid one was"
        );
    }
}
