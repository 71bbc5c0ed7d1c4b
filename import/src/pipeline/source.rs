//! Reading the inputs of an import, one after the other, as the [`listing`](super::listing)
//! finds them.
//!
//! An input is a file, a directory (its `*.jsonl` and `*.json` files, recursively, in path
//! order), standard input, or object storage ([`objects`]: one object, or every object under a
//! prefix, in key order). Each is read as the format its first bytes show (or `--format` says):
//! JSON Lines are handed over in chunks of whole lines, streamed; a vendor document (one
//! conversation) is read whole. A Contact Lens copy whose other copy is the one chosen, and is
//! among the inputs, is left aside unread ([`copies`](super::copies)). Local inputs are walked
//! and read on a blocking thread, objects listed and read by an async task, and everything goes
//! through a bounded channel: a slow input never stalls the tasks that send, and no more than a
//! few chunks or documents are held, however large the input or the tree.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt as _;
use tokio::sync::mpsc;

use super::copies::Copies;
use super::listing::{Given, Inputs, Walk, is_transcript};
use super::objects::{self, Object, Place};
use crate::Error;
use crate::formats::{self, Format};

/// Where an input lives.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    Stdin,
    /// Bytes or a reader the caller gave, with their size when known.
    Given {
        name: Arc<str>,
        size: Option<u64>,
    },
    /// The path as given (or as found in a folder given).
    File(Box<Path>),
    Object(Box<Object>),
}

/// One input.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) location: Location,
    /// How the checkpoint names it: the canonical path (so that it does not depend on how the path
    /// was typed), the URL, or `stdin`.
    pub(crate) key: Arc<str>,
    /// What the checkpoint checks it by besides: an object's ETag or version.
    pub(crate) version: Option<Arc<str>>,
}

impl Source {
    /// How messages name it: the path as given, the URL, or `stdin`.
    pub(crate) fn name(&self) -> Cow<'_, str> {
        match &self.location {
            Location::Stdin => Cow::Borrowed("stdin"),
            Location::Given { name, .. } => Cow::Borrowed(name),
            Location::File(path) => path.to_string_lossy(),
            Location::Object(object) => Cow::Borrowed(&object.url),
        }
    }

    /// Its size in bytes, when known before reading.
    pub(crate) fn size(&self) -> Option<u64> {
        match &self.location {
            Location::Stdin => None,
            Location::Given { size, .. } => *size,
            Location::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Location::Object(object) => Some(object.size),
        }
    }
}

fn local(path: &Path, canonical: &Path) -> Source {
    Source {
        key: canonical.display().to_string().into(),
        version: None,
        location: Location::File(path.into()),
    }
}

/// What the reading hands over, in order.
#[derive(Debug)]
pub(crate) enum Read {
    /// The next input, numbered from 0 in the order the reading reaches them. What follows, up
    /// to its `End`, is of this input; nothing follows an input `left_aside` (a Contact Lens
    /// copy whose other copy, the one chosen, is among the inputs).
    Input {
        index: usize,
        source: Source,
        left_aside: bool,
    },
    /// Whole lines of JSON Lines (each with its newline, but maybe the input's last), the first
    /// of them numbered `first_line`.
    Lines { first_line: usize, text: Vec<u8> },
    /// The input is one document, whole.
    Document { bytes: Vec<u8> },
    /// The input is read to its end.
    End,
    /// Every input was reached: the listing is over.
    Listed,
    /// Reading failed; nothing more comes.
    Failed(Error),
}

/// Chunks of lines are cut after the line that makes them this long; the format is told from
/// this many first bytes.
const CHUNK: usize = 64 * 1024;

/// Chunks or documents waiting to be taken: what the reading reads ahead, at the most.
const AHEAD: usize = 8;

/// The reading's end of the channel.
#[derive(Debug)]
pub(crate) struct Reader {
    reads: mpsc::Receiver<Read>,
}

