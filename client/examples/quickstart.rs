//! Quickstart: configure the client from the environment, create a conversation, add messages
//! one at a time and in a batch, and read them back.
//!
//! ```console
//! $ export ASAPP_API_ID=… ASAPP_API_SECRET=…   # and ASAPP_ENVIRONMENT or ASAPP_BASE_URL
//! $ cargo run -p asapp-conversations --example quickstart
//! ```

use std::process::ExitCode;

use asapp_conversations::chrono::{Duration, Utc};
use asapp_conversations::{Client, ClientConfig, types};

/// Any failure: of a call ([`asapp_conversations::ApiError`]) or of a value built for one.
type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    let client = match ClientConfig::from_env().and_then(ClientConfig::build) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let external_id = format!("quickstart-{}", std::process::id());
    match run(&client, &external_id).await {
        Ok(transcript) => {
            for line in transcript {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Creates conversation `external_id` with three messages and returns them as read back, one
/// line each.
pub(crate) async fn run(client: &Client, external_id: &str) -> Result<Vec<String>, Error> {
    let started = Utc::now();
    // Every type has a builder; a builder is taken wherever its type is, and `try_into()` turns
    // it into the value, failing when a required field is missing.
    let customer = types::Participant::builder()
        .role(types::ParticipantRole::Customer)
        .external_id("customer-0001");
    let agent = types::Participant::builder()
        .role(types::ParticipantRole::Agent)
        .external_id("agent-0001");
    let agent_details: types::Agent = types::Agent::builder()
        .external_id("agent-0001")
        .name(Some("Grace".to_owned()))
        .try_into()?;

    // Create (or update: the call is an upsert keyed by externalId) the conversation.
    let conversation = client
        .create_or_update_conversation()
        .body(
            types::TimeBasedConversation::builder()
                .external_id(external_id)
                .customer(types::Customer::builder().external_id("customer-0001"))
                .agent(agent_details)
                .timestamp(started),
        )
        .await?;
    let Some(conversation_id) = conversation.id.clone() else {
        return Ok(vec!["ASAPP answered without a conversation id".to_owned()]);
    };

    // One message on its own...
    client
        .create_message()
        .conversation_id(conversation_id.as_str())
        .body(
            types::Message::builder()
                .text("Hello, I would like to upgrade my internet plan to GOLD.")
                .sender(customer.clone())
                .timestamp(started + Duration::seconds(1)),
        )
        .await?;

    // ...and two in one batch (up to 300 fit in one request).
    let batch = [
        (agent, "Of course. GOLD includes 1 Gbit/s.", 2),
        (customer, "Perfect, thank you!", 3),
    ]
    .into_iter()
    .map(|(sender, text, second)| {
        types::Message::builder()
            .sender(sender)
            .text(text)
            .timestamp(started + Duration::seconds(second))
            .try_into()
    })
    .collect::<Result<Vec<types::Message>, _>>()?;
    client
        .create_batch_messages()
        .conversation_id(conversation_id.as_str())
        .body(types::BatchMessages::builder().messages(batch))
        .await?;

    // Read them back, in chronological order.
    let messages = client
        .get_messages()
        .conversation_id(conversation_id.as_str())
        .await?;
    Ok(messages
        .items
        .iter()
        .map(|message| format!("{}: {}", message.sender.role, *message.text))
        .collect())
}
