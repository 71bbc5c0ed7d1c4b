//! The shared test support of these tests: the plumbing (a scratch directory, a sandbox and the
//! environment pointing `asapp` at it, a server of a router, an injected error answer), the one
//! generator of JSON Lines transcripts ([`message_line`] for a line written by hand,
//! [`Transcript`] for conversations × messages in any order), and the one read-back
//! ([`exported_texts`], [`assert_once_in_order`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use asapp_conversations_cli::Exit;
use asapp_conversations_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

use super::{Ran, asapp_with};

/// The longest any wait of these tests may take: past it, the test fails instead of hanging.
pub(super) const LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// A scratch directory, removed when dropped.
pub(super) struct Scratch(pub(super) PathBuf);

impl Scratch {
    pub(super) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("asapp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `asapp args` run in-process with the variables `env`.
pub(super) async fn asapp_env(args: &[&str], env: &[(&'static str, String)]) -> Ran {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    asapp_with(args, &env).await
}

/// A sandbox holding nothing to begin with.
pub(super) fn empty() -> SandboxConfig {
    SandboxConfig {
        seed: false,
        ..SandboxConfig::default()
    }
}

/// The environment pointing `asapp` at `sandbox`, with its credentials.
pub(super) fn sandbox_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    vec![
        ("ASAPP_BASE_URL", sandbox.base_url().to_owned()),
        ("ASAPP_API_ID", sandbox.api_id().to_owned()),
        ("ASAPP_API_SECRET", sandbox.api_secret().to_owned()),
    ]
}

/// The environment pointing `asapp` at `url`, with a sandbox's default credentials.
pub(super) fn default_credentials(url: String) -> Vec<(&'static str, String)> {
    vec![
        ("ASAPP_BASE_URL", url),
        (
            "ASAPP_API_ID",
            asapp_conversations_sandbox::DEFAULT_API_ID.to_owned(),
        ),
        (
            "ASAPP_API_SECRET",
            asapp_conversations_sandbox::DEFAULT_API_SECRET.to_owned(),
        ),
    ]
}

/// `asapp import file --checkpoint checkpoint --rate-limit 0`, then `extra`.
pub(super) fn import_args<'a>(
    file: &'a str,
    checkpoint: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "import",
        file,
        "--checkpoint",
        checkpoint,
        "--rate-limit",
        "0",
    ];
    args.extend_from_slice(extra);
    args
}

/// Serves `app` on 127.0.0.1 until the test ends; returns its base URL.
pub(super) async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// An error answer in ASAPP's envelope.
pub(super) fn injected(status: u16) -> axum::response::Response {
    axum::response::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"error": {"requestId": "r", "code": format!("{status}-01"), "message": "injected"}})
                .to_string(),
        ))
        .unwrap()
}

/// A sandbox whose batch requests are counted: `reached` fires when the `n`-th arrives.
pub(super) async fn counting_sandbox(
    n: usize,
) -> (String, tokio::sync::oneshot::Receiver<()>, Sandbox) {
    // The counted server serves the sandbox's router; the plain sandbox beside it (same store is
    // not needed: exports go to the counted one) only provides the credentials.
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let router = asapp_conversations_sandbox::router(&SandboxConfig {
        api_id: sandbox.api_id().to_owned(),
        api_secret: sandbox.api_secret().to_owned(),
        ..empty()
    })
    .unwrap();
    let (tell, reached) = tokio::sync::oneshot::channel();
    let tell = Arc::new(std::sync::Mutex::new(Some(tell)));
    let seen = Arc::new(AtomicUsize::new(0));
    let app = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let (tell, seen) = (tell.clone(), seen.clone());
            async move {
                if request.uri().path().ends_with("/messages/batch")
                    && seen.fetch_add(1, Ordering::SeqCst) + 1 == n
                    && let Some(tell) = tell.lock().unwrap().take()
                {
                    let _ = tell.send(());
                }
                next.run(request).await
            }
        },
    ));
    let url = serve(app).await;
    (url, reached, sandbox)
}

/// One line of a transcript written by hand: `text`, said by customer `c` in `external_id`, at
/// `second` past 11:42 on a day.
pub(super) fn message_line(external_id: &str, text: &str, second: u32) -> String {
    json!({"externalId": external_id, "customerId": "c", "role": "customer", "senderId": "c", "text": text, "timestamp": format!("2024-01-23T11:42:{second:02}Z")}).to_string()
}