impl Reader {
    /// Starts finding and reading `inputs`, one after the other; `format` forces a format for
    /// all; `copies` says which Contact Lens copies are left aside.
    pub(crate) fn start(inputs: Arc<Inputs>, format: Option<Format>, copies: Copies) -> Self {
        let (send, reads) = mpsc::channel(AHEAD);
        tokio::spawn(async move {
            let mut reading = Feed {
                inputs,
                format,
                copies,
                next: 0,
                given: 0,
                listed: false,
            };
            for given in 0..reading.inputs.given.len() {
                reading.given = given;
                let read = match &reading.inputs.given[given] {
                    Given::Objects(place) => {
                        let place = place.clone();
                        reading.objects(&place, &send).await
                    }
                    Given::Bytes { .. } | Given::Reader { .. } => {
                        reading.given_input(given, &send).await
                    }
                    Given::Directory { .. } | Given::File { .. } | Given::Stdin => {
                        let send = send.clone();
                        // Not joined when abandoned: a thread blocked reading standard input
                        // ends with the process; any other ends at the first chunk it cannot
                        // hand over.
                        let (back, read) = tokio::task::spawn_blocking(move || {
                            let read = reading.local(given, &send);
                            (reading, read)
                        })
                        .await
                        .map_or_else(|_| (None, Err(Stop)), |(r, read)| (Some(r), read));
                        match back {
                            Some(back) => {
                                reading = back;
                                read
                            }
                            None => return,
                        }
                    }
                };
                if read.is_err() {
                    return;
                }
            }
            if !reading.listed {
                let _ = send.send(Read::Listed).await;
            }
        });
        Self { reads }
    }

    /// What was read next; `None` once everything was.
    pub(crate) async fn next(&mut self) -> Option<Read> {
        self.reads.recv().await
    }
}

/// What the reading task feeds the channel from: the inputs, and the number of the next input
/// it reaches.
struct Feed {
    inputs: Arc<Inputs>,
    format: Option<Format>,
    copies: Copies,
    next: usize,
    /// The input given being read.
    given: usize,
    /// Whether `Listed` was handed over: with the last input, as soon as it is known to be.
    listed: bool,
}

impl Feed {
    /// The input `source` reached, and `Listed` after it when it is the `last` of the input
    /// given being read and that is the last given.
    fn announce(&mut self, source: Source, left_aside: bool, last: bool) -> Vec<Read> {
        let index = self.next;
        self.next += 1;
        let mut reads = vec![Read::Input {
            index,
            source,
            left_aside,
        }];
        if last && self.given + 1 == self.inputs.given.len() {
            self.listed = true;
            reads.push(Read::Listed);
        }
        reads
    }

    /// Reads the local input `given` (a file, a directory walked, or standard input), on a
    /// blocking thread.
    fn local(&mut self, given: usize, send: &mpsc::Sender<Read>) -> Result<(), Stop> {
        let failed = |failure: Error| {
            let _ = send.blocking_send(Read::Failed(failure));
            Stop
        };
        let inputs = self.inputs.clone();
        match &inputs.given[given] {
            Given::Stdin => {
                let source = Source {
                    location: Location::Stdin,
                    key: "stdin".into(),
                    version: None,
                };
                for read in self.announce(source, false, true) {
                    hand_over(send, read)?;
                }
                read_local("stdin", None, self.format, send)
            }
            Given::File { path, canonical } => self.file(path, canonical, true, send),
            Given::Directory { path, canonical } => {
                let mut walk = Walk::new(path, canonical, &inputs).map_err(failed)?;
                let mut next = walk.next_file().map_err(failed)?;
                while let Some((path, canonical)) = next {
                    // One ahead, to know the last.
                    next = walk.next_file().map_err(failed)?;
                    self.file(&path, &canonical, next.is_none(), send)?;
                }
                Ok(())
            }
            Given::Objects(_) | Given::Bytes { .. } | Given::Reader { .. } => Ok(()),
        }
    }

    /// Reads the bytes or the reader given as input `given`.
    async fn given_input(&mut self, given: usize, send: &mpsc::Sender<Read>) -> Result<(), Stop> {
        let inputs = self.inputs.clone();
        let (name, chunks, size): (Arc<str>, Chunks, Option<u64>) = match &inputs.given[given] {
            Given::Bytes { name, bytes } => {
                let chunk = Ok(bytes.clone());
                let chunks = futures_util::stream::once(std::future::ready(chunk)).boxed();
                (name.as_str().into(), chunks, Some(bytes.len() as u64))
            }
            Given::Reader { name, reader } => {
                let taken = reader
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                let Some(reader) = taken else {
                    let error = Error::internal(format!("{name}: the reader was read already"));
                    let _ = send.send(Read::Failed(error)).await;
                    return Err(Stop);
                };
                let shown: Arc<str> = name.as_str().into();
                let named = shown.clone();
                let chunks = tokio_util::io::ReaderStream::with_capacity(reader, CHUNK)
                    .map(move |chunk| {
                        chunk.map_err(|e| {
                            Error::input(named.to_string(), format!("{named}: cannot read: {e}"))
                        })
                    })
                    .boxed();
                (shown, chunks, None)
            }
            _ => return Ok(()),
        };
        let source = Source {
            key: name.clone(),
            version: None,
            location: Location::Given {
                name: name.clone(),
                size,
            },
        };
        for read in self.announce(source, false, true) {
            send.send(read).await.map_err(|_| Stop)?;
        }
        read_chunks(&name, chunks, self.format, send).await
    }

