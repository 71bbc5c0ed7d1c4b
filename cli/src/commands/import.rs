//! `asapp import`'s glue: the client's retry and rate-limit settings for an import, its options
//! turned into [`crate::import::Options`], the client's statistics logged, and the summary and
//! exit status written. The pipeline itself is [`crate::import`].

use std::ffi::OsString;
use std::io::Write;

use asapp_conversations::{Client, ClientConfig, ClientStats, RateLimit, RetryPolicy};

use crate::args::{self, Import};
use crate::import::{self, StorageFactory};
use crate::{Failure, Output, formats, log, output};

/// `config` as an import needs it. An account's limit can be lower than ASAPP's documented
/// one, or shared: the import slows down on 429s instead of failing, and fails a batch only
/// when ASAPP keeps refusing it past the call's deadline.
pub(crate) fn client_config(config: ClientConfig, import: &Import) -> ClientConfig {
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
    import: Import,
    argv: &[OsString],
    output: Output,
    environment: impl Fn(&str) -> Option<String>,
    storage: StorageFactory,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Failure> {
    let options = options(import, argv, output)?;
    let reporter = tokio::spawn(report_client_stats(client.clone()));
    // Reported as found, beside the progress bar.
    let mut reports = log::BesideBar::new(err);
    let imported = import::run(client, options, environment, storage, &mut reports).await;
    drop(reports);
    reporter.abort();
    log_client_stats(
        client.stats(),
        ClientStats::default(),
        "import: client in all",
    );
    let (summary, invalid) = imported?;
    output::write_json(out, output, &summary)?;
    match invalid {
        Some(invalid) => Err(Failure::usage(invalid)),
        None => Ok(()),
    }
}

/// The pipeline's options from the command's.
fn options(import: Import, argv: &[OsString], output: Output) -> Result<import::Options, Failure> {
    Ok(import::Options {
        sources: import.sources,
        checkpoint: import.checkpoint,
        resume: import.resume,
        strict: import.strict,
        concurrency: usize::from(import.concurrency),
        batch_size: usize::from(import.batch_size),
        window: usize::try_from(import.window).unwrap_or(usize::MAX),
        sync: !import.no_sync,
        format: import.format,
        role_map: formats::RoleMap::parse(&import.role_map)
            .map_err(|e| Failure::usage(e.to_string()))?,
        base_time: import.base_time,
        contact_lens_copy: match import.contact_lens_copy {
            args::ContactLensCopy::Redacted => formats::CopyKind::Redacted,
            args::ContactLensCopy::Raw => formats::CopyKind::Raw,
        },
        contact_records: import.contact_records,
        settle: import.settle,
        progress: output.progress,
        signals: output.signals,
        argv: argv.to_vec(),
    })
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
