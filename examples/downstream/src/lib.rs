//! What a downstream crate writes against `asapp-conversations`: a client with both credentials,
//! then every operation of the Conversations API once, in the order a real integration calls
//! them.
//!
//! Only the client's public API is used, through a path dependency, exactly as another crate in
//! another repository would.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use asapp_conversations::{Client, ClientConfig, ConfigError, chrono, types};

/// A failure of the walk through the API, naming the step.
#[derive(Debug)]
pub struct StepError {
    /// The operation that failed.
    pub step: &'static str,
    /// Why.
    pub error: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}", self.step, self.error)
    }
}

impl std::error::Error for StepError {}

/// Builds a client for `base_url` with both credentials and the client's defaults: ASAPP's
/// retry schedule, timeouts and a deadline.
pub fn client(base_url: &str, api_id: &str, api_secret: &str) -> Result<Client, ConfigError> {
    ClientConfig::new(api_id, api_secret)
        .base_url(base_url)
        .user_agent_suffix("downstream-example")
        .build()
}

fn step<T, E>(step: &'static str, result: Result<T, E>) -> Result<T, StepError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    result.map_err(|error| StepError {
        step,
        error: Box::new(error),
    })
}

/// An answer that lacks a value the next steps need.
fn missing(step: &'static str, field: &str) -> StepError {
    StepError {
        step,
        error: format!("the answer has no `{field}`").into(),
    }
}

/// Calls all nine operations once; returns one line per call describing what came back.
pub async fn run(client: &Client, external_id: &str) -> Result<Vec<String>, StepError> {
    let mut log = Vec::new();
    let now = chrono::Utc::now();
    // Every type is built through its builder: a field ASAPP adds later does not break this.
    let customer = types::Customer::builder()
        .external_id("customer-0001")
        .name(Some("Ada Customer".to_owned()));
    let agent = step(
        "createOrUpdateConversation",
        types::Agent::try_from(
            types::Agent::builder()
                .external_id("agent-0001")
                .name(Some("Grace Agent".to_owned())),
        ),
    )?;

    let created = step(
        "createOrUpdateConversation",
        client
            .create_or_update_conversation()
            .body(
                types::TimeBasedConversation::builder()
                    .external_id(external_id)
                    .customer(customer)
                    .agent(agent)
                    .timestamp(now),
            )
            .await,
    )?;
    let conversation_id = created
        .id
        .clone()
        .ok_or_else(|| missing("createOrUpdateConversation", "id"))?;
    log.push(format!("createOrUpdateConversation: id {conversation_id}"));

    let found = step(
        "getConversations",
        client.get_conversations().external_id(external_id).await,
    )?;
    log.push(format!("getConversations: {} match(es)", found.items.len()));

    let conversation = step(
        "getConversation",
        client
            .get_conversation()
            .conversation_id(conversation_id.as_str())
            .await,
    )?;
    log.push(format!(
        "getConversation: externalId {}",
        conversation.external_id
    ));

    step(
        "postAuthenticate",
        client
            .post_authenticate()
            .conversation_id(conversation_id.as_str())
            .body(
                types::AuthObject::builder()
                    .customer_external_id("customer-0001")
                    .auth(types::AuthPayload::builder().token(Some("cGFzc3dvcmQ=".to_owned()))),
            )
            .await,
    )?;
    log.push("postAuthenticate: accepted".to_owned());

    let message = |text: &str, role, sender: &str, seconds| {
        types::Message::builder()
            .text(text)
            .sender(types::Participant::builder().role(role).external_id(sender))
            .timestamp(now + chrono::Duration::seconds(seconds))
    };
    let sent = step(
        "createMessage",
        client
            .create_message()
            .conversation_id(conversation_id.as_str())
            .body(message(
                "Hello, I would like to upgrade my internet plan to GOLD.",
                types::ParticipantRole::Customer,
                "customer-0001",
                1,
            ))
            .await,
    )?;
    let message_id = sent
        .id
        .clone()
        .ok_or_else(|| missing("createMessage", "id"))?;
    log.push(format!("createMessage: id {message_id}"));

    let batch: Result<Vec<types::Message>, _> = [
        message(
            "Let me help you with that.",
            types::ParticipantRole::Agent,
            "agent-0001",
            2,
        ),
        message(
            "Thank you!",
            types::ParticipantRole::Customer,
            "customer-0001",
            3,
        ),
    ]
    .into_iter()
    .map(types::Message::try_from)
    .collect();
    let batch = step("createBatchMessages", batch)?;
    step(
        "createBatchMessages",
        client
            .create_batch_messages()
            .conversation_id(conversation_id.as_str())
            .body(types::BatchMessages::builder().messages(batch))
            .await,
    )?;
    log.push("createBatchMessages: stored 2 messages".to_owned());

    let messages = step(
        "getMessages",
        client
            .get_messages()
            .conversation_id(conversation_id.as_str())
            .await,
    )?;
    log.push(format!("getMessages: {} message(s)", messages.items.len()));

    let one = step(
        "getMessage",
        client
            .get_message()
            .conversation_id(conversation_id.as_str())
            .message_id(message_id.as_str())
            .await,
    )?;
    log.push(format!(
        "getMessage: {:?} said {:?}",
        one.sender.role, *one.text
    ));

    let transcript = step(
        "getMessagesByExternalId",
        client
            .get_messages_by_external_id()
            .external_id(external_id)
            .await,
    )?;
    log.push(format!(
        "getMessagesByExternalId: {} message(s)",
        transcript.items.len()
    ));
    Ok(log)
}
