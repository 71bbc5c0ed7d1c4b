//! The `asapp` command line as a library, so that tests run it in-process: [`run`] takes the
//! arguments, the environment and the two output streams, and returns the exit status.
//!
//! Exit statuses ([`Exit`]): 0 success, 2 usage (bad arguments, missing credentials, invalid
//! input refused before sending), 3 the API rejected the request (4xx), 4 the server or the
//! network failed (5xx, timeouts, connection failures, answers that break the description); an
//! import stopped by Ctrl-C 130, by SIGTERM 143.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod args;
mod commands;
mod failure;
mod interrupt;
mod log;
mod output;
mod progress;
mod target;

pub use asapp_conversations_import::{FileStorage, Storage, StorageFactory, file_storage};

pub(crate) use failure::Failure;

use std::ffi::OsString;
use std::io::Write;

use clap::{CommandFactory as _, Parser as _};

use crate::args::{Cli, Command};

/// How `asapp` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// It did what was asked.
    Success = 0,
    /// Bad arguments, configuration or input; nothing was sent.
    Usage = 2,
    /// The API refused the request (a 4xx), or the object store refused access.
    Rejected = 3,
    /// The server or the network failed.
    Failed = 4,
    /// An import stopped by Ctrl-C (SIGINT), its batches in flight recorded: 128 + 2.
    Interrupted = 130,
    /// An import stopped by SIGTERM, its batches in flight recorded: 128 + 15.
    Terminated = 143,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        Self::from(exit as u8)
    }
}

/// The command line's grammar, for rendering help.
pub fn command() -> clap::Command {
    Cli::command()
}

/// How output is written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Output {
    /// Pretty-print JSON (on a terminal, unless `--compact`).
    pub pretty: bool,
    /// Show a progress bar (stderr is a terminal); plain progress lines otherwise.
    pub progress: bool,
    /// Install the process's `tracing` subscriber, writing to stderr as `-v` and `RUST_LOG`
    /// say (the binary does; a process has one, so tests running `asapp` in-process leave it
    /// off).
    pub log: bool,
    /// Stop an import cleanly on Ctrl-C and SIGTERM, and say how to resume it (the binary does;
    /// a process run in-process by tests leaves the signals alone).
    pub signals: bool,
}

/// Runs `future` (an `asapp` run in-process, for tests) with the import's progress bar drawn on
/// `terminal`, as it is on a terminal.
pub async fn on_terminal<F: std::future::Future>(
    terminal: std::sync::Arc<dyn TermLike>,
    future: F,
) -> F::Output {
    progress::on_terminal(terminal, future).await
}

/// What [`on_terminal`] draws on.
pub use indicatif::TermLike;

/// Runs `asapp` with `args` (the first is the program name) and the variables `env` looks up,
/// writing results to `out` and errors to `err`.
pub async fn run(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<OsString>,
    output: Output,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    run_with(args, env, output, file_storage(), out, err).await
}

/// [`run`], with the import's checkpoint written through what `storage` makes of its file: for
/// tests that watch or cut short what reaches the disk.
pub async fn run_with(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<OsString>,
    output: Output,
    storage: StorageFactory,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let argv: Vec<OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(error) => {
            let exit = if error.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            };
            let rendered = error.render().to_string();
            let stream: &mut dyn Write = if error.use_stderr() { err } else { out };
            let _ = write!(stream, "{rendered}");
            return exit;
        }
    };
    if output.log {
        let rust_log = env("RUST_LOG").map(|value| value.to_string_lossy().into_owned());
        let installed = log::filter(cli.verbose, rust_log.as_deref()).and_then(log::install);
        if let Err(message) = installed {
            let _ = writeln!(err, "error: {message}");
            return Exit::Usage;
        }
    }
    let output = Output {
        pretty: output.pretty && !cli.compact,
        ..output
    };
    match execute(cli, &argv, env, output, storage, out, err).await {
        Ok(()) => Exit::Success,
        Err(failure) => output::write_failure(err, &failure),
    }
}

/// Resolves the target once, hands the parsed command to its module, then stops the local
/// sandbox if one was started.
async fn execute(
    cli: Cli,
    argv: &[OsString],
    env: impl Fn(&str) -> Option<OsString>,
    output: Output,
    storage: StorageFactory,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Failure> {
    let command = cli.command;
    let target = target::resolve(&cli.target, &env, |config| match &command {
        Command::Import(import) => commands::import::client_config(config, import),
        _ => config,
    })
    .await?;
    let client = target.client();
    let result = match command {
        Command::Import(import) => {
            let environment = |name: &str| env(name).and_then(|value| value.into_string().ok());
            commands::import::run(client, import, argv, output, environment, storage, out, err)
                .await
        }
        Command::Export { external_id } => commands::export::run(client, &external_id, out).await,
        Command::Conversations(command) => {
            commands::conversations::run(client, command, output, out).await
        }
        Command::Messages(command) => commands::messages::run(client, command, output, out).await,
    };
    target.close().await;
    result
}
