//! Loading Amazon Connect contact records (`--contact-records PATH|URL`, repeatable) before any
//! document is read: a file, a directory (every file in it, at any depth, in path order), one
//! object, or every object under a prefix ([`objects`]). Each file is read and parsed on a
//! blocking thread, and each object fetched by the async runtime (at the version it was listed
//! with) and then parsed on a blocking thread, one at a time, so that memory holds the records
//! kept and one file. [`crate::formats::contact_records`] says what a record gives.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt as _;

use super::objects::{self, Stores};
use crate::Error;
use crate::formats::contact_records::ContactRecords;

/// The records of every input, keeping the latest of each contact; `None` without inputs.
pub(crate) async fn load(
    inputs: &[PathBuf],
    stores: &mut Stores,
) -> Result<Option<Arc<ContactRecords>>, Error> {
    if inputs.is_empty() {
        return Ok(None);
    }
    let mut records = ContactRecords::default();
    for input in inputs {
        let text = input.to_string_lossy();
        if objects::is_url(&text) {
            let place = stores.place(&text)?;
            let mut listed = std::pin::pin!(place.objects());
            let mut found = false;
            while let Some(object) = listed.next().await {
                let object = object?;
                found = true;
                let mut bytes = Vec::with_capacity(usize::try_from(object.size).unwrap_or(0));
                let mut chunks = Box::pin(objects::open(&object).await?);
                while let Some(chunk) = chunks.next().await {
                    bytes.extend_from_slice(&chunk?);
                }
                let name = object.url.to_string();
                records = parse(records, name, RecordsFile::Bytes(bytes)).await?;
            }
            if !found {
                return Err(Error::input(
                    text.as_ref(),
                    format!("{text}: no object under this prefix (--contact-records)"),
                ));
            }
        } else {
            let mut files = Vec::new();
            if input.is_dir() {
                walk(input, &mut files, &mut HashSet::new())?;
                files.sort();
                if files.is_empty() {
                    return Err(Error::input(
                        input.display().to_string(),
                        format!(
                            "{}: no file in this directory (--contact-records)",
                            input.display()
                        ),
                    ));
                }
            } else {
                files.push(input.clone());
            }
            for file in files {
                let name = file.display().to_string();
                records = parse(records, name, RecordsFile::File(file)).await?;
            }
        }
    }
    tracing::info!(
        files = records.files(),
        records = records.records(),
        contacts = records.contacts(),
        "import: contact records read"
    );
    Ok(Some(Arc::new(records)))
}

/// A file to read, or an object's bytes.
enum RecordsFile {
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// Adds the records of `source`, named `name`, on a blocking thread.
async fn parse(
    mut records: ContactRecords,
    name: String,
    source: RecordsFile,
) -> Result<ContactRecords, Error> {
    tokio::task::spawn_blocking(move || {
        let bytes = match source {
            RecordsFile::Bytes(bytes) => bytes,
            RecordsFile::File(path) => {
                std::fs::read(&path).map_err(|e| Error::cannot_read(&path, &e))?
            }
        };
        records
            .add_file(&name, &bytes)
            .map_err(|e| Error::input(&name, format!("{e} (--contact-records)")))?;
        Ok(records)
    })
    .await
    .map_err(|e| Error::internal(format!("reading the contact records stopped: {e}")))?
}

/// Every file under `directory`, at any depth. Links to directories are followed, each
/// directory once.
fn walk(
    directory: &Path,
    files: &mut Vec<PathBuf>,
    visited: &mut HashSet<PathBuf>,
) -> Result<(), Error> {
    let cannot = |e: std::io::Error| Error::cannot_read(directory, &e);
    if !visited.insert(std::fs::canonicalize(directory).map_err(cannot)?) {
        return Ok(());
    }
    for entry in std::fs::read_dir(directory).map_err(cannot)? {
        let path = entry.map_err(cannot)?.path();
        if path.is_dir() {
            walk(&path, files, visited)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}
