//! The inputs of an import as they were given, checked before anything is read, and what each
//! holds, found as the import reaches it: a directory is walked and a prefix listed while the
//! import goes on, never held whole, so that memory stays flat in the number of files or objects
//! and sending starts at once, however large the tree.
//!
//! Each input is read once. Inputs given twice, or one inside another (a file and its directory,
//! a prefix and an object under it), are refused before anything is read; within a directory, a
//! link to a directory of the inputs is not followed (its files are read where they are), and a
//! file reached through a link is refused when the same file is read as well.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::objects::{Place, Stores};
use crate::Error;
use crate::import::{Input, InputKind};

/// A reader given as an input, taken when it is read.
pub(crate) type GivenReader =
    std::sync::Mutex<Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>>;

/// One input as given.
pub(crate) enum Given {
    /// Standard input.
    Stdin,
    /// Bytes held in memory, with their name.
    Bytes { name: String, bytes: bytes::Bytes },
    /// A reader, with its name.
    Reader { name: String, reader: GivenReader },
    /// A file: the path as given, and its canonical path.
    File { path: PathBuf, canonical: PathBuf },
    /// A directory, walked recursively for its `*.jsonl` and `*.json` files.
    Directory { path: PathBuf, canonical: PathBuf },
    /// An object, or a prefix, in object storage.
    Objects(Place),
}

impl std::fmt::Debug for Given {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl Given {
    /// How messages name it.
    pub(crate) fn name(&self) -> String {
        match self {
            Self::Stdin => "stdin".to_owned(),
            Self::Bytes { name, .. } | Self::Reader { name, .. } => name.clone(),
            Self::File { path, .. } | Self::Directory { path, .. } => path.display().to_string(),
            Self::Objects(place) => place.url().to_owned(),
        }
    }
}

/// Whether a file found in a directory, or an object under a prefix, is an input.
pub(crate) fn is_transcript(name: &str) -> bool {
    name.ends_with(".jsonl") || name.ends_with(".json")
}

/// The inputs as given, each checked (a file can be opened, a directory read, a URL's store
/// configured), none inside another.
#[derive(Debug)]
pub(crate) struct Inputs {
    pub(crate) given: Vec<Given>,
}

impl Inputs {
    /// Checks `inputs`, in order; object stores are made from `stores`.
    pub(crate) fn check(inputs: Vec<Input>, stores: &mut Stores) -> Result<Self, Error> {
        let mut given: Vec<Given> = Vec::with_capacity(inputs.len());
        for input in inputs {
            let this = match input.0 {
                InputKind::Stdin => Given::Stdin,
                InputKind::Url(url) => Given::Objects(stores.place(&url)?),
                InputKind::Bytes { name, bytes } => Given::Bytes { name, bytes },
                InputKind::Reader { name, reader } => Given::Reader {
                    name,
                    reader: std::sync::Mutex::new(Some(reader)),
                },
                InputKind::Path(path) => Self::local(path)?,
            };
            if let Some(other) = given.iter().find(|other| overlap(other, &this)) {
                return Err(Error::input(
                    this.name(),
                    format!(
                        "{} and {} are the same input: each is read once",
                        other.name(),
                        this.name()
                    ),
                ));
            }
            given.push(this);
        }
        Ok(Self { given })
    }

    /// Checks the file or directory at `input`.
    fn local(input: PathBuf) -> Result<Given, Error> {
        let cannot = |e: std::io::Error| Error::cannot_read(&input, &e);
        Ok(if input.is_dir() {
            std::fs::read_dir(&input).map_err(cannot)?;
            let canonical = std::fs::canonicalize(&input).map_err(cannot)?;
            Given::Directory {
                path: input,
                canonical,
            }
        } else {
            File::open(&input).map_err(cannot)?;
            let canonical = std::fs::canonicalize(&input).map_err(cannot)?;
            Given::File {
                path: input,
                canonical,
            }
        })
    }

    /// Whether the local file at `canonical` is read as one of the inputs: a file given, or a
    /// transcript under a directory given.
    pub(crate) fn reads_file(&self, canonical: &Path) -> bool {
        self.given.iter().any(|given| match given {
            Given::File {
                canonical: file, ..
            } => file == canonical,
            Given::Directory { canonical: dir, .. } => {
                canonical.starts_with(dir)
                    && canonical
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(is_transcript)
            }
            _ => false,
        })
    }

