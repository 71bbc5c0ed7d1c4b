//! `import-outside`: what a service in another repository writes against
//! `asapp-conversations-import`, through its public API alone. It imports a directory of JSON
//! Lines files and a Genesys Cloud transcript document into ASAPP (here, the sandbox binary),
//! resumably; and it reads every conversation back to check that each message is stored
//! exactly once.
//!
//! ```text
//! import-outside import --base-url URL --api-id ID --api-secret SECRET --checkpoint PATH \
//!     --jsonl-dir DIR --genesys FILE [--batch-size N] [--concurrency N] [--settle SECONDS] \
//!     [--resume]
//! import-outside verify --base-url URL --api-id ID --api-secret SECRET --jsonl-dir DIR \
//!     --genesys FILE
//! ```
//!
//! The inputs are the same on every run, in the same order: the Genesys document, read into
//! memory (`Input::bytes`), then the directory's `*.jsonl` files in name order, every other one
//! read into memory and the rest given as paths (`Input::path`). `import` prints the summary as
//! JSON; on failure it says why on standard error, and exits 2 for the input's fault, 3 for the
//! checkpoint's, and 4 for anything else. `verify` prints what it read back as JSON, and exits
//! 1 unless every message of the inputs is stored once, and nothing else is; it names
//! conversations, never a message's text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use asapp_conversations_import::asapp_conversations::chrono::{DateTime, Utc};
use asapp_conversations_import::asapp_conversations::{Client, ClientConfig};
use asapp_conversations_import::formats::{self, ReadOptions};
use asapp_conversations_import::transcript::Line;
use asapp_conversations_import::{Fault, Import, Input};
use serde_json::json;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Import,
    Verify,
}

/// The command line.
#[derive(Debug)]
struct Args {
    command: Command,
    base_url: String,
    api_id: String,
    api_secret: String,
    checkpoint: Option<PathBuf>,
    jsonl_dir: PathBuf,
    genesys: PathBuf,
    batch_size: Option<usize>,
    concurrency: Option<usize>,
    settle: Option<Duration>,
    resume: bool,
}

impl Args {
    /// Reads the command line (without the program's name).
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let command = match args.next().as_deref() {
            Some("import") => Command::Import,
            Some("verify") => Command::Verify,
            _ => return Err("the first argument is import or verify".to_owned()),
        };
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        let mut resume = false;
        while let Some(flag) = args.next() {
            if flag == "--resume" {
                resume = true;
                continue;
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            values.insert(flag, value);
        }
        let mut take = |flag: &str| values.remove(flag);
        let count = |flag: &str, value: Option<String>| -> Result<Option<usize>, String> {
            value
                .map(|v| v.parse::<usize>().map_err(|e| format!("{flag} `{v}`: {e}")))
                .transpose()
        };
        let seconds = |flag: &str, value: Option<String>| -> Result<Option<Duration>, String> {
            value
                .map(|v| {
                    v.parse::<f64>()
                        .map_err(|e| e.to_string())
                        .and_then(|s| Duration::try_from_secs_f64(s).map_err(|e| e.to_string()))
                        .map_err(|e| format!("{flag} `{v}`: {e}"))
                })
                .transpose()
        };
        let required =
            |flag: &str, value: Option<String>| value.ok_or_else(|| format!("{flag} is required"));
        let args = Self {
            command,
            base_url: required("--base-url", take("--base-url"))?,
            api_id: required("--api-id", take("--api-id"))?,
            api_secret: required("--api-secret", take("--api-secret"))?,
            checkpoint: take("--checkpoint").map(PathBuf::from),
            jsonl_dir: required("--jsonl-dir", take("--jsonl-dir"))?.into(),
            genesys: required("--genesys", take("--genesys"))?.into(),
            batch_size: count("--batch-size", take("--batch-size"))?,
            concurrency: count("--concurrency", take("--concurrency"))?,
            settle: seconds("--settle", take("--settle"))?,
            resume,
        };
        if let Some(unknown) = values.keys().next() {
            return Err(format!("unknown option {unknown}"));
        }
        if command == Command::Import && args.checkpoint.is_none() {
            return Err("import needs --checkpoint".to_owned());
        }
        Ok(args)
    }

    fn client(&self) -> Result<Client, String> {
        ClientConfig::new(&self.api_id, &self.api_secret)
            .base_url(&self.base_url)
            .user_agent_suffix("import-outside")
            .build()
            .map_err(|e| e.to_string())
    }
}

/// The `*.jsonl` files of `dir`, in name order.
fn jsonl_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", dir.display());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(cannot)? {
        let path = entry.map_err(cannot)?.path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads the file at `path` whole.
fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The inputs, the same on every run: the Genesys document in memory, then the JSON Lines files,
/// every other one in memory (named by its path) and the rest as paths.
fn inputs(args: &Args) -> Result<Vec<Input>, String> {
    let genesys = args.genesys.display().to_string();
    let mut inputs = vec![Input::bytes(genesys, read(&args.genesys)?)];
    for (index, file) in jsonl_files(&args.jsonl_dir)?.into_iter().enumerate() {
        inputs.push(if index % 2 == 0 {
            Input::bytes(file.display().to_string(), read(&file)?)
        } else {
            Input::path(file)
        });
    }
    Ok(inputs)
}

