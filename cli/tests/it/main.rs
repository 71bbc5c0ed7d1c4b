//! `asapp` run in-process: help for every command, every operation against a local sandbox,
//! output and exit statuses, and bad input.

use std::ffi::OsString;

use asapp_conversations_cli::{Exit, Output, command, run};
use asapp_conversations_sandbox::Sandbox;
use asapp_conversations_spec::Spec;

const CONVERSATION: &str = "01BX5ZZKBKACTAV9WEVGEMMVRZ";
const MESSAGE: &str = "01GMXE90AEV7H3J4DPBDKB1R79";

/// What one run printed, and how it ended.
#[derive(Debug)]
struct Ran {
    exit: Exit,
    out: String,
    err: String,
}

async fn asapp_with(args: &[&str], env: &[(&str, &str)]) -> Ran {
    let env: Vec<(String, OsString)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).into()))
        .collect();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let running = run(
        std::iter::once("asapp")
            .chain(args.iter().copied())
            .map(OsString::from),
        |name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
        Output::default(),
        &mut out,
        &mut err,
    );
    let exit = tokio::time::timeout(support::LIMIT, running)
        .await
        .unwrap_or_else(|_| panic!("asapp {args:?} did not end within {:?}", support::LIMIT));
    Ran {
        exit,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

async fn asapp(args: &[&str]) -> Ran {
    asapp_with(args, &[]).await
}

/// Request ids change on every run.
fn redacted(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("requestId ") {
        out.push_str(&rest[..at + "requestId ".len()]);
        rest = &rest[at + "requestId ".len()..];
        let end = rest.find([' ', ',', '"']).unwrap_or(rest.len());
        out.push_str("[request-id]");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn help_of_every_command() {
    fn walk(command: &mut clap::Command, path: String) {
        let help = command.render_long_help().to_string();
        insta::assert_snapshot!(format!("help{path}"), help);
        for sub in command.get_subcommands_mut() {
            if sub.get_name() != "help" {
                let name = format!("{path}-{}", sub.get_name());
                walk(sub, name);
            }
        }
    }
    let mut root = command();
    root.build();
    walk(&mut root, String::new());
}

/// The command that runs each operation of the description against the seeded sandbox.
fn command_for(operation_id: &str, dir: &std::path::Path) -> Vec<String> {
    let write = |name: &str, json: &str| {
        let path = dir.join(name);
        std::fs::write(&path, json).unwrap();
        path.display().to_string()
    };
    let words: Vec<String> = match operation_id {
        "createOrUpdateConversation" => vec![
            "conversations",
            "upsert",
            "--external-id",
            "cli-1",
            "--customer-id",
            "c-1",
            "--agent-id",
            "a-1",
            "--metadata",
            "queue=gold",
            "--timestamp",
            "2024-01-23T11:42:42Z",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect(),
        "getConversations" => ["conversations", "list", "--external-id", "id-111"]
            .map(str::to_owned)
            .to_vec(),
        "getConversation" => ["conversations", "get", CONVERSATION]
            .map(str::to_owned)
            .to_vec(),
        "postAuthenticate" => [
            "conversations",
            "authenticate",
            CONVERSATION,
            "--customer-id",
            "c-1",
            "--token",
            "dG9rZW4=",
        ]
        .map(str::to_owned)
        .to_vec(),
        "createMessage" => [
            "messages",
            "create",
            CONVERSATION,
            "--text",
            "Hello",
            "--role",
            "customer",
            "--sender-id",
            "c-1",
        ]
        .map(str::to_owned)
        .to_vec(),
        "createBatchMessages" => {
            let file = write(
                "batch.json",
                r#"{"messages": [{"text": "Hi", "sender": {"role": "agent", "externalId": "a-1"}, "timestamp": "2024-01-23T11:42:43Z"}]}"#,
            );
            vec![
                "messages".into(),
                "batch".into(),
                CONVERSATION.into(),
                "--json".into(),
                file,
            ]
        }
        "getMessages" => ["messages", "list", CONVERSATION]
            .map(str::to_owned)
            .to_vec(),
        "getMessage" => ["messages", "get", CONVERSATION, MESSAGE]
            .map(str::to_owned)
            .to_vec(),
        "getMessagesByExternalId" => ["messages", "list-by-external-id", "id-111"]
            .map(str::to_owned)
            .to_vec(),
        other => panic!("no command for operation `{other}`: add one to cli/src/args.rs and here"),
    };
    words
}

#[tokio::test]
async fn every_operation_of_the_description_has_a_working_command() {
    let dir = std::env::temp_dir().join(format!("asapp-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = Spec::load().unwrap();
    for (_, _, _, operation) in spec.operations() {
        let id = operation["operationId"].as_str().unwrap();
        let words = command_for(id, &dir);
        let mut args = vec!["--local"];
        args.extend(words.iter().map(String::as_str));
        let ran = asapp(&args).await;
        assert_eq!(ran.exit, Exit::Success, "{id}: {ran:?}");
        assert!(ran.err.is_empty(), "{id}: {ran:?}");
        if id != "postAuthenticate" {
            let value: serde_json::Value = serde_json::from_str(ran.out.trim())
                .unwrap_or_else(|e| panic!("{id}: not one JSON line ({e}): {}", ran.out));
            assert!(value.is_object(), "{id}: {value}");
            assert_eq!(
                ran.out.lines().count(),
                1,
                "{id}: compact when not a terminal"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn outputs_and_exit_statuses() {
    let seeded = asapp(&["--local", "conversations", "get", CONVERSATION]).await;
    assert_eq!(seeded.exit, Exit::Success);
    insta::assert_snapshot!("get-seeded-conversation", seeded.out);
    let transcript = asapp(&["--local", "messages", "list-by-external-id", "id-111"]).await;
    insta::assert_snapshot!("transcript-of-id-111", transcript.out);

    let missing = asapp(&[
        "--local",
        "conversations",
        "get",
        "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    ])
    .await;
    assert_eq!(missing.exit, Exit::Rejected);
    assert!(missing.out.is_empty());
    insta::assert_snapshot!("not-found", redacted(&missing.err));

    // Refused before anything is sent.
    let invalid = asapp(&["--local", "messages", "get", CONVERSATION, "not-an-id"]).await;
    assert_eq!(invalid.exit, Exit::Usage);
    assert!(invalid.err.contains("^[A-Z0-9]+$"), "{invalid:?}");

    // A wrong credential against a running sandbox.
    let sandbox = Sandbox::start().await.unwrap();
    let env = [
        ("ASAPP_BASE_URL", sandbox.base_url()),
        ("ASAPP_API_ID", sandbox.api_id()),
        ("ASAPP_API_SECRET", "wrong"),
    ];
    let refused = asapp_with(&["conversations", "get", CONVERSATION], &env).await;
    assert_eq!(refused.exit, Exit::Rejected);
    assert!(
        refused
            .err
            .starts_with("error: getConversation failed: 401 Unauthorized, code 401-01"),
        "{refused:?}"
    );
    assert!(!refused.err.contains("wrong"));
    let env = [
        ("ASAPP_BASE_URL", sandbox.base_url()),
        ("ASAPP_API_ID", sandbox.api_id()),
        ("ASAPP_API_SECRET", sandbox.api_secret()),
    ];
    let ok = asapp_with(&["conversations", "get", CONVERSATION], &env).await;
    assert_eq!(ok.exit, Exit::Success, "{ok:?}");
    // Options win over variables.
    let flagged = asapp_with(
        &[
            "conversations",
            "get",
            CONVERSATION,
            "--api-secret",
            "wrong",
        ],
        &env,
    )
    .await;
    assert_eq!(flagged.exit, Exit::Rejected);
    sandbox.shutdown().await.unwrap();

    // Nothing listens: a network failure.
    let closed = asapp_with(
        &["conversations", "get", CONVERSATION],
        &[
            ("ASAPP_BASE_URL", "http://127.0.0.1:9"),
            ("ASAPP_API_ID", "i"),
            ("ASAPP_API_SECRET", "s"),
        ],
    )
    .await;
    assert_eq!(closed.exit, Exit::Failed, "{closed:?}");
    assert!(closed.err.contains("cannot connect"), "{closed:?}");
}

#[tokio::test]
async fn bad_input_is_a_usage_error_naming_it() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--local",
                "messages",
                "create",
                CONVERSATION,
                "--text",
                "hi",
                "--role",
                "bot",
                "--sender-id",
                "c",
            ],
            "invalid value 'bot' for '--role",
        ),
        (
            &[
                "--local",
                "messages",
                "create",
                CONVERSATION,
                "--text",
                "",
                "--role",
                "agent",
                "--sender-id",
                "c",
            ],
            "invalid message",
        ),
        (
            &[
                "--local",
                "messages",
                "create",
                CONVERSATION,
                "--text",
                "hi",
                "--role",
                "agent",
                "--sender-id",
                "c",
                "--timestamp",
                "yesterday",
            ],
            "`yesterday` is not an RFC 3339 time",
        ),
        (
            &[
                "--local",
                "messages",
                "batch",
                CONVERSATION,
                "--json",
                "/nonexistent/batch.json",
            ],
            "cannot read /nonexistent/batch.json",
        ),
        (
            &["--local", "conversations", "upsert", "--external-id", "x"],
            "--customer-id <CUSTOMER_ID>",
        ),
        (
            &[
                "--local",
                "conversations",
                "upsert",
                "--external-id",
                "x",
                "--customer-id",
                "c",
                "--metadata",
                "novalue",
            ],
            "`novalue` is not KEY=VALUE",
        ),
        (
            &["conversations", "get", CONVERSATION],
            "environment variable ASAPP_API_ID is not set",
        ),
        (
            &[
                "--local",
                "--base-url",
                "http://127.0.0.1:1",
                "conversations",
                "get",
                CONVERSATION,
            ],
            "cannot be used with",
        ),
        (
            &[
                "--base-url",
                "http://example.com",
                "--api-id",
                "i",
                "--api-secret",
                "s",
                "conversations",
                "get",
                CONVERSATION,
            ],
            "clear text",
        ),
        (
            &[
                "import",
                "-",
                "--checkpoint",
                "cp",
                "--resume",
                "--settle",
                "1e19s",
            ],
            "of at most a day",
        ),
    ];
    for (args, expected) in cases {
        let ran = asapp(args).await;
        assert_eq!(ran.exit, Exit::Usage, "{args:?}: {ran:?}");
        assert!(
            ran.err.contains(expected),
            "{args:?}: `{expected}` not in {}",
            ran.err
        );
        assert!(ran.out.is_empty(), "{args:?}");
    }
    let dir = std::env::temp_dir().join(format!("asapp-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("batch.json");
    let batch = |role: &str| {
        format!(
            r#"{{"messages": [{{"text": "hi", "sender": {{"role": {role}, "externalId": "c"}}, "timestamp": "2024-01-23T11:42:42Z"}}]}}"#
        )
    };
    let args = [
        "--local",
        "messages",
        "batch",
        CONVERSATION,
        "--json",
        file.to_str().unwrap(),
    ];
    std::fs::write(&file, batch("7")).unwrap();
    let ran = asapp(&args).await;
    assert_eq!(ran.exit, Exit::Usage, "{ran:?}");
    assert!(
        ran.err.contains("at messages[0].sender.role"),
        "{}",
        ran.err
    );
    // A role the description does not list is the client's to send (ASAPP may have added it),
    // and the sandbox's to refuse, as ASAPP does with a role it does not know.
    std::fs::write(&file, batch(r#""bot""#)).unwrap();
    let ran = asapp(&args).await;
    assert_eq!(ran.exit, Exit::Rejected, "{ran:?}");
    assert!(
        ran.err.contains("400 Bad Request") && ran.err.contains("/messages/0/sender/role"),
        "{}",
        ran.err
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

mod durability;
mod formats;
mod import;
mod log;
mod objects;
mod support;
mod terminal;
mod torture;
mod unknown_values;

#[tokio::test]
async fn customer_text_is_in_no_error_line() {
    // The marker stands for a customer's words, in the place that is wrong: an answer that does
    // not decode, a request body file, an import line.
    const MARKER: &str = "MARKER-my-card-number-is-4111";
    let answer = serde_json::json!({"items": [{
        "text": MARKER, "sender": MARKER, "messageId": "01GMXE90AEV7H3J4DPBDKB1R79",
        "createdTimestamp": "2021-11-23T12:13:16.853Z", "clientTimestamp": "2021-11-23T12:13:14.555Z",
    }]});
    let app = axum::Router::new().fallback(move || {
        let body = answer.to_string();
        async move { ([("content-type", "application/json")], body) }
    });
    let url = support::serve(app).await;
    let env = support::default_credentials(url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let listed = asapp_with(&["messages", "list", CONVERSATION], &env).await;
    assert_eq!(listed.exit, Exit::Failed, "{listed:?}");
    assert!(
        listed
            .err
            .contains("does not match the description at items[0].sender"),
        "{listed:?}"
    );

    let scratch = support::Scratch::new("marker");
    let file = scratch.0.join("message.json");
    std::fs::write(
        &file,
        serde_json::json!({"text": "hi", "sender": {"role": "customer", "externalId": MARKER}, "timestamp": MARKER}).to_string(),
    )
    .unwrap();
    let create = asapp(&[
        "--local",
        "messages",
        "create",
        CONVERSATION,
        "--json",
        file.to_str().unwrap(),
    ])
    .await;
    assert_eq!(create.exit, Exit::Usage, "{create:?}");
    assert!(create.err.contains("at timestamp"), "{create:?}");

    let lines = scratch.0.join("lines.jsonl");
    std::fs::write(
        &lines,
        serde_json::json!({"externalId": "x", "customerId": "c", "role": "customer", "senderId": "c", "text": {"said": MARKER}, "timestamp": "2024-01-23T11:42:42Z"}).to_string(),
    )
    .unwrap();
    let checkpoint = scratch.0.join("checkpoint");
    let imported = asapp(&[
        "--local",
        "import",
        lines.to_str().unwrap(),
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ])
    .await;
    assert_eq!(imported.exit, Exit::Usage, "{imported:?}");
    assert!(
        imported.err.contains(":1: invalid line: at text"),
        "{imported:?}"
    );
    // A batch the sandbox refuses: one more message than the limit (the schema's error would
    // otherwise quote the whole array) and a role ASAPP does not know (it would quote the value).
    let mut messages: Vec<serde_json::Value> = (0..301)
        .map(|_| serde_json::json!({"text": MARKER, "sender": {"role": "customer", "externalId": "c"}, "timestamp": "2024-01-23T11:42:42Z"}))
        .collect();
    messages[1]["sender"]["role"] = MARKER.into();
    let batch = scratch.0.join("batch.json");
    std::fs::write(
        &batch,
        serde_json::json!({"messages": messages}).to_string(),
    )
    .unwrap();
    let refused = asapp(&[
        "--local",
        "messages",
        "batch",
        CONVERSATION,
        "--json",
        batch.to_str().unwrap(),
    ])
    .await;
    assert_eq!(refused.exit, Exit::Rejected, "{refused:?}");
    assert!(
        refused.err.contains("400 Bad Request")
            && refused.err.contains("/messages: ")
            && refused.err.contains("/messages/1/sender/role: "),
        "{refused:?}"
    );
    for ran in [&listed, &create, &imported, &refused] {
        assert!(
            !ran.err.contains("MARKER") && !ran.out.contains("MARKER"),
            "{ran:?}"
        );
    }
}
