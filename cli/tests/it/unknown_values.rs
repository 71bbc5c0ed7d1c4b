//! ASAPP adds a participant role the description does not list: transcripts holding it stay
//! readable through `messages list|get`, `export` (which writes the role as ASAPP sent it) and
//! the read-back of a resumed import.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use asapp_conversations_cli::Exit;
use serde_json::Value;

use super::support::{
    Scratch, asapp_env, default_credentials, empty, import_args, injected, message_line, serve,
};

/// The sender whose role the stand-in reports as `virtual_agent`.
const BOT: &str = "assistant-7";

/// Rewrites, in every answer, the role of `BOT`'s messages to one the description does not list,
/// as ASAPP will answer once it adds such a role.
fn with_new_role(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.get("externalId").and_then(Value::as_str) == Some(BOT)
                && object.contains_key("role")
            {
                object.insert("role".to_owned(), "virtual_agent".into());
            }
            object.values_mut().for_each(with_new_role);
        }
        Value::Array(items) => items.iter_mut().for_each(with_new_role),
        _ => {}
    }
}

/// The sandbox's router behind the role rewrite; the first batch that holds `refuse` is stored,
/// then answered 400, so that it is left in doubt.
async fn stand_in(refuse: &'static str) -> String {
    let router = asapp_conversations_sandbox::router(&empty()).unwrap();
    let refused = Arc::new(AtomicBool::new(false));
    let app = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let refused = refused.clone();
            async move {
                let (parts, body) = request.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                let refuse = parts.uri.path().ends_with("/messages/batch")
                    && std::str::from_utf8(&bytes).unwrap().contains(refuse)
                    && !refused.swap(true, Ordering::SeqCst);
                let request = axum::extract::Request::from_parts(parts, bytes.into());
                let answer = next.run(request).await;
                if refuse {
                    assert!(answer.status().is_success(), "{answer:?}");
                    return injected(400);
                }
                let (parts, body) = answer.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                let bytes = match serde_json::from_slice::<Value>(&bytes) {
                    Ok(mut json) => {
                        with_new_role(&mut json);
                        serde_json::to_vec(&json).unwrap()
                    }
                    Err(_) => bytes.to_vec(),
                };
                let mut answer = axum::response::Response::from_parts(parts, bytes.into());
                answer.headers_mut().remove("content-length");
                answer
            }
        },
    ));
    serve(app).await
}

#[tokio::test]
async fn a_role_the_description_does_not_list_is_read_kept_and_exported() {
    let url = stand_in("refused until resumed").await;
    let env = default_credentials(url);
    let scratch = Scratch::new("unknown-role");
    // A conversation with a message from the new kind of participant, added outside the import.
    let client = asapp_conversations::ClientConfig::new(
        asapp_conversations_sandbox::DEFAULT_API_ID,
        asapp_conversations_sandbox::DEFAULT_API_SECRET,
    )
    .base_url(&env[0].1)
    .build()
    .unwrap();
    let line = |text: &str, second: u32| message_line("call-v", text, second);
    let first = scratch.0.join("first.jsonl");
    std::fs::write(&first, line("hello", 1) + "\n").unwrap();
    let checkpoint = scratch.0.join("first.checkpoint");
    let ran = asapp_env(
        &import_args(first.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]),
        &env,
    )
    .await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    let id = client
        .get_conversations()
        .external_id("call-v")
        .await
        .unwrap()
        .into_inner()
        .items
        .remove(0)
        .id
        .unwrap();
    let from_bot = asapp_conversations::types::Message::builder()
        .text("I can help with that")
        .sender(
            asapp_conversations::types::Participant::builder()
                .role(asapp_conversations::types::ParticipantRole::System)
                .external_id(BOT),
        )
        .timestamp(
            "2024-01-23T11:42:02Z"
                .parse::<asapp_conversations::chrono::DateTime<asapp_conversations::chrono::Utc>>()
                .unwrap(),
        );
    let created = client
        .create_message()
        .conversation_id(id.as_str())
        .body(from_bot)
        .await
        .unwrap();
    let message_id = created.into_inner().id.unwrap();

    // Listed, read alone and exported: the role as ASAPP sent it.
    let listed = asapp_env(&["--compact", "messages", "list", &id], &env).await;
    assert_eq!(listed.exit, Exit::Success, "{listed:?}");
    let items: Value = serde_json::from_str(&listed.out).unwrap();
    assert_eq!(
        items["items"][1]["sender"]["role"], "virtual_agent",
        "{items}"
    );
    let one = asapp_env(&["--compact", "messages", "get", &id, &message_id], &env).await;
    assert_eq!(one.exit, Exit::Success, "{one:?}");
    assert!(one.out.contains(r#""role":"virtual_agent""#), "{one:?}");
    let exported = asapp_env(&["export", "--external-id", "call-v"], &env).await;
    assert_eq!(exported.exit, Exit::Success, "{exported:?}");
    let roles: Vec<String> = exported
        .out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["role"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(roles, ["customer", "virtual_agent"]);

    // A later run of the conversation, whose batch is stored but answered 400: in doubt. The
    // resume reads the conversation back, unknown role and all, and sends nothing twice.
    let second = scratch.0.join("second.jsonl");
    std::fs::write(&second, line("refused until resumed", 3) + "\n").unwrap();
    let checkpoint = scratch.0.join("second.checkpoint");
    let args = import_args(second.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]);
    let ran = asapp_env(&args, &env).await;
    assert_eq!(ran.exit, Exit::Rejected, "{ran:?}");
    let mut resumed_args = args.clone();
    resumed_args.extend(["--resume", "--settle", "0s"]);
    let resumed = asapp_env(&resumed_args, &env).await;
    assert_eq!(resumed.exit, Exit::Success, "{resumed:?}");
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        (
            summary["messages"].clone(),
            summary["alreadyStored"].clone()
        ),
        (0.into(), 1.into()),
        "{summary}"
    );
    let exported = asapp_env(&["export", "--external-id", "call-v"], &env).await;
    assert_eq!(exported.out.lines().count(), 3, "{exported:?}");
}
