//! [`Import`]: what to import and how, built up and then run; [`Input`]: one thing to read.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use asapp_conversations::Client;
use asapp_conversations::chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::formats::{CopyKind, Format, RoleMap};
use crate::observe::{Observer, Silent};
use crate::pipeline::{StorageFactory, file_storage};
use crate::{Error, Summary};

/// One input of an import, read whole, in the order given.
///
/// A directory is walked for its `*.jsonl` and `*.json` files, and an object-storage prefix
/// listed for its objects so named, each of those an input of its own, in path or key order.
/// Each input is read as the format its first bytes show (or [`Import::format`] says): JSON
/// Lines are streamed, and a vendor document (one conversation) is read whole.
///
/// Every input has a stable name: the checkpoint records the inputs by it, in order, and a
/// resume must find the same ones again. A path's name is its canonical path, an object's its
/// URL, and an input held in memory or read from a reader has the name it is given.
pub struct Input(pub(crate) InputKind);

/// What an [`Input`] is.
pub(crate) enum InputKind {
    /// A file or a directory, as given.
    Path(PathBuf),
    /// An object, or a prefix, in object storage.
    #[cfg_attr(not(feature = "object-store"), allow(dead_code))]
    Url(String),
    /// Bytes held in memory: a vendor document or JSON Lines.
    Bytes { name: String, bytes: bytes::Bytes },
    /// A reader, read to its end.
    Reader {
        name: String,
        reader: Box<dyn tokio::io::AsyncRead + Send + Unpin>,
    },
    /// The process's standard input.
    Stdin,
}

impl Input {
    /// A file, or a directory walked recursively for its `*.jsonl` and `*.json` files.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Self(InputKind::Path(path.into()))
    }

    /// An object (`s3://bucket/key.json`) or every `*.jsonl` and `*.json` object under a prefix
    /// (`s3://bucket/prefix/`), in S3 (`s3://`), Google Cloud Storage (`gs://`) or Azure Blob
    /// Storage (`az://`). The stores are configured from the variables
    /// [`Import::environment`] looks up.
    #[cfg(feature = "object-store")]
    #[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
    pub fn url(url: impl Into<String>) -> Self {
        Self(InputKind::Url(url.into()))
    }

    /// A vendor document, or JSON Lines, held in memory; `name` names it in the checkpoint and
    /// in reports (a Contact Lens file's name can give its contact id and start time).
    pub fn bytes(name: impl Into<String>, bytes: impl Into<bytes::Bytes>) -> Self {
        Self(InputKind::Bytes {
            name: name.into(),
            bytes: bytes.into(),
        })
    }

    /// A vendor document, or JSON Lines, read from `reader` to its end, streamed; `name` names
    /// it in the checkpoint and in reports. A resume must give the same content again.
    pub fn reader(
        name: impl Into<String>,
        reader: impl tokio::io::AsyncRead + Send + Unpin + 'static,
    ) -> Self {
        Self(InputKind::Reader {
            name: name.into(),
            reader: Box::new(reader),
        })
    }

    /// The process's standard input, named `stdin`.
    pub fn stdin() -> Self {
        Self(InputKind::Stdin)
    }

    /// How reports name it before it is read.
    pub(crate) fn name(&self) -> String {
        match &self.0 {
            InputKind::Path(path) => path.display().to_string(),
            InputKind::Url(url) => url.clone(),
            InputKind::Bytes { name, .. } | InputKind::Reader { name, .. } => name.clone(),
            InputKind::Stdin => "stdin".to_owned(),
        }
    }
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Input").field(&self.name()).finish()
    }
}

impl From<&Path> for Input {
    fn from(path: &Path) -> Self {
        Self::path(path)
    }
}

impl From<PathBuf> for Input {
    fn from(path: PathBuf) -> Self {
        Self::path(path)
    }
}

/// An import: the inputs, the checkpoint, and how to read and send them. Built with
/// [`Import::new`] and the methods below, then [`Import::execute`].
///
/// The promises are the command's (`asapp import`, whose flag each method names): every
/// message is stored exactly once, across kills and power failures, by resuming with the same
/// inputs and settings; each conversation's messages are sent in timestamp order, in batches
/// of at most 300; and nothing that reports on the import holds the text of a message.
#[must_use = "an import does nothing until it is executed"]
pub struct Import {
    pub(crate) client: Client,
    pub(crate) inputs: Vec<Input>,
    pub(crate) checkpoint: PathBuf,
    pub(crate) resume: bool,
    pub(crate) strict: bool,
    pub(crate) concurrency: usize,
    pub(crate) batch_size: usize,
    pub(crate) window: usize,
    pub(crate) sync: bool,
    pub(crate) format: Option<Format>,
    pub(crate) role_map: RoleMap,
    pub(crate) base_time: Option<DateTime<Utc>>,
    pub(crate) contact_lens_copy: CopyKind,
    pub(crate) contact_records: Vec<PathBuf>,
    pub(crate) settle: Duration,
    pub(crate) grace: Duration,
    pub(crate) observer: Arc<dyn Observer>,
    pub(crate) cancel: CancellationToken,
    pub(crate) storage: StorageFactory,
    pub(crate) environment: Environment,
}

/// Where the object stores' settings are looked up.
type Environment = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

