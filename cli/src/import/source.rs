//! The inputs of an import, and reading them: files, directories of `*.jsonl` files and
//! standard input, read on a thread of their own and handed over in chunks of whole lines
//! through a bounded channel. A slow input never stalls the tasks that send, and no more than the
//! channel's few chunks are held, however large the input.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::Failure;

/// One input: a file, or standard input.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// The file (`None` for standard input).
    pub(crate) path: Option<PathBuf>,
    /// How messages name it: the path as given, or `stdin`.
    pub(crate) name: String,
    /// How the checkpoint names it: the canonical path, so that it does not depend on how the
    /// path was typed, or `stdin`.
    pub(crate) key: Arc<str>,
}

/// The inputs: directories expand to their `*.jsonl` files, in name order. Every file is
/// opened before anything is sent, and none may be read twice.
pub(crate) fn expand(paths: &[PathBuf]) -> Result<Vec<Source>, Failure> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    let mut sources: Vec<Source> = Vec::with_capacity(files.len());
    for path in files {
        let source = if path == Path::new("-") {
            Source {
                path: None,
                name: "stdin".to_owned(),
                key: "stdin".into(),
            }
        } else {
            let cannot =
                |e: std::io::Error| Failure::usage(format!("cannot read {}: {e}", path.display()));
            File::open(&path).map_err(cannot)?;
            let canonical = std::fs::canonicalize(&path).map_err(cannot)?;
            Source {
                name: path.display().to_string(),
                key: canonical.display().to_string().into(),
                path: Some(path),
            }
        };
        if let Some(twice) = sources.iter().find(|s| s.key == source.key) {
            return Err(Failure::usage(format!(
                "{} and {} are the same input: each is read once",
                twice.name, source.name
            )));
        }
        sources.push(source);
    }
    Ok(sources)
}

/// What the reading thread hands over, in order.
#[derive(Debug)]
pub(crate) enum Read {
    /// Whole lines (each with its newline, but maybe the source's last), of the source at
    /// `source`, the first of them numbered `first_line`.
    Lines {
        source: usize,
        first_line: usize,
        text: Vec<u8>,
    },
    /// The source at `source` is read to its end.
    End { source: usize },
    /// Reading failed; nothing more comes.
    Failed(Failure),
}

/// Chunks are cut after the line that makes them this long.
const CHUNK: usize = 64 * 1024;

/// Chunks waiting to be taken: what the reading thread reads ahead, at the most.
const CHUNKS_AHEAD: usize = 8;

/// The reading thread's end of the channel.
#[derive(Debug)]
pub(crate) struct Reader {
    chunks: mpsc::Receiver<Read>,
}

impl Reader {
    /// Starts reading `sources`, one after the other, on a thread of its own.
    pub(crate) fn start(sources: &[Source]) -> Result<Self, Failure> {
        let (send, chunks) = mpsc::channel(CHUNKS_AHEAD);
        let sources: Vec<(Option<PathBuf>, String)> = sources
            .iter()
            .map(|s| (s.path.clone(), s.name.clone()))
            .collect();
        // Not joined: a thread blocked reading standard input ends with the process; otherwise
        // it ends at the first chunk it cannot hand over.
        std::thread::Builder::new()
            .name("asapp-import-read".to_owned())
            .spawn(move || read_all(&sources, &send))
            .map_err(|e| Failure::usage(format!("cannot start reading: {e}")))?;
        Ok(Self { chunks })
    }

    /// What was read next; `None` once everything was.
    pub(crate) async fn next(&mut self) -> Option<Read> {
        self.chunks.recv().await
    }
}

fn read_all(sources: &[(Option<PathBuf>, String)], send: &mpsc::Sender<Read>) {
    for (index, (path, name)) in sources.iter().enumerate() {
        let reader: Box<dyn BufRead> = match path {
            None => Box::new(BufReader::new(std::io::stdin())),
            Some(path) => match File::open(path) {
                Ok(file) => Box::new(BufReader::with_capacity(CHUNK, file)),
                Err(e) => {
                    let _ = send.blocking_send(Read::Failed(Failure::usage(format!(
                        "cannot read {name}: {e}"
                    ))));
                    return;
                }
            },
        };
        if read_source(index, name, reader, send).is_err() {
            return;
        }
    }
}

/// Hands over one source's lines in chunks; an error when the other end is gone or reading
/// failed (which is handed over).
fn read_source(
    source: usize,
    name: &str,
    mut reader: Box<dyn BufRead>,
    send: &mpsc::Sender<Read>,
) -> Result<(), ()> {
    let mut first_line = 1;
    let mut lines = 0;
    let mut text = Vec::with_capacity(CHUNK + 1024);
    loop {
        match reader.read_until(b'\n', &mut text) {
            Ok(0) => break,
            Ok(_) => lines += 1,
            Err(e) => {
                let failure =
                    Failure::usage(format!("{name}:{}: cannot read: {e}", first_line + lines));
                let _ = send.blocking_send(Read::Failed(failure));
                return Err(());
            }
        }
        if text.len() >= CHUNK {
            let chunk = std::mem::replace(&mut text, Vec::with_capacity(CHUNK + 1024));
            send.blocking_send(Read::Lines {
                source,
                first_line,
                text: chunk,
            })
            .map_err(drop)?;
            first_line += lines;
            lines = 0;
        }
    }
    if !text.is_empty() {
        send.blocking_send(Read::Lines {
            source,
            first_line,
            text,
        })
        .map_err(drop)?;
    }
    send.blocking_send(Read::End { source }).map_err(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_come_whole_and_numbered_in_chunks() {
        let dir = std::env::temp_dir().join(format!("asapp-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.jsonl");
        let line = "x".repeat(1000);
        let text: String = (0..200).map(|i| format!("{i}{line}\n")).collect::<String>() + "last";
        std::fs::write(&file, &text).unwrap();
        let sources = expand(&[file]).unwrap();
        let mut reader = Reader::start(&sources).unwrap();
        let mut seen = Vec::new();
        let mut ended = false;
        while let Some(read) = reader.next().await {
            match read {
                Read::Lines {
                    first_line, text, ..
                } => {
                    assert!(text.len() <= CHUNK + 1100);
                    for (offset, line) in text.split_inclusive(|b| *b == b'\n').enumerate() {
                        seen.push((
                            first_line + offset,
                            String::from_utf8(line.to_vec()).unwrap(),
                        ));
                    }
                }
                Read::End { source } => {
                    assert_eq!(source, 0);
                    ended = true;
                }
                Read::Failed(f) => panic!("{f}"),
            }
        }
        assert!(ended);
        assert_eq!(seen.len(), 201);
        assert!(seen.iter().enumerate().all(|(i, (n, _))| *n == i + 1));
        assert_eq!(seen[200].1, "last");
        assert!(seen[7].1.starts_with("7x"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
