//! The checkpoint against the disk, through a double of its storage that records what was
//! written and synced: no batch leaves before its intent is synced, concurrent intents share
//! syncs, and a power failure (everything after the last sync lost) resumes exactly once.

use std::ffi::OsString;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use asapp_conversations_cli::{Exit, FileStorage, Output, Storage, StorageFactory, run_with};
use serde_json::Value;

use super::support::{
    LIMIT, Order, Scratch, Transcript, asapp_env, assert_once_in_order, default_credentials, empty,
    import_args, serve,
};

/// What reached the disk, as far as the double knows.
#[derive(Debug, Default)]
pub(super) struct Disk {
    /// Bytes appended through the double.
    pub(super) appended: Vec<u8>,
    /// How much of `appended` was synced.
    pub(super) synced: usize,
    /// Intent records within the synced bytes, in all and by conversation.
    pub(super) synced_intents: usize,
    pub(super) synced_by_conversation: std::collections::HashMap<String, usize>,
    pub(super) syncs: usize,
    /// How much of `appended` the first sync covered.
    pub(super) first_sync: Option<usize>,
    /// The power fails after this many syncs, during the next: it and every later write or sync
    /// fail, and what was written since the last sync is lost.
    pub(super) power_fails_after: Option<usize>,
    /// The power failed.
    pub(super) down: bool,
}

/// A [`Storage`] that writes to the real file and records into a shared [`Disk`].
struct Recording {
    file: FileStorage,
    disk: Arc<Mutex<Disk>>,
}

impl Storage for Recording {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut disk = self.disk.lock().unwrap();
        if disk.down {
            return Err(io::Error::other("the power failed"));
        }
        self.file.append(bytes)?;
        disk.appended.extend_from_slice(bytes);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        // A slow disk, so that records pile up behind a sync and requests race it.
        std::thread::sleep(std::time::Duration::from_millis(2));
        let mut disk = self.disk.lock().unwrap();
        if disk.down || disk.power_fails_after.is_some_and(|n| disk.syncs >= n) {
            disk.down = true;
            return Err(io::Error::other("the power failed"));
        }
        self.file.sync()?;
        if disk.first_sync.is_none() {
            disk.first_sync = Some(disk.appended.len());
        }
        let newly = disk.appended[disk.synced..].to_vec();
        for line in newly.split(|b| *b == b'\n') {
            if line.starts_with(br#"{"intent""#) {
                let record: Value = serde_json::from_slice(line).unwrap();
                let conversation = record["intent"]["externalId"].as_str().unwrap().to_owned();
                *disk.synced_by_conversation.entry(conversation).or_default() += 1;
                disk.synced_intents += 1;
            }
        }
        disk.synced = disk.appended.len();
        disk.syncs += 1;
        Ok(())
    }
}

pub(super) fn recording(disk: &Arc<Mutex<Disk>>) -> StorageFactory {
    let disk = disk.clone();
    Arc::new(move |file| {
        Box::new(Recording {
            file: FileStorage::new(file),
            disk: disk.clone(),
        })
    })
}

