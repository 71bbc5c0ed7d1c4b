//! Import transcripts into ASAPP's Conversations API, exactly once, from your own code: the
//! library behind `asapp import`.
//!
//! It reads the project's JSON Lines ([`transcript`]) and contact-centre exports ([`formats`]:
//! Amazon Connect Contact Lens and chat transcripts, Genesys Cloud, Twilio), from files,
//! directories, object storage (the `object-store` feature), bytes in memory or any async
//! reader; it upserts each conversation and sends its messages in timestamp order, in batches
//! of at most 300; and it records every batch in a checkpoint, so that an import killed at any
//! moment, even by a power failure, resumes and sends exactly what was not acknowledged.
//!
//! ```no_run
//! use asapp_conversations::{Client, ClientConfig};
//! use asapp_conversations_import::{Import, Input};
//!
//! # async fn example(genesys_json: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! let client: Client = ClientConfig::from_env()?.build()?;
//! let summary = Import::new(client, "calls.checkpoint")
//!     .input(Input::path("exports/2024-01/"))
//!     .input(Input::bytes("genesys/call-42.json", genesys_json))
//!     .execute()
//!     .await?;
//! println!("{} messages in {} conversations", summary.messages, summary.conversations);
//! # Ok(())
//! # }
//! ```
//!
//! To read one vendor document without importing it, see [`formats::read_document`].
//!
//! # Example: into the local sandbox, cancelled and resumed
//!
//! A service receives a Genesys Cloud transcript document and a stream of JSON Lines, and
//! imports both into the in-process sandbox (the `asapp-conversations-sandbox` crate, a local
//! stand-in for ASAPP). It is stopped midway: its [`CancellationToken`] is cancelled once the first messages
//! are acknowledged, while the stream is still open, and the import returns
//! [`Error::Cancelled`], what was acknowledged recorded in the checkpoint. Started again with
//! [`Import::resume`] and the same inputs, it sends only the rest; once more, it finds every
//! message already stored and sends nothing. Read back, each conversation holds each of its
//! messages once, in order.
//!
//! ```
//! use std::time::Duration;
//!
//! use asapp_conversations_import::{Acknowledged, CancellationToken, Error, Import, Input, Observer};
//! use asapp_conversations_sandbox::Sandbox;
//! use serde_json::json;
//! use tokio::io::AsyncWriteExt as _;
//!
//! /// Stops the import once a batch is acknowledged, as a shutdown may at any moment.
//! struct StopOnceSent(CancellationToken);
//!
//! impl Observer for StopOnceSent {
//!     fn acknowledged(&self, _batch: &Acknowledged<'_>) {
//!         self.0.cancel();
//!     }
//! }
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = Sandbox::start().await?;
//! let client = sandbox.client_config().build()?;
//! // A checkpoint of its own, in the temporary directory.
//! let name = format!("asapp-import-example-{}.checkpoint", std::process::id());
//! let checkpoint = std::env::temp_dir().join(name);
//!
//! // One Genesys Cloud call: the customer is the external party, the agent the internal one.
//! let genesys = json!({
//!     "conversationId": "genesys-42",
//!     "conversationStartTime": 1_706_004_000_000_u64, // 2024-01-23T10:00:00Z
//!     "participants": [
//!         { "participantPurpose": "external" },
//!         { "participantPurpose": "internal", "userId": "agent-7" },
//!     ],
//!     "transcripts": [{ "phrases": [
//!         { "participantPurpose": "external", "startTimeMs": 1_706_004_001_000_u64,
//!           "text": "My parcel has not arrived." },
//!         { "participantPurpose": "internal", "startTimeMs": 1_706_004_004_000_u64,
//!           "text": "Let me look that up for you." },
//!     ]}],
//! });
//! let mut expected = vec![(
//!     "genesys-42".to_owned(),
//!     vec!["My parcel has not arrived.".to_owned(), "Let me look that up for you.".to_owned()],
//! )];
//!
//! // Twenty chats of ten messages, as JSON Lines in time order: the chats interleave.
//! let chats: Vec<String> = (0..20).map(|c| format!("chat-{c:02}")).collect();
//! let mut lines = Vec::new();
//! for m in 0..10 {
//!     for chat in &chats {
//!         let (role, sender) = if m % 2 == 0 { ("customer", "c-1") } else { ("agent", "a-1") };
//!         lines.push(json!({
//!             "externalId": chat, "customerId": "c-1", "agentId": "a-1",
//!             "role": role, "senderId": sender, "text": format!("message {m} of {chat}"),
//!             "timestamp": format!("2024-01-23T11:00:{m:02}Z"),
//!         }).to_string() + "\n");
//!     }
//! }
//! for chat in &chats {
//!     expected.push((chat.clone(), (0..10).map(|m| format!("message {m} of {chat}")).collect()));
//! }
//! let jsonl = lines.concat();
//!
//! // The same inputs each time, each with the name the checkpoint knows it by: the document,
//! // and the stream.
//! let import = |stream: Input| {
//!     Import::new(client.clone(), &checkpoint)
//!         .input(Input::bytes("genesys/genesys-42.json", genesys.to_string()))
//!         .input(stream)
//! };
//!
//! // Stopped midway: half of the stream has arrived, and the pipe stays open for the rest, so
//! // the import cannot end before it is stopped.
//! let (mut pipe, stream) = tokio::io::duplex(jsonl.len());
//! pipe.write_all(lines[..100].concat().as_bytes()).await?;
//! let stop = CancellationToken::new();
//! let stopped = import(Input::reader("chats.jsonl", stream))
//!     .cancel_on(stop.clone())
//!     .observer(StopOnceSent(stop))
//!     .execute();
//! // Every wait bounded: past a minute, the example fails instead of hanging.
//! let limit = Duration::from_secs(60);
//! let stopped = tokio::time::timeout(limit, stopped).await?;
//! drop(pipe);
//! let Err(Error::Cancelled { messages: acknowledged, .. }) = stopped else {
//!     panic!("not cancelled: {stopped:?}");
//! };
//! assert!(acknowledged > 0);
//!
//! // Resumed, with the whole stream: only what was not acknowledged is sent.
//! let resumed = import(Input::reader("chats.jsonl", std::io::Cursor::new(jsonl.clone())))
//!     .resume(true)
//!     .execute();
//! let resumed = tokio::time::timeout(limit, resumed).await??;
//! assert_eq!(resumed.already_stored, acknowledged);
//! assert_eq!(acknowledged + resumed.messages, 2 + 200);
//!
//! // Resumed once more: everything is stored already, and nothing is sent again.
//! let again = import(Input::reader("chats.jsonl", std::io::Cursor::new(jsonl)))
//!     .resume(true)
//!     .execute();
//! let again = tokio::time::timeout(limit, again).await??;
//! assert_eq!((again.messages, again.already_stored), (0, 2 + 200));
//!
//! // Read back through the client: every message once, in order.
//! for (external_id, texts) in &expected {
//!     let found = client.get_conversations().external_id(external_id).await?;
//!     let id = found.items[0].id.clone().unwrap_or_default();
//!     let stored = client.get_messages().conversation_id(id.as_str()).await?;
//!     let stored: Vec<String> = stored.items.iter().map(|m| m.text.to_string()).collect();
//!     assert_eq!(&stored, texts, "{external_id}");
//! }
//!
//! std::fs::remove_file(&checkpoint)?;
//! sandbox.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Promises
//! - **Exactly once.** Each batch's intent is on stable storage before it is sent, and its
//!   acknowledgement recorded after; resumed ([`Import::resume`]) with the same inputs and
//!   settings, an import skips what was acknowledged and reads back from ASAPP what a batch in
//!   doubt stored before sending only the rest.
//! - **Order.** A conversation's messages go in timestamp order, one batch at a time; different
//!   conversations go concurrently.
//! - **Memory flat** in the number and size of the inputs: directories and prefixes are listed
//!   as the import reaches them, JSON Lines streamed, and only the runs being sent are held.
//! - **No message text** in an [`Error`], an [`Invalid`] report, a log line or a span: they
//!   name the place (input, line, JSON pointer) and the reason.
//!
//! # Glossary
//! One name per concept, in the code, the docs and the README:
//! - **input**: one thing read whole, in order: a file, an object, bytes, a reader, standard
//!   input. A directory or a prefix given is listed into inputs. The checkpoint records each by
//!   its stable name.
//! - **format**: how an input is written: JSON Lines ([`Format::Jsonl`]) or one of the vendor
//!   formats, whose inputs are *documents*, one conversation each.
//! - **line**: one message with its conversation, as JSON Lines hold it ([`transcript::Line`]);
//!   a document's message **entries** ([`formats::MessageEntry`], each at a JSON pointer) become
//!   lines.
//! - **invalid**: a line, entry or document that cannot be imported, reported ([`Invalid`]) and
//!   skipped (or fatal with [`Import::strict`]); a document is **refused** whole for a
//!   [`formats::Refusal`].
//! - **run**: one conversation's lines within a *window* of an input; the unit that is
//!   scheduled and sent, cut the same way on every resume.
//! - **batch**: up to 300 of a run's messages, in one request.
//! - **checkpoint**: the file that records the inputs reached and each batch's *intent* and
//!   *acknowledgement*, written through the *journal*.
//! - **in doubt**: a batch whose intent is recorded and whose acknowledgement is not. The
//!   **reconciliation** reads its conversation back and sends only what ASAPP lacks, after it
//!   has had time to **settle** ([`Import::settle`]).
//! - **cancel**: the caller's token ([`Import::cancel_on`]) stops the import cleanly.
//!
//! # Stages
//! Data flows one way: *listing* the inputs → *reading* each → *cutting* its lines into runs →
//! *scheduling* the runs → *reconciling* batches in doubt and *sending* → *recording* in the
//! checkpoint. The README's "what lives where" maps each to its module.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The crate's README, whose example is compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadme;

mod error;
pub mod formats;
mod import;
mod observe;
mod pipeline;
mod progress;
mod summary;
pub mod transcript;

pub use asapp_conversations;
pub use tokio_util::sync::CancellationToken;

pub use crate::error::{CheckpointProblem, Error, Fault, StoreProblem};
pub use crate::formats::Format;
pub use crate::import::{Import, Input};
pub use crate::observe::{Acknowledged, Invalid, InvalidKind, Observer, Resumed, Silent};
pub use crate::pipeline::{FileStorage, Storage, StorageFactory, file_storage};
pub use crate::progress::{Progress, ProgressWatch};
pub use crate::summary::{BaseTimeUsed, ContactRecordsUsed, Summary};

/// The environment variables the object stores are configured from (`AWS_*`, `GOOGLE_*`,
/// `AZURE_*`, as `object_store` names them): [`Import::environment`] is asked for these.
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
pub const OBJECT_STORE_VARIABLES: &[&str] = &pipeline::OBJECT_STORE_VARIABLES;
