//! The command line's grammar: global options for the target and credentials, and one command
//! per operation of the API, named as `asapp <resource> <verb>`.

use std::path::PathBuf;

use asapp_conversations::chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

use asapp_conversations_import::formats::{Format, RoleMapEntry};

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse()
        .map_err(|e: asapp_conversations_import::formats::UnknownFormatName| e.to_string())
}

/// Checks one `--role-map` entry; the entries are read together into a map later, which
/// refuses a vendor role given two roles.
fn parse_role_map_entry(text: &str) -> Result<String, String> {
    text.parse::<RoleMapEntry>()
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

/// The longest duration taken: a day.
const LONGEST: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// `250ms`, `30s`, `2m`, or a number of seconds; at most a day.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = [("ms", 0.001), ("s", 1.0), ("m", 60.0)]
        .into_iter()
        .find_map(|(suffix, unit)| text.strip_suffix(suffix).map(|n| (n, unit)))
        .unwrap_or((text, 1.0));
    number
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|n| std::time::Duration::try_from_secs_f64(n * unit).ok())
        .filter(|duration| *duration <= LONGEST)
        .ok_or_else(|| {
            format!("`{text}` is not a duration such as 30s, 500ms or 2m, of at most a day")
        })
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 time: {e}"))
}

/// Work with ASAPP's Conversations API: conversations, messages and transcripts.
///
/// Credentials and target come from ASAPP_API_ID, ASAPP_API_SECRET, and ASAPP_ENVIRONMENT
/// (sandbox or production) or ASAPP_BASE_URL, unless given as options. --local starts a local
/// sandbox instead and needs neither credentials nor network.
#[derive(Debug, Parser)]
#[command(
    name = "asapp",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// Print JSON on one line even on a terminal.
    #[arg(long, global = true)]
    pub(crate) compact: bool,
    /// Log more to stderr: -v retries (with the 429 or 5xx behind them), failures and
    /// rate-limit waits; -vv every call; -vvv everything. Warnings only by default; RUST_LOG,
    /// when set, replaces this.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    #[command(flatten)]
    pub(crate) target: Target,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Where requests go and with which credentials.
#[derive(Debug, Args)]
#[command(next_help_heading = "Target and credentials")]
pub(crate) struct Target {
    /// Start a local sandbox (seeded with the API description's examples) and use it.
    #[arg(long, global = true, conflicts_with_all = ["base_url", "environment"])]
    pub(crate) local: bool,
    /// Send requests to this base URL (https, or http to a loopback host).
    #[arg(
        long,
        global = true,
        value_name = "URL",
        conflicts_with = "environment"
    )]
    pub(crate) base_url: Option<String>,
    /// ASAPP's environment.
    #[arg(long, global = true, value_enum)]
    pub(crate) environment: Option<EnvironmentName>,
    /// The API id [default: $ASAPP_API_ID].
    #[arg(long, global = true, value_name = "ID")]
    pub(crate) api_id: Option<String>,
    /// The API secret [default: $ASAPP_API_SECRET]. Prefer the variable: options show in
    /// process listings.
    #[arg(long, global = true, value_name = "SECRET")]
    pub(crate) api_secret: Option<String>,
}

/// ASAPP's environments.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum EnvironmentName {
    Sandbox,
    Production,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create, update, find and read conversations.
    #[command(subcommand)]
    Conversations(Conversations),
    /// Add and read the messages of a conversation.
    #[command(subcommand)]
    Messages(Messages),
    /// Import transcripts: JSON Lines, or vendor exports (Amazon Connect Contact Lens and chat,
    /// Genesys Cloud, Twilio), from files, directories, stdin or object storage.
    ///
    /// JSON Lines hold one message per line: {"externalId", "customerId", "customerName"?,
    /// "agentId"?, "agentName"?, "role", "senderId", "text", "timestamp"}; see
    /// cli/examples/transcript.jsonl. A vendor document holds one conversation; its format is
    /// recognised from its content (or --format), its roles mapped by the vendor's rules and
    /// --role-map. Each conversation is upserted once, then its messages go in batches of up to
    /// 300 in timestamp order. A checkpoint file records each batch before it is sent (synced to
    /// disk) and once acknowledged: after a crash, Ctrl-C, a kill or a power failure, --resume
    /// sends exactly what ASAPP does not have. Invalid lines and documents are reported with
    /// their place and make the exit status 2 once the valid ones are imported; --strict stops
    /// at the first. Ctrl-C or SIGTERM stops sending, lets the batches in flight be answered
    /// (30 s at most), records them and prints the command that resumes; exit status 130 or
    /// 143 (a second Ctrl-C exits at once).
    Import(Import),
    /// Write a conversation's messages as JSON Lines, in the format `import` reads.
    Export {
        /// Your own identifier for the conversation.
        #[arg(long)]
        external_id: String,
    },
}

