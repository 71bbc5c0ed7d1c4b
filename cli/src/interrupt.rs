//! Ctrl-C and SIGTERM during an import: the first cancels the import's token, which stops the
//! sending of new batches and lets the batches in flight (and those whose intent is on record
//! already, one a conversation at most) finish for up to [`GRACE`], so that their
//! acknowledgements are recorded and a resume has nothing in doubt to wait for; the import then
//! says how to resume. A second one exits at once: the checkpoint stays correct (each intent is
//! on stable storage before its batch leaves), and the resume reads back what is left in doubt.

use std::ffi::OsString;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use asapp_conversations_import::{CancellationToken, ProgressWatch};

/// How long the batches in flight may take to be answered once the import is interrupted: the
/// client's attempt timeout.
pub(crate) const GRACE: Duration = Duration::from_secs(30);

/// What interrupted an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: a service manager, `kill`, a container stopping.
    Terminate,
}

impl Signal {
    /// How the messages name it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "Ctrl-C",
            Self::Terminate => "SIGTERM",
        }
    }

    /// The exit status: 128 and the signal's number, as shells report it.
    pub(crate) fn exit(self) -> crate::Exit {
        match self {
            Self::Interrupt => crate::Exit::Interrupted,
            Self::Terminate => crate::Exit::Terminated,
        }
    }
}

/// Listens for Ctrl-C and SIGTERM while an import runs: the first cancels `cancel` (and is kept
/// in `signal`), a second exits the process at once; `watch`, once the import set it, says how
/// many batches are in flight. The handlers are installed before this returns.
pub(crate) fn listen(
    cancel: CancellationToken,
    signal: Arc<OnceLock<Signal>>,
    watch: Arc<OnceLock<ProgressWatch>>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let mut signals = Signals::install()?;
    Ok(tokio::spawn(async move {
        let first = signals.next().await;
        let in_flight = watch.get().map_or(0, |watch| watch.now().in_flight);
        let _ = signal.set(first);
        cancel.cancel();
        let waiting = match in_flight {
            0 => "none is in flight".to_owned(),
            n => format!(
                "waiting up to {}s for the {} in flight to be answered and recorded",
                GRACE.as_secs(),
                batches(n)
            ),
        };
        crate::log::write_line(&format!(
            "{}: no new batch is sent; {waiting} ({} again to exit at once; the checkpoint \
             stays correct)",
            first.name(),
            first.name(),
        ));
        let second = signals.next().await;
        crate::log::write_line(&format!(
            "{}: exiting at once; the batches in flight are in doubt, and --resume reads them \
             back",
            second.name()
        ));
        std::process::exit(i32::from(second.exit() as u8));
    }))
}

/// `n batch(es)`.
pub(crate) fn batches(n: u64) -> String {
    match n {
        1 => "1 batch".to_owned(),
        n => format!("{n} batches"),
    }
}

/// The process's SIGINT and SIGTERM.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    fn install() -> std::io::Result<Self> {
        Ok(Self {})
    }

    #[cfg(unix)]
    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.interrupt.recv() => Signal::Interrupt,
            _ = self.terminate.recv() => Signal::Terminate,
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> Signal {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}

/// The command that resumes the import `argv` ran (the program and its arguments as given),
/// for the shell: `--resume` added, and `--checkpoint` where the default was used; the value of
/// `--api-secret` is never shown, the variable stands for it.
pub(crate) fn resume_command(argv: &[OsString], resuming: bool, checkpoint: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut secret_next = false;
    let mut checkpoint_given = false;
    for arg in argv {
        let arg = arg.to_string_lossy();
        if secret_next {
            words.push("\"$ASAPP_API_SECRET\"".to_owned());
            secret_next = false;
            continue;
        }
        if arg == "--api-secret" {
            secret_next = true;
        } else if arg.starts_with("--api-secret=") {
            words.push("--api-secret=\"$ASAPP_API_SECRET\"".to_owned());
            continue;
        } else if arg == "--checkpoint" || arg.starts_with("--checkpoint=") {
            checkpoint_given = true;
        }
        words.push(quoted(&arg));
    }
    if !checkpoint_given {
        words.push("--checkpoint".to_owned());
        words.push(quoted(checkpoint));
    }
    if !resuming {
        words.push("--resume".to_owned());
    }
    words.join(" ")
}

/// `word` as a POSIX shell reads it back: as is when it holds nothing the shell treats
/// specially, else in single quotes.
fn quoted(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_resume_command_is_the_one_given_resumed_without_the_secret() {
        assert_eq!(
            resume_command(
                &argv(&["asapp", "import", "in dir/", "--checkpoint", "x.ckpt"]),
                false,
                "x.ckpt"
            ),
            "asapp import 'in dir/' --checkpoint x.ckpt --resume"
        );
        assert_eq!(
            resume_command(
                &argv(&[
                    "/bin/asapp",
                    "--api-secret",
                    "s3cr3t",
                    "import",
                    "a.jsonl",
                    "--api-secret=s3cr3t",
                    "--resume",
                ]),
                true,
                "asapp-import.checkpoint"
            ),
            "/bin/asapp --api-secret \"$ASAPP_API_SECRET\" import a.jsonl \
             --api-secret=\"$ASAPP_API_SECRET\" --resume --checkpoint asapp-import.checkpoint"
        );
        assert_eq!(quoted("it's"), r"'it'\''s'");
        assert_eq!(quoted(""), "''");
        assert_eq!(quoted("s3://b/p/"), "s3://b/p/");
    }
}
