//! `asapp conversations`: upsert (its body from a JSON file or from options), list by external
//! id, get, and authenticate a customer.

use std::io::Write;

use asapp_conversations::{Client, types};

use super::input::{read_json, timestamp};
use crate::args::{Authenticate, Conversations, Upsert};
use crate::{Failure, Output, output};

/// Runs `command` against `client`, writing the answer to `out`.
pub(crate) async fn run(
    client: &Client,
    command: Conversations,
    output: Output,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    match command {
        Conversations::Upsert(upsert) => {
            let body = upsert_body(upsert)?;
            output::print(
                out,
                output,
                client.create_or_update_conversation().body(body).await,
            )
        }
        Conversations::List { external_id } => output::print(
            out,
            output,
            client.get_conversations().external_id(external_id).await,
        ),
        Conversations::Get { conversation_id } => output::print(
            out,
            output,
            client
                .get_conversation()
                .conversation_id(conversation_id.as_str())
                .await,
        ),
        Conversations::Authenticate(auth) => {
            let conversation_id = auth.conversation_id.clone();
            let body = authenticate_body(auth)?;
            client
                .post_authenticate()
                .conversation_id(conversation_id.as_str())
                .body(body)
                .await?;
            Ok(())
        }
    }
}

/// The conversation to upsert: `--json`'s file, else the options.
fn upsert_body(upsert: Upsert) -> Result<types::TimeBasedConversation, Failure> {
    if let Some(path) = &upsert.json {
        return read_json(path);
    }
    let mut builder = types::TimeBasedConversation::builder()
        .external_id(upsert.external_id.unwrap_or_default())
        .customer(
            types::Customer::builder()
                .external_id(upsert.customer_id.unwrap_or_default())
                .name(upsert.customer_name),
        )
        .metadata(
            upsert
                .metadata
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .timestamp(timestamp(upsert.timestamp.as_deref())?);
    if let Some(agent) = upsert.agent_id {
        let agent = types::Agent::builder()
            .external_id(agent)
            .name(upsert.agent_name)
            .try_into()
            .map_err(|e: types::error::ConversionError| {
                Failure::usage(format!("invalid agent: {e}"))
            })?;
        builder = builder.agent(Some(agent));
    }
    builder
        .try_into()
        .map_err(|e: types::error::ConversionError| {
            Failure::usage(format!("invalid conversation: {e}"))
        })
}

/// The customer's authentication: `--json`'s file, else the options.
fn authenticate_body(auth: Authenticate) -> Result<types::AuthObject, Failure> {
    match &auth.json {
        Some(path) => read_json(path),
        None => types::AuthObject::builder()
            .auth(types::AuthPayload::builder().token(auth.token))
            .customer_external_id(auth.customer_id.unwrap_or_default())
            .stream_id(auth.stream_id)
            .try_into()
            .map_err(|e: types::error::ConversionError| {
                Failure::usage(format!("invalid authentication: {e}"))
            }),
    }
}
