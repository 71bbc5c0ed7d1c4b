//! Vendor exports through `asapp import` into the sandbox and back out with `asapp export`: the
//! sample documents under `cli/tests/data/formats/` (written from the vendors' documented field
//! lists), each message once, in order, with the roles and times the format's rules give, and the
//! entries no rule maps reported instead of guessed.

use std::path::{Path, PathBuf};

use asapp_conversations::chrono::{DateTime, Utc};
use asapp_conversations_cli::Exit;
use asapp_conversations_sandbox::Sandbox;
use serde_json::Value;

use super::import::{Scratch, asapp_env, empty, import_args};

fn sample(format: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/formats")
        .join(format)
        .join(name)
}

/// One sample imported on its own: the options it needs, and its conversation as exported.
struct Case {
    format: &'static str,
    sample: &'static str,
    args: &'static [&'static str],
    external_id: &'static str,
    /// `role senderId time`, in the order the conversation lists.
    messages: &'static [&'static str],
    invalid: u64,
    skipped: u64,
}

const BASE: &str = "2024-03-01T10:00:00Z";

const CASES: &[Case] = &[
    Case {
        format: "contact-lens",
        sample: "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json",
        args: &["--base-time", BASE],
        external_id: "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f",
        messages: &[
            "agent a-52be07 2024-03-01T10:00:00.480Z",
            "customer c-7f3a91 2024-03-01T10:00:04.250Z",
            "system s-10d4ee 2024-03-01T10:00:09.001Z",
            "agent a-52be07 2024-03-01T10:00:12.999Z",
        ],
        invalid: 0,
        skipped: 0,
    },
    Case {
        format: "contact-lens",
        sample: "7c1d2e3f-0000-4bbb-8ccc-aaaaaaaaaaaa_analysis_redacted_2024-03-02T08:00:00Z.json",
        args: &["--base-time", BASE],
        external_id: "7c1d2e3f-0000-4bbb-8ccc-aaaaaaaaaaaa",
        messages: &[
            "agent a-1e1e1e 2024-03-01T10:00:00.100Z",
            "customer c-0f0f0f 2024-03-01T10:00:03.300Z",
            "customer c-0f0f0f 2024-03-01T10:00:07.070Z",
        ],
        invalid: 0,
        skipped: 0,
    },
    Case {
        // Old files name the parties AGENT and CUSTOMER; three entries are broken.
        format: "contact-lens",
        sample: "3e3e3e3e-1111-4222-8333-444444444444_analysis_2023-11-20T16:40:00Z.json",
        args: &["--base-time", BASE],
        external_id: "3e3e3e3e-1111-4222-8333-444444444444",
        messages: &[
            "customer 3e3e3e3e-1111-4222-8333-444444444444:CUSTOMER 2024-03-01T10:00:01Z",
            "agent 3e3e3e3e-1111-4222-8333-444444444444:AGENT 2024-03-01T10:00:02.500Z",
            "customer 3e3e3e3e-1111-4222-8333-444444444444:CUSTOMER 2024-03-01T10:00:09Z",
        ],
        invalid: 3,
        skipped: 0,
    },
    Case {
        // A supervisor no rule maps, until the role map says.
        format: "contact-lens",
        sample: "9a9a9a9a-2222-4333-8444-555555555555_analysis_2024-04-04T12:00:00Z.json",
        args: &["--base-time", BASE, "--role-map", "supervisor=agent"],
        external_id: "contact-9a9a",
        messages: &[
            "agent a-30 2024-03-01T10:00:01Z",
            "customer c-31 2024-03-01T10:00:02Z",
            "agent a-32 2024-03-01T10:00:03Z",
        ],
        invalid: 0,
        skipped: 0,
    },
    Case {
        // Joins, typing, a read receipt, the end and an attachment are left out and counted.
        format: "connect-chat",
        sample: "saved-transcript.json",
        args: &[],
        external_id: "chat-5d1e7a02",
        messages: &[
            "system p-sys-00 2024-05-06T09:00:01.015Z",
            "customer p-cust-01 2024-05-06T09:00:12.345Z",
            "agent p-agent-07 2024-05-06T09:01:02.003Z",
            "customer p-cust-01 2024-05-06T09:01:30.900Z",
            "agent p-agent-07 2024-05-06T09:02:00Z",
        ],
        invalid: 0,
        skipped: 6,
    },
    Case {
        format: "connect-chat",
        sample: "bot-and-supervisor.json",
        args: &[
            "--role-map",
            "custom_bot=system",
            "--role-map",
            "SUPERVISOR=agent",
        ],
        external_id: "chat-b07b07",
        messages: &[
            "system p-bot 2024-05-07T10:00:00Z",
            "customer p-c 2024-05-07T10:00:05Z",
            "agent p-s 2024-05-07T10:00:10Z",
            "agent p-a 2024-05-07T10:00:20Z",
        ],
        invalid: 3,
        skipped: 0,
    },
    Case {
        // The IVR speaks as the system; one phrase is timed before the conversation began.
        format: "genesys",
        sample: "ivr-then-agent.json",
        args: &[],
        external_id: "6f1c2d3e-aaaa-4bbb-8ccc-000000000001",
        messages: &[
            "system 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:ivr 2024-07-08T14:00:01.250Z",
            "customer 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:external 2024-07-08T14:00:06Z",
            "agent u-ag-0042 2024-07-08T14:00:30.007Z",
            "customer 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:external 2024-07-08T14:00:45.500Z",
            "agent u-ag-0042 2024-07-08T14:01:00Z",
        ],
        invalid: 1,
        skipped: 0,
    },
    Case {
        format: "twilio",
        sample: "transcript-and-sentences.json",
        args: &["--role-map", "quality coach=system"],
        external_id: "GT0123456789abcdef0123456789abcdef",
        messages: &[
            "agent u-agent-5 2024-08-01T15:30:00.480Z",
            "customer u-cust-881 2024-08-01T15:30:03.100Z",
            "agent u-agent-5 2024-08-01T15:30:07Z",
            "customer u-cust-881 2024-08-01T15:30:12.345Z",
            "system GT0123456789abcdef0123456789abcdef:channel-3 2024-08-01T15:30:20Z",
        ],
        invalid: 1,
        skipped: 0,
    },
];

