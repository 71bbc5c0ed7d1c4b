//! The checkpoint's file as an append-only journal, written on a thread of its own so that the
//! import's async tasks never block on the disk.
//!
//! A record appended with [`Journal::append_durably`] is on stable storage when the call
//! returns: the writer thread writes it, then syncs the file's data (`fdatasync`). Records that
//! arrive while a sync runs are written together after it and covered by one sync (group commit),
//! so several conversations in flight share the cost. [`Journal::append`] writes without waiting;
//! such a record is made durable by the next sync of any record after it, since the thread writes
//! records in the order they are appended and a sync covers everything written before it.
//!
//! Everything goes through [`Storage`], a narrow interface (append, sync) that tests replace
//! with a double recording what was written and synced.

use std::fs::File;
use std::io::{self, Write as _};
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// Where the journal's bytes go: appended, and synced to stable storage on request.
pub trait Storage: Send {
    /// Appends `bytes` at the end.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Returns once everything appended so far survives a power failure.
    fn sync(&mut self) -> io::Result<()>;
}

/// A file as [`Storage`]: `write_all`, then `fdatasync` (`File::sync_data`).
#[derive(Debug)]
pub struct FileStorage(File);

impl FileStorage {
    /// Appends to `file` (opened for writing, positioned at its end).
    pub fn new(file: File) -> Self {
        Self(file)
    }
}

impl Storage for FileStorage {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.write_all(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
}

/// The journal failed to write or sync: every later record fails too.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub(crate) struct JournalError(String);

type Answer = oneshot::Sender<Result<(), JournalError>>;

/// One request to the writer thread.
struct Pending {
    bytes: Vec<u8>,
    /// Answered once the bytes are written, and synced if `durable`.
    done: Option<Answer>,
    durable: bool,
}

/// The writer thread's handle. Dropping it lets the thread finish what was appended.
#[derive(Debug)]
pub(crate) struct Journal {
    entries: mpsc::Sender<Pending>,
    thread: Option<JoinHandle<()>>,
}

impl Journal {
    /// Starts the writer thread over `storage`. With `sync` false, nothing is synced: records
    /// survive a crash of the process, not of the machine (`--no-sync`).
    pub(crate) fn start(storage: Box<dyn Storage>, sync: bool) -> io::Result<Self> {
        let (entries, received) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("asapp-checkpoint".to_owned())
            .spawn(move || write_entries(storage, sync, &received))?;
        Ok(Self {
            entries,
            thread: Some(thread),
        })
    }

    /// Appends `bytes`; returns once they are on stable storage.
    pub(crate) async fn append_durably(&self, bytes: Vec<u8>) -> Result<(), JournalError> {
        let (done, written) = oneshot::channel();
        self.send(Pending {
            bytes,
            done: Some(done),
            durable: true,
        })?;
        written.await.map_err(|_| stopped())?
    }

    /// Appends `bytes` without waiting for them to be written.
    pub(crate) fn append(&self, bytes: Vec<u8>) -> Result<(), JournalError> {
        self.send(Pending {
            bytes,
            done: None,
            durable: false,
        })
    }

    fn send(&self, entry: Pending) -> Result<(), JournalError> {
        self.entries.send(entry).map_err(|_| stopped())
    }