/// What to import and how.
#[derive(Debug, Args)]
pub(crate) struct Import {
    /// Files; directories (their *.jsonl and *.json files, at any depth); `-` for stdin;
    /// s3://bucket/prefix/, gs://… or az://… (a prefix ending in `/` is listed recursively).
    #[arg(required = true, value_name = "PATH|URL")]
    pub(crate) sources: Vec<PathBuf>,
    /// The format of every input, instead of the one its content shows: jsonl, contact-lens,
    /// connect-chat, genesys or twilio.
    #[arg(long, value_name = "NAME", value_parser = parse_format)]
    pub(crate) format: Option<Format>,
    /// The role a vendor role takes where no rule maps it (a bot, a supervisor, IVR), or to
    /// remap one: VENDOR_ROLE=customer|agent|system. Repeat for each role.
    #[arg(long = "role-map", value_name = "VENDOR_ROLE=ROLE", value_parser = parse_role_map_entry)]
    pub(crate) role_map: Vec<String>,
    /// The time offset zero stands for, for documents whose times are offsets and that do not
    /// say when they started: RFC 3339, such as 2024-01-23T11:42:00Z. A Contact Lens file takes
    /// its contact's start from its contact record (--contact-records), else from its name
    /// (<contactId>_analysis_<YYYY-MM-DDThh:mm:ssZ>.json); this option, one time for every
    /// document, wins over both.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub(crate) base_time: Option<DateTime<Utc>>,
    /// Amazon Connect contact records, as Kinesis Data Firehose writes them (JSON objects back to
    /// back, gzip-compressed or not): a file, a directory (every file in it), an object or a
    /// prefix (every object under it). Repeat for more. A Contact Lens contact with a record
    /// starts at its Recordings[].StartTimestamp, else its Agent.ConnectedToAgentTimestamp
    /// (--base-time still wins), and takes the agent's id from Agent.ARN and its queue as
    /// metadata; a contact without one takes its file name's time. Give the same records when
    /// resuming.
    #[arg(long, value_name = "PATH|URL")]
    pub(crate) contact_records: Vec<PathBuf>,
    /// Which copy of a Contact Lens contact to send where the inputs hold both its raw and its
    /// redacted copy (Analysis/Voice/Redacted/…_analysis_redacted_…): the other is left aside and
    /// counted (copiesLeftAside). A contact with one copy is sent from it either way. Redacted by
    /// default, so that customers' personal data (names, card numbers, addresses) does not reach
    /// ASAPP; keep the same value when resuming.
    #[arg(long, value_name = "COPY", value_enum, default_value = "redacted")]
    pub(crate) contact_lens_copy: ContactLensCopy,
    /// Where acknowledged batches are recorded.
    #[arg(long, value_name = "FILE", default_value = "asapp-import.checkpoint")]
    pub(crate) checkpoint: PathBuf,
    /// Continue the import recorded in the checkpoint, with the same input in the same order.
    #[arg(long)]
    pub(crate) resume: bool,
    /// Stop at the first invalid line.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Conversations sent at the same time.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) concurrency: u16,
    /// Requests per second at most (ASAPP's spike arrest is 100); lowered while ASAPP answers
    /// 429 and raised again while it does not; 0 for no limit.
    #[arg(long, default_value_t = 100)]
    pub(crate) rate_limit: u32,
    /// Messages per batch request, 1 to 300. Keep the same value when resuming.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u16).range(1..=300))]
    pub(crate) batch_size: u16,
    /// Lines read ahead to gather each conversation's lines when conversations are interleaved
    /// (about 300 bytes of memory a line). Keep the same value when resuming.
    #[arg(long, value_name = "LINES", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub(crate) window: u64,
    /// Do not sync the checkpoint to disk before sending each batch: faster, and safe against a
    /// crash or kill of the process, but a power failure can then lose the record of a batch
    /// ASAPP stored, which a resume would send again.
    #[arg(long)]
    pub(crate) no_sync: bool,
    /// On --resume, how long a batch the stopped import was sending may still take to be stored
    /// (its request may still be under way): a batch in doubt is read back only this long after
    /// the import that sent it stopped, and only its conversation waits. The client's attempt
    /// timeout by default.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub(crate) settle: std::time::Duration,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Conversations {
    /// Create a conversation, or update the one with the same external id (createOrUpdateConversation).
    Upsert(Upsert),
    /// Find the conversation with an external id (getConversations).
    List {
        /// Your own identifier for the conversation.
        #[arg(long)]
        external_id: String,
    },
    /// Read one conversation (getConversation).
    Get {
        /// ASAPP's conversation id.
        conversation_id: String,
    },
    /// Hand a customer's credentials to GenerativeAgent within a conversation (postAuthenticate).
    Authenticate(Authenticate),
}