    /// Whether the directory at `canonical` is walked as (part of) one of the inputs.
    fn walks_directory(&self, canonical: &Path) -> bool {
        self.given.iter().any(|given| match given {
            Given::Directory { canonical: dir, .. } => canonical.starts_with(dir),
            _ => false,
        })
    }

    /// Whether the object at `url` is read as one of the inputs.
    pub(crate) fn reads_object(&self, url: &str) -> Option<&Place> {
        self.given.iter().find_map(|given| match given {
            Given::Objects(place) if place.contains(url) => {
                (!place.is_prefix() || is_transcript(url)).then_some(place)
            }
            _ => None,
        })
    }
}

/// Whether two inputs given would read a file or an object twice.
fn overlap(a: &Given, b: &Given) -> bool {
    let local = |given: &Given| match given {
        Given::File { canonical, .. } | Given::Directory { canonical, .. } => {
            Some(canonical.clone())
        }
        _ => None,
    };
    match (a, b) {
        (Given::Stdin, Given::Stdin) => true,
        (Given::Bytes { .. } | Given::Reader { .. }, _)
        | (_, Given::Bytes { .. } | Given::Reader { .. }) => a.name() == b.name(),
        (Given::Objects(a), Given::Objects(b)) => {
            a.url() == b.url() || a.contains(b.url()) || b.contains(a.url())
        }
        _ => match (local(a), local(b)) {
            (Some(a), Some(b)) => a.starts_with(&b) || b.starts_with(&a),
            _ => false,
        },
    }
}

/// The transcript files under a directory, at any depth, in path order, found as they are
/// asked for: each directory's entries are read and sorted when the walk enters it, so the
/// walk holds the names of the directories it is in, not of the whole tree.
pub(crate) struct Walk<'a> {
    inputs: &'a Inputs,
    /// The directory walked, as given and canonical: a file whose canonical path is not the
    /// latter joined with its path under the former is reached through a link.
    root: PathBuf,
    canonical_root: PathBuf,
    /// The directories entered, each with its entries left, last first.
    stack: Vec<Entries>,
    /// Directories entered, canonical: a link back up would otherwise never end.
    visited: HashSet<PathBuf>,
    /// Files reached through a link, canonical, outside the inputs' directories: a second link
    /// to one of them reads it twice.
    linked: HashSet<PathBuf>,
}

/// A directory's entries, sorted, as one buffer of names (memory: the names' bytes and 8 more
/// a name, for a directory of a million files as for one of ten).
struct Entries {
    directory: PathBuf,
    names: Vec<u8>,
    /// Each name's end in `names`, in reverse path order: the next is the last.
    ends: Vec<(u32, u32)>,
}

impl Entries {
    fn read(directory: &Path) -> Result<Self, Error> {
        let cannot = |e: std::io::Error| Error::cannot_read(directory, &e);
        let mut names = Vec::new();
        let mut ends = Vec::new();
        for entry in std::fs::read_dir(directory).map_err(cannot)? {
            let name = entry.map_err(cannot)?.file_name();
            let bytes = name.as_encoded_bytes();
            let start = u32::try_from(names.len()).map_err(|_| {
                Error::input(
                    directory.display().to_string(),
                    format!("{}: too many entries in one directory", directory.display()),
                )
            })?;
            names.extend_from_slice(bytes);
            ends.push((start, start + bytes.len() as u32));
        }
        // Descending, so that the next in path order is popped from the end.
        ends.sort_unstable_by(|a, b| {
            names[b.0 as usize..b.1 as usize].cmp(&names[a.0 as usize..a.1 as usize])
        });
        Ok(Self {
            directory: directory.to_path_buf(),
            names,
            ends,
        })
    }

    fn next(&mut self) -> Option<PathBuf> {
        let (start, end) = self.ends.pop()?;
        let bytes = &self.names[start as usize..end as usize];
        Some(self.directory.join(os_name(bytes)))
    }
}