pub(super) async fn import_with(
    args: &[&str],
    env: &[(&'static str, String)],
    storage: StorageFactory,
) -> super::Ran {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let running = run_with(
        std::iter::once("asapp")
            .chain(args.iter().copied())
            .map(OsString::from),
        |name| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.into()),
        Output::default(),
        storage,
        &mut out,
        &mut err,
    );
    let exit = tokio::time::timeout(LIMIT, running)
        .await
        .expect("the import did not end in time");
    super::Ran {
        exit,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_batch_leaves_before_its_intent_is_synced() {
    // Each batch, when it arrives, must have its conversation's intents synced for it and every
    // batch of that conversation before it. (Counted by conversation: with intents synced ahead
    // of their batches, totals over all conversations could hide one batch that went early.)
    let disk = Arc::new(Mutex::new(Disk::default()));
    let sent = Arc::new(AtomicUsize::new(0));
    let early = Arc::new(AtomicUsize::new(0));
    let by_conversation = Arc::new(Mutex::new(std::collections::HashMap::<String, usize>::new()));
    let router = asapp_conversations_sandbox::router(&empty()).unwrap();
    let app = {
        let (disk, sent, early) = (disk.clone(), sent.clone(), early.clone());
        router.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let (disk, sent, early) = (disk.clone(), sent.clone(), early.clone());
                let by_conversation = by_conversation.clone();
                async move {
                    if !request.uri().path().ends_with("/messages/batch") {
                        return next.run(request).await;
                    }
                    let (parts, body) = request.into_parts();
                    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                    let batch: Value = serde_json::from_slice(&bytes).unwrap();
                    let text = batch["messages"][0]["text"].as_str().unwrap();
                    // Each text ends with its conversation's external id.
                    let conversation = text.rsplit(' ').next().unwrap().to_owned();
                    sent.fetch_add(1, Ordering::SeqCst);
                    let sends = {
                        let mut counts = by_conversation.lock().unwrap();
                        let count = counts.entry(conversation.clone()).or_default();
                        *count += 1;
                        *count
                    };
                    let synced = disk
                        .lock()
                        .unwrap()
                        .synced_by_conversation
                        .get(&conversation)
                        .copied()
                        .unwrap_or(0);
                    if sends > synced {
                        early.fetch_add(1, Ordering::SeqCst);
                    }
                    next.run(axum::extract::Request::from_parts(parts, bytes.into()))
                        .await
                }
            },
        ))
    };
    let env = default_credentials(serve(app).await);
    let scratch = Scratch::new("synced-intents");
    let transcript = Transcript::new("call", 40, 30).said_twice();
    let file = scratch.0.join("calls.jsonl");
    transcript.write(&file, Order::InTurn);
    let checkpoint = scratch.0.join("checkpoint");
    let args = import_args(
        file.to_str().unwrap(),
        checkpoint.to_str().unwrap(),
        &["--batch-size", "5"],
    );
    let ran = import_with(&args, &env, recording(&disk)).await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    let batches = sent.load(Ordering::SeqCst);
    assert_eq!(batches, 40 * 6);
    assert_eq!(
        early.load(Ordering::SeqCst),
        0,
        "batches sent before their intent was synced"
    );
    let (synced_intents, syncs, header) = {
        let disk = disk.lock().unwrap();
        let first = disk.first_sync.unwrap();
        let header = String::from_utf8(disk.appended[..first].to_vec()).unwrap();
        (disk.synced_intents, disk.syncs, header)
    };
    assert_eq!(synced_intents, batches);
    // The checkpoint's header is synced on its own when it is created, before any intent.
    let header: Vec<&str> = header
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        header,
        [r#"{"batchSize""#, r#"{"window""#, r#"{"started""#],
        "the first sync"
    );
    // Eight conversations in flight share syncs; the header and the final flush have their own.
    assert!(syncs < batches, "{syncs} syncs for {batches} batches");
    assert_once_in_order(&transcript, &env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_power_failure_the_resume_stores_every_message_once() {
    let sandbox_router = asapp_conversations_sandbox::router(&empty()).unwrap();
    let env = default_credentials(serve(sandbox_router).await);
    let scratch = Scratch::new("power-failure");
    let transcript = Transcript::new("call", 30, 40).said_twice();
    let file = scratch.0.join("calls.jsonl");
    transcript.write(&file, Order::InTurn);
    let checkpoint = scratch.0.join("checkpoint");
    let args = import_args(
        file.to_str().unwrap(),
        checkpoint.to_str().unwrap(),
        &["--batch-size", "7"],
    );
    let disk = Arc::new(Mutex::new(Disk {
        power_fails_after: Some(40),
        ..Disk::default()
    }));
    let failed = import_with(&args, &env, recording(&disk)).await;
    assert_eq!(failed.exit, Exit::Failed, "{failed:?}");
    assert!(failed.err.contains("the power failed"), "{failed:?}");
    // What the disk holds after the power comes back: what was synced. (The real file also got
    // what was written after the last sync, as the page cache kept it.)
    let synced = disk.lock().unwrap().synced;
    let written = std::fs::metadata(&checkpoint).unwrap().len();
    assert!(
        (synced as u64) < written,
        "something was written after the last sync"
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(&checkpoint)
        .unwrap()
        .set_len(synced as u64)
        .unwrap();

    let resumed = asapp_env(
        &[args.as_slice(), &["--resume", "--settle", "0s"]].concat(),
        &env,
    )
    .await;
    assert_eq!(resumed.exit, Exit::Success, "{resumed:?}");
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        summary["messages"].as_u64().unwrap() + summary["alreadyStored"].as_u64().unwrap(),
        30 * 40,
        "{summary}"
    );
    assert_once_in_order(&transcript, &env).await;
}