    /// Reads the local file at `path`, unless it is a copy left aside; `last` of its input given.
    fn file(
        &mut self,
        path: &Path,
        canonical: &Path,
        last: bool,
        send: &mpsc::Sender<Read>,
    ) -> Result<(), Stop> {
        let name = path.to_string_lossy();
        let left_aside = self.copies.chosen_elsewhere(&name).is_some_and(|chosen| {
            let chosen = Path::new(&chosen);
            chosen.is_file()
                && std::fs::canonicalize(chosen).is_ok_and(|c| self.inputs.reads_file(&c))
        });
        for read in self.announce(local(path, canonical), left_aside, last) {
            hand_over(send, read)?;
        }
        if left_aside {
            return Ok(());
        }
        read_local(&name, Some(path.to_path_buf()), self.format, send)
    }

    /// Lists the objects `place` names and reads each, unless it is a copy left aside.
    async fn objects(&mut self, place: &Place, send: &mpsc::Sender<Read>) -> Result<(), Stop> {
        let failed = |failure: Error| async move {
            let _ = send.send(Read::Failed(failure)).await;
            Stop
        };
        // Under a prefix, the transcripts; a URL of one object, that object.
        let listed = place.objects().filter(|object| {
            let keep = !place.is_prefix()
                || object
                    .as_ref()
                    .map_or(true, |object| is_transcript(&object.url));
            std::future::ready(keep)
        });
        let mut objects = std::pin::pin!(listed);
        let mut next = objects.next().await;
        let mut found = false;
        while let Some(object) = next {
            let object = match object {
                Ok(object) => object,
                Err(failure) => return Err(failed(failure).await),
            };
            // One ahead, to know the last.
            next = objects.next().await;
            found = true;
            let left_aside = match self.copies.chosen_elsewhere(&object.url) {
                Some(chosen) => match self.inputs.reads_object(&chosen) {
                    Some(there) => match there.exists(&chosen).await {
                        Ok(exists) => exists,
                        Err(failure) => return Err(failed(failure).await),
                    },
                    None => false,
                },
                None => false,
            };
            let source = Source {
                key: object.url.clone(),
                version: object
                    .e_tag
                    .as_deref()
                    .or(object.version.as_deref())
                    .map(Arc::from),
                location: Location::Object(Box::new(object.clone())),
            };
            for read in self.announce(source, left_aside, next.is_none()) {
                send.send(read).await.map_err(|_| Stop)?;
            }
            if !left_aside {
                read_object(&object, self.format, send).await?;
            }
        }
        if !found {
            let url = place.url();
            return Err(failed(Error::input(
                url.to_string(),
                format!("{url}: no *.jsonl or *.json object under this prefix"),
            ))
            .await);
        }
        Ok(())
    }
}

/// The reading stops: the other end is gone, or reading failed (which was handed over).
struct Stop;

/// Whether the source `name`, which starts with `head`, is JSON Lines: `--format` says so, or
/// it is named `*.jsonl`, or it is empty, or one of its first lines is a transcript line (so
/// that a bad first line is one invalid line, not the whole file refused as a document).
fn is_lines(name: &str, head: &[u8], format: Option<Format>) -> bool {
    match format {
        Some(format) => format == Format::Jsonl,
        None => {
            name.ends_with(".jsonl")
                || head.iter().all(u8::is_ascii_whitespace)
                || std::iter::once(head)
                    .chain(head.split(|b| *b == b'\n').skip(1).take(2))
                    .any(formats::is_jsonl)
        }
    }
}

/// The largest document read whole; past it, the input is refused rather than held.
const DOCUMENT_LIMIT: u64 = 256 * 1024 * 1024;

fn too_large(name: &str) -> String {
    format!(
        "{name}: not JSON Lines, and larger than the {} MiB a document may be (if it is JSON \
         Lines, say so with --format jsonl)",
        DOCUMENT_LIMIT / 1024 / 1024
    )
}

