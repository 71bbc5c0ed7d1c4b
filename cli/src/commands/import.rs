//! `asapp import`: a thin shell over [`asapp_conversations_import`]. The command's arguments
//! become an [`Import`]; the client gets the retry and rate-limit settings an import needs;
//! what the import tells ([`Observer`]) is written beside the progress bar; Ctrl-C and SIGTERM
//! cancel it; and the summary, or the error mapped to an exit status, is written at the end.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use asapp_conversations::chrono::SecondsFormat;
use asapp_conversations::{Client, ClientConfig, ClientStats, RateLimit, RetryPolicy};
use asapp_conversations_import::formats::{CopyKind, RoleMap};
use asapp_conversations_import::{
    CancellationToken, Import, Input, Invalid, Observer, ProgressWatch, Resumed, StorageFactory,
};
use tokio::sync::mpsc;

use crate::args::{self, Import as ImportArgs};
use crate::interrupt::{self, Signal};
use crate::progress::Display;
use crate::{Exit, Failure, Output, log, output};

/// `config` as an import needs it. An account's limit can be lower than ASAPP's documented
/// one, or shared: the import slows down on 429s instead of failing, and fails a batch only
/// when ASAPP keeps refusing it past the call's deadline.
pub(crate) fn client_config(config: ClientConfig, import: &ImportArgs) -> ClientConfig {
    let config =
        config.retry_policy(RetryPolicy::asapp().with_rate_limited_retries_until_deadline());
    if import.rate_limit > 0 {
        config.rate_limit(RateLimit::per_second(import.rate_limit).adaptive())
    } else {
        config
    }
}

