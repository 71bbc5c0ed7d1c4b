//! The client end to end against the local sandbox: every operation through the awaited
//! builders, the API's semantics (upsert keeps the id, chronological order, the 1,000-message
//! transcript), and the client layer's errors and retries on the sandbox's real answers.

use std::time::Duration;

use asapp_conversations::chrono::{DateTime, TimeZone, Utc};
use asapp_conversations::reqwest::header::{HeaderMap, HeaderValue};
use asapp_conversations::{ClientConfig, ErrorKind, RetryPolicy, reqwest, types};
use asapp_conversations_sandbox::{Sandbox, SandboxConfig};

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + seconds, 0).unwrap()
}

fn message(text: &str, role: types::ParticipantRole, seconds: i64) -> types::Message {
    types::Message::builder()
        .text(text)
        .sender(
            types::Participant::builder()
                .external_id(format!("{role}-1"))
                .role(role),
        )
        .timestamp(at(seconds))
        .try_into()
        .unwrap()
}

fn conversation(external_id: &str, agent: &str) -> types::TimeBasedConversation {
    types::TimeBasedConversation::builder()
        .external_id(external_id)
        .customer(types::Customer::builder().external_id("customer-1"))
        .agent(types::Agent::try_from(types::Agent::builder().external_id(agent)).unwrap())
        .timestamp(at(0))
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn every_operation_end_to_end() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        seed: false,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = sandbox.client_config().build().unwrap();

    // Create, then upsert the same externalId: same id, updated fields.
    let id = client
        .create_or_update_conversation()
        .body(conversation("call-1", "agent-1"))
        .await
        .unwrap()
        .into_inner()
        .id
        .unwrap();
    assert_eq!(id.len(), 26);
    assert!(id.parse::<types::ConversationId>().is_ok(), "{id}");
    let again = client
        .create_or_update_conversation()
        .body(conversation("call-1", "agent-2"))
        .await
        .unwrap();
    assert_eq!(again.id.as_deref(), Some(id.as_str()));
    let stored = client
        .get_conversation()
        .conversation_id(id.as_str())
        .await
        .unwrap();
    assert_eq!(stored.agent.as_ref().unwrap().external_id, "agent-2");
    let found = client
        .get_conversations()
        .external_id("call-1")
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id.as_deref(), Some(id.as_str()));

    // One message, then a batch sent out of order: listed oldest first.
    let single = client
        .create_message()
        .conversation_id(id.as_str())
        .body(message("third", types::ParticipantRole::Customer, 30))
        .await
        .unwrap()
        .into_inner()
        .id
        .unwrap();
    client
        .create_batch_messages()
        .conversation_id(id.as_str())
        .body(types::BatchMessages::builder().messages(vec![
            message("second", types::ParticipantRole::Agent, 20),
            message("first", types::ParticipantRole::Customer, 10),
        ]))
        .await
        .unwrap();
    let listed = client
        .get_messages()
        .conversation_id(id.as_str())
        .await
        .unwrap();
    let texts: Vec<&str> = listed.items.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["first", "second", "third"]);
    let one = client
        .get_message()
        .conversation_id(id.as_str())
        .message_id(single.as_str())
        .await
        .unwrap();
    assert_eq!(one.text.as_str(), "third");
    assert_eq!(one.client_timestamp, at(30));
    assert_eq!(one.sender.external_id.as_deref(), Some("customer-1"));

    let transcript = client
        .get_messages_by_external_id()
        .external_id("call-1")
        .await
        .unwrap();
    assert_eq!(transcript.items.len(), 3);

    client
        .post_authenticate()
        .conversation_id(id.as_str())
        .body(
            types::AuthObject::builder()
                .customer_external_id("customer-1")
                .auth(types::AuthPayload::builder().token(Some("dG9rZW4=".to_owned()))),
        )
        .await
        .unwrap();

    // Answers the client turns into typed errors.
    let missing = client
        .get_conversation()
        .conversation_id("01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert_eq!(missing.code(), Some("404-01"));
    assert!(missing.request_id().is_some_and(|r| !r.is_empty()));
    let too_many = client
        .create_batch_messages()
        .conversation_id(id.as_str())
        .body(types::BatchMessages::builder().messages(vec![
            message(
                "x",
                types::ParticipantRole::Agent,
                1
            );
            301
        ]))
        .await
        .unwrap_err();
    assert_eq!(too_many.status().map(|s| s.as_u16()), Some(400));
    assert!(
        too_many.message().unwrap().contains("/messages"),
        "{too_many}"
    );
    assert_eq!(too_many.attempts(), 1);

    let stranger = ClientConfig::new("someone", "else")
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
    let refused = stranger
        .get_conversation()
        .conversation_id(id.as_str())
        .await
        .unwrap_err();
    assert!(
        refused.is_unauthorized() && refused.code() == Some("401-01"),
        "{refused}"
    );
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_transcript_holds_at_most_1000_messages() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        seed: false,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let client = sandbox.client_config().build().unwrap();
    let id = client
        .create_or_update_conversation()
        .body(conversation("long-call", "agent-1"))
        .await
        .unwrap()
        .into_inner()
        .id
        .unwrap();
    for chunk in 0..4 {
        let messages: Vec<types::Message> = (0..300)
            .map(|i| message("…", types::ParticipantRole::Customer, chunk * 300 + i))
            .collect();
        client
            .create_batch_messages()
            .conversation_id(id.as_str())
            .body(types::BatchMessages::builder().messages(messages))
            .await
            .unwrap();
    }
    let all = client
        .get_messages()
        .conversation_id(id.as_str())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1200);
    let transcript = client
        .get_messages_by_external_id()
        .external_id("long-call")
        .await
        .unwrap();
    assert_eq!(transcript.items.len(), 1000);
    assert_eq!(transcript.items[999].client_timestamp, at(999));
}

#[tokio::test]
async fn injected_rate_limits_and_outages_are_retried_then_reported() {
    let sandbox = Sandbox::start().await.unwrap();
    for (code, kind) in [("429", 429), ("503", 503)] {
        let mut prefer = HeaderMap::new();
        prefer.insert(
            "prefer",
            HeaderValue::from_str(&format!("code={code}")).unwrap(),
        );
        let http = reqwest::Client::builder()
            .default_headers(prefer)
            .build()
            .unwrap();
        let client = sandbox
            .client_config()
            .http_client(http)
            .retry_policy(
                RetryPolicy::custom([Duration::from_millis(1); 3], [Duration::from_millis(1); 3])
                    .with_max_retry_after(Duration::from_millis(1)),
            )
            .build()
            .unwrap();
        let error = client
            .get_conversation()
            .conversation_id("01BX5ZZKBKACTAV9WEVGEMMVRZ")
            .await
            .unwrap_err();
        assert_eq!(error.attempts(), 4, "{error}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(kind));
        assert!(matches!(error.kind(), ErrorKind::Status { .. }));
        assert!(error.is_retryable());
    }
}
