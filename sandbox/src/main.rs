//! `asapp-sandbox`: serves the Conversations API from memory on 127.0.0.1, seeded with the
//! description's examples, until Ctrl-C or SIGTERM.

#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context as _, Result};
use asapp_conversations_sandbox::{DEFAULT_API_ID, DEFAULT_API_SECRET, Sandbox, SandboxConfig};
use clap::Parser;

/// A local, stateful stand-in for ASAPP's Conversations API.
#[derive(Debug, Parser)]
#[command(name = "asapp-sandbox", version)]
struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 4010)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The asapp-api-id requests must carry.
    #[arg(long, default_value = DEFAULT_API_ID)]
    api_id: String,
    /// The asapp-api-secret requests must carry.
    #[arg(long, default_value = DEFAULT_API_SECRET)]
    api_secret: String,
    /// Start empty instead of with the description's example conversation and message.
    #[arg(long)]
    empty: bool,
    /// Delay every answer by this long, such as `250ms` or `1s`.
    #[arg(long, value_parser = parse_duration, default_value = "0ms")]
    latency: Duration,
    /// Answer 429 with Retry-After past this many requests per second.
    #[arg(long)]
    rate_limit: Option<u32>,
    /// The most messages kept; creating more answers 422.
    #[arg(long, default_value_t = SandboxConfig::default().max_messages)]
    max_messages: usize,
    /// The most conversations kept; creating more answers 422.
    #[arg(long, default_value_t = SandboxConfig::default().max_conversations)]
    max_conversations: usize,
    /// The largest request body taken, in bytes; larger ones answer 413.
    #[arg(long, default_value_t = SandboxConfig::default().max_body_bytes)]
    max_body_bytes: usize,
}

/// `250ms`, `1s`, `1.5s`, or a number of milliseconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else {
        (text, 0.001)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 250ms or 1s"))?;
    Duration::try_from_secs_f64(value * scale)
        .map_err(|_| format!("`{text}` is not a duration such as 250ms or 1s"))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let config = SandboxConfig {
        bind: args.bind,
        port: args.port,
        api_id: args.api_id,
        api_secret: args.api_secret,
        seed: !args.empty,
        latency: args.latency,
        rate_limit: args.rate_limit,
        max_conversations: args.max_conversations,
        max_messages: args.max_messages,
        max_body_bytes: args.max_body_bytes,
    };
    let sandbox = Sandbox::start_with(config)
        .await
        .context("cannot start the sandbox")?;
    println!(
        "asapp-sandbox listening on {} (asapp-api-id: {})",
        sandbox.base_url(),
        sandbox.api_id()
    );
    shutdown_signal().await;
    sandbox.shutdown().await.context("stopping the sandbox")?;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