/// `role senderId time` of each exported line, the time normalised.
fn exported(out: &str) -> Vec<String> {
    out.lines()
        .map(|line| {
            let line: Value = serde_json::from_str(line).unwrap();
            let at: DateTime<Utc> = line["timestamp"].as_str().unwrap().parse().unwrap();
            format!(
                "{} {} {}",
                line["role"].as_str().unwrap(),
                line["senderId"].as_str().unwrap(),
                at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
            )
        })
        .collect()
}

fn normalised(message: &str) -> String {
    let (rest, time) = message.rsplit_once(' ').unwrap();
    let at: DateTime<Utc> = time.parse().unwrap();
    format!("{rest} {}", at.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
}

#[tokio::test]
async fn each_sample_imports_and_exports_with_its_roles_and_times() {
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = vec![
        ("ASAPP_BASE_URL", sandbox.base_url().to_owned()),
        ("ASAPP_API_ID", sandbox.api_id().to_owned()),
        ("ASAPP_API_SECRET", sandbox.api_secret().to_owned()),
    ];
    let scratch = Scratch::new("formats");
    for (n, case) in CASES.iter().enumerate() {
        let path = sample(case.format, case.sample);
        let checkpoint = scratch.0.join(format!("checkpoint-{n}"));
        let args = import_args(
            path.to_str().unwrap(),
            checkpoint.to_str().unwrap(),
            case.args,
        );
        let ran = asapp_env(&args, &env).await;
        let expected_exit = if case.invalid > 0 {
            Exit::Usage
        } else {
            Exit::Success
        };
        assert_eq!(ran.exit, expected_exit, "{}: {ran:?}", case.sample);
        let summary: Value = serde_json::from_str(&ran.out).unwrap();
        assert_eq!(
            (
                &summary["messages"],
                &summary["invalidLines"],
                &summary["skippedEvents"]
            ),
            (
                &case.messages.len().into(),
                &case.invalid.into(),
                &case.skipped.into()
            ),
            "{}: {summary}",
            case.sample
        );
        // Every invalid entry is named by the file and its JSON pointer.
        assert_eq!(
            ran.err.matches(": invalid entry: ").count() as u64,
            case.invalid,
            "{}: {}",
            case.sample,
            ran.err
        );
        let export = asapp_env(&["export", "--external-id", case.external_id], &env).await;
        assert_eq!(export.exit, Exit::Success, "{}: {export:?}", case.sample);
        let wanted: Vec<String> = case.messages.iter().map(|m| normalised(m)).collect();
        assert_eq!(exported(&export.out), wanted, "{}", case.sample);
    }
}

#[tokio::test]
async fn a_directory_of_exports_imports_in_one_go_and_names_each_base_time() {
    // The Contact Lens folder: offsets only, so every document takes --base-time, which the
    // summary names per conversation. Without it, each document is refused, saying so.
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = vec![
        ("ASAPP_BASE_URL", sandbox.base_url().to_owned()),
        ("ASAPP_API_ID", sandbox.api_id().to_owned()),
        ("ASAPP_API_SECRET", sandbox.api_secret().to_owned()),
    ];
    let scratch = Scratch::new("formats-folder");
    let folder = sample("contact-lens", "");
    let checkpoint = scratch.0.join("refused");
    let refused = asapp_env(
        &import_args(folder.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]),
        &env,
    )
    .await;
    assert_eq!(refused.exit, Exit::Usage, "{refused:?}");
    let summary: Value = serde_json::from_str(&refused.out).unwrap();
    assert_eq!(
        (&summary["messages"], &summary["invalidDocuments"]),
        (&0.into(), &4.into())
    );
    assert_eq!(
        refused.err.matches("pass --base-time").count(),
        4,
        "{}",
        refused.err
    );

    let checkpoint = scratch.0.join("imported");
    let args = import_args(
        folder.to_str().unwrap(),
        checkpoint.to_str().unwrap(),
        &["--base-time", BASE, "--role-map", "supervisor=agent"],
    );
    let imported = asapp_env(&args, &env).await;
    let summary: Value = serde_json::from_str(&imported.out).unwrap();
    assert_eq!(summary["messages"], 13, "{summary}");
    assert_eq!(
        summary["baseTimes"],
        serde_json::json!([{"from": "--base-time", "baseTime": BASE, "conversations": 4}]),
        "{summary}"
    );
    // Resumed, it has nothing more to send.
    let resumed = asapp_env(
        &[args.as_slice(), &["--resume", "--settle", "0s"]].concat(),
        &env,
    )
    .await;
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        (&summary["messages"], &summary["alreadyStored"]),
        (&0.into(), &13.into())
    );
}