/// Reads the file at `path`, or standard input.
fn read_local(
    name: &str,
    path: Option<PathBuf>,
    format: Option<Format>,
    send: &mpsc::Sender<Read>,
) -> Result<(), Stop> {
    let failed = |message: String| {
        let _ = send.blocking_send(Read::Failed(Error::input(name, message)));
        Stop
    };
    let mut input: Box<dyn std::io::Read> = match path {
        Some(path) => {
            Box::new(File::open(&path).map_err(|e| failed(format!("cannot read {name}: {e}")))?)
        }
        None => Box::new(std::io::stdin()),
    };
    let mut head = Vec::with_capacity(CHUNK);
    input
        .by_ref()
        .take(CHUNK as u64)
        .read_to_end(&mut head)
        .map_err(|e| failed(format!("cannot read {name}: {e}")))?;
    if is_lines(name, &head, format) {
        let reader = BufReader::with_capacity(CHUNK, std::io::Cursor::new(head).chain(input));
        read_lines(name, reader, send)
    } else {
        input
            .take(DOCUMENT_LIMIT)
            .read_to_end(&mut head)
            .map_err(|e| failed(format!("cannot read {name}: {e}")))?;
        if head.len() as u64 >= DOCUMENT_LIMIT {
            return Err(failed(too_large(name)));
        }
        hand_over(send, Read::Document { bytes: head })?;
        hand_over(send, Read::End)
    }
}

fn hand_over(send: &mpsc::Sender<Read>, read: Read) -> Result<(), Stop> {
    send.blocking_send(read).map_err(|_| Stop)
}

/// Hands over one source's lines in chunks.
fn read_lines(name: &str, mut reader: impl BufRead, send: &mpsc::Sender<Read>) -> Result<(), Stop> {
    let mut first_line = 1;
    let mut lines = 0;
    let mut text = Vec::with_capacity(CHUNK + 1024);
    loop {
        match reader.read_until(b'\n', &mut text) {
            Ok(0) => break,
            Ok(_) => lines += 1,
            Err(e) => {
                let failure = Error::input(
                    name,
                    format!("{name}:{}: cannot read: {e}", first_line + lines),
                );
                let _ = send.blocking_send(Read::Failed(failure));
                return Err(Stop);
            }
        }
        if text.len() >= CHUNK {
            let chunk = std::mem::replace(&mut text, Vec::with_capacity(CHUNK + 1024));
            hand_over(
                send,
                Read::Lines {
                    first_line,
                    text: chunk,
                },
            )?;
            first_line += lines;
            lines = 0;
        }
    }
    if !text.is_empty() {
        hand_over(send, Read::Lines { first_line, text })?;
    }
    hand_over(send, Read::End)
}

/// Chunks of an input's bytes, as they are read.
type Chunks = futures_util::stream::BoxStream<'static, Result<bytes::Bytes, Error>>;

async fn read_object(
    object: &Object,
    format: Option<Format>,
    send: &mpsc::Sender<Read>,
) -> Result<(), Stop> {
    match objects::open(object).await {
        Ok(chunks) => read_chunks(&object.url, chunks.boxed(), format, send).await,
        Err(failure) => {
            let _ = send.send(Read::Failed(failure)).await;
            Err(Stop)
        }
    }
}