impl std::fmt::Debug for Import {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Import")
            .field("inputs", &self.inputs)
            .field("checkpoint", &self.checkpoint)
            .field("resume", &self.resume)
            .finish_non_exhaustive()
    }
}

impl Import {
    /// An import through `client`, recorded in the checkpoint at `checkpoint` (a new file, or
    /// with [`Import::resume`] the file of the import to go on with). For a long import, give
    /// the client a retry policy that rides out rate limits
    /// (`RetryPolicy::asapp().with_rate_limited_retries_until_deadline()`) and an adaptive rate
    /// limit.
    pub fn new(client: Client, checkpoint: impl Into<PathBuf>) -> Self {
        Self {
            client,
            inputs: Vec::new(),
            checkpoint: checkpoint.into(),
            resume: false,
            strict: false,
            concurrency: 8,
            batch_size: 300,
            window: 10_000,
            sync: true,
            format: None,
            role_map: RoleMap::default(),
            base_time: None,
            contact_lens_copy: CopyKind::Redacted,
            contact_records: Vec::new(),
            settle: Duration::from_secs(30),
            grace: Duration::from_secs(30),
            observer: Arc::new(Silent),
            cancel: CancellationToken::new(),
            storage: file_storage(),
            environment: Arc::new(|name| std::env::var(name).ok()),
        }
    }

    /// Adds an input, read after those added before.
    pub fn input(mut self, input: impl Into<Input>) -> Self {
        self.inputs.push(input.into());
        self
    }

    /// Adds inputs, read in order after those added before.
    pub fn inputs(mut self, inputs: impl IntoIterator<Item = Input>) -> Self {
        self.inputs.extend(inputs);
        self
    }

    /// Goes on with the import the checkpoint records (`--resume`): the same inputs, in the same
    /// order, read with the same settings. What was acknowledged is not sent again; batches in
    /// doubt are read back from ASAPP first.
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Stops at the first invalid line, entry or document (`--strict`), instead of reporting it
    /// and going on.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// How many conversations are sent at once (`--concurrency`, default 8).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Messages per batch request, 1 to 300 (`--batch-size`, default 300). A resume must use the
    /// same.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.clamp(1, 300);
        self
    }

    /// How many lines are read ahead to gather a conversation's interleaved lines into one run
    /// (`--window`, default 10,000). A resume must use the same.
    pub fn window(mut self, window: usize) -> Self {
        self.window = window.max(1);
        self
    }

    /// Whether each batch's intent is on stable storage before the batch is sent (default;
    /// `--no-sync` turns it off). Without it a power failure can lose the checkpoint's last
    /// records, and a resume may then send a batch again.
    pub fn sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// Reads every input as `format` (`--format`), instead of each as its content shows.
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Roles for the vendor roles no documented rule maps (`--role-map`).
    pub fn role_map(mut self, role_map: RoleMap) -> Self {
        self.role_map = role_map;
        self
    }

    /// The base of offset times for documents that have none (`--base-time`).
    pub fn base_time(mut self, base_time: DateTime<Utc>) -> Self {
        self.base_time = Some(base_time);
        self
    }

    /// Which of a Contact Lens contact's raw and redacted copies is sent where the inputs hold
    /// both (`--contact-lens-copy`, default redacted).
    pub fn contact_lens_copy(mut self, copy: CopyKind) -> Self {
        self.contact_lens_copy = copy;
        self
    }

    /// Amazon Connect contact records, for Contact Lens files' start times, agents and queues
    /// (`--contact-records`): a file, a directory, an object or a prefix, read before any
    /// input.
    pub fn contact_records(mut self, path_or_url: impl Into<PathBuf>) -> Self {
        self.contact_records.push(path_or_url.into());
        self
    }

    /// How long a request of an import that stopped may still take to be stored (`--settle`,
    /// default 30 s): a resume reads a batch in doubt back only that long after the import that
    /// sent it stopped.
    pub fn settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// How long the batches in flight may take to be answered once the import is cancelled
    /// (default 30 s, the client's attempt timeout); those that are not stay in doubt.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// What is told of the import as it goes: its progress, what was invalid, what a resume
    /// found. Nothing by default.
    pub fn observer(mut self, observer: impl Observer + 'static) -> Self {
        self.observer = Arc::new(observer);
        self
    }

    /// Stops the import when `token` is cancelled: no new batch is sent, the batches in flight
    /// have [`Import::grace`] to be answered and recorded, and [`Import::execute`] returns
    /// [`Error::Cancelled`].
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// How the checkpoint's file is written (default: [`file_storage`]); tests put a
    /// [`crate::Storage`] there that fails on cue.
    pub fn storage(mut self, storage: StorageFactory) -> Self {
        self.storage = storage;
        self
    }

    /// Where the object stores' settings (`AWS_*`, `GOOGLE_*`, `AZURE_*`) are looked up
    /// (default: the process's environment).
    pub fn environment(
        mut self,
        environment: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.environment = Arc::new(environment);
        self
    }

    /// Runs the import: every input read in order, its lines cut into runs, the runs sent, and
    /// each batch recorded. Returns what it did, or why it stopped.
    pub async fn execute(self) -> Result<Summary, Error> {
        crate::pipeline::execute(self).await
    }
}
