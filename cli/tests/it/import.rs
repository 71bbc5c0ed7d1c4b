//! `asapp import` and `asapp export`: a generated transcript of 10,000 messages in 100
//! conversations goes in and comes back out exactly once and in order, also when the import is
//! killed midway and resumed; bad lines are reported and counted.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use asapp_conversations_cli::Exit;
use asapp_conversations_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

use super::support::{
    LIMIT, Order, Scratch, Transcript, asapp_env, assert_once_in_order, counting_sandbox,
    default_credentials, empty, export, exported_texts, import_args, injected, message_line,
    sandbox_env, serve,
};

const CONVERSATIONS: usize = 100;
const PER_CONVERSATION: usize = 100;

/// The transcript, conversation by conversation, with each conversation's lines out of
/// timestamp order; split over two files.
fn transcript(dir: &Path) -> Transcript {
    let transcript = Transcript::new("call", CONVERSATIONS, PER_CONVERSATION);
    let mut files = [String::new(), String::new()];
    for c in 0..CONVERSATIONS {
        let mut lines = transcript.conversation(c);
        // Out of order within the conversation: reversed in pairs.
        lines.chunks_mut(2).for_each(<[Value]>::reverse);
        files[c % 2].extend(lines.iter().map(|l| format!("{l}\n")));
    }
    for (index, text) in files.iter().enumerate() {
        std::fs::write(dir.join(format!("part-{index}.jsonl")), text).unwrap();
    }
    transcript
}