#[tokio::test]
async fn a_forced_format_that_does_not_fit_names_the_format() {
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = vec![
        ("ASAPP_BASE_URL", sandbox.base_url().to_owned()),
        ("ASAPP_API_ID", sandbox.api_id().to_owned()),
        ("ASAPP_API_SECRET", sandbox.api_secret().to_owned()),
    ];
    let scratch = Scratch::new("formats-forced");
    let path = sample("genesys", "ivr-then-agent.json");
    let checkpoint = scratch.0.join("cp");
    let ran = asapp_env(
        &import_args(
            path.to_str().unwrap(),
            checkpoint.to_str().unwrap(),
            &["--format", "twilio"],
        ),
        &env,
    )
    .await;
    assert_eq!(ran.exit, Exit::Usage, "{ran:?}");
    assert!(ran.err.contains("not a twilio document"), "{}", ran.err);
    let unknown = asapp_env(
        &import_args(
            path.to_str().unwrap(),
            checkpoint.to_str().unwrap(),
            &["--format", "csv"],
        ),
        &env,
    )
    .await;
    assert_eq!(unknown.exit, Exit::Usage);
    assert!(
        unknown
            .err
            .contains("unknown format `csv`: expected one of jsonl, contact-lens"),
        "{}",
        unknown.err
    );
}

#[tokio::test]
async fn a_raw_and_a_redacted_copy_of_one_contact_import_it_once() {
    // Contact Lens writes the redacted copy of a contact's analysis under `Redacted/`, beside the
    // raw one: a prefix above both lists both. The first read is imported; the second is refused
    // and counted, naming the first, instead of storing every turn twice.
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = vec![
        ("ASAPP_BASE_URL", sandbox.base_url().to_owned()),
        ("ASAPP_API_ID", sandbox.api_id().to_owned()),
        ("ASAPP_API_SECRET", sandbox.api_secret().to_owned()),
    ];
    let scratch = Scratch::new("formats-copies");
    let contact = "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f";
    let raw_name = format!("{contact}_analysis_2024-03-01T10:15:30Z.json");
    let raw = std::fs::read_to_string(sample("contact-lens", &raw_name)).unwrap();
    let mut redacted: Value = serde_json::from_str(&raw).unwrap();
    redacted["ContentMetadata"]["Output"] = "Redacted".into();
    let voice = scratch.0.join("Analysis/Voice");
    std::fs::create_dir_all(voice.join("2024/03/01")).unwrap();
    std::fs::create_dir_all(voice.join("Redacted/2024/03/01")).unwrap();
    std::fs::write(voice.join("2024/03/01").join(&raw_name), &raw).unwrap();
    let redacted_path = voice.join("Redacted/2024/03/01").join(format!(
        "{contact}_analysis_redacted_2024-03-01T10:15:30Z.json"
    ));
    std::fs::write(&redacted_path, redacted.to_string()).unwrap();

    let checkpoint = scratch.0.join("checkpoint");
    let args = import_args(
        voice.to_str().unwrap(),
        checkpoint.to_str().unwrap(),
        &["--base-time", BASE],
    );
    let ran = asapp_env(&args, &env).await;
    assert_eq!(ran.exit, Exit::Usage, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(
        (&summary["messages"], &summary["invalidDocuments"]),
        (&4.into(), &1.into()),
        "{summary}"
    );
    let refusal = format!(
        "{}: conversation {contact} was read from {} already",
        redacted_path.display(),
        voice.join("2024/03/01").join(&raw_name).display()
    );
    assert!(ran.err.contains(&refusal), "{}", ran.err);
    let export = asapp_env(&["export", "--external-id", contact], &env).await;
    assert_eq!(export.exit, Exit::Success, "{export:?}");
    assert_eq!(exported(&export.out).len(), 4, "{}", export.out);

    // Resumed, the same copy is refused again, and nothing is sent twice.
    let resumed = asapp_env(
        &[args.as_slice(), &["--resume", "--settle", "0s"]].concat(),
        &env,
    )
    .await;
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        (
            &summary["messages"],
            &summary["alreadyStored"],
            &summary["invalidDocuments"]
        ),
        (&0.into(), &4.into(), &1.into()),
        "{summary}"
    );
}
