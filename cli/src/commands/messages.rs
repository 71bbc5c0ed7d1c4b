//! `asapp messages`: create one (its body from a JSON file or from options), create a batch
//! from a JSON file, list a conversation's, get one, and list by external id.

use std::io::Write;

use asapp_conversations::{Client, types};

use super::input::{read_json, timestamp};
use crate::args::{Create, Messages, Role};
use crate::{Failure, Output, output};

/// Runs `command` against `client`, writing the answer to `out`.
pub(crate) async fn run(
    client: &Client,
    command: Messages,
    output: Output,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    match command {
        Messages::Create(create) => {
            let conversation_id = create.conversation_id.clone();
            let body = create_body(create)?;
            output::print(
                out,
                output,
                client
                    .create_message()
                    .conversation_id(conversation_id.as_str())
                    .body(body)
                    .await,
            )
        }
        Messages::Batch {
            conversation_id,
            json,
        } => {
            let body: types::BatchMessages = read_json(&json)?;
            output::print(
                out,
                output,
                client
                    .create_batch_messages()
                    .conversation_id(conversation_id.as_str())
                    .body(body)
                    .await,
            )
        }
        Messages::List { conversation_id } => output::print(
            out,
            output,
            client
                .get_messages()
                .conversation_id(conversation_id.as_str())
                .await,
        ),
        Messages::Get {
            conversation_id,
            message_id,
        } => output::print(
            out,
            output,
            client
                .get_message()
                .conversation_id(conversation_id.as_str())
                .message_id(message_id.as_str())
                .await,
        ),
        Messages::ListByExternalId { external_id } => output::print(
            out,
            output,
            client
                .get_messages_by_external_id()
                .external_id(external_id)
                .await,
        ),
    }
}

/// The message to create: `--json`'s file, else the options.
fn create_body(create: Create) -> Result<types::Message, Failure> {
    match &create.json {
        Some(path) => read_json(path),
        None => types::Message::builder()
            .text(create.text.unwrap_or_default())
            .sender(
                types::Participant::builder()
                    .role(match create.role {
                        Some(Role::Agent) => types::ParticipantRole::Agent,
                        Some(Role::System) => types::ParticipantRole::System,
                        Some(Role::Customer) | None => types::ParticipantRole::Customer,
                    })
                    .external_id(create.sender_id.unwrap_or_default()),
            )
            .timestamp(timestamp(create.timestamp.as_deref())?)
            .try_into()
            .map_err(|e: types::error::ConversionError| {
                Failure::usage(format!("invalid message: {e}"))
            }),
    }
}