#[tokio::test]
async fn ten_thousand_messages_round_trip() {
    let scratch = Scratch::new("import");
    let expected = transcript(&scratch.0);
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let checkpoint = scratch.0.join("checkpoint");
    let dir = scratch.0.display().to_string();
    let ran = asapp_env(
        &[
            "import",
            &dir,
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--rate-limit",
            "0",
        ],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(summary["messages"], 10_000);
    assert_eq!(summary["conversations"], 100);
    assert_eq!(summary["batches"], 100);
    assert_eq!(summary["invalidLines"], 0);
    assert_once_in_order(&expected, &sandbox_env(&sandbox)).await;

    // The same import again is refused without --resume, and a no-op with it.
    let again = asapp_env(
        &["import", &dir, "--checkpoint", checkpoint.to_str().unwrap()],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(again.exit, Exit::Usage);
    assert!(again.err.contains("--resume"), "{again:?}");
    let resumed = asapp_env(
        &[
            "import",
            &dir,
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--resume",
            "--settle",
            "0s",
            "--rate-limit",
            "0",
        ],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(resumed.exit, Exit::Success, "{resumed:?}");
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        (
            summary["messages"].clone(),
            summary["alreadyStored"].clone()
        ),
        (json!(0), json!(10_000))
    );
    assert_once_in_order(&expected, &sandbox_env(&sandbox)).await;
}

#[tokio::test]
async fn a_killed_import_resumes_exactly_once() {
    let scratch = Scratch::new("resume");
    let expected = transcript(&scratch.0);
    let (url, reached, sandbox) = counting_sandbox(30).await;
    let checkpoint = scratch.0.join("checkpoint");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_asapp"))
        .args([
            "import",
            scratch.0.to_str().unwrap(),
            "--checkpoint",
            checkpoint.to_str().unwrap(),
        ])
        .args(["--concurrency", "4", "--rate-limit", "0"])
        .env("ASAPP_BASE_URL", &url)
        .env("ASAPP_API_ID", sandbox.api_id())
        .env("ASAPP_API_SECRET", sandbox.api_secret())
        .env_remove("ASAPP_ENVIRONMENT")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Killed while its 30th batch is in flight.
    tokio::select! {
        reached = reached => reached.expect("the counting server stopped"),
        status = child.wait() => panic!("asapp ended before its 30th batch: {status:?}"),
        () = tokio::time::sleep(LIMIT) => panic!("no 30th batch within {LIMIT:?}"),
    }
    child.kill().await.unwrap();
    let records = std::fs::read_to_string(&checkpoint).unwrap();
    let acks = records
        .lines()
        .filter(|l| l.starts_with(r#"{"ack""#))
        .count();
    assert!(
        (1..100).contains(&acks),
        "killed midway: {acks} batches acknowledged"
    );

    let env = vec![
        ("ASAPP_BASE_URL", url.clone()),
        ("ASAPP_API_ID", sandbox.api_id().to_owned()),
        ("ASAPP_API_SECRET", sandbox.api_secret().to_owned()),
    ];
    let resumed = asapp_env(
        &[
            "import",
            scratch.0.to_str().unwrap(),
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--resume",
            "--settle",
            "0s",
            "--rate-limit",
            "0",
        ],
        &env,
    )
    .await;
    assert_eq!(resumed.exit, Exit::Success, "{resumed:?}");
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        summary["messages"].as_u64().unwrap() + summary["alreadyStored"].as_u64().unwrap(),
        10_000,
        "{summary}"
    );
    // Export from the counted server, which holds the data.
    assert_once_in_order(&expected, &env).await;
}

#[tokio::test]
async fn bad_lines_are_reported_counted_and_strict_stops() {
    let scratch = Scratch::new("bad-lines");
    let good = |text: &str| {
        json!({"externalId": "call-bad", "customerId": "c", "role": "customer", "senderId": "c", "text": text, "timestamp": "2024-01-23T11:42:42Z"}).to_string()
    };
    let lines = [
        good("one"),
        "{not json".to_owned(),
        good("two").replace("\"customer\",\"senderId\"", "\"bot\",\"senderId\""),
        good(""),
        good("three").replace("2024-01-23T11:42:42Z", "yesterday"),
        good("four").replace("\"text\"", "\"txt\""),
        good("five"),
    ];
    let file = scratch.0.join("bad.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let path = file.to_str().unwrap();
    let checkpoint = scratch.0.join("checkpoint");
    let ran = asapp_env(
        &["import", path, "--checkpoint", checkpoint.to_str().unwrap()],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(ran.exit, Exit::Usage, "{ran:?}");
    for (line, reason) in [
        (2, "key must be a string"),
        (3, "role is none of agent, customer, system"),
        (4, "text is empty"),
        (5, "input contains invalid characters"),
        (6, "unknown field `txt`"),
    ] {
        assert!(
            ran.err.contains(&format!("{path}:{line}: invalid line: ")),
            "line {line}: {}",
            ran.err
        );
        let reported = ran
            .err
            .lines()
            .find(|l| l.contains(&format!("{path}:{line}:")))
            .unwrap();
        assert!(reported.contains(reason), "line {line}: {reported}");
    }
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(
        (summary["messages"].clone(), summary["invalidLines"].clone()),
        (json!(2), json!(5))
    );
    assert!(
        ran.err
            .contains("5 invalid lines were not imported; every valid line was"),
        "{}",
        ran.err
    );

    let strict_checkpoint = scratch.0.join("strict");
    let strict = asapp_env(
        &[
            "import",
            path,
            "--strict",
            "--checkpoint",
            strict_checkpoint.to_str().unwrap(),
        ],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(strict.exit, Exit::Usage);
    assert!(
        strict
            .err
            .contains(&format!("{path}:2: stopped at the first invalid line")),
        "{}",
        strict.err
    );

    let missing = asapp_env(
        &[
            "import",
            "/nonexistent.jsonl",
            "--checkpoint",
            scratch.0.join("m").to_str().unwrap(),
        ],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(missing.exit, Exit::Usage);
    assert!(
        missing.err.contains("cannot read /nonexistent.jsonl"),
        "{missing:?}"
    );

    let mut wrong = sandbox_env(&sandbox);
    wrong[2].1 = "wrong".to_owned();
    let refused = asapp_env(
        &[
            "import",
            path,
            "--checkpoint",
            scratch.0.join("w").to_str().unwrap(),
        ],
        &wrong,
    )
    .await;
    assert_eq!(refused.exit, Exit::Rejected, "{refused:?}");
    assert!(refused.err.contains("401 Unauthorized"), "{refused:?}");
}

#[tokio::test]
async fn the_documented_example_file_imports() {
    let scratch = Scratch::new("example");
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/transcript.jsonl");
    let checkpoint = scratch.0.join("checkpoint");
    let ran = asapp_env(
        &[
            "import",
            example,
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--batch-size",
            "2",
        ],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(summary["messages"], 5);
    assert_eq!(summary["conversations"], 2);
    // Three messages in batches of two, then two: three batches.
    assert_eq!(summary["batches"], 3);
    let input: Vec<Value> = std::fs::read_to_string(example)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &Value| l["externalId"] == "call-2024-0002")
        .collect();
    let output = export("call-2024-0002", &sandbox_env(&sandbox)).await;
    assert_eq!(output.unwrap(), input);
}

#[tokio::test]
async fn resuming_needs_the_same_batch_size_and_survives_a_torn_record_and_another_path_spelling() {
    let scratch = Scratch::new("resume-rules");
    let expected = transcript(&scratch.0);
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let checkpoint = scratch.0.join("checkpoint");
    let cp = checkpoint.to_str().unwrap();
    let dir = scratch.0.display().to_string();
    let first = asapp_env(
        &[
            "import",
            &dir,
            "--checkpoint",
            cp,
            "--rate-limit",
            "0",
            "--batch-size",
            "50",
        ],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(first.exit, Exit::Success, "{first:?}");

    let other_size = asapp_env(
        &["import", &dir, "--checkpoint", cp, "--resume"],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(other_size.exit, Exit::Usage);
    assert!(
        other_size.err.contains("written with --batch-size 50"),
        "{other_size:?}"
    );

    // A record cut short at the end, as a kill mid-write leaves it, is dropped.
    let mut records = std::fs::read_to_string(&checkpoint).unwrap();
    records.push_str(r#"{"ack":{"source":"/some/where.jsonl","line":1,"#);
    std::fs::write(&checkpoint, &records).unwrap();
    // The same directory spelled another way: the checkpoint still matches.
    let spelled = format!("{dir}/./");
    let resumed = asapp_env(
        &[
            "import",
            &spelled,
            "--checkpoint",
            cp,
            "--resume",
            "--settle",
            "0s",
            "--rate-limit",
            "0",
            "--batch-size",
            "50",
        ],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(resumed.exit, Exit::Success, "{resumed:?}");
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        (
            summary["messages"].clone(),
            summary["alreadyStored"].clone()
        ),
        (json!(0), json!(10_000))
    );
    assert!(
        !std::fs::read_to_string(&checkpoint)
            .unwrap()
            .contains("where.jsonl")
    );
    assert_once_in_order(&expected, &sandbox_env(&sandbox)).await;
}

#[tokio::test]
async fn a_line_that_is_not_utf8_is_an_invalid_line_not_the_end() {
    let scratch = Scratch::new("latin1");
    let file = scratch.0.join("latin1.jsonl");
    let good = r#"{"externalId":"call-l1","customerId":"c","role":"customer","senderId":"c","text":"hello","timestamp":"2024-01-23T11:42:42Z"}"#;
    let mut bytes = format!("{good}\n").into_bytes();
    bytes.extend_from_slice(b"{\"externalId\":\"call-l1\",\"customerId\":\"c\",\"role\":\"customer\",\"senderId\":\"c\",\"text\":\"caf\xe9\",\"timestamp\":\"2024-01-23T11:42:43Z\"}\n");
    bytes.extend_from_slice(
        good.replace("hello", "bye")
            .replace("42:42", "42:44")
            .as_bytes(),
    );
    std::fs::write(&file, bytes).unwrap();
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let path = file.to_str().unwrap();
    let ran = asapp_env(
        &[
            "import",
            path,
            "--checkpoint",
            scratch.0.join("cp").to_str().unwrap(),
        ],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(ran.exit, Exit::Usage, "{ran:?}");
    assert!(
        ran.err
            .contains(&format!("{path}:2: invalid line: not UTF-8")),
        "{}",
        ran.err
    );
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(
        (summary["messages"].clone(), summary["invalidLines"].clone()),
        (json!(2), json!(1))
    );
}

#[tokio::test]
async fn a_conflict_answering_a_retried_batch_counts_as_persisted() {
    // The first batch is stored, but its answer is replaced by a 503; the retry then gets the
    // 409 ASAPP gives for an entity it already has.
    let router = asapp_conversations_sandbox::router(&empty()).unwrap();
    let batches = Arc::new(AtomicUsize::new(0));
    let app = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let batches = batches.clone();
            async move {
                let batch = request.uri().path().ends_with("/messages/batch");
                let seen = if batch {
                    batches.fetch_add(1, Ordering::SeqCst)
                } else {
                    usize::MAX
                };
                // ASAPP does not store the entity again: neither does the stand-in.
                let answer = if seen == 1 {
                    None
                } else {
                    Some(next.run(request).await)
                };
                let status = match seen {
                    0 => Some(503),
                    1 => Some(409),
                    _ => None,
                };
                match status {
                    Some(status) => injected(status),
                    None => answer.unwrap_or_default(),
                }
            }
        },
    ));
    let url = serve(app).await;

    let scratch = Scratch::new("conflict");
    let file = scratch.0.join("one.jsonl");
    std::fs::write(
        &file,
        r#"{"externalId":"call-409","customerId":"c","role":"customer","senderId":"c","text":"only once","timestamp":"2024-01-23T11:42:42Z"}"#,
    )
    .unwrap();
    let env = default_credentials(url);
    let ran = asapp_env(
        &[
            "import",
            file.to_str().unwrap(),
            "--checkpoint",
            scratch.0.join("cp").to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(summary["messages"], 1);
    let exported = export("call-409", &env).await.unwrap();
    assert_eq!(exported.len(), 1, "{exported:?}");
}

/// Serves `router` behind a middleware that sees each batch request's body first: `script`
/// answers for the server when it returns a status, after passing the request on to the store
/// when it also returns `true`.
async fn scripted(
    router: axum::Router,
    script: impl Fn(&str) -> Option<(u16, bool)> + Clone + Send + Sync + 'static,
) -> String {
    let app = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let script = script.clone();
            async move {
                if !request.uri().path().ends_with("/messages/batch") {
                    return next.run(request).await;
                }
                let (parts, body) = request.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                let answer = script(std::str::from_utf8(&bytes).unwrap());
                let request = axum::extract::Request::from_parts(parts, bytes.into());
                match answer {
                    None => next.run(request).await,
                    Some((status, store)) => {
                        if store {
                            let stored = next.run(request).await;
                            assert!(stored.status().is_success(), "{stored:?}");
                        }
                        injected(status)
                    }
                }
            }
        },
    ));
    serve(app).await
}

#[tokio::test]
async fn a_batch_in_doubt_is_completed_without_losing_or_repeating_a_message() {
    // call-x comes in two runs, in one file or across two; its second holds a message
    // identical to one of its first (said twice). The second run's batch is refused, before
    // or after the store kept it: either way the checkpoint shows it sent and never acknowledged.
    // A batch refused unstored may also be corrected before the resume.
    let lines = [
        message_line("call-x", "hello", 1),
        message_line("call-x", "again", 2),
        message_line("call-y", "other", 1),
        message_line("call-x", "again", 2),
        message_line("call-x", "bye", 3),
    ];
    for (stored, split, corrected) in [
        (false, false, false),
        (true, false, false),
        (false, true, false),
        (true, true, false),
        (false, false, true),
    ] {
        let case = format!("stored {stored}, split {split}, corrected {corrected}");
        let scratch = Scratch::new("in-doubt");
        let files = if split {
            vec![
                (scratch.0.join("1.jsonl"), &lines[..3]),
                (scratch.0.join("2.jsonl"), &lines[3..]),
            ]
        } else {
            vec![(scratch.0.join("1.jsonl"), &lines[..])]
        };
        for (path, lines) in &files {
            std::fs::write(path, lines.join("\n")).unwrap();
        }
        let refused = Arc::new(AtomicUsize::new(0));
        let script = {
            let refused = refused.clone();
            move |body: &str| {
                (body.contains("bye") && refused.fetch_add(1, Ordering::SeqCst) == 0)
                    .then_some((400, stored))
            }
        };
        let router = asapp_conversations_sandbox::router(&empty()).unwrap();
        let env = default_credentials(scripted(router, script).await);
        let checkpoint = scratch.0.join("cp").display().to_string();
        let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
        let mut args: Vec<&str> = vec!["import"];
        args.extend(names.iter().map(String::as_str));
        args.extend([
            "--checkpoint",
            &checkpoint,
            "--rate-limit",
            "0",
            "--batch-size",
            "2",
        ]);
        // A window of one line: call-x's lines stay two runs.
        args.extend(["--window", "1"]);
        let first = asapp_env(&args, &env).await;
        assert_eq!(first.exit, Exit::Rejected, "{case}: {first:?}");
        // The run in doubt: call-x's second, at line 4 of the one file or line 1 of the second.
        let (doubt, line) = if split {
            (&files[1].0, 1)
        } else {
            (&files[0].0, 4)
        };
        assert!(
            first
                .err
                .contains(&format!("{}:{line} (`call-x`): ", doubt.display())),
            "{case}: the failure names the run and its conversation: {}",
            first.err
        );
        assert_eq!(refused.load(Ordering::SeqCst), 1);
        let mut last = "bye";
        if corrected {
            last = "bye, corrected";
            let (path, lines) = files.last().unwrap();
            std::fs::write(
                path,
                lines.join("\n").replace("\"bye\"", "\"bye, corrected\""),
            )
            .unwrap();
        }

        let resumed = asapp_env(
            &[args.as_slice(), &["--resume", "--settle", "0s"]].concat(),
            &env,
        )
        .await;
        assert_eq!(resumed.exit, Exit::Success, "{case}: {resumed:?}");
        let summary: Value = serde_json::from_str(&resumed.out).unwrap();
        assert_eq!(
            summary["messages"],
            if stored { 0 } else { 2 },
            "{case}: {summary}"
        );
        assert_eq!(
            exported_texts("call-x", &env).await,
            ["hello", "again", "again", last],
            "{case}"
        );
        assert_eq!(exported_texts("call-y", &env).await, ["other"], "{case}");
    }
}

#[tokio::test]
async fn stdin_resumed_twice_stores_each_message_once() {
    // Two batches are refused on the way, one before and one after the store kept it; each
    // refusal ends a run, and the next run resumes from stdin again.
    let transcript = Transcript::new("call", 3, 2);
    let refusals = Arc::new(AtomicUsize::new(0));
    let script = {
        let refusals = refusals.clone();
        move |body: &str| match body {
            b if b.contains("\"message 1 of call-000\"")
                && refusals.load(Ordering::SeqCst) == 0 =>
            {
                refusals.fetch_add(1, Ordering::SeqCst);
                Some((400, false))
            }
            b if b.contains("\"message 0 of call-002\"")
                && refusals.load(Ordering::SeqCst) == 1 =>
            {
                refusals.fetch_add(1, Ordering::SeqCst);
                Some((400, true))
            }
            _ => None,
        }
    };
    let router = asapp_conversations_sandbox::router(&empty()).unwrap();
    let env = default_credentials(scripted(router, script).await);
    let scratch = Scratch::new("stdin");
    let checkpoint = scratch.0.join("cp");
    let input = transcript.jsonl(Order::OneAfterAnother);
    let mut exits = Vec::new();
    for resume in [false, true, true] {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_asapp"));
        command
            .args(["import", "-", "--checkpoint", checkpoint.to_str().unwrap()])
            .args(["--rate-limit", "0", "--concurrency", "1"])
            .args(if resume {
                &["--resume", "--settle", "0s"][..]
            } else {
                &[]
            })
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env_remove("ASAPP_ENVIRONMENT")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut stdin, input.as_bytes())
            .await
            .unwrap();
        drop(stdin);
        let output = tokio::time::timeout(LIMIT, child.wait_with_output())
            .await
            .expect("asapp import did not end in time")
            .unwrap();
        exits.push(output.status.code());
    }
    assert_eq!(exits, [Some(3), Some(3), Some(0)]);
    assert_once_in_order(&transcript, &env).await;
}

#[tokio::test]
async fn a_conversation_keeps_the_fields_of_its_first_line_and_is_upserted_once() {
    let scratch = Scratch::new("fields");
    let file = scratch.0.join("calls.jsonl");
    let with_names = json!({"externalId": "call-f", "customerId": "c", "customerName": "Ada", "agentId": "a", "agentName": "Grace", "role": "customer", "senderId": "c", "text": "hello", "timestamp": "2024-01-23T11:42:01Z"});
    let lines = [
        with_names.to_string(),
        message_line("call-g", "elsewhere", 1),
        message_line("call-f", "later, without the names", 2),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
    let checkpoint = scratch.0.join("cp").display().to_string();
    // A window of one line: the conversation's lines stay two runs.
    let ran = asapp_env(
        &import_args(file.to_str().unwrap(), &checkpoint, &["--window", "1"]),
        &env,
    )
    .await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(summary["conversations"], 2, "{summary}");
    let listed = asapp_env(&["conversations", "list", "--external-id", "call-f"], &env).await;
    let listed: Value = serde_json::from_str(&listed.out).unwrap();
    let conversation = &listed["items"][0];
    assert_eq!(conversation["customer"]["name"], "Ada", "{listed}");
    assert_eq!(conversation["agent"]["name"], "Grace", "{listed}");
    assert_eq!(
        exported_texts("call-f", &env).await,
        ["hello", "later, without the names"]
    );
}

#[tokio::test]
async fn a_failed_run_holds_back_the_rest_of_its_conversation() {
    // call-x's first run fails; its second must not be sent. The failing answer waits until
    // call-w, which comes after both, has sent its batch: by then an import that sent a
    // conversation's runs side by side would have sent call-x's second one too.
    let lines = [
        message_line("call-x", "fails", 1),
        message_line("call-y", "y", 1),
        message_line("call-x", "held back", 2),
        message_line("call-w", "w", 1),
    ];
    let scratch = Scratch::new("held-back");
    let file = scratch.0.join("calls.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let (tell, w_sent) = tokio::sync::watch::channel(false);
    let router = asapp_conversations_sandbox::router(&empty()).unwrap();
    let app = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let (tell, mut w_sent) = (tell.clone(), w_sent.clone());
            async move {
                let (parts, body) = request.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let request = axum::extract::Request::from_parts(parts, bytes.into());
                if text.contains("\"fails\"") {
                    tokio::time::timeout(LIMIT, w_sent.wait_for(|sent| *sent))
                        .await
                        .expect("the other conversation's batch never came")
                        .unwrap();
                    return injected(400);
                }
                let answer = next.run(request).await;
                if text.contains("\"w\"") {
                    tell.send_replace(true);
                }
                answer
            }
        },
    ));
    let url = serve(app).await;
    let env = default_credentials(url);
    let checkpoint = scratch.0.join("cp").display().to_string();
    // A window of one line: the conversation's lines stay two runs.
    let ran = asapp_env(
        &import_args(file.to_str().unwrap(), &checkpoint, &["--window", "1"]),
        &env,
    )
    .await;
    assert_eq!(ran.exit, Exit::Rejected, "{ran:?}");
    assert!(exported_texts("call-x", &env).await.is_empty());
    assert_eq!(exported_texts("call-w", &env).await, ["w"]);
}

#[tokio::test]
async fn a_resume_refuses_an_input_that_changed() {
    // Each case: the input of a first, complete import (two files, batches of one message), the
    // input a resume is then given, and what the refusal says. Nothing may be sent again.
    let a = |text, second| message_line("call-a", text, second);
    let b = |text, second| message_line("call-b", text, second);
    type Files = [Vec<String>; 2];
    let cases: [(&str, Files, Files, &str); 6] = [
        (
            "a message edited under an acknowledged batch",
            [vec![a("one", 1), b("two", 1), a("three", 2)], vec![]],
            [vec![a("one", 1), b("two", 1), a("3", 2)], vec![]],
            "`call-a` from {first}:3 holds other messages now (its batch 0, acknowledged)",
        ),
        (
            "a line removed, making one run of call-a's two",
            [vec![a("one", 1), b("two", 1), a("three", 2)], vec![]],
            [vec![a("one", 1), a("three", 2)], vec![]],
            "a conversation's lines started at {first}:2 then, and do not now",
        ),
        (
            "an invalid line corrected in place, cutting call-a's run in two",
            [
                vec![a("one", 1), "{not json".to_owned(), a("three", 2)],
                vec![],
            ],
            [vec![a("one", 1), b("two", 1), a("three", 2)], vec![]],
            "`call-a` from {first}:1 holds 1 message now, 2 messages then",
        ),
        (
            "a run moved to another conversation",
            [vec![a("one", 1)], vec![b("two", 1)]],
            [vec![message_line("call-c", "one", 1)], vec![b("two", 1)]],
            "the run of lines from {first}:1 was of `call-a` then, and is of `call-c` now",
        ),
        (
            "a line added to an acknowledged run",
            [vec![a("one", 1)], vec![b("two", 1)]],
            [vec![a("one", 1)], vec![b("two", 1), b("more", 2)]],
            "`call-b` from {second}:1 holds 2 messages now, 1 message then",
        ),
        (
            "the files read in another order",
            [vec![a("one", 1)], vec![b("two", 1)]],
            [vec![b("two", 1)], vec![a("one", 1)]],
            "input 1 is {second} now, {first} then",
        ),
    ];
    for (case, before, after, refusal) in cases {
        let scratch = Scratch::new("changed");
        let sandbox = Sandbox::start_with(empty()).await.unwrap();
        let env = sandbox_env(&sandbox);
        let paths = ["1.jsonl", "2.jsonl"].map(|name| scratch.0.join(name));
        let names = paths.clone().map(|p| p.display().to_string());
        let write = |files: &[Vec<String>; 2], order: [usize; 2]| {
            for (path, lines) in order.map(|i| &paths[i]).iter().zip(files) {
                std::fs::write(path, lines.join("\n")).unwrap();
            }
        };
        let checkpoint = scratch.0.join("cp").display().to_string();
        let run = |order: [usize; 2], resume: bool| {
            let mut args = vec!["import", &names[order[0]], &names[order[1]]];
            args.extend(["--checkpoint", &checkpoint, "--rate-limit", "0"]);
            args.extend(["--batch-size", "1", "--window", "1"]);
            if resume {
                args.extend(["--resume", "--settle", "0s"]);
            }
            args.into_iter().map(str::to_owned).collect::<Vec<_>>()
        };
        write(&before, [0, 1]);
        let first = asapp_env(
            &run([0, 1], false)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            &env,
        )
        .await;
        let expected_first = if before[0].iter().any(|l| l.contains("not json")) {
            Exit::Usage
        } else {
            Exit::Success
        };
        assert_eq!(first.exit, expected_first, "{case}: {first:?}");
        let summary: Value = serde_json::from_str(&first.out).unwrap();
        let stored = summary["messages"].clone();

        let order = if case.contains("another order") {
            [1, 0]
        } else {
            [0, 1]
        };
        write(&after, order);
        let resumed = asapp_env(
            &run(order, true)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            &env,
        )
        .await;
        assert_eq!(resumed.exit, Exit::Usage, "{case}: {resumed:?}");
        let refusal = refusal
            .replace("{first}", &names[0])
            .replace("{second}", &names[1]);
        assert!(resumed.err.contains(&refusal), "{case}: {}", resumed.err);
        assert!(resumed.out.is_empty(), "{case}: {resumed:?}");
        let mut texts = Vec::new();
        for external_id in ["call-a", "call-b", "call-c"] {
            let exported = asapp_env(&["export", "--external-id", external_id], &env).await;
            texts.extend(exported.out.lines().map(str::to_owned));
        }
        assert_eq!(json!(texts.len()), stored, "{case}: nothing sent again");
    }
}

#[tokio::test]
async fn interleaved_conversations_are_gathered_within_the_window() {
    // Three conversations, line by line in turn, as a dump in time order has them.
    let transcript = Transcript::new("call", 3, 10);
    let scratch = Scratch::new("interleaved");
    let file = scratch.0.join("calls.jsonl");
    transcript.write(&file, Order::InTurn);
    let path = file.to_str().unwrap();
    // (window, batches): one run a conversation; windows of at least 12 lines, closed where
    // the conversation changes (lines 1-12, 13-24, 25-30); a window of one line.
    for (window, batches) in [("10000", 3), ("12", 9), ("1", 30)] {
        let sandbox = Sandbox::start_with(empty()).await.unwrap();
        let env = sandbox_env(&sandbox);
        let checkpoint = scratch.0.join(format!("cp-{window}")).display().to_string();
        let ran = asapp_env(&import_args(path, &checkpoint, &["--window", window]), &env).await;
        assert_eq!(ran.exit, Exit::Success, "{ran:?}");
        let summary: Value = serde_json::from_str(&ran.out).unwrap();
        assert_eq!(summary["batches"], batches, "window {window}: {summary}");
        assert_eq!(summary["conversations"], 3, "window {window}: {summary}");
        assert_once_in_order(&transcript, &env).await;
        let other = asapp_env(
            &import_args(
                path,
                &checkpoint,
                &["--resume", "--settle", "0s", "--window", "7"],
            ),
            &env,
        )
        .await;
        assert_eq!(other.exit, Exit::Usage, "{other:?}");
        assert!(
            other
                .err
                .contains(&format!("was written with --window {window}")),
            "{other:?}"
        );
    }
}

#[tokio::test]
async fn an_input_is_read_once() {
    let scratch = Scratch::new("twice");
    let file = scratch.0.join("calls.jsonl");
    std::fs::write(&file, message_line("call-a", "one", 1)).unwrap();
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let dir = scratch.0.display().to_string();
    let path = file.display().to_string();
    let checkpoint = scratch.0.join("cp").display().to_string();
    for sources in [vec![dir.as_str(), path.as_str()], vec!["-", "-"]] {
        let mut args = vec!["import"];
        args.extend(&sources);
        args.extend(["--checkpoint", &checkpoint]);
        let ran = asapp_env(&args, &sandbox_env(&sandbox)).await;
        assert_eq!(ran.exit, Exit::Usage, "{ran:?}");
        assert!(
            ran.err.contains("are the same input: each is read once"),
            "{ran:?}"
        );
        assert!(
            !Path::new(&checkpoint).exists(),
            "nothing is written before the input is checked"
        );
    }
}

#[tokio::test]
async fn a_corrected_batch_in_doubt_found_stored_resumes_again() {
    // The batch in doubt is stored, then answered 400. Before the resume, two of its lines with
    // the same time swap places: the batch's digest changes, the messages do not. The resume
    // finds them stored and acknowledges the batch as it is now; a further resume has nothing to
    // do and refuses nothing.
    let lines = [
        message_line("call-s", "first", 1),
        message_line("call-s", "same time, one", 2),
        message_line("call-s", "same time, two", 2),
    ];
    let scratch = Scratch::new("swapped");
    let file = scratch.0.join("calls.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let refused = Arc::new(AtomicUsize::new(0));
    let script = {
        let refused = refused.clone();
        move |_: &str| (refused.fetch_add(1, Ordering::SeqCst) == 0).then_some((400, true))
    };
    let router = asapp_conversations_sandbox::router(&empty()).unwrap();
    let env = default_credentials(scripted(router, script).await);
    let checkpoint = scratch.0.join("cp");
    let args = import_args(file.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]);
    let first = asapp_env(&args, &env).await;
    assert_eq!(first.exit, Exit::Rejected, "{first:?}");
    std::fs::write(
        &file,
        [&lines[0], &lines[2], &lines[1]]
            .map(String::as_str)
            .join("\n"),
    )
    .unwrap();
    let resume = [args.as_slice(), &["--resume", "--settle", "0s"]].concat();
    for round in 0..2 {
        let resumed = asapp_env(&resume, &env).await;
        assert_eq!(resumed.exit, Exit::Success, "round {round}: {resumed:?}");
        let summary: Value = serde_json::from_str(&resumed.out).unwrap();
        assert_eq!(
            (
                summary["messages"].clone(),
                summary["alreadyStored"].clone()
            ),
            (json!(0), json!(3)),
            "round {round}: {summary}"
        );
    }
    assert_eq!(exported_texts("call-s", &env).await.len(), 3);
}

#[tokio::test]
async fn a_listing_that_lacks_stored_messages_stops_the_resume_instead_of_sending_again() {
    // call-l's first run is acknowledged, its second run's batch stored but answered 400. On the
    // resume ASAPP lists the conversation without its first message: what the batch in doubt
    // stored cannot be told, and the resume says so rather than send it again.
    let lines = [
        message_line("call-l", "hello", 1),
        message_line("call-m", "elsewhere", 1),
        message_line("call-l", "in doubt", 2),
    ];
    let scratch = Scratch::new("incomplete");
    let file = scratch.0.join("calls.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let truncate = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let router = asapp_conversations_sandbox::router(&empty()).unwrap();
    let listing = {
        let truncate = truncate.clone();
        router.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let truncate = truncate.clone();
                async move {
                    let lists = request.method() == axum::http::Method::GET
                        && request.uri().path().ends_with("/messages");
                    let answer = next.run(request).await;
                    if !(lists && truncate.load(Ordering::SeqCst)) {
                        return answer;
                    }
                    let (mut parts, body) = answer.into_parts();
                    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                    let mut listed: Value = serde_json::from_slice(&bytes).unwrap();
                    listed["items"].as_array_mut().unwrap().remove(0);
                    parts.headers.remove("content-length");
                    axum::response::Response::from_parts(parts, listed.to_string().into())
                }
            },
        ))
    };
    let refused = Arc::new(AtomicUsize::new(0));
    let script = {
        let refused = refused.clone();
        move |body: &str| {
            (body.contains("in doubt") && refused.fetch_add(1, Ordering::SeqCst) == 0)
                .then_some((400, true))
        }
    };
    let env = default_credentials(scripted(listing, script).await);
    let checkpoint = scratch.0.join("cp");
    let args = import_args(
        file.to_str().unwrap(),
        checkpoint.to_str().unwrap(),
        &["--window", "1"],
    );
    let first = asapp_env(&args, &env).await;
    assert_eq!(first.exit, Exit::Rejected, "{first:?}");
    truncate.store(true, Ordering::SeqCst);
    let resumed = asapp_env(
        &[args.as_slice(), &["--resume", "--settle", "0s"]].concat(),
        &env,
    )
    .await;
    assert_eq!(resumed.exit, Exit::Failed, "{resumed:?}");
    assert!(
        resumed
            .err
            .contains("(`call-l`): ASAPP listed 1 message(s) of `call-l`, without 1")
            && resumed.err.contains("the listing is incomplete"),
        "{}",
        resumed.err
    );
    truncate.store(false, Ordering::SeqCst);
    assert_eq!(exported_texts("call-l", &env).await, ["hello", "in doubt"]);
}

#[tokio::test]
async fn against_a_lower_account_limit_the_default_import_slows_down_and_finishes() {
    // The account allows 10 requests per second, a tenth of ASAPP's documented limit that the
    // import starts at. It lowers its rate on the 429s, retries them until the deadline, and
    // stores every message once.
    let sandbox = Sandbox::start_with(SandboxConfig {
        rate_limit: Some(10),
        ..empty()
    })
    .await
    .unwrap();
    let scratch = Scratch::new("account-limit");
    let file = scratch.0.join("calls.jsonl");
    let transcript = Transcript::new("limited", 20, 100);
    transcript.write(&file, Order::OneAfterAnother);
    let checkpoint = scratch.0.join("cp");
    let ran = asapp_env(
        &[
            "import",
            file.to_str().unwrap(),
            "--checkpoint",
            checkpoint.to_str().unwrap(),
        ],
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(summary["messages"], 2_000, "{summary}");
    let settled = summary["rateLimit"].as_f64().unwrap();
    assert!(
        (1.0..=15.0).contains(&settled),
        "settled at {settled}: {summary}"
    );
    assert_once_in_order(&transcript, &sandbox_env(&sandbox)).await;
}

#[tokio::test]
async fn a_checkpoint_in_use_and_changed_reading_options_are_refused() {
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
    let scratch = Scratch::new("in-use");
    let file = scratch.0.join("calls.jsonl");
    std::fs::write(&file, message_line("call-lock", "hello", 1)).unwrap();
    let checkpoint = scratch.0.join("cp");
    let args = import_args(file.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]);
    assert_eq!(asapp_env(&args, &env).await.exit, Exit::Success);
    // Another import holds the checkpoint: a resume beside it would send what it sends.
    let held = std::fs::File::open(&checkpoint).unwrap();
    held.try_lock().unwrap();
    let resume = [args.as_slice(), &["--resume", "--settle", "0s"]].concat();
    let refused = asapp_env(&resume, &env).await;
    assert_eq!(refused.exit, Exit::Usage, "{refused:?}");
    assert!(
        refused.err.contains("is in use by another import"),
        "{}",
        refused.err
    );
    drop(held);
    assert_eq!(asapp_env(&resume, &env).await.exit, Exit::Success);

    // Documents read with another base time would be other messages: a resume must read them
    // as the import it continues did.
    let document = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../import/tests/data/formats/contact-lens/0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json",
    );
    let checkpoint = scratch.0.join("cp-documents");
    let at = |time| {
        import_args(
            document.to_str().unwrap(),
            checkpoint.to_str().unwrap(),
            &["--base-time", time, "--resume", "--settle", "0s"],
        )
    };
    let first = at("2024-03-01T10:00:00Z");
    assert_eq!(
        asapp_env(&first[..first.len() - 3], &env).await.exit,
        Exit::Success
    );
    let other = asapp_env(&at("2024-03-01T11:00:00Z"), &env).await;
    assert_eq!(other.exit, Exit::Usage, "{other:?}");
    assert!(
        other
            .err
            .contains("reading documents with `base-time=2024-03-01T10:00:00+00:00`"),
        "{}",
        other.err
    );
    assert_eq!(
        asapp_env(&at("2024-03-01T10:00:00Z"), &env).await.exit,
        Exit::Success
    );
}

#[tokio::test]
async fn a_resume_waits_for_a_batch_still_on_its_way_before_reading_it_back() {
    // The stand-in answers the batch 400 at once, then stores it 1.5 s later, as a service may
    // when the importer died with its request under way. A resume that read the conversation
    // back at once would find nothing and send the batch again; it waits --settle first.
    let router = asapp_conversations_sandbox::router(&empty()).unwrap();
    let late = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app = router.clone().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let late = late.clone();
            async move {
                if !request.uri().path().ends_with("/messages/batch")
                    || late.swap(true, Ordering::SeqCst)
                {
                    return next.run(request).await;
                }
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
                    let stored = next.run(request).await;
                    assert!(stored.status().is_success(), "{stored:?}");
                });
                injected(400)
            }
        },
    ));
    let env = default_credentials(serve(app).await);
    let scratch = Scratch::new("settle");
    let file = scratch.0.join("calls.jsonl");
    std::fs::write(
        &file,
        [message_line("call-late", "on its way", 1)].join("\n"),
    )
    .unwrap();
    let checkpoint = scratch.0.join("cp");
    let args = import_args(file.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]);
    let first = asapp_env(&args, &env).await;
    assert_eq!(first.exit, Exit::Rejected, "{first:?}");
    let started = std::time::Instant::now();
    let resumed = asapp_env(
        &[args.as_slice(), &["--resume", "--settle", "3s"]].concat(),
        &env,
    )
    .await;
    assert_eq!(resumed.exit, Exit::Success, "{resumed:?}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        (&summary["messages"], &summary["alreadyStored"]),
        (&json!(0), &json!(1))
    );
    assert_eq!(exported_texts("call-late", &env).await, ["on its way"]);
}

