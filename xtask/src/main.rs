//! Project automation, run as `cargo xtask <command>` (the alias lives in `.cargo/config.toml`).
//!
//! * `cargo xtask regen` checks `api-specs/conversations.yaml` and regenerates the client
//!   (`client/src/generated.rs`) and the conformance tests' type table.
//! * `cargo xtask regen --check` writes nothing and fails with a diff when a committed file is
//!   stale.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod regen;

use std::process::ExitCode;

use anyhow::{Result, bail};

const USAGE: &str = "\
usage: cargo xtask regen [--check]

commands:
  regen           check api-specs/conversations.yaml and regenerate the client from it
  regen --check   write nothing; fail with a diff when a committed generated file is stale";

fn main() -> ExitCode {
    let args: Option<Vec<String>> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.into_string().ok())
        .collect();
    let Some(args) = args else {
        eprintln!("error: arguments must be UTF-8\n{USAGE}");
        return ExitCode::FAILURE;
    };
    match run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<ExitCode> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let check = match args.as_slice() {
        ["regen"] => false,
        ["regen", "--check"] => true,
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            return Ok(ExitCode::SUCCESS);
        }
        _ => bail!("unrecognised arguments {args:?}\n{USAGE}"),
    };
    let root = asapp_conversations_spec::workspace_root();
    let outcome = regen::regen(&root, check)?;
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
