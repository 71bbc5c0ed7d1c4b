//! What `asapp` logs to stderr: the binary run as a process (a process has one subscriber)
//! against a sandbox whose every answer, or some, is a 429 asking for no wait, so the client's
//! retries take no time. Nothing at the default level, the retries and their 429s at `-v`,
//! `RUST_LOG` over `-v`; the import's summary counts what the client rode through.

use std::time::Duration;

use asapp_conversations_sandbox::{Faults, Sandbox, SandboxConfig};
use serde_json::Value;

use super::asapp_with;
use super::support::{Order, Scratch, Transcript};

const CONVERSATION: &str = "01BX5ZZKBKACTAV9WEVGEMMVRZ";
/// Stands for a customer's words in the import's input.
const TEXT: &str = "MARKER-my-card-number-is-4111";

/// A sandbox answering a share `rate` of requests with a 429 and `Retry-After: 0`.
async fn rate_limited(rate: f64) -> Sandbox {
    Sandbox::start_with(SandboxConfig {
        faults: Some(Faults {
            rate_limited: rate,
            retry_after: 0,
            seed: 11,
            ..Faults::default()
        }),
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

/// The binary's exit code and stderr and stdout, run with `args` against `sandbox` and the
/// variables `env`; at most 60 s.
async fn run(
    sandbox: &Sandbox,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, String, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_asapp"));
    command
        .args(args)
        .env("ASAPP_BASE_URL", sandbox.base_url())
        .env("ASAPP_API_ID", sandbox.api_id())
        .env("ASAPP_API_SECRET", sandbox.api_secret())
        .env_remove("ASAPP_ENVIRONMENT")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("asapp ends within 60 s")
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stderr).unwrap(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[tokio::test]
async fn retries_and_their_429s_show_at_v_and_not_by_default() {
    let sandbox = rate_limited(1.0).await;
    let get = ["conversations", "get", CONVERSATION];

    let (exit, quiet, _) = run(&sandbox, &get, &[]).await;
    assert_eq!(exit, Some(3), "{quiet}");
    assert_eq!(
        quiet.lines().count(),
        1,
        "only the error line by default: {quiet}"
    );
    assert!(
        quiet.starts_with("error: getConversation failed: 429"),
        "{quiet}"
    );

    let (exit, verbose, _) = run(&sandbox, &["-v", get[0], get[1], get[2]], &[]).await;
    assert_eq!(exit, Some(3), "{verbose}");
    let retries: Vec<&str> = verbose.lines().filter(|l| l.contains("retrying")).collect();
    assert_eq!(retries.len(), 3, "{verbose}");
    for line in &retries {
        assert!(line.contains(" INFO "), "{line}");
        assert!(line.contains("http.response.status_code=429"), "{line}");
        assert!(line.contains("asapp.wait_ms=0"), "{line}");
        assert!(line.contains("otel.name=\"getConversation\""), "{line}");
    }
    assert!(
        verbose
            .lines()
            .any(|l| l.contains("failed") && l.contains("error.type=\"429\"")),
        "{verbose}"
    );
    assert!(!verbose.contains(sandbox.api_secret()), "{verbose}");
    assert!(!verbose.contains(" DEBUG "), "-v is info: {verbose}");

    let (_, debug, _) = run(&sandbox, &["-vv", get[0], get[1], get[2]], &[]).await;
    assert!(debug.contains(" DEBUG "), "{debug}");

    // RUST_LOG replaces -v, either way.
    let (_, env_on, _) = run(&sandbox, &get, &[("RUST_LOG", "asapp_conversations=info")]).await;
    assert_eq!(
        env_on.lines().filter(|l| l.contains("retrying")).count(),
        3,
        "{env_on}"
    );
    let (_, env_off, _) = run(
        &sandbox,
        &["-vv", get[0], get[1], get[2]],
        &[("RUST_LOG", "error")],
    )
    .await;
    assert!(!env_off.contains("retrying"), "{env_off}");

    let (exit, bad, _) = run(&sandbox, &get, &[("RUST_LOG", "asapp=loud")]).await;
    assert_eq!(exit, Some(2), "{bad}");
    assert!(bad.contains("RUST_LOG `asapp=loud` is invalid"), "{bad}");
    sandbox.shutdown().await.unwrap();
}

/// A transcript of `conversations` conversations of 2 messages each, the text holding [`TEXT`].
fn transcript(dir: &std::path::Path, conversations: usize) -> std::path::PathBuf {
    let path = dir.join("calls.jsonl");
    Transcript::new("log-call", conversations, 2)
        .saying(TEXT)
        .write(&path, Order::OneAfterAnother);
    path
}

#[tokio::test]
async fn a_verbose_import_tells_its_retries_and_its_summary_counts_them() {
    let sandbox = rate_limited(0.1).await;
    let scratch = Scratch::new("log-import");
    let input = transcript(&scratch.0, 20);
    let checkpoint = scratch.0.join("checkpoint");
    let args = [
        "-v",
        "import",
        input.to_str().unwrap(),
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];
    let (exit, stderr, stdout) = run(&sandbox, &args, &[]).await;
    assert_eq!(exit, Some(0), "{stderr}");
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    let retries = summary["retries"].as_u64().unwrap();
    assert_eq!(
        retries,
        sandbox.faults_injected().rate_limited,
        "every 429 was retried: {summary}"
    );
    assert!(retries > 0, "{summary}");
    assert_eq!(summary["rateLimited"].as_u64(), Some(retries), "{summary}");
    assert!(
        summary["limiterWaitSeconds"].as_f64().is_some(),
        "{summary}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.contains("retrying")).count() as u64,
        retries,
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("import: client in all")
                && l.contains(&format!("retries={retries}"))),
        "{stderr}"
    );
    assert!(
        !stderr.contains("MARKER"),
        "no message text in the log: {stderr}"
    );
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_summary_counts_what_the_client_rode_through_in_process() {
    let sandbox = rate_limited(0.1).await;
    let scratch = Scratch::new("log-summary");
    let input = transcript(&scratch.0, 10);
    let checkpoint = scratch.0.join("checkpoint");
    let env = [
        ("ASAPP_BASE_URL", sandbox.base_url()),
        ("ASAPP_API_ID", sandbox.api_id()),
        ("ASAPP_API_SECRET", sandbox.api_secret()),
    ];
    let ran = asapp_with(
        &[
            "import",
            input.to_str().unwrap(),
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--rate-limit",
            "0",
        ],
        &env,
    )
    .await;
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(summary["messages"], 20, "{}", ran.err);
    let injected = sandbox.faults_injected().rate_limited;
    assert!(injected > 0);
    assert_eq!(summary["retries"].as_u64(), Some(injected), "{summary}");
    assert_eq!(summary["rateLimited"].as_u64(), Some(injected), "{summary}");
    assert_eq!(
        summary["limiterWaitSeconds"].as_f64(),
        Some(0.0),
        "{summary}"
    );
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_rate_limiters_waits_are_counted_and_told_at_v() {
    // 12 conversations are 24 requests; at 8 a second, with a burst of 8, some 2 s of waiting.
    let sandbox = rate_limited(0.0).await;
    let scratch = Scratch::new("log-limiter");
    let input = transcript(&scratch.0, 12);
    let checkpoint = scratch.0.join("checkpoint");
    let args = [
        "-v",
        "import",
        input.to_str().unwrap(),
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--rate-limit",
        "8",
    ];
    let (exit, stderr, stdout) = run(&sandbox, &args, &[]).await;
    assert_eq!(exit, Some(0), "{stderr}");
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    let waited = summary["limiterWaitSeconds"].as_f64().unwrap();
    assert!(waited > 0.5, "{summary}");
    let told = stderr
        .lines()
        .find(|l| l.contains("import: client in all"))
        .and_then(|l| l.split("limiter_wait_s=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|seconds| seconds.parse::<f64>().ok());
    assert_eq!(told, Some(waited), "{stderr}");
}

#[tokio::test]
async fn each_documents_base_time_is_told_at_v() {
    let sandbox = rate_limited(0.0).await;
    let scratch = Scratch::new("log-base-time");
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../import/tests/data/formats/twilio/resource-with-sentences-added.json");
    let checkpoint = scratch.0.join("checkpoint");
    let args = [
        "-v",
        "import",
        sample.to_str().unwrap(),
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];
    let (exit, stderr, _) = run(&sandbox, &args, &[]).await;
    assert_eq!(exit, Some(0), "{stderr}");
    let told = stderr
        .lines()
        .find(|l| l.contains("offsets added to the base time"))
        .unwrap_or_else(|| panic!("no base time told: {stderr}"));
    for part in [
        "conversation=GTaaaabbbbccccddddeeeeffff00001111",
        "base_time=2024-08-03T18:00:00Z",
        "from=\"media_start_time\"",
    ] {
        assert!(told.contains(part), "{part} not in {told}");
    }
}

#[tokio::test]
async fn a_contact_lens_files_base_time_from_its_name_and_a_copy_left_aside_are_told_at_v() {
    // A raw and a redacted copy of one contact, each turn holding the marker text: at -v, the
    // base time the file name gave and the copy left aside are told, and no text is.
    let sandbox = rate_limited(0.0).await;
    let scratch = Scratch::new("log-contact-lens");
    let contact = "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f";
    let document = |output: &str| {
        serde_json::json!({
            "Channel": "VOICE",
            "ContentMetadata": {"Output": output},
            "CustomerMetadata": {"ContactId": contact},
            "Participants": [{"ParticipantId": "c-1", "ParticipantRole": "CUSTOMER"}],
            "Transcript": [
                {"Id": "t-1", "ParticipantId": "c-1", "Content": format!("{TEXT} {output}"), "BeginOffsetMillis": 1_250},
            ],
        })
        .to_string()
    };
    let voice = scratch.0.join("Analysis/Voice");
    let raw = voice.join("2024/03/01");
    let redacted = voice.join("Redacted/2024/03/01");
    std::fs::create_dir_all(&raw).unwrap();
    std::fs::create_dir_all(&redacted).unwrap();
    std::fs::write(
        raw.join(format!("{contact}_analysis_2024-03-01T10:15:30Z.json")),
        document("Raw"),
    )
    .unwrap();
    std::fs::write(
        redacted.join(format!(
            "{contact}_analysis_redacted_2024-03-01T10:15:30Z.json"
        )),
        document("Redacted"),
    )
    .unwrap();
    let checkpoint = scratch.0.join("checkpoint");
    let args = [
        "-v",
        "import",
        voice.to_str().unwrap(),
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];
    let (exit, stderr, stdout) = run(&sandbox, &args, &[]).await;
    assert_eq!(exit, Some(0), "{stderr}");
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (&summary["messages"], &summary["copiesLeftAside"]),
        (&1.into(), &1.into()),
        "{summary}"
    );
    let told = stderr
        .lines()
        .find(|l| l.contains("offsets added to the base time"))
        .unwrap_or_else(|| panic!("no base time told: {stderr}"));
    for part in [
        &format!("conversation={contact}"),
        "base_time=2024-03-01T10:15:30Z",
        "from=\"file name\"",
        "_analysis_redacted_2024-03-01T10:15:30Z.json",
    ] {
        assert!(told.contains(part), "{part} not in {told}");
    }
    let aside = stderr
        .lines()
        .find(|l| l.contains("left aside"))
        .unwrap_or_else(|| panic!("no copy left aside told: {stderr}"));
    for part in [
        &format!("conversation={contact}"),
        "_analysis_2024-03-01T10:15:30Z.json",
        "the contact's redacted copy is among the inputs",
    ] {
        assert!(aside.contains(part), "{part} not in {aside}");
    }
    assert!(!stderr.contains(TEXT), "{stderr}");
}
