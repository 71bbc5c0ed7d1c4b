//! A local, stateful stand-in for ASAPP's Conversations API: all nine operations on an
//! in-memory store, checked against the same OpenAPI description the client is generated from.
//!
//! Use it from tests: start it on an ephemeral port, point a client at it, shut it down.
//!
//! ```
//! use asapp_conversations_sandbox::Sandbox;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = Sandbox::start().await?;
//! let client = sandbox.client_config().build()?;
//!
//! // The sandbox starts with the description's own examples.
//! let conversation = client
//!     .get_conversation()
//!     .conversation_id("01BX5ZZKBKACTAV9WEVGEMMVRZ")
//!     .await?;
//! assert_eq!(conversation.external_id, "id-111");
//!
//! sandbox.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Or run the `asapp-sandbox` binary (`cargo run -p asapp-conversations-sandbox -- --help`).
//!
//! What it does:
//! * Create or update is an upsert by `externalId` that keeps the conversation's id; ids are
//!   ULIDs (26 characters of `^[A-Z0-9]+$`); messages list in chronological order; listing by
//!   `externalId` returns at most 1,000 messages.
//! * Both credential headers must match the configured ones, or the answer is 401.
//! * Every request is checked against the description: path parameters, required query
//!   parameters, and the body against its schema. A refusal is a documented status with ASAPP's
//!   error envelope, a fresh `requestId`, a `NNN-NN` code and a message naming the field by its
//!   JSON path. Unknown paths are 404; known paths with another method are 405 with `Allow`.
//! * `Prefer: code=NNN` answers with documented status NNN of the operation and its example;
//!   a configured latency delays every answer; a configured rate limit answers 429 with
//!   `Retry-After` past it.
//! * The store is capped ([`SandboxConfig::max_messages`], [`SandboxConfig::max_conversations`]);
//!   past a cap, creating answers 422 with code `422-02`.
//! * Seeded faults ([`SandboxConfig::faults`], [`Faults`]; the binary's `--faults` and
//!   `--fault-seed`), each kind at its own rate, in requests that would otherwise succeed and
//!   never in one with `Prefer: code=`: a 503 before storing, a 429 with `Retry-After`, jitter,
//!   and in the writes a 503 or a dropped connection after storing (the answer is lost). The
//!   retry of a message create or batch whose answer was lost (the same operation, path, query
//!   and body bytes) gets a 409 and is not stored again. The same seed and the same requests
//!   give the same faults, in whatever order they arrive; [`Sandbox::faults_injected`] counts
//!   them.
//!
//! ```
//! use asapp_conversations::{ErrorKind, RetryPolicy, types};
//! use asapp_conversations_sandbox::{Faults, Sandbox, SandboxConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Every write is stored, then its connection dropped.
//! let faults = Faults { seed: 42, ..Faults::default() };
//! let sandbox = Sandbox::start_with(SandboxConfig {
//!     faults: Some(Faults { drop_after_storing: 1.0, ..faults }),
//!     ..SandboxConfig::default()
//! })
//! .await?;
//! let client = sandbox.client_config().retry_policy(RetryPolicy::asapp()).build()?;
//! let message = types::Message::builder()
//!     .text("Hello")
//!     .sender(
//!         types::Participant::builder()
//!             .role(types::ParticipantRole::Customer)
//!             .external_id("customer-1"),
//!     )
//!     .timestamp(asapp_conversations::chrono::Utc::now());
//! let error = client
//!     .create_message()
//!     .conversation_id("01BX5ZZKBKACTAV9WEVGEMMVRZ")
//!     .body(message)
//!     .await
//!     .unwrap_err();
//! // The client retried the transport error; the retry got a 409: stored once.
//! assert!(matches!(error.kind(), ErrorKind::AlreadyPersisted { .. }));
//! assert_eq!(error.attempts(), 2);
//! let counts = sandbox.faults_injected();
//! assert_eq!((counts.dropped_after_storing, counts.conflicts), (1, 1));
//! sandbox.shutdown().await?;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod app;
mod error_answer;
mod faults;
mod model;
mod store;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use asapp_conversations::types;
use asapp_conversations_spec::Spec;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::{FaultCounts, Faults, FaultsError};
pub use model::ModelError;

/// The crate's own README, compiled as doc tests so that it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadme;

/// The API id the sandbox accepts unless told otherwise.
pub const DEFAULT_API_ID: &str = "sandbox-api-id";
/// The API secret the sandbox accepts unless told otherwise.
pub const DEFAULT_API_SECRET: &str = "sandbox-api-secret";

/// How a sandbox runs.
#[derive(Clone)]
pub struct SandboxConfig {
    /// The address to listen on (127.0.0.1 by default).
    pub bind: IpAddr,
    /// The port (0, the default, picks a free one).
    pub port: u16,
    /// The accepted `asapp-api-id`.
    pub api_id: String,
    /// The accepted `asapp-api-secret`.
    pub api_secret: String,
    /// Start with the description's examples (the default) rather than empty.
    pub seed: bool,
    /// A delay added to every answer.
    pub latency: Duration,
    /// Answer 429 past this many requests per second.
    pub rate_limit: Option<u32>,
    /// The most conversations stored.
    pub max_conversations: usize,
    /// The most messages stored, over all conversations.
    pub max_messages: usize,
    /// The largest request body taken, in bytes.
    pub max_body_bytes: usize,
    /// Seeded faults to inject ([`Faults`]); `None`, the default, injects none.
    pub faults: Option<Faults>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            api_id: DEFAULT_API_ID.to_owned(),
            api_secret: DEFAULT_API_SECRET.to_owned(),
            seed: true,
            latency: Duration::ZERO,
            rate_limit: None,
            max_conversations: 100_000,
            max_messages: 500_000,
            max_body_bytes: 4 * 1024 * 1024,
            faults: None,
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field("api_id", &self.api_id)
            .field("api_secret", &"<redacted>")
            .field("seed", &self.seed)
            .field("latency", &self.latency)
            .field("rate_limit", &self.rate_limit)
            .field("max_conversations", &self.max_conversations)
            .field("max_messages", &self.max_messages)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("faults", &self.faults)
            .finish()
    }
}