    /// Writes and syncs everything appended, then stops the thread.
    pub(crate) async fn close(mut self) -> Result<(), JournalError> {
        let flushed = self.append_durably(Vec::new()).await;
        let thread = self.thread.take();
        drop(self);
        if let Some(thread) = thread {
            // The thread has nothing left to do: joining it takes no time.
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        flushed
    }
}

fn stopped() -> JournalError {
    JournalError("the checkpoint's writer stopped".to_owned())
}

/// The writer thread: takes every entry waiting, writes them in one go, syncs once if any asked
/// for it, answers them all; until the handle is dropped. After a failure it answers every entry
/// with that failure, and writes nothing more.
fn write_entries(mut storage: Box<dyn Storage>, sync: bool, received: &mpsc::Receiver<Pending>) {
    let mut failed: Option<JournalError> = None;
    let mut bytes = Vec::new();
    let mut waiting = Vec::new();
    while let Ok(first) = received.recv() {
        let mut durable = first.durable;
        bytes.clear();
        bytes.extend_from_slice(&first.bytes);
        waiting.extend(first.done);
        while let Ok(next) = received.try_recv() {
            durable |= next.durable;
            bytes.extend_from_slice(&next.bytes);
            waiting.extend(next.done);
        }
        if failed.is_none() {
            let written = storage.append(&bytes).and_then(|()| {
                if durable && sync {
                    storage.sync()
                } else {
                    Ok(())
                }
            });
            if let Err(error) = written {
                failed = Some(JournalError(error.to_string()));
            }
        }
        let outcome = failed.clone().map_or(Ok(()), Err);
        for done in waiting.drain(..) {
            // A caller that stopped waiting needs no answer.
            let _ = done.send(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What a [`Recorder`] saw, in order.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Event {
        Append(Vec<u8>),
        Sync,
    }

    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Event>>>);

    impl Storage for Recorder {
        fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
            self.0.lock().unwrap().push(Event::Append(bytes.to_vec()));
            Ok(())
        }

        fn sync(&mut self) -> io::Result<()> {
            // A slow disk: records appended meanwhile wait for the next sync.
            std::thread::sleep(std::time::Duration::from_millis(5));
            self.0.lock().unwrap().push(Event::Sync);
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_durable_record_is_synced_and_concurrent_ones_share_a_sync() {
        let recorder = Recorder::default();
        let journal = Arc::new(Journal::start(Box::new(recorder.clone()), true).unwrap());
        let tasks: Vec<_> = (0..16u8)
            .map(|i| {
                let journal = journal.clone();
                let recorder = recorder.clone();
                tokio::spawn(async move {
                    journal.append_durably(vec![i]).await.unwrap();
                    // Written before a sync that came after it.
                    let events = recorder.0.lock().unwrap().clone();
                    let written = events
                        .iter()
                        .position(|e| matches!(e, Event::Append(b) if b.contains(&i)))
                        .unwrap();
                    assert!(events[written..].contains(&Event::Sync), "{i}: {events:?}");
                })
            })
            .collect();
        for task in tasks {
            tokio::time::timeout(std::time::Duration::from_secs(10), task)
                .await
                .unwrap()
                .unwrap();
        }
        let syncs = recorder
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| **e == Event::Sync)
            .count();
        assert!(syncs < 16, "{syncs} syncs for 16 concurrent records");
        Arc::into_inner(journal).unwrap().close().await.unwrap();
    }

    #[tokio::test]
    async fn records_keep_their_order_and_a_failure_sticks() {
        /// Takes this many bytes, then fails.
        struct Failing(Recorder, usize);
        impl Storage for Failing {
            fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
                self.1 = self
                    .1
                    .checked_sub(bytes.len())
                    .ok_or_else(|| io::Error::other("disk full"))?;
                self.0.append(bytes)
            }
            fn sync(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let recorder = Recorder::default();
        let journal = Journal::start(Box::new(Failing(recorder.clone(), 2)), true).unwrap();
        journal.append(b"a".to_vec()).unwrap();
        journal.append_durably(b"b".to_vec()).await.unwrap();
        let appended: Vec<u8> = recorder
            .0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::Append(b) => Some(b.clone()),
                Event::Sync => None,
            })
            .flatten()
            .collect();
        assert_eq!(appended, b"ab");
        let error = journal.append_durably(b"c".to_vec()).await.unwrap_err();
        assert_eq!(error.to_string(), "disk full");
        assert!(journal.append_durably(b"d".to_vec()).await.is_err());
        assert!(journal.close().await.is_err());
    }
}
