//! `asapp export`: a conversation's messages as JSON Lines, in the format `import` reads.

use std::io::Write;

use asapp_conversations::Client;

use asapp_conversations_import::transcript;

use crate::{Exit, Failure, output};

/// Finds the conversation `external_id` names and writes its messages to `out`, one line each.
pub(crate) async fn run(
    client: &Client,
    external_id: &str,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let found = client.get_conversations().external_id(external_id).await?;
    let conversation = found.items.first().ok_or_else(|| Failure {
        exit: Exit::Rejected,
        message: format!("no conversation has externalId `{external_id}`"),
    })?;
    let id = conversation.id.clone().unwrap_or_default();
    let messages = client.get_messages().conversation_id(id.as_str()).await?;
    for message in &messages.items {
        let line = transcript::Line::from_stored(conversation, message);
        output::write_line(out, &line)?;
    }
    Ok(())
}