/// Imports the inputs; prints the summary, or why the import stopped.
async fn import(args: &Args, client: Client) -> Result<ExitCode, String> {
    let checkpoint = args.checkpoint.clone().unwrap_or_default();
    let mut import = Import::new(client, checkpoint)
        .inputs(inputs(args)?)
        .resume(args.resume);
    if let Some(batch_size) = args.batch_size {
        import = import.batch_size(batch_size);
    }
    if let Some(concurrency) = args.concurrency {
        import = import.concurrency(concurrency);
    }
    if let Some(settle) = args.settle {
        import = import.settle(settle);
    }
    match import.execute().await {
        Ok(summary) => {
            let summary = serde_json::to_string(&summary).map_err(|e| e.to_string())?;
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("import-outside: {error}");
            eprintln!(
                "import-outside: the fault of: {:?}; at: {}",
                error.fault(),
                error.place()
            );
            Ok(ExitCode::from(match error.fault() {
                Fault::Input => 2,
                Fault::Checkpoint => 3,
                _ => 4,
            }))
        }
    }
}

/// A message: when it was sent, and its text.
type Message = (DateTime<Utc>, String);

/// Every message the inputs hold, by conversation, read as the import reads them: each line
/// of the JSON Lines, and each entry of the Genesys document. Invalid ones are not counted.
fn expected(args: &Args) -> Result<BTreeMap<String, Vec<Message>>, String> {
    let mut expected: BTreeMap<String, Vec<Message>> = BTreeMap::new();
    let genesys = args.genesys.display().to_string();
    let document = formats::read_document(
        &genesys,
        &read(&args.genesys)?,
        None,
        &ReadOptions::default(),
    )
    .map_err(|e| e.to_string())?;
    let conversation = expected.entry(document.external_id.clone()).or_default();
    for entry in document.entries {
        if let Ok(line) = entry.line {
            conversation.push((line.timestamp, line.text.into_owned()));
        }
    }
    for file in jsonl_files(&args.jsonl_dir)? {
        let text = String::from_utf8(read(&file)?)
            .map_err(|e| format!("{}: not UTF-8: {e}", file.display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Ok(line) = Line::parse(line) {
                expected
                    .entry(line.external_id.into_owned())
                    .or_default()
                    .push((line.timestamp, line.text.into_owned()));
            }
        }
    }
    Ok(expected)
}

/// How a conversation read back differs from its inputs.
#[derive(Debug, Default)]
struct Differences {
    missing: usize,
    repeated: usize,
    unexpected: usize,
    out_of_order: bool,
}

/// Compares what is `stored`, as listed, with what is `wanted`.
fn compare(wanted: &[Message], stored: &[Message]) -> Differences {
    let mut counts: BTreeMap<&Message, (usize, usize)> = BTreeMap::new();
    for message in wanted {
        counts.entry(message).or_default().0 += 1;
    }
    for message in stored {
        counts.entry(message).or_default().1 += 1;
    }
    let mut differences = Differences {
        out_of_order: stored.windows(2).any(|pair| pair[0].0 > pair[1].0),
        ..Differences::default()
    };
    for (wanted, stored) in counts.into_values() {
        match (wanted, stored) {
            (0, stored) => differences.unexpected += stored,
            (wanted, stored) if stored < wanted => differences.missing += wanted - stored,
            (wanted, stored) => differences.repeated += stored - wanted,
        }
    }
    differences
}

/// Reads every conversation of the inputs back; prints what it found.
async fn verify(args: &Args, client: Client) -> Result<ExitCode, String> {
    let expected = expected(args)?;
    let (mut messages, mut stored_messages) = (0, 0);
    let mut wrong = Vec::new();
    for (external_id, wanted) in &expected {
        messages += wanted.len();
        let found = client
            .get_conversations()
            .external_id(external_id)
            .await
            .map_err(|e| format!("{external_id}: {e}"))?;
        let stored: Vec<Message> = match found.items.as_slice() {
            [conversation] => {
                let id = conversation.id.clone().unwrap_or_default();
                client
                    .get_messages()
                    .conversation_id(id.as_str())
                    .await
                    .map_err(|e| format!("{external_id}: {e}"))?
                    .items
                    .iter()
                    .map(|m| (m.client_timestamp, m.text.to_string()))
                    .collect()
            }
            [] => Vec::new(),
            _ => {
                wrong.push(json!({"externalId": external_id, "conversations": found.items.len()}));
                continue;
            }
        };
        stored_messages += stored.len();
        let differences = compare(wanted, &stored);
        if differences.missing + differences.repeated + differences.unexpected > 0
            || differences.out_of_order
        {
            wrong.push(json!({
                "externalId": external_id,
                "missing": differences.missing,
                "repeated": differences.repeated,
                "unexpected": differences.unexpected,
                "outOfOrder": differences.out_of_order,
            }));
        }
    }
    let ok = wrong.is_empty();
    println!(
        "{}",
        json!({
            "conversations": expected.len(),
            "messages": messages,
            "stored": stored_messages,
            "wrong": wrong,
        })
    );
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("import-outside: {e}");
            return ExitCode::from(2);
        }
    };
    let done = match args.client() {
        Ok(client) => match args.command {
            Command::Import => import(&args, client).await,
            Command::Verify => verify(&args, client).await,
        },
        Err(e) => Err(e),
    };
    done.unwrap_or_else(|e| {
        eprintln!("import-outside: {e}");
        ExitCode::from(2)
    })
}