/// Why a sandbox could not start or stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The built-in description cannot be served.
    #[error("cannot serve the description")]
    Model(#[from] ModelError),
    /// The fault configuration is refused.
    #[error("invalid faults: {0}")]
    Faults(#[from] FaultsError),
    /// The description's examples cannot seed the store.
    #[error("cannot seed the store with the description's examples: {0}")]
    Seed(String),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("the sandbox server failed")]
    Serve(#[source] std::io::Error),
    /// The server task panicked or was cancelled.
    #[error("the sandbox server task ended abnormally: {0}")]
    Task(String),
}

/// The axum router that serves the API, for embedding in a server of your own.
pub fn router(config: &SandboxConfig) -> Result<axum::Router, SandboxError> {
    build(config).map(|(router, _)| router)
}

/// The router and, when faults are on, their injector (for the counts).
fn build(
    config: &SandboxConfig,
) -> Result<(axum::Router, Option<Arc<faults::Injector>>), SandboxError> {
    let spec = Spec::embedded().map_err(ModelError::from)?;
    let model = model::Model::new(&spec)?;
    let mut store = store::Store::new(config.max_conversations, config.max_messages);
    if config.seed {
        seed(&spec, &mut store)?;
    }
    let injector = match &config.faults {
        Some(faults) => {
            faults.validate()?;
            faults::Injector::new(faults).map(Arc::new)
        }
        None => None,
    };
    let app = app::App {
        model,
        store: RwLock::new(store),
        api_id: config.api_id.clone(),
        api_secret: config.api_secret.clone(),
        latency: config.latency,
        limiter: config.rate_limit.and_then(app::App::limiter),
        max_body_bytes: config.max_body_bytes,
        faults: injector.clone(),
    };
    let router = axum::Router::new()
        .fallback(app::dispatch)
        .with_state(Arc::new(app));
    Ok((router, injector))
}

/// Stores the description's example conversation and message.
fn seed(spec: &Spec, store: &mut store::Store) -> Result<(), SandboxError> {
    let example = |schema: &str| -> Result<Value, SandboxError> {
        spec.document()
            .pointer(&format!("/components/schemas/{schema}/example"))
            .cloned()
            .ok_or_else(|| SandboxError::Seed(format!("{schema} has no example")))
    };
    let conversation: types::Conversation = serde_json::from_value(example("Conversation")?)
        .map_err(|e| SandboxError::Seed(format!("Conversation: {e}")))?;
    let message: types::ConversationMessage =
        serde_json::from_value(example("ConversationMessage")?)
            .map_err(|e| SandboxError::Seed(format!("ConversationMessage: {e}")))?;
    let id = conversation
        .id
        .clone()
        .ok_or_else(|| SandboxError::Seed("the example Conversation has no id".to_owned()))?;
    store.insert_conversation(conversation);
    store
        .insert_stored(&id, message)
        .map_err(|e| SandboxError::Seed(format!("{e:?}")))
}

/// A running sandbox. Dropping it stops the server too; [`Sandbox::shutdown`] also waits for it.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    base_url: String,
    api_id: String,
    api_secret: String,
    faults: Option<Arc<faults::Injector>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Sandbox {
    /// Starts a seeded sandbox on a free port of 127.0.0.1 with the default credentials.
    pub async fn start() -> Result<Self, SandboxError> {
        Self::start_with(SandboxConfig::default()).await
    }

    /// Starts a sandbox as `config` says.
    pub async fn start_with(config: SandboxConfig) -> Result<Self, SandboxError> {
        let (router, faults) = build(&config)?;
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    // A send or the sender's drop: either way, stop.
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self {
            addr,
            base_url: format!("http://{addr}"),
            api_id: config.api_id,
            api_secret: config.api_secret,
            faults,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, such as `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The accepted API id.
    pub fn api_id(&self) -> &str {
        &self.api_id
    }

    /// The accepted API secret.
    pub fn api_secret(&self) -> &str {
        &self.api_secret
    }

    /// How many faults of each kind it injected so far (all 0 when faults are off).
    pub fn faults_injected(&self) -> FaultCounts {
        self.faults
            .as_ref()
            .map_or_else(FaultCounts::default, |faults| faults.counts())
    }

    /// A client configuration pointing at this sandbox with its credentials.
    pub fn client_config(&self) -> asapp_conversations::ClientConfig {
        asapp_conversations::ClientConfig::new(&self.api_id, &self.api_secret)
            .base_url(&self.base_url)
    }

    /// Stops accepting connections, lets open requests finish, and waits for the server.
    pub async fn shutdown(mut self) -> Result<(), SandboxError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(|e| SandboxError::Task(e.to_string()))?
                .map_err(SandboxError::Serve),
            None => Ok(()),
        }
    }
}

/// Reads a duration as the binary's options write it (`--latency`, and `jitter=` in
/// `--faults`): `250ms`, `1s`, `1.5s`, or a number of milliseconds. `None` for anything else.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else {
        (text, 0.001)
    };
    let value: f64 = number.trim().parse().ok()?;
    Duration::try_from_secs_f64(value * scale).ok()
}