/// A small seeded generator (xorshift64*).
pub(super) struct Seeded(pub(super) u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A generated transcript: conversations `{prefix}-000`, `{prefix}-001`, … of as many messages
/// each, customer and agent in turn, a second apart from 10:00 on a day; message `m` of
/// conversation `c` says `{words} {m} of {prefix}-{c:03}`. Every line of a conversation is as
/// long as every other of the same speaker and number of digits.
pub(super) struct Transcript {
    prefix: &'static str,
    conversations: usize,
    messages: usize,
    words: &'static str,
    said_twice: bool,
}

/// The order of a transcript's lines. Each conversation's lines keep their own order in all.
pub(super) enum Order<'a> {
    /// Each conversation whole, one after the other.
    OneAfterAnother,
    /// Line by line in turn: message 0 of every conversation, then message 1, …
    InTurn,
    /// The conversations interleaved at random: a dump in time order of concurrent calls.
    Shuffled(&'a mut Seeded),
}

impl Transcript {
    pub(super) fn new(prefix: &'static str, conversations: usize, messages: usize) -> Self {
        Self {
            prefix,
            conversations,
            messages,
            words: "message",
            said_twice: false,
        }
    }

    /// Each conversation's message 1 repeats its message 0, time and all: said twice.
    pub(super) fn said_twice(self) -> Self {
        Self {
            said_twice: true,
            ..self
        }
    }

    /// Each text starts with `words` instead of `message`.
    pub(super) fn saying(self, words: &'static str) -> Self {
        Self { words, ..self }
    }

    pub(super) fn external_id(&self, c: usize) -> String {
        format!("{}-{c:03}", self.prefix)
    }

    fn line(&self, c: usize, m: usize) -> Value {
        let m = if self.said_twice && m == 1 { 0 } else { m };
        let customer = format!("customer-{c:03}");
        let agent = format!("agent-{}", c % 7);
        let customer_says = m % 2 == 0;
        json!({
            "externalId": self.external_id(c),
            "customerId": customer,
            "customerName": format!("Customer {c:03}"),
            "agentId": agent,
            "agentName": "Grace",
            "role": if customer_says { "customer" } else { "agent" },
            "senderId": if customer_says { customer } else { agent },
            "text": format!("{} {m} of {}", self.words, self.external_id(c)),
            "timestamp": format!("2024-01-23T{:02}:{:02}:{:02}Z", 10 + m / 3600, m / 60 % 60, m % 60),
        })
    }

    /// Conversation `c`'s lines in time order: as it exports, once stored.
    pub(super) fn conversation(&self, c: usize) -> Vec<Value> {
        (0..self.messages).map(|m| self.line(c, m)).collect()
    }

    /// Every line, in `order`.
    pub(super) fn lines(&self, order: Order<'_>) -> Vec<Value> {
        match order {
            Order::OneAfterAnother => (0..self.conversations)
                .flat_map(|c| self.conversation(c))
                .collect(),
            Order::InTurn => (0..self.messages)
                .flat_map(|m| (0..self.conversations).map(move |c| self.line(c, m)))
                .collect(),
            Order::Shuffled(seed) => {
                let mut next = vec![0; self.conversations];
                let mut open: Vec<usize> = (0..self.conversations).collect();
                let mut lines = Vec::new();
                while !open.is_empty() {
                    let pick = usize::try_from(seed.below(open.len() as u64)).unwrap();
                    let c = open[pick];
                    lines.push(self.line(c, next[c]));
                    next[c] += 1;
                    if next[c] == self.messages {
                        open.swap_remove(pick);
                    }
                }
                lines
            }
        }
    }

    /// Every line in `order`, as JSON Lines.
    pub(super) fn jsonl(&self, order: Order<'_>) -> String {
        self.lines(order).iter().map(|l| format!("{l}\n")).collect()
    }

    /// Writes [`Transcript::jsonl`] to `path`.
    pub(super) fn write(&self, path: &Path, order: Order<'_>) {
        std::fs::write(path, self.jsonl(order)).unwrap();
    }
}

/// What `asapp export` wrote of the conversation `external_id`, a value a line; the run, where
/// it failed (as it does for a conversation ASAPP does not hold).
pub(super) async fn export(
    external_id: &str,
    env: &[(&'static str, String)],
) -> Result<Vec<Value>, Ran> {
    let exported = asapp_env(&["export", "--external-id", external_id], env).await;
    if exported.exit != Exit::Success {
        return Err(exported);
    }
    Ok(exported
        .out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect())
}

/// The texts of a conversation, exported.
pub(super) async fn exported_texts(
    external_id: &str,
    env: &[(&'static str, String)],
) -> Vec<String> {
    export(external_id, env)
        .await
        .unwrap_or_else(|ran| panic!("{external_id}: {ran:?}"))
        .iter()
        .map(|line| line["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Every conversation of `transcript` exported: each of its messages once, in order, every
/// line as it went in.
pub(super) async fn assert_once_in_order(transcript: &Transcript, env: &[(&'static str, String)]) {
    for c in 0..transcript.conversations {
        let external_id = transcript.external_id(c);
        let exported = export(&external_id, env)
            .await
            .unwrap_or_else(|ran| panic!("{external_id}: {ran:?}"));
        let texts = |lines: &[Value]| -> Vec<String> {
            lines.iter().map(|l| l["text"].to_string()).collect()
        };
        let wanted = transcript.conversation(c);
        assert_eq!(
            texts(&exported),
            texts(&wanted),
            "{external_id}: every message once, in order"
        );
        assert_eq!(exported, wanted, "{external_id}: every line as it went in");
    }
}
