//! What the library's tests share: a scratch directory, an empty in-process sandbox and a
//! client for it, the one generator of JSON Lines ([`Lines`]) and of Genesys Cloud documents
//! ([`genesys`]), an [`Observer`] that records what it is told, and the read-back
//! ([`assert_stored`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asapp_conversations_import::asapp_conversations::chrono::{DateTime, TimeDelta, Utc};
use asapp_conversations_import::asapp_conversations::{Client, types};
use asapp_conversations_import::{Acknowledged, Invalid, Observer, ProgressWatch};
use asapp_conversations_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

/// The longest any wait of these tests may take: past it, the test fails instead of hanging.
pub(crate) const LIMIT: Duration = Duration::from_secs(60);

/// A scratch directory of its own for each test, removed when dropped.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "asapp-import-it-{name}-{}-{unique}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An empty sandbox, and a client for it.
pub(crate) async fn sandbox() -> (Sandbox, Client) {
    let sandbox = Sandbox::start_with(SandboxConfig {
        seed: false,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = sandbox.client_config().build().unwrap();
    (sandbox, client)
}

/// A message as it should be stored: its text and time.
pub(crate) type Stored = (String, DateTime<Utc>);

/// What the sandbox should hold: each conversation's messages, by external id, in time order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Expected(pub(crate) BTreeMap<String, Vec<Stored>>);

impl Expected {
    pub(crate) fn messages(&self) -> u64 {
        self.0.values().map(|m| m.len() as u64).sum()
    }

    pub(crate) fn conversations(&self) -> u64 {
        self.0.len() as u64
    }

    /// Adds `other`'s conversations, none of which is among these.
    pub(crate) fn with(mut self, other: &Self) -> Self {
        for (external_id, messages) in &other.0 {
            let before = self.0.insert(external_id.clone(), messages.clone());
            assert!(before.is_none(), "{external_id} is in both");
        }
        self
    }
}

/// 10:00 on a day in January 2024.
fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-01-23T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Generated JSON Lines: conversations `{prefix}-000`, `{prefix}-001`, … of `messages` each,
/// customer and agent in turn, a second apart; message `m` of a conversation says
/// `message {m} of {externalId}`.
pub(crate) struct Lines {
    pub(crate) prefix: &'static str,
    pub(crate) conversations: usize,
    pub(crate) messages: usize,
}

impl Lines {
    pub(crate) fn external_id(&self, c: usize) -> String {
        format!("{}-{c:03}", self.prefix)
    }

    fn text(&self, c: usize, m: usize) -> String {
        format!("message {m} of {}", self.external_id(c))
    }

    fn time(m: usize) -> DateTime<Utc> {
        start() + TimeDelta::seconds(m as i64)
    }

    /// Line `m` of conversation `c`.
    pub(crate) fn line(&self, c: usize, m: usize) -> String {
        let customer = format!("customer-{c:03}");
        let agent = format!("agent-{}", c % 3);
        let customer_says = m.is_multiple_of(2);
        json!({
            "externalId": self.external_id(c),
            "customerId": customer,
            "agentId": agent,
            "role": if customer_says { "customer" } else { "agent" },
            "senderId": if customer_says { customer } else { agent },
            "text": self.text(c, m),
            "timestamp": Self::time(m).to_rfc3339(),
        })
        .to_string()
    }

    /// Every line, message 0 of every conversation, then message 1, …: interleaved, as a dump
    /// in time order of calls held at once is; within each conversation, each pair of lines is
    /// swapped, so that the lines are out of time order.
    pub(crate) fn jsonl(&self) -> String {
        let mut text = String::new();
        for pair in (0..self.messages).step_by(2) {
            for m in [pair + 1, pair].into_iter().filter(|m| *m < self.messages) {
                for c in 0..self.conversations {
                    text.push_str(&self.line(c, m));
                    text.push('\n');
                }
            }
        }
        text
    }

    /// What the sandbox should hold once these lines are imported.
    pub(crate) fn expected(&self) -> Expected {
        Expected(
            (0..self.conversations)
                .map(|c| {
                    let messages = (0..self.messages)
                        .map(|m| (self.text(c, m), Self::time(m)))
                        .collect();
                    (self.external_id(c), messages)
                })
                .collect(),
        )
    }
}

/// A Genesys Cloud transcript document of the conversation `id`, written from the documented
/// fields: an external party (the customer) and one agent (`internal`, with a `userId`) in turn,
/// `phrases` phrases a second apart, in two transcripts; phrase `p` says
/// `phrase {p} of {id}`. Returns the document and what the sandbox should hold of it.
pub(crate) fn genesys(id: &str, phrases: usize) -> (Vec<u8>, Expected) {
    let start = start();
    let phrase = |p: usize| {
        let at = start + TimeDelta::seconds(p as i64);
        json!({
            "text": format!("phrase {p} of {id}"),
            "participantPurpose": if p.is_multiple_of(2) { "external" } else { "internal" },
            "startTimeMs": at.timestamp_millis(),
            "confidence": 0.9,
        })
    };
    let half = phrases / 2;
    let document = json!({
        "conversationId": id,
        "communicationId": format!("{id}-communication"),
        "conversationStartTime": start.timestamp_millis(),
        "participants": [
            { "participantPurpose": "external" },
            { "participantPurpose": "internal", "userId": "agent-genesys" },
        ],
        "transcripts": [
            { "transcriptId": "t-1", "phrases": (0..half).map(phrase).collect::<Vec<_>>() },
            { "transcriptId": "t-2", "phrases": (half..phrases).map(phrase).collect::<Vec<_>>() },
        ],
    });
    let expected = (0..phrases)
        .map(|p| {
            (
                format!("phrase {p} of {id}"),
                start + TimeDelta::seconds(p as i64),
            )
        })
        .collect();
    (
        serde_json::to_vec_pretty(&document).unwrap(),
        Expected(BTreeMap::from([(id.to_owned(), expected)])),
    )
}

/// The messages the sandbox holds of the conversation `external_id`, as it lists them.
pub(crate) async fn stored(client: &Client, external_id: &str) -> Vec<types::ConversationMessage> {
    let found = client
        .get_conversations()
        .external_id(external_id)
        .await
        .unwrap_or_else(|e| panic!("{external_id}: {e}"))
        .into_inner();
    assert_eq!(found.items.len(), 1, "{external_id}: one conversation");
    let id = found.items[0]
        .id
        .clone()
        .expect("a stored conversation's id");
    client
        .get_messages()
        .conversation_id(id.as_str())
        .await
        .unwrap_or_else(|e| panic!("{external_id}: {e}"))
        .into_inner()
        .items
}

/// Every conversation of `expected` read back: each of its messages once, in time order, and
/// nothing else.
pub(crate) async fn assert_stored(client: &Client, expected: &Expected) {
    for (external_id, wanted) in &expected.0 {
        let listed = stored(client, external_id).await;
        let got: Vec<Stored> = listed
            .iter()
            .map(|m| (m.text.to_string(), m.client_timestamp))
            .collect();
        assert!(
            got.windows(2).all(|pair| pair[0].1 <= pair[1].1),
            "{external_id}: listed in time order"
        );
        assert_eq!(&got, wanted, "{external_id}: every message once, in order");
    }
}

/// An observer that records what it is told, and hands the progress watch on.
#[derive(Clone, Default)]
pub(crate) struct Recorder {
    pub(crate) invalid: Arc<Mutex<Vec<Invalid>>>,
    pub(crate) watch: Arc<Mutex<Option<ProgressWatch>>>,
    /// Told when a batch is acknowledged.
    pub(crate) acknowledged: Arc<tokio::sync::Notify>,
}

impl Recorder {
    pub(crate) fn invalid(&self) -> Vec<Invalid> {
        self.invalid.lock().unwrap().clone()
    }
}

impl Observer for Recorder {
    fn started(&self, progress: &ProgressWatch) {
        *self.watch.lock().unwrap() = Some(progress.clone());
    }

    fn invalid(&self, invalid: &Invalid) {
        self.invalid.lock().unwrap().push(invalid.clone());
    }

    fn acknowledged(&self, _batch: &Acknowledged<'_>) {
        self.acknowledged.notify_one();
    }
}