/// Imports what `import` names through `client`, then writes the summary to `out`; reports go
/// to `err`. Invalid input, once the valid input is imported, fails with a usage status.
#[allow(clippy::too_many_arguments)] // what `asapp` was given, and where each part goes
pub(crate) async fn run(
    client: &Client,
    import: ImportArgs,
    argv: &[OsString],
    output: Output,
    environment: impl Fn(&str) -> Option<String>,
    storage: StorageFactory,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Failure> {
    // How to resume, should the import be interrupted.
    let mut resume =
        interrupt::resume_command(argv, import.resume, &import.checkpoint.to_string_lossy());
    if import.sources.iter().any(|path| path.as_os_str() == "-") {
        resume.push_str(" (with the same standard input)");
    }
    let checkpoint = import.checkpoint.clone();
    let (lines, mut reported) = mpsc::unbounded_channel();
    let watch = Arc::new(OnceLock::new());
    let display = Arc::new(Mutex::new(None));
    let reports = Reports {
        lines,
        watch: watch.clone(),
        display: display.clone(),
        terminal: output.progress,
        checkpoint: checkpoint.clone(),
    };
    let cancel = CancellationToken::new();
    let signal = Arc::new(OnceLock::new());
    let listener = match output.signals {
        true => Some(
            interrupt::listen(cancel.clone(), signal.clone(), watch.clone()).map_err(|e| {
                Failure {
                    exit: Exit::Failed,
                    message: format!("cannot listen for Ctrl-C: {e}"),
                }
            })?,
        ),
        false => None,
    };
    let importing = importer(client, import, environment)?
        .storage(storage)
        .grace(interrupt::GRACE)
        .cancel_on(cancel)
        .observer(reports);
    let reporter = tokio::spawn(report_client_stats(client.clone()));
    // Reported as found, beside the progress bar.
    let mut beside = log::BesideBar::new(err);
    let running = importing.run();
    let mut running = std::pin::pin!(running);
    let imported = loop {
        tokio::select! {
            imported = &mut running => break imported,
            Some(told) = reported.recv() => {
                let _ = writeln!(beside, "{}", told.line);
                if told.counts_after
                    && let Some(display) = &*display
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                {
                    display.show_now();
                }
            }
        }
    };
    while let Ok(told) = reported.try_recv() {
        let _ = writeln!(beside, "{}", told.line);
    }
    drop(beside);
    if let Some(listener) = listener {
        listener.abort();
        let _ = listener.await;
    }
    drop(
        display
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take(),
    );
    reporter.abort();
    log_client_stats(
        client.stats(),
        ClientStats::default(),
        "import: client in all",
    );
    let summary = match imported {
        Ok(summary) => summary,
        Err(asapp_conversations_import::Error::Cancelled {
            messages,
            batches,
            unanswered,
        }) => {
            let signal = signal.get().copied().unwrap_or(Signal::Interrupt);
            return Err(interrupted(signal, messages, batches, unanswered, resume));
        }
        Err(error) => return Err(error.into()),
    };
    output::write_json(out, output, &summary)?;
    match summary.invalid_sentence() {
        Some(invalid) => Err(Failure::usage(invalid)),
        None => Ok(()),
    }
}

/// The library's import from the command's arguments.
fn importer(
    client: &Client,
    import: ImportArgs,
    environment: impl Fn(&str) -> Option<String>,
) -> Result<Import, Failure> {
    let role_map = RoleMap::parse(&import.role_map).map_err(|e| Failure::usage(e.to_string()))?;
    let variables: HashMap<String, String> = asapp_conversations_import::OBJECT_STORE_VARIABLES
        .iter()
        .filter_map(|name| environment(name).map(|value| ((*name).to_owned(), value)))
        .collect();
    let mut importing = Import::new(client.clone(), import.checkpoint)
        .inputs(import.sources.iter().map(|source| input(source)))
        .resume(import.resume)
        .strict(import.strict)
        .concurrency(usize::from(import.concurrency))
        .batch_size(usize::from(import.batch_size))
        .window(usize::try_from(import.window).unwrap_or(usize::MAX))
        .sync(!import.no_sync)
        .role_map(role_map)
        .contact_lens_copy(match import.contact_lens_copy {
            args::ContactLensCopy::Redacted => CopyKind::Redacted,
            args::ContactLensCopy::Raw => CopyKind::Raw,
        })
        .settle(import.settle)
        .environment(move |name| variables.get(name).cloned());
    if let Some(format) = import.format {
        importing = importing.format(format);
    }
    if let Some(base_time) = import.base_time {
        importing = importing.base_time(base_time);
    }
    for records in import.contact_records {
        importing = importing.contact_records(records);
    }
    Ok(importing)
}

/// An input as the command line names it: `-` for standard input, an `s3://`, `gs://` or
/// `az://` URL, or a path.
fn input(source: &Path) -> Input {
    let text = source.to_str().unwrap_or_default();
    if source.as_os_str() == "-" {
        Input::stdin()
    } else if ["s3://", "gs://", "az://"]
        .iter()
        .any(|scheme| text.starts_with(scheme))
    {
        Input::url(text)
    } else {
        Input::path(source)
    }
}

/// A line the import tells, and whether the counts are shown right after it is written.
struct Told {
    line: String,
    counts_after: bool,
}

/// What the import tells, written beside the progress bar through `lines`.
struct Reports {
    lines: mpsc::UnboundedSender<Told>,
    watch: Arc<OnceLock<ProgressWatch>>,
    display: Arc<Mutex<Option<Display>>>,
    terminal: bool,
    checkpoint: PathBuf,
}

impl Reports {
    fn display(&self) -> std::sync::MutexGuard<'_, Option<Display>> {
        self.display
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Observer for Reports {
    fn started(&self, progress: &ProgressWatch) {
        let _ = self.watch.set(progress.clone());
        *self.display() = Some(Display::start(self.terminal, progress.clone()));
    }

    fn resumed(&self, resumed: &Resumed) {
        // The counts at once, also without a terminal (the resume may wait for conversations in
        // doubt), but after this line: shown by what writes it, not by the display's task, which
        // could come first.
        let _ = self.lines.send(Told {
            line: resumed_line(&self.checkpoint, resumed),
            counts_after: true,
        });
    }

    fn invalid(&self, invalid: &Invalid) {
        let _ = self.lines.send(Told {
            line: invalid.to_string(),
            counts_after: false,
        });
    }
}

/// The word of an import that `signal` interrupted, once its batches in flight are answered
/// (all but `unanswered`) and recorded: what it did, and how to resume.
fn interrupted(
    signal: Signal,
    messages: u64,
    batches: u64,
    unanswered: u64,
    resume: String,
) -> Failure {
    let mut message = format!(
        "interrupted ({}): {messages} messages acknowledged in {}, recorded in the checkpoint",
        signal.name(),
        interrupt::batches(batches),
    );
    if unanswered > 0 {
        message.push_str(&format!(
            "; {} in flight not answered within {}s, in doubt (the resume reads them back)",
            interrupt::batches(unanswered),
            interrupt::GRACE.as_secs()
        ));
    }
    message.push_str("; to resume: ");
    message.push_str(&resume);
    Failure {
        exit: signal.exit(),
        message,
    }
}

/// What a resume found in the checkpoint and what it waits for, said at once.
fn resumed_line(checkpoint: &Path, resumed: &Resumed) -> String {
    let batches = |n: usize| match n {
        1 => "1 batch".to_owned(),
        n => format!("{n} batches"),
    };
    let conversations = |n: usize| match n {
        1 => "1 conversation".to_owned(),
        n => format!("{n} conversations"),
    };
    let mut line = format!(
        "resuming {}: {} acknowledged, ",
        checkpoint.display(),
        batches(resumed.acknowledged)
    );
    if resumed.in_doubt == 0 {
        line.push_str("none in doubt");
        return line;
    }
    line.push_str(&format!(
        "{} in doubt in {}, read back before they are sent again",
        batches(resumed.in_doubt),
        conversations(resumed.conversations_in_doubt)
    ));
    match resumed.waiting_until {
        Some(until) if resumed.waiting > 0 => line.push_str(&format!(
            "; {} wait until {} (--settle after the import that sent them stopped), the rest \
             go now",
            conversations(resumed.waiting),
            until.to_rfc3339_opts(SecondsFormat::Secs, true)
        )),
        _ => line.push_str(", now"),
    }
    line
}

/// How often a long import tells, at info, what the client rode through.
const STATS_PERIOD: std::time::Duration = std::time::Duration::from_secs(5);

/// Tells every [`STATS_PERIOD`] what `client` went through since the last time, if anything.
async fn report_client_stats(client: Client) {
    let mut last = client.stats();
    loop {
        tokio::time::sleep(STATS_PERIOD).await;
        let now = client.stats();
        if now != last {
            log_client_stats(now, last, "import: client since the last report");
            last = now;
        }
    }
}

/// Logs at info, as `what`, what the client went through between `before` and `now`.
fn log_client_stats(now: ClientStats, before: ClientStats, what: &str) {
    tracing::info!(
        retries = now.retries - before.retries,
        rate_limited = now.rate_limited - before.rate_limited,
        limiter_wait_s = (now.limiter_wait - before.limiter_wait).as_secs_f64(),
        "{what}"
    );
}
