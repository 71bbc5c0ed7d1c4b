//! Quickstart: configure the client from the environment, create a conversation, add messages
//! one at a time and in a batch, and read them back.
//!
//! ```console
//! $ export ASAPP_API_ID=… ASAPP_API_SECRET=…   # and ASAPP_ENVIRONMENT or ASAPP_BASE_URL
//! $ cargo run -p asapp-conversations --example quickstart
//! ```

use std::process::ExitCode;

use asapp_conversations::chrono::{Duration, Utc};
use asapp_conversations::{ApiError, Client, ClientConfig, types};

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
pub(crate) async fn run(client: &Client, external_id: &str) -> Result<Vec<String>, ApiError> {
    let started = Utc::now();
    let customer = types::Participant {
        role: types::ParticipantRole::Customer,
        external_id: "customer-0001".to_owned(),
    };
    let agent = types::Participant {
        role: types::ParticipantRole::Agent,
        external_id: "agent-0001".to_owned(),
    };

    // Create (or update: the call is an upsert keyed by externalId) the conversation.
    let conversation = client
        .create_or_update_conversation()
        .body(
            types::TimeBasedConversation::builder()
                .external_id(external_id)
                .customer(types::Customer::builder().external_id("customer-0001"))
                .agent(Some(types::Agent {
                    external_id: "agent-0001".to_owned(),
                    name: Some("Grace".to_owned()),
                }))
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
    .map(|(sender, text, second)| types::Message {
        sender,
        text: text.try_into().expect("a non-empty text"),
        timestamp: started + Duration::seconds(second),
    });
    client
        .create_batch_messages()
        .conversation_id(conversation_id.as_str())
        .body(types::BatchMessages {
            messages: batch.to_vec(),
        })
        .await?;

    // Read them back, in chronological order.
    let messages = client
        .get_messages()
        .conversation_id(conversation_id.as_str())
        .await?;
    Ok(messages
        .items
        .iter()
        .map(|message| format!("{:?}: {}", message.sender.role, *message.text))
        .collect())
}