/// The body of an upsert: from flags, or whole from JSON.
#[derive(Debug, Args)]
pub(crate) struct Upsert {
    /// Read the whole body (a TimeBasedConversation) from FILE, or `-` for stdin.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["external_id", "customer_id", "customer_name", "agent_id", "agent_name", "metadata", "timestamp"])]
    pub(crate) json: Option<PathBuf>,
    /// Your own identifier for the conversation.
    #[arg(long, required_unless_present = "json")]
    pub(crate) external_id: Option<String>,
    /// Your own identifier for the customer.
    #[arg(long, required_unless_present = "json")]
    pub(crate) customer_id: Option<String>,
    /// The customer's display name.
    #[arg(long)]
    pub(crate) customer_name: Option<String>,
    /// Your own identifier for the agent.
    #[arg(long)]
    pub(crate) agent_id: Option<String>,
    /// The agent's display name.
    #[arg(long, requires = "agent_id")]
    pub(crate) agent_name: Option<String>,
    /// Metadata to store, as KEY=VALUE; repeat for more.
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value)]
    pub(crate) metadata: Vec<(String, String)>,
    /// When the conversation started, in RFC 3339 [default: now].
    #[arg(long, value_name = "TIME")]
    pub(crate) timestamp: Option<String>,
}

/// The body of an authentication: from flags, or whole from JSON.
#[derive(Debug, Args)]
pub(crate) struct Authenticate {
    /// ASAPP's conversation id.
    pub(crate) conversation_id: String,
    /// Read the whole body (an AuthObject) from FILE, or `-` for stdin.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["customer_id", "token", "stream_id"])]
    pub(crate) json: Option<PathBuf>,
    /// Your own identifier for the customer.
    #[arg(long, required_unless_present = "json")]
    pub(crate) customer_id: Option<String>,
    /// The customer's authentication token.
    #[arg(long, required_unless_present = "json")]
    pub(crate) token: Option<String>,
    /// The connection responses should be sent to.
    #[arg(long)]
    pub(crate) stream_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Messages {
    /// Add one message to a conversation (createMessage).
    Create(Create),
    /// Add 1 to 300 messages to a conversation in one request (createBatchMessages).
    Batch {
        /// ASAPP's conversation id.
        conversation_id: String,
        /// Read the body (a BatchMessages: {"messages": [...]}) from FILE, or `-` for stdin.
        #[arg(long, value_name = "FILE")]
        json: PathBuf,
    },
    /// List a conversation's messages, oldest first (getMessages).
    List {
        /// ASAPP's conversation id.
        conversation_id: String,
    },
    /// Read one message (getMessage).
    Get {
        /// ASAPP's conversation id.
        conversation_id: String,
        /// ASAPP's message id.
        message_id: String,
    },
    /// List the messages of the conversation with an external id, up to 1,000 (getMessagesByExternalId).
    ListByExternalId {
        /// Your own identifier for the conversation.
        external_id: String,
    },
}

/// The body of a message: from flags, or whole from JSON.
#[derive(Debug, Args)]
pub(crate) struct Create {
    /// ASAPP's conversation id.
    pub(crate) conversation_id: String,
    /// Read the whole body (a Message) from FILE, or `-` for stdin.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["text", "role", "sender_id", "timestamp"])]
    pub(crate) json: Option<PathBuf>,
    /// What the message says.
    #[arg(long, required_unless_present = "json")]
    pub(crate) text: Option<String>,
    /// Who sent it.
    #[arg(long, value_enum, required_unless_present = "json")]
    pub(crate) role: Option<Role>,
    /// Your own identifier for the sender.
    #[arg(long, required_unless_present = "json")]
    pub(crate) sender_id: Option<String>,
    /// When it was sent, in RFC 3339 [default: now].
    #[arg(long, value_name = "TIME")]
    pub(crate) timestamp: Option<String>,
}

/// Contact Lens's copies of a contact's analysis.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ContactLensCopy {
    /// The redacted copy, personal data replaced by [PII].
    Redacted,
    /// The raw copy, as transcribed.
    Raw,
}

/// A sender's role.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Role {
    Agent,
    Customer,
    System,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    Ok((key.to_owned(), value.to_owned()))
}
