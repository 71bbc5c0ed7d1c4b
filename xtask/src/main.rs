//! Project automation, run as `cargo xtask <command>` (the alias lives in `.cargo/config.toml`).
//!
//! * `cargo xtask regen` checks `api-specs/conversations.yaml`, regenerates the client
//!   (`client/src/generated.rs`) and the conformance tests' type table, and reports what the
//!   description's change does to downstream crates: one `breaking:` or `additive:` line per
//!   change against the description the committed code came from (git HEAD's).
//! * `cargo xtask regen --check` writes nothing, prints the same report, and fails with a diff
//!   when a committed file is stale.
//! * `--base FILE` compares against FILE instead of git HEAD's description.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod regen;
mod spec_diff;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use asapp_conversations_spec::{SPEC_FILE, Spec};

const USAGE: &str = "\
usage: cargo xtask regen [--check] [--base FILE]

commands:
  regen           check api-specs/conversations.yaml, regenerate the client from it, and report
                  what the change does to downstream crates: one `breaking:` or `additive:` line
                  per change against git HEAD's api-specs/conversations.yaml
  regen --check   write nothing; print the same report, and fail with a diff when a committed
                  generated file is stale

options:
  --base FILE     report against the description in FILE instead of git HEAD's";

fn main() -> ExitCode {
    let args: Option<Vec<String>> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.into_string().ok())
        .collect();
    let Some(args) = args else {
        eprintln!("error: arguments must be UTF-8\n{USAGE}");
        return ExitCode::FAILURE;
    };
    match parse_args(&args).and_then(run) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    /// Print the usage.
    Help,
    /// Regenerate (or, with `check`, compare) and report against `base`, or git HEAD's
    /// description without one.
    Regen { check: bool, base: Option<PathBuf> },
}

/// Reads `regen [--check] [--base FILE]` (options in any order, `--base=FILE` too) or `help`.
fn parse_args(args: &[String]) -> Result<Command> {
    let mut args = args.iter().map(String::as_str);
    match args.next() {
        Some("regen") => {}
        Some("help" | "--help" | "-h") if args.len() == 0 => return Ok(Command::Help),
        _ => bail!("unrecognised arguments {args:?}\n{USAGE}"),
    }
    let (mut check, mut base) = (false, None);
    while let Some(arg) = args.next() {
        match arg {
            "--check" if !check => check = true,
            "--base" if base.is_none() => {
                let file = args
                    .next()
                    .with_context(|| format!("--base needs a FILE\n{USAGE}"))?;
                base = Some(PathBuf::from(file));
            }
            _ => match arg.strip_prefix("--base=") {
                Some(file) if base.is_none() => base = Some(PathBuf::from(file)),
                _ => bail!("unrecognised or repeated argument `{arg}`\n{USAGE}"),
            },
        }
    }
    Ok(Command::Regen { check, base })
}

