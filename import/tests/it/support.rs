//! What the library's tests share: an empty in-process sandbox and a client for it, the one
//! generator of Genesys Cloud documents ([`genesys`]), an [`Observer`] that records what it is
//! told, and the read-back ([`Expected`], [`assert_stored`]). The scratch directory and the one
//! generator of JSON Lines come from `asapp-conversations-test-support`, which the command's
//! tests share.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asapp_conversations_import::asapp_conversations::chrono::{DateTime, TimeDelta, Utc};
use asapp_conversations_import::asapp_conversations::{Client, types};
use asapp_conversations_import::{Acknowledged, Invalid, Observer, ProgressWatch};
use asapp_conversations_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

pub(crate) use asapp_conversations_test_support::{Order, Scratch, Transcript};

/// The longest any wait of these tests may take: past it, the test fails instead of hanging.
pub(crate) const LIMIT: Duration = Duration::from_secs(60);

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

    /// What the sandbox should hold once `transcript` is imported.
    pub(crate) fn of(transcript: &Transcript) -> Self {
        Self(
            (0..transcript.conversations())
                .map(|c| {
                    let messages = transcript
                        .conversation(c)
                        .iter()
                        .map(|line| {
                            let time = line["timestamp"].as_str().unwrap();
                            let time = DateTime::parse_from_rfc3339(time).unwrap();
                            (line["text"].as_str().unwrap().to_owned(), time.to_utc())
                        })
                        .collect();
                    (transcript.external_id(c), messages)
                })
                .collect(),
        )
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
