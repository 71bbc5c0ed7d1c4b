//! Contact Lens's raw and redacted copies of one contact: which one an import sends.
//!
//! Amazon Connect writes each contact's voice analysis twice when redaction is on:
//! `Analysis/Voice/YYYY/MM/DD/<contactId>_analysis_<time>.json` (raw) and
//! `Analysis/Voice/Redacted/YYYY/MM/DD/<contactId>_analysis_redacted_<time>.json`. In path order
//! the raw copies of a tree come before every redacted one, inputs are sent as they are read, and
//! a tree is listed as it is read, so the choice cannot wait for the other copy. Each copy's name
//! says where the other is instead: an input named as the copy not chosen is left aside, unread,
//! when the chosen copy exists at that place and is one of the inputs (a file of a directory
//! given, an object under a prefix given). So a contact with one copy is imported from it,
//! whichever it is; copies renamed or moved elsewhere are read as documents of their own (and
//! a second document of one conversation is refused, naming the first).
//!
//! What is left aside is recorded with each input in the checkpoint, so that a resume that
//! would choose otherwise (another `--contact-lens-copy`, or a copy added or removed since) is
//! refused as changed input.

use crate::formats::{self, CopyKind, Format};

/// Which copy is sent where a contact has both.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Copies {
    prefer: CopyKind,
    /// Whether inputs may be Contact Lens documents (not when `--format` forces another).
    contact_lens: bool,
}

impl Copies {
    /// The copy `prefer`red, for inputs read as `format` (all formats: `None`).
    pub(crate) fn new(prefer: CopyKind, format: Option<Format>) -> Self {
        Self {
            prefer,
            contact_lens: matches!(format, None | Some(Format::ContactLens)),
        }
    }

    /// The copy sent where a contact has both.
    pub(crate) fn prefer(&self) -> CopyKind {
        self.prefer
    }

    /// Where the chosen copy of the input named `name` (a path or a URL) is, when `name` is an
    /// analysis file of the copy not chosen; `None` for any other input.
    pub(crate) fn chosen_elsewhere(&self, name: &str) -> Option<String> {
        if !self.contact_lens {
            return None;
        }
        let analysis = formats::analysis_name(formats::file_name(name))?;
        if analysis.copy == self.prefer {
            return None;
        }
        other_copy(name, analysis.copy)
    }
}

/// The name of the other copy of the analysis file `name`, a `copy`: the redacted copy is under
/// `Redacted/` beside the raw copy's dated folders (`…/Voice/Redacted/2024/01/23/` for
/// `…/Voice/2024/01/23/`, or `…/Redacted/` for a folder without dates), named
/// `_analysis_redacted_` for `_analysis_`.
fn other_copy(name: &str, copy: CopyKind) -> Option<String> {
    let (directory, file) = name.rsplit_once(['/', '\\'])?;
    let separator = &name[directory.len()..=directory.len()];
    let mut folders: Vec<&str> = directory.split(separator).collect();
    let is_date = |folder: &&str, digits: usize| {
        folder.len() == digits && folder.bytes().all(|b| b.is_ascii_digit())
    };
    let dated = folders.len() > 3 && {
        let n = folders.len();
        is_date(&folders[n - 3], 4) && is_date(&folders[n - 2], 2) && is_date(&folders[n - 1], 2)
    };
    let at = if dated {
        folders.len() - 3
    } else {
        folders.len()
    };
    let file = match copy {
        CopyKind::Raw => {
            folders.insert(at, "Redacted");
            file.replacen("_analysis_", "_analysis_redacted_", 1)
        }
        CopyKind::Redacted => {
            if at == 0 || folders[at - 1] != "Redacted" {
                return None;
            }
            folders.remove(at - 1);
            file.replacen("_analysis_redacted_", "_analysis_", 1)
        }
    };
    Some(format!("{}{separator}{file}", folders.join(separator)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_copy_says_where_the_other_is() {
        let raw =
            "s3://calls/connect/x/Analysis/Voice/2024/01/23/c-1_analysis_2024-01-23T09:00:04Z.json";
        let redacted = "s3://calls/connect/x/Analysis/Voice/Redacted/2024/01/23/c-1_analysis_redacted_2024-01-23T09:00:04Z.json";
        assert_eq!(other_copy(raw, CopyKind::Raw).as_deref(), Some(redacted));
        assert_eq!(
            other_copy(redacted, CopyKind::Redacted).as_deref(),
            Some(raw)
        );
        // Without dated folders, and local paths.
        let raw = "/data/calls/c-2_analysis_2024-01-23T09:00:04Z.json";
        let redacted = "/data/calls/Redacted/c-2_analysis_redacted_2024-01-23T09:00:04Z.json";
        assert_eq!(other_copy(raw, CopyKind::Raw).as_deref(), Some(redacted));
        assert_eq!(
            other_copy(redacted, CopyKind::Redacted).as_deref(),
            Some(raw)
        );
        // A redacted copy that is not under `Redacted/` says nothing of a raw one.
        assert_eq!(
            other_copy(
                "/d/c_analysis_redacted_2024-01-23T09:00:04Z.json",
                CopyKind::Redacted
            ),
            None
        );
        assert_eq!(other_copy("c_analysis_x.json", CopyKind::Raw), None);
    }

    #[test]
    fn only_the_copy_not_chosen_looks_for_the_other() {
        let raw = "V/2024/01/23/a_analysis_2024-01-23T09:00:00Z.json";
        let redacted = "V/Redacted/2024/01/23/a_analysis_redacted_2024-01-23T09:00:00Z.json";
        let prefer_redacted = Copies::new(CopyKind::Redacted, None);
        let prefer_raw = Copies::new(CopyKind::Raw, None);
        assert_eq!(
            prefer_redacted.chosen_elsewhere(raw).as_deref(),
            Some(redacted)
        );
        assert_eq!(prefer_redacted.chosen_elsewhere(redacted), None);
        assert_eq!(prefer_raw.chosen_elsewhere(redacted).as_deref(), Some(raw));
        assert_eq!(prefer_raw.chosen_elsewhere(raw), None);
        assert_eq!(prefer_redacted.chosen_elsewhere("V/a-copy.json"), None);
        // Forced to another format, no input is a Contact Lens copy.
        let jsonl = Copies::new(CopyKind::Redacted, Some(Format::Jsonl));
        assert_eq!(jsonl.chosen_elsewhere(raw), None);
        let forced = Copies::new(CopyKind::Redacted, Some(Format::ContactLens));
        assert!(forced.chosen_elsewhere(raw).is_some());
    }
}