#[tokio::test]
async fn a_byte_order_mark_a_bad_first_line_and_a_link_loop_are_read_as_meant() {
    // An editor's byte-order mark before the first line is not part of it; a `.jsonl` file whose
    // first line is broken is one invalid line, not a document refused whole; and a link from a
    // folder back to itself is followed once, not forever.
    let scratch = Scratch::new("reading-edges");
    let folder = scratch.0.join("in");
    std::fs::create_dir_all(&folder).unwrap();
    let marked = format!(
        "\u{feff}{}\n{}\n",
        message_line("call-bom", "one", 1),
        message_line("call-bom", "two", 2)
    );
    std::fs::write(folder.join("marked.jsonl"), marked).unwrap();
    let broken = format!(
        "{{\"externalId\": \"call-broken\", \"te\n{}\n{}\n",
        message_line("call-broken", "three", 3),
        message_line("call-broken", "four", 4)
    );
    std::fs::write(folder.join("broken.jsonl"), broken).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&folder, folder.join("again")).unwrap();
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let checkpoint = scratch.0.join("cp");
    let ran = asapp_env(
        &import_args(folder.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]),
        &sandbox_env(&sandbox),
    )
    .await;
    assert_eq!(ran.exit, Exit::Usage, "{ran:?}");
    assert!(
        ran.err.contains("broken.jsonl:1: invalid line"),
        "{}",
        ran.err
    );
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(
        (summary["messages"].clone(), summary["invalidLines"].clone()),
        (json!(4), json!(1)),
        "{summary}"
    );
    assert_eq!(
        exported_texts("call-bom", &sandbox_env(&sandbox)).await,
        ["one", "two"]
    );
    assert_eq!(
        exported_texts("call-broken", &sandbox_env(&sandbox)).await,
        ["three", "four"]
    );
}