fn run(command: Command) -> Result<ExitCode> {
    let (check, base) = match command {
        Command::Help => {
            println!("{USAGE}");
            return Ok(ExitCode::SUCCESS);
        }
        Command::Regen { check, base } => (check, base),
    };
    let root = asapp_conversations_spec::workspace_root();
    // A base that cannot be read fails before anything is written.
    let base = match base {
        Some(file) => Base::from_file(&file)?,
        None => Base::from_git_head(&root),
    };
    let outcome = regen::regen(&root, check)?;
    print_report(&base)?;
    if check {
        if outcome.stale.is_empty() {
            println!("generated files are up to date");
            return Ok(ExitCode::SUCCESS);
        }
        for (path, diff) in &outcome.stale {
            eprintln!("{path} is stale:\n{diff}");
        }
        eprintln!("error: run `cargo xtask regen` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    if outcome.stale.is_empty() {
        println!("generated files were already up to date");
    }
    for (path, _) in &outcome.stale {
        println!("wrote {path}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The description the report compares against.
#[derive(Debug)]
enum Base {
    /// A description, and what it is called in the report.
    Loaded {
        origin: String,
        document: serde_json::Value,
    },
    /// None to compare against, and why.
    Missing(String),
}

impl Base {
    /// The description in `file`; one that cannot be read or parsed is an error.
    fn from_file(file: &Path) -> Result<Self> {
        let origin = file.display().to_string();
        // The error's message already holds its source: a plain message keeps `{:#}` from
        // printing the source twice.
        let spec = Spec::from_file(file, &origin)
            .map_err(|error| anyhow::anyhow!("cannot use --base: {error}"))?;
        Ok(Self::Loaded {
            origin,
            document: spec.document().clone(),
        })
    }

    /// git HEAD's description, read with `git show` in `root`; none when git is unavailable,
    /// `root` is not in a repository, HEAD has no such file (a new repository) or it does not
    /// parse.
    fn from_git_head(root: &Path) -> Self {
        let origin = format!("git HEAD's {SPEC_FILE}");
        let output = match std::process::Command::new("git")
            .arg("show")
            .arg(format!("HEAD:./{SPEC_FILE}"))
            .current_dir(root)
            .output()
        {
            Ok(output) => output,
            Err(error) => return Self::Missing(format!("git is unavailable ({error})")),
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let reason = stderr.lines().next().unwrap_or("no reason given").trim();
            return Self::Missing(format!("cannot read {origin} ({reason})"));
        }
        let Ok(text) = String::from_utf8(output.stdout) else {
            return Self::Missing(format!("{origin} is not UTF-8"));
        };
        match Spec::from_yaml(&text, &origin) {
            Ok(spec) => Self::Loaded {
                origin,
                document: spec.document().clone(),
            },
            Err(error) => Self::Missing(format!("{error}")),
        }
    }
}

/// Prints the report of the workspace's description against `base`.
fn print_report(base: &Base) -> Result<()> {
    for line in report(base, &Spec::load()?) {
        println!("{line}");
    }
    Ok(())
}

/// One line per change from `base` to `current`, or one line saying there is none or no base.
fn report(base: &Base, current: &Spec) -> Vec<String> {
    let (origin, document) = match base {
        Base::Loaded { origin, document } => (origin, document),
        Base::Missing(why) => return vec![format!("no change report: {why}")],
    };
    let changes = spec_diff::diff(document, current.document());
    if changes.is_empty() {
        return vec![format!(
            "{SPEC_FILE}: no change that downstream crates see against {origin}"
        )];
    }
    changes.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command> {
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        parse_args(&args)
    }

    #[test]
    fn regen_takes_check_and_base_in_any_order() {
        let regen = |check, base: Option<&str>| Command::Regen {
            check,
            base: base.map(PathBuf::from),
        };
        let cases: [(&[&str], Command); 7] = [
            (&["regen"], regen(false, None)),
            (&["regen", "--check"], regen(true, None)),
            (
                &["regen", "--base", "old.yaml"],
                regen(false, Some("old.yaml")),
            ),
            (
                &["regen", "--base=old.yaml"],
                regen(false, Some("old.yaml")),
            ),
            (
                &["regen", "--check", "--base", "a b.yaml"],
                regen(true, Some("a b.yaml")),
            ),
            (
                &["regen", "--base", "old.yaml", "--check"],
                regen(true, Some("old.yaml")),
            ),
            (&["--help"], Command::Help),
        ];
        for (args, expected) in cases {
            assert_eq!(parse(args).unwrap(), expected, "{args:?}");
        }
    }

    #[test]
    fn the_report_names_each_change_its_base_or_why_there_is_none() {
        let current = Spec::load().unwrap();
        let loaded = |document: serde_json::Value| Base::Loaded {
            origin: "old.yaml".to_owned(),
            document,
        };
        assert_eq!(
            report(
                &Base::Missing("git is unavailable (x)".to_owned()),
                &current
            ),
            ["no change report: git is unavailable (x)"]
        );
        assert_eq!(
            report(&loaded(current.document().clone()), &current),
            [format!(
                "{SPEC_FILE}: no change that downstream crates see against old.yaml"
            )]
        );
        // A base whose participant roles had one more value: the current description removed
        // it, which breaks both who sent it and who matched on it.
        let mut old = current.document().clone();
        let schemas = &mut old["components"]["schemas"];
        schemas["ParticipantRole"]["enum"]
            .as_array_mut()
            .unwrap()
            .push("bot".into());
        let lines = report(&loaded(old), &current);
        assert!(!lines.is_empty());
        for line in &lines {
            assert!(
                line.starts_with("breaking: ") || line.starts_with("additive: "),
                "{line}"
            );
        }
        assert!(
            lines.iter().any(|line| line
                == "breaking: #/components/schemas/ParticipantRole/enum: value `bot` removed \
                    (request: createBatchMessages, createMessage; answer: getMessage, \
                    getMessages, getMessagesByExternalId)"),
            "{lines:#?}"
        );
    }

    #[test]
    fn bad_arguments_are_refused_with_the_usage() {
        let cases: [&[&str]; 7] = [
            &[],
            &["regen", "--base"],
            &["regen", "--base", "a", "--base", "b"],
            &["regen", "--check", "--check"],
            &["regen", "--bases", "a"],
            &["regen", "extra"],
            &["help", "regen"],
        ];
        for args in cases {
            let error = parse(args).unwrap_err().to_string();
            assert!(
                error.contains("usage: cargo xtask regen"),
                "{args:?}: {error}"
            );
        }
    }

    #[test]
    fn an_unreadable_base_is_an_error() {
        let error = Base::from_file(Path::new("/nonexistent/conversations.yaml")).unwrap_err();
        let message = format!("{error:#}");
        assert!(
            message.starts_with("cannot use --base: cannot read"),
            "{message}"
        );
        assert_eq!(message.matches("No such file").count(), 1, "{message}");
    }

    #[test]
    fn without_git_head_there_is_no_base_and_no_error() {
        let outside = std::env::temp_dir().join(format!("xtask-no-repo-{}", std::process::id()));
        std::fs::create_dir_all(&outside).unwrap();
        let base = Base::from_git_head(&outside);
        std::fs::remove_dir(&outside).unwrap();
        let Base::Missing(why) = base else {
            panic!("expected no base, got {base:?}")
        };
        assert!(
            why.starts_with("cannot read git HEAD's api-specs/conversations.yaml ("),
            "{why}"
        );
    }

    #[test]
    fn the_workspace_has_a_git_head_base() {
        let base = Base::from_git_head(&asapp_conversations_spec::workspace_root());
        assert!(matches!(base, Base::Loaded { .. }), "{base:?}");
    }
}
