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
pub use crate::observe::{Invalid, InvalidKind, Observer, Resumed, Silent};
pub use crate::pipeline::{FileStorage, Storage, StorageFactory, file_storage};
pub use crate::progress::{Progress, ProgressWatch};
pub use crate::summary::{BaseTimeUsed, ContactRecordsUsed, Summary};

/// The environment variables the object stores are configured from (`AWS_*`, `GOOGLE_*`,
/// `AZURE_*`, as `object_store` names them): [`Import::environment`] is asked for these.
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
pub const OBJECT_STORE_VARIABLES: &[&str] = &pipeline::OBJECT_STORE_VARIABLES;
