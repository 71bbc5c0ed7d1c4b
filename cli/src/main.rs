//! `asapp`: every operation of ASAPP's Conversations API from the command line. See
//! `asapp --help`.

#![forbid(unsafe_code)]

use std::io::IsTerminal as _;
use std::process::ExitCode;

use asapp_conversations_cli::{Output, run};

#[tokio::main]
async fn main() -> ExitCode {
    let output = Output {
        pretty: std::io::stdout().is_terminal(),
        progress: std::io::stderr().is_terminal(),
        log: true,
        signals: true,
    };
    let mut out = std::io::stdout().lock();
    // Not locked for the whole run: the import's progress display writes to stderr from another
    // thread, and would wait forever for a lock held here.
    let mut err = std::io::stderr();
    run(
        std::env::args_os(),
        |name| std::env::var_os(name),
        output,
        &mut out,
        &mut err,
    )
    .await
    .into()
}
