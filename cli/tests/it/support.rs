//! The shared test support of these tests: the plumbing (a sandbox and the environment pointing
//! `asapp` at it, a server of a router, an injected error answer), the one read-back
//! ([`exported_texts`], [`assert_once_in_order`]), and what the import library's tests share too
//! (`asapp-conversations-test-support`: a scratch directory, the one generator of JSON Lines
//! transcripts).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use asapp_conversations_cli::Exit;
use asapp_conversations_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

use super::{Ran, asapp_with};

pub(super) use asapp_conversations_test_support::{
    Order, Scratch, Seeded, Transcript, message_line,
};

/// The longest any wait of these tests may take: past it, the test fails instead of hanging.
pub(super) const LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// `asapp args` run in-process with the variables `env`.
pub(super) async fn asapp_env(args: &[&str], env: &[(&'static str, String)]) -> Ran {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    asapp_with(args, &env).await
}

/// A sandbox holding nothing to begin with.
pub(super) fn empty() -> SandboxConfig {
    SandboxConfig {
        seed: false,
        ..SandboxConfig::default()
    }
}

/// The environment pointing `asapp` at `sandbox`, with its credentials.
pub(super) fn sandbox_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    vec![
        ("ASAPP_BASE_URL", sandbox.base_url().to_owned()),
        ("ASAPP_API_ID", sandbox.api_id().to_owned()),
        ("ASAPP_API_SECRET", sandbox.api_secret().to_owned()),
    ]
}

/// The environment pointing `asapp` at `url`, with a sandbox's default credentials.
pub(super) fn default_credentials(url: String) -> Vec<(&'static str, String)> {
    vec![
        ("ASAPP_BASE_URL", url),
        (
            "ASAPP_API_ID",
            asapp_conversations_sandbox::DEFAULT_API_ID.to_owned(),
        ),
        (
            "ASAPP_API_SECRET",
            asapp_conversations_sandbox::DEFAULT_API_SECRET.to_owned(),
        ),
    ]
}

/// `asapp import file --checkpoint checkpoint --rate-limit 0`, then `extra`.
pub(super) fn import_args<'a>(
    file: &'a str,
    checkpoint: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "import",
        file,
        "--checkpoint",
        checkpoint,
        "--rate-limit",
        "0",
    ];
    args.extend_from_slice(extra);
    args
}

/// Serves `app` on 127.0.0.1 until the test ends; returns its base URL.
pub(super) async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// An error answer in ASAPP's envelope.
pub(super) fn injected(status: u16) -> axum::response::Response {
    axum::response::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"error": {"requestId": "r", "code": format!("{status}-01"), "message": "injected"}})
                .to_string(),
        ))
        .unwrap()
}

/// A sandbox whose batch requests are counted: `reached` fires when the `n`-th arrives.
pub(super) async fn counting_sandbox(
    n: usize,
) -> (String, tokio::sync::oneshot::Receiver<()>, Sandbox) {
    // The counted server serves the sandbox's router; the plain sandbox beside it (same store is
    // not needed: exports go to the counted one) only provides the credentials.
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let router = asapp_conversations_sandbox::router(&SandboxConfig {
        api_id: sandbox.api_id().to_owned(),
        api_secret: sandbox.api_secret().to_owned(),
        ..empty()
    })
    .unwrap();
    let (tell, reached) = tokio::sync::oneshot::channel();
    let tell = Arc::new(std::sync::Mutex::new(Some(tell)));
    let seen = Arc::new(AtomicUsize::new(0));
    let app = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let (tell, seen) = (tell.clone(), seen.clone());
            async move {
                if request.uri().path().ends_with("/messages/batch")
                    && seen.fetch_add(1, Ordering::SeqCst) + 1 == n
                    && let Some(tell) = tell.lock().unwrap().take()
                {
                    let _ = tell.send(());
                }
                next.run(request).await
            }
        },
    ));
    let url = serve(app).await;
    (url, reached, sandbox)
}

/// What `asapp export` wrote of the conversation `external_id`, a value a line; the run, where
/// it failed (as it does for a conversation ASAPP does not hold).
pub(super) async fn export(
    external_id: &str,
    env: &[(&'static str, String)],
) -> Result<Vec<Value>, Ran> {
    let exported = asapp_env(&["export", "--external-id", external_id], env).await;
    if exported.exit != Exit::Success {
        return Err(exported);
    }
    Ok(exported
        .out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect())
}

/// The texts of a conversation, exported.
pub(super) async fn exported_texts(
    external_id: &str,
    env: &[(&'static str, String)],
) -> Vec<String> {
    export(external_id, env)
        .await
        .unwrap_or_else(|ran| panic!("{external_id}: {ran:?}"))
        .iter()
        .map(|line| line["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Every conversation of `transcript` exported: each of its messages once, in order, every
/// line as it went in.
pub(super) async fn assert_once_in_order(transcript: &Transcript, env: &[(&'static str, String)]) {
    for c in 0..transcript.conversations() {
        let external_id = transcript.external_id(c);
        let exported = export(&external_id, env)
            .await
            .unwrap_or_else(|ran| panic!("{external_id}: {ran:?}"));
        let texts = |lines: &[Value]| -> Vec<String> {
            lines.iter().map(|l| l["text"].to_string()).collect()
        };
        let wanted = transcript.conversation(c);
        assert_eq!(
            texts(&exported),
            texts(&wanted),
            "{external_id}: every message once, in order"
        );
        assert_eq!(exported, wanted, "{external_id}: every line as it went in");
    }
}