/// The name back from its bytes, which came whole from `OsStr::as_encoded_bytes`.
fn os_name(bytes: &[u8]) -> std::ffi::OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        std::ffi::OsStr::from_bytes(bytes).to_owned()
    }
    #[cfg(not(unix))]
    {
        std::ffi::OsString::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

impl<'a> Walk<'a> {
    /// The walk of `directory`, one of `inputs`, whose canonical path is `canonical`.
    pub(crate) fn new(
        directory: &Path,
        canonical: &Path,
        inputs: &'a Inputs,
    ) -> Result<Self, Error> {
        let mut walk = Self {
            inputs,
            root: directory.to_path_buf(),
            canonical_root: canonical.to_path_buf(),
            stack: Vec::new(),
            visited: HashSet::new(),
            linked: HashSet::new(),
        };
        walk.enter(directory)?;
        Ok(walk)
    }

    fn enter(&mut self, directory: &Path) -> Result<(), Error> {
        let canonical =
            std::fs::canonicalize(directory).map_err(|e| Error::cannot_read(directory, &e))?;
        if self.visited.insert(canonical) {
            self.stack.push(Entries::read(directory)?);
        }
        Ok(())
    }

    /// The next transcript file, with its canonical path; `None` at the end.
    pub(crate) fn next_file(&mut self) -> Result<Option<(PathBuf, PathBuf)>, Error> {
        loop {
            let Some(entries) = self.stack.last_mut() else {
                return Ok(None);
            };
            let Some(path) = entries.next() else {
                self.stack.pop();
                continue;
            };
            let cannot = |e: std::io::Error| Error::cannot_read(&path, &e);
            let kind = std::fs::symlink_metadata(&path)
                .map_err(cannot)?
                .file_type();
            let linked = kind.is_symlink();
            // Only a link needs a second look at what it points to.
            if (linked && path.is_dir()) || kind.is_dir() {
                if linked {
                    let target = std::fs::canonicalize(&path).map_err(cannot)?;
                    if self.inputs.walks_directory(&target) {
                        // Its files are read where they are.
                        continue;
                    }
                }
                self.enter(&path)?;
                continue;
            }
            if !path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_transcript)
            {
                continue;
            }
            // Opened when it is read, which says so if it cannot be.
            let canonical = std::fs::canonicalize(&path).map_err(cannot)?;
            let direct = path
                .strip_prefix(&self.root)
                .is_ok_and(|under| self.canonical_root.join(under) == canonical);
            if !direct {
                let read_there = self.inputs.reads_file(&canonical);
                if read_there || !self.linked.insert(canonical.clone()) {
                    return Err(Error::input(
                        path.display().to_string(),
                        format!(
                            "{} and {} are the same input: each is read once",
                            canonical.display(),
                            path.display()
                        ),
                    ));
                }
            }
            return Ok(Some((path, canonical)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("asapp-listing-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn file(&self, path: &str) -> PathBuf {
            let path = self.0.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "{}").unwrap();
            path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn check(inputs: &[&Path]) -> Result<Inputs, Error> {
        let inputs = inputs.iter().map(|path| match path.to_str() {
            Some("-") => Input::stdin(),
            _ => Input::path(*path),
        });
        Inputs::check(inputs.collect(), &mut Stores::new(|_| None))
    }

    /// The files the walk of the one directory in `inputs` finds, relative to it.
    fn walked(inputs: &Inputs) -> Result<Vec<String>, Error> {
        let Given::Directory { path, canonical } = &inputs.given[0] else {
            panic!("not a directory");
        };
        let mut walk = Walk::new(path, canonical, inputs)?;
        let mut found = Vec::new();
        while let Some((file, _)) = walk.next_file()? {
            found.push(file.strip_prefix(path).unwrap().display().to_string());
        }
        Ok(found)
    }

    #[test]
    fn a_directory_is_walked_in_path_order_one_directory_at_a_time() {
        let scratch = Scratch::new("order");
        for path in [
            "b-x.jsonl",
            "b/c.json",
            "a.jsonl",
            "b/a/z.jsonl",
            "notes.txt",
            "é.jsonl",
        ] {
            scratch.file(path);
        }
        let inputs = check(&[&scratch.0]).unwrap();
        let found = walked(&inputs).unwrap();
        // The order of `PathBuf`'s sort, component by component: what a resume finds again.
        let mut sorted: Vec<PathBuf> = found.iter().map(PathBuf::from).collect();
        sorted.sort();
        assert_eq!(
            found,
            ["a.jsonl", "b/a/z.jsonl", "b/c.json", "b-x.jsonl", "é.jsonl"]
        );
        assert_eq!(
            found,
            sorted
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_never_read_a_file_twice() {
        let scratch = Scratch::new("links");
        scratch.file("tree/2024/a.jsonl");
        let outside = Scratch::new("links-outside");
        outside.file("o.jsonl");
        // A link to a directory of the tree is not followed: its files are read where they are.
        std::os::unix::fs::symlink(scratch.0.join("tree/2024"), scratch.0.join("tree/latest"))
            .unwrap();
        // A link to a directory outside is followed, once.
        std::os::unix::fs::symlink(&outside.0, scratch.0.join("tree/o1")).unwrap();
        let inputs = check(&[&scratch.0.join("tree")]).unwrap();
        assert_eq!(walked(&inputs).unwrap(), ["2024/a.jsonl", "o1/o.jsonl"]);
        // A second way to a file outside reads it twice: refused, naming both.
        std::os::unix::fs::symlink(outside.0.join("o.jsonl"), scratch.0.join("tree/p.jsonl"))
            .unwrap();
        let inputs = check(&[&scratch.0.join("tree")]).unwrap();
        let refused = walked(&inputs).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("are the same input: each is read once")
                && refused.to_string().contains("p.jsonl"),
            "{}",
            refused.to_string()
        );
        // So is a link to a file that is read where it is.
        std::fs::remove_file(scratch.0.join("tree/p.jsonl")).unwrap();
        std::os::unix::fs::symlink(
            scratch.0.join("tree/2024/a.jsonl"),
            scratch.0.join("tree/z.jsonl"),
        )
        .unwrap();
        let inputs = check(&[&scratch.0.join("tree")]).unwrap();
        assert!(walked(&inputs).is_err());
    }

    #[test]
    fn inputs_that_hold_one_another_are_refused_before_anything_is_read() {
        let scratch = Scratch::new("overlap");
        let file = scratch.file("calls/a.jsonl");
        let calls = scratch.0.join("calls");
        for inputs in [
            vec![calls.as_path(), file.as_path()],
            vec![file.as_path(), scratch.0.as_path()],
            vec![file.as_path(), file.as_path()],
            vec![Path::new("-"), Path::new("-")],
        ] {
            let refused = check(&inputs).unwrap_err();
            assert!(
                refused
                    .to_string()
                    .ends_with("are the same input: each is read once"),
                "{inputs:?}: {refused}"
            );
        }
        assert!(check(&[&file, Path::new("-")]).is_ok());
        let missing = check(&[&scratch.0.join("missing.jsonl")]).unwrap_err();
        assert!(missing.to_string().starts_with("cannot read "), "{missing}");
    }

    #[test]
    #[cfg(feature = "object-store")]
    fn urls_that_hold_one_another_are_refused() {
        let mut stores = Stores::new(|name| (name == "AWS_REGION").then(|| "us-east-1".to_owned()));
        let urls =
            |list: &[&str]| -> Vec<Input> { list.iter().map(|url| Input::url(*url)).collect() };
        for list in [
            ["s3://b/calls/", "s3://b/calls/2024/a.jsonl"],
            ["s3://b", "s3://b/calls/"],
            ["s3://b/calls/a.jsonl", "s3://b/calls/a.jsonl"],
        ] {
            let refused = Inputs::check(urls(&list), &mut stores).unwrap_err();
            assert!(
                refused.to_string().contains("are the same input"),
                "{list:?}"
            );
        }
        let apart = Inputs::check(urls(&["s3://b/calls/", "s3://b/calls-old/"]), &mut stores);
        assert!(apart.is_ok());
        let inputs = apart.unwrap();
        assert!(inputs.reads_object("s3://b/calls/x/a.json").is_some());
        assert!(inputs.reads_object("s3://b/calls/x/a.txt").is_none());
        assert!(inputs.reads_object("s3://b/callsx/a.json").is_none());
    }
}