/// Hands over the input `name`, read in `chunks`: in chunks of whole lines, or whole as one
/// document.
async fn read_chunks(
    name: &str,
    mut chunks: Chunks,
    format: Option<Format>,
    send: &mpsc::Sender<Read>,
) -> Result<(), Stop> {
    let give = |read: Read| async move { send.send(read).await.map_err(|_| Stop) };
    let failed = |failure: Error| async move {
        let _ = send.send(Read::Failed(failure)).await;
        Stop
    };
    // The first bytes, to tell the format.
    let mut head = Vec::with_capacity(CHUNK);
    let mut ended = false;
    while head.len() < CHUNK {
        match chunks.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(failure)) => return Err(failed(failure).await),
            None => {
                ended = true;
                break;
            }
        }
    }
    if !is_lines(name, &head, format) {
        while !ended {
            match chunks.next().await {
                Some(Ok(chunk)) => head.extend_from_slice(&chunk),
                Some(Err(failure)) => return Err(failed(failure).await),
                None => ended = true,
            }
            if head.len() as u64 >= DOCUMENT_LIMIT {
                return Err(failed(Error::input(name, too_large(name))).await);
            }
        }
        give(Read::Document { bytes: head }).await?;
        return give(Read::End).await;
    }
    // Lines: whole ones go over in chunks; the part after the last newline waits for the next.
    let mut first_line = 1;
    let mut text = head;
    loop {
        if text.len() >= CHUNK || ended {
            let cut = if ended {
                text.len()
            } else {
                text.iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |at| at + 1)
            };
            if cut > 0 {
                let rest = text.split_off(cut);
                let lines = text.iter().filter(|b| **b == b'\n').count();
                let whole = std::mem::replace(&mut text, rest);
                give(Read::Lines {
                    first_line,
                    text: whole,
                })
                .await?;
                first_line += lines;
            }
        }
        if ended {
            return give(Read::End).await;
        }
        match chunks.next().await {
            Some(Ok(chunk)) => text.extend_from_slice(&chunk),
            Some(Err(failure)) => return Err(failed(failure).await),
            None => ended = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::copies::Copies;
    use super::super::objects::Stores;
    use super::*;
    use crate::formats::CopyKind;

    /// The reading of the one input `path`.
    fn reader(path: &Path) -> Reader {
        let inputs =
            Inputs::check(vec![crate::Input::path(path)], &mut Stores::new(|_| None)).unwrap();
        Reader::start(
            Arc::new(inputs),
            None,
            Copies::new(CopyKind::Redacted, None),
        )
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_stalled_input_does_not_stall_the_runtime() {
        // A named pipe whose writer writes more than a chunk of lines, then waits for a ping
        // from a task on this one-thread runtime before it ends the input. The first chunk
        // comes while the reading waits for more of the pipe; were that wait on the runtime's
        // thread, the ping could not be sent, and the writer would give up after 10 s.
        const LINES: usize = 1_000;
        let dir = std::env::temp_dir().join(format!("asapp-stall-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("calls.jsonl");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (ping, pinged) = std::sync::mpsc::channel::<()>();
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                use std::io::Write as _;
                let line = b"{\"externalId\":\"x\",\"customerId\":\"c\",\"role\":\"customer\",\"senderId\":\"c\",\"text\":\"hi\",\"timestamp\":\"2024-01-23T11:42:42Z\"}\n";
                assert!(line.len() * LINES > CHUNK);
                // Opened for reading too, which on Linux never waits for the other end, so
                // that the import may open it once to check it and again to read it. The input
                // ends when this end closes: after the ping, or after 10 s without one.
                let mut pipe = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&fifo)
                    .unwrap();
                for _ in 0..LINES {
                    pipe.write_all(line).unwrap();
                }
                pinged
                    .recv_timeout(std::time::Duration::from_secs(10))
                    .is_ok()
            })
        };
        let mut reader = reader(&fifo);
        let count = |text: &[u8]| {
            text.split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .count()
        };
        assert!(matches!(reader.next().await, Some(Read::Input { .. })));
        // The one input given is the last.
        assert!(matches!(reader.next().await, Some(Read::Listed)));
        let mut lines = match reader.next().await {
            Some(Read::Lines { text, .. }) => count(&text),
            other => panic!("{other:?}"),
        };
        tokio::spawn(async move { ping.send(()) })
            .await
            .unwrap()
            .unwrap();
        while let Some(read) = reader.next().await {
            match read {
                Read::Lines { text, .. } => lines += count(&text),
                Read::End => break,
                other => panic!("{other:?}"),
            }
        }
        assert!(
            writer.join().unwrap(),
            "the ping came only after the reading gave up"
        );
        assert_eq!(lines, LINES);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn lines_come_whole_and_numbered_in_chunks_and_a_document_comes_whole() {
        let dir = std::env::temp_dir().join(format!("asapp-source-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        let file = dir.join("a.jsonl");
        let line = |i| {
            format!(
                r#"{{"externalId":"x","customerId":"c","role":"customer","senderId":"c","text":"line {i}","timestamp":"2024-01-23T11:42:42Z"}}"#
            )
        };
        let text: String = (0..2000).map(|i| line(i) + "\n").collect::<String>() + "last";
        std::fs::write(&file, &text).unwrap();
        std::fs::write(dir.join("nested/b.json"), r#"{"Transcript": []}"#).unwrap();
        std::fs::write(dir.join("nested/ignored.txt"), "not an input").unwrap();
        let mut reader = reader(&dir);
        let mut names = Vec::new();
        let mut seen = Vec::new();
        let mut ends = 0;
        let mut documents = Vec::new();
        let mut listed = false;
        while let Some(read) = reader.next().await {
            match read {
                Read::Input { index, source, .. } => {
                    assert_eq!(index, names.len());
                    names.push(source.name().rsplit('/').next().unwrap().to_owned());
                }
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
                Read::Document { bytes } => documents.push((names.len() - 1, bytes)),
                Read::End => ends += 1,
                Read::Listed => listed = true,
                Read::Failed(f) => panic!("{f}"),
            }
        }
        assert_eq!(names, ["a.jsonl", "b.json"]);
        assert_eq!(ends, 2);
        assert!(listed);
        assert_eq!(seen.len(), 2001);
        assert!(seen.iter().enumerate().all(|(i, (n, _))| *n == i + 1));
        assert_eq!(seen[2000].1, "last");
        assert!(seen[7].1.contains(r#""line 7""#));
        assert_eq!(documents, [(1, br#"{"Transcript": []}"#.to_vec())]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
