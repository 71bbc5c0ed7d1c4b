//! `asapp-sandbox`: serves the Conversations API from memory on 127.0.0.1, seeded with the
//! description's examples, until Ctrl-C or SIGTERM.

#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context as _, Result};
use asapp_conversations_sandbox::{
    DEFAULT_API_ID, DEFAULT_API_SECRET, Faults, Sandbox, SandboxConfig,
};
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
    /// Inject faults into requests that would otherwise succeed, each kind at its rate (a
    /// probability from 0 to 1; the rates add up to at most 1), such as
    /// `503-before=0.05,503-after=0.05,drop-after=0.05,429=0.05,jitter=20ms`.
    ///
    /// 503-before: 503 without storing. 429: 429 with Retry-After without storing. 503-after:
    /// store, then 503. drop-after: store, then close the connection without an answer.
    /// 503-after and drop-after only in the writes (upsert, message create, batch): a message
    /// create or batch retried after them gets 409 and is not stored again. jitter: delay each
    /// request by up to this long. Also retry-after=SECONDS (1); upsert=200|409 (200: a retried
    /// upsert is applied again and answered 200; 409: it gets 409 too); memory=N (100000: the
    /// most faulted requests remembered at once; while full, no new faults). The same
    /// --fault-seed and the same requests give the same faults, in whatever order they arrive;
    /// a request with Prefer: code= is never faulted.
    #[arg(long, value_name = "NAME=VALUE,...", value_parser = str::parse::<Faults>)]
    faults: Option<Faults>,
    /// The seed of --faults.
    #[arg(long, value_name = "SEED", default_value_t = 0, requires = "faults")]
    fault_seed: u64,
}

/// `250ms`, `1s`, `1.5s`, or a number of milliseconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    asapp_conversations_sandbox::parse_duration(text)
        .ok_or_else(|| format!("`{}` is not a duration such as 250ms or 1s", text.trim()))
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
        faults: args.faults.map(|faults| Faults {
            seed: args.fault_seed,
            ..faults
        }),
    };
    let faults = config.faults.clone();
    let sandbox = Sandbox::start_with(config)
        .await
        .context("cannot start the sandbox")?;
    println!(
        "asapp-sandbox listening on {} (asapp-api-id: {})",
        sandbox.base_url(),
        sandbox.api_id()
    );
    if let Some(faults) = &faults {
        println!("injecting faults {faults} with seed {}", faults.seed);
    }
    shutdown_signal().await;
    let injected = sandbox.faults_injected();
    sandbox.shutdown().await.context("stopping the sandbox")?;
    if faults.is_some() {
        println!("injected faults: {injected}");
    }
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
