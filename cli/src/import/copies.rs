//! Contact Lens's raw and redacted copies of one contact: which one an import sends.
//!
//! Amazon Connect writes each contact's voice analysis twice when redaction is on:
//! `Analysis/Voice/YYYY/MM/DD/<contactId>_analysis_<time>.json` (raw) and
//! `Analysis/Voice/Redacted/YYYY/MM/DD/<contactId>_analysis_redacted_<time>.json`. In path order
//! the raw copies of a tree come before every redacted one, and inputs are sent as they are read,
//! so the choice cannot wait for the other copy. It is made from the list of inputs instead,
//! which [`super::source::expand`] builds before anything is read: the contacts that have an
//! input named as a raw copy and one named as a redacted copy. A document that is a copy of the
//! kind not chosen (its `ContentMetadata.Output`, else its name, which must agree: see
//! [`crate::formats`]) is left aside when its contact is one of those; every other document is
//! read as before, and a second document of a conversation that is not such a pair is still
//! refused. So a contact with one copy is imported from it, whichever it is.
//!
//! The choice is a function of the names of the inputs, which a resume must give the same: the
//! same copies are left aside, and the checkpoint records the choice (when the inputs hold a
//! pair, the only case where it changes anything) so that a resume with the other is refused.

use std::collections::{HashMap, HashSet};

use super::source::Source;
use crate::formats::{self, CopyKind, Document, Format};

/// Which copy is sent, and the contacts that have both among the inputs.
#[derive(Debug)]
pub(crate) struct Copies {
    prefer: CopyKind,
    /// Contact ids with an input named as a raw copy and one named as a redacted copy.
    pairs: HashSet<Box<str>>,
}

impl Copies {
    /// The pairs among `sources`' names, read as `format` (none are, when it is forced to
    /// another than Contact Lens).
    pub(crate) fn plan(sources: &[Source], prefer: CopyKind, format: Option<Format>) -> Self {
        let mut seen: HashMap<Box<str>, (bool, bool)> = HashMap::new();
        if matches!(format, None | Some(Format::ContactLens)) {
            for source in sources {
                let name = source.name();
                if let Some(analysis) = formats::analysis_name(formats::file_name(&name)) {
                    let kinds = seen.entry(analysis.contact_id.into()).or_default();
                    match analysis.copy {
                        CopyKind::Raw => kinds.0 = true,
                        CopyKind::Redacted => kinds.1 = true,
                    }
                }
            }
        }
        let pairs = seen
            .into_iter()
            .filter(|(_, (raw, redacted))| *raw && *redacted)
            .map(|(contact, _)| contact)
            .collect();
        Self { prefer, pairs }
    }

    /// The copy sent where a contact has both.
    pub(crate) fn prefer(&self) -> CopyKind {
        self.prefer
    }

    /// Whether some contact has both copies among the inputs: the choice matters.
    pub(crate) fn any(&self) -> bool {
        !self.pairs.is_empty()
    }

    /// Whether `document`, read from the input named `name`, is the copy not chosen of a
    /// contact whose chosen copy is among the inputs (by its name: another input).
    pub(crate) fn leaves_aside(&self, name: &str, document: &Document) -> bool {
        if document.format != Format::ContactLens
            || document.copy.is_none_or(|copy| copy == self.prefer)
        {
            return false;
        }
        let contact = formats::analysis_name(formats::file_name(name))
            .map_or(document.external_id.as_str(), |analysis| {
                analysis.contact_id
            });
        self.pairs.contains(contact)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::source::Location;
    use super::*;
    use crate::formats::{Options, read_document};

    fn source(path: &str) -> Source {
        Source {
            location: Location::File(Path::new(path).into()),
            key: path.into(),
            version: None,
        }
    }

    /// A Contact Lens document of contact `id`, its output `Raw` or `Redacted`, or none.
    fn document(name: &str, id: &str, output: Option<&str>) -> Document {
        let metadata = output.map_or(String::new(), |o| {
            format!(r#""ContentMetadata": {{"Output": "{o}"}}, "#)
        });
        let text = format!(
            r#"{{{metadata}"CustomerMetadata": {{"ContactId": "{id}"}}, "Participants": [{{"ParticipantId": "c", "ParticipantRole": "CUSTOMER"}}], "Transcript": []}}"#
        );
        read_document(name, text.as_bytes(), None, &Options::default()).expect("a document")
    }

    #[test]
    fn the_copy_not_chosen_is_left_aside_only_where_the_chosen_one_is_an_input() {
        let raw_a = "V/2024/01/23/a_analysis_2024-01-23T09:00:00Z.json";
        let redacted_a = "V/Redacted/2024/01/23/a_analysis_redacted_2024-01-23T09:00:00Z.json";
        let raw_b = "V/2024/01/23/b_analysis_2024-01-23T10:00:00Z.json";
        let redacted_c = "V/Redacted/2024/01/23/c_analysis_redacted_2024-01-23T11:00:00Z.json";
        let sources: Vec<Source> = [raw_a, raw_b, redacted_a, redacted_c, "V/a-copy.json"]
            .into_iter()
            .map(source)
            .collect();
        let redacted = Copies::plan(&sources, CopyKind::Redacted, None);
        assert!(redacted.any());
        let raw = Copies::plan(&sources, CopyKind::Raw, None);
        let cases = [
            // name, contact, output: left aside when redacted is chosen, when raw is.
            (raw_a, "a", Some("Raw"), true, false),
            (raw_a, "a", None, true, false),
            (redacted_a, "a", Some("Redacted"), false, true),
            // One copy only: imported whichever is chosen.
            (raw_b, "b", Some("Raw"), false, false),
            (redacted_c, "c", None, false, false),
            // A name that is not an analysis file's: its content says which copy it is, and its
            // contact has both among the other inputs.
            ("V/a-copy.json", "a", Some("Raw"), true, false),
            ("V/a-copy.json", "a", Some("Redacted"), false, true),
            ("V/a-copy.json", "a", None, false, false),
            ("V/b-copy.json", "b", Some("Raw"), false, false),
        ];
        for (name, id, output, aside_redacted, aside_raw) in cases {
            let document = document(name, id, output);
            assert_eq!(
                (
                    redacted.leaves_aside(name, &document),
                    raw.leaves_aside(name, &document)
                ),
                (aside_redacted, aside_raw),
                "{name} {output:?}"
            );
        }
        // Forced to another format, no document is a Contact Lens copy.
        assert!(!Copies::plan(&sources, CopyKind::Redacted, Some(Format::Jsonl)).any());
        assert!(Copies::plan(&sources, CopyKind::Redacted, Some(Format::ContactLens)).any());
        assert!(!Copies::plan(&sources[..2], CopyKind::Redacted, None).any());
    }
}
