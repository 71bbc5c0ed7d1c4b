//! Vendor exports through `asapp import` into the sandbox and back out with `asapp export`: every
//! sample document under `import/tests/data/formats/` (written from the vendors' documented field
//! lists), each message once, in order, with the roles, senders, times and text the format's
//! rules give, and the entries no rule maps reported instead of guessed.

use std::path::{Path, PathBuf};

use asapp_conversations::chrono::{DateTime, Utc};
use asapp_conversations_cli::Exit;
use asapp_conversations_sandbox::Sandbox;
use serde_json::Value;

use super::support::{Scratch, asapp_env, empty, import_args, sandbox_env};

fn sample(format: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../import/tests/data/formats")
        .join(format)
        .join(name)
}

/// One sample imported on its own: the options it needs, and its conversation as exported.
struct Case {
    format: &'static str,
    sample: &'static str,
    args: &'static [&'static str],
    external_id: &'static str,
    /// `role senderId time text`, in the order the conversation lists.
    messages: &'static [&'static str],
    invalid: u64,
    skipped: u64,
    /// The summary's `baseTimes`, as JSON.
    base_times: &'static str,
}

const BASE: &str = "2024-03-01T10:00:00Z";

const CASES: &[Case] = &[
    Case {
        format: "contact-lens",
        sample: "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json",
        args: &["--base-time", BASE],
        external_id: "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f",
        messages: &[
            "agent a-52be07 2024-03-01T10:00:00.480Z Thank you for calling the Moonbase Llama Rental desk, how can I help?",
            "customer c-7f3a91 2024-03-01T10:00:04.250Z My rented llama refuses to leave the crater, it seems quite content there.",
            "system s-10d4ee 2024-03-01T10:00:09.001Z This call may be recorded for llama quality purposes.",
            "agent a-52be07 2024-03-01T10:00:12.999Z Llamas on the Moon do love craters; I will send a low-gravity wrangler!",
        ],
        invalid: 0,
        base_times: r#"[{"from":"--base-time","baseTime":"2024-03-01T10:00:00Z","conversations":1}]"#,
        skipped: 0,
    },
    Case {
        // Redacted output: the text as Contact Lens left it, [PII] and all.
        format: "contact-lens",
        sample: "7c1d2e3f-0000-4bbb-8ccc-aaaaaaaaaaaa_analysis_redacted_2024-03-02T08:00:00Z.json",
        args: &["--base-time", BASE],
        external_id: "7c1d2e3f-0000-4bbb-8ccc-aaaaaaaaaaaa",
        messages: &[
            "agent a-1e1e1e 2024-03-01T10:00:00.100Z Welcome to the Submarine Bakery hotline, may I take your order?",
            "customer c-0f0f0f 2024-03-01T10:00:03.300Z Yes, this is [PII] and I live at [PII], deliver the waterproof croissants please.",
            "customer c-0f0f0f 2024-03-01T10:00:07.070Z My card number is [PII], and the croissants must be extra soggy.",
        ],
        invalid: 0,
        base_times: r#"[{"from":"--base-time","baseTime":"2024-03-01T10:00:00Z","conversations":1}]"#,
        skipped: 0,
    },
    Case {
        // Old files name the parties AGENT and CUSTOMER; three entries are broken.
        format: "contact-lens",
        sample: "3e3e3e3e-1111-4222-8333-444444444444_analysis_2023-11-20T16:40:00Z.json",
        args: &["--base-time", BASE],
        external_id: "3e3e3e3e-1111-4222-8333-444444444444",
        messages: &[
            "customer 3e3e3e3e-1111-4222-8333-444444444444:CUSTOMER 2024-03-01T10:00:01Z Hello, my time machine keeps arriving last Tuesday instead of next Friday.",
            "agent 3e3e3e3e-1111-4222-8333-444444444444:AGENT 2024-03-01T10:00:02.500Z Have you tried turning the flux dial counter-clockwise, twice?",
            "customer 3e3e3e3e-1111-4222-8333-444444444444:CUSTOMER 2024-03-01T10:00:09Z Fine, I'll keep the dinosaur, thanks anyway.",
        ],
        invalid: 3,
        base_times: r#"[{"from":"--base-time","baseTime":"2024-03-01T10:00:00Z","conversations":1}]"#,
        skipped: 0,
    },
    Case {
        // A supervisor no rule maps, until the role map says.
        format: "contact-lens",
        sample: "9a9a9a9a-2222-4333-8444-555555555555_analysis_2024-04-04T12:00:00Z.json",
        args: &["--base-time", BASE, "--role-map", "supervisor=agent"],
        external_id: "contact-9a9a",
        messages: &[
            "agent a-30 2024-03-01T10:00:01Z Supervisor joining: we are reviewing the invisible-ink pen complaint.",
            "customer c-31 2024-03-01T10:00:02Z The pen works perfectly, I just cannot see anything I wrote!",
            "agent a-32 2024-03-01T10:00:03Z That is the intended feature, sadly; shall I send a decoder lamp?",
        ],
        invalid: 0,
        base_times: r#"[{"from":"--base-time","baseTime":"2024-03-01T10:00:00Z","conversations":1}]"#,
        skipped: 0,
    },
    Case {
        // Joins, typing, a read receipt, the end and an attachment are left out and counted.
        format: "connect-chat",
        sample: "saved-transcript.json",
        args: &[],
        external_id: "chat-5d1e7a02",
        messages: &[
            "system p-sys-00 2024-05-06T09:00:01.015Z Hello! Thanks for contacting the Cloud Umbrella Repair Shop.",
            "customer p-cust-01 2024-05-06T09:00:12.345Z My umbrella is raining upwards, is that covered by the warranty?",
            "agent p-agent-07 2024-05-06T09:01:02.003Z **Upward rain** is covered, luckily, under clause seven.",
            "customer p-cust-01 2024-05-06T09:01:30.900Z Wonderful, I'll bring it in before it floats away.",
            "agent p-agent-07 2024-05-06T09:02:00Z See you soon; tie it to something heavy!",
        ],
        invalid: 0,
        base_times: r#"[]"#,
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
            "system p-bot 2024-05-07T10:00:00Z Beep boop, I am the parcel-tracking robot; say a tracking number.",
            "customer p-c 2024-05-07T10:00:05Z I ordered a boomerang and it keeps coming back to the depot!",
            "agent p-s 2024-05-07T10:00:10Z Supervisor here, boomerangs returning is a known feature.",
            "agent p-a 2024-05-07T10:00:20Z I can send you a non-returning boomerang, free of charge.",
        ],
        invalid: 3,
        base_times: r#"[]"#,
        skipped: 0,
    },
    Case {
        // A GetTranscript answer: the conversation is InitialContactId; an empty message is invalid.
        format: "connect-chat",
        sample: "get-transcript-answer.json",
        args: &[],
        external_id: "chat-initial-77",
        messages: &[
            "customer p-c2 2024-06-01T12:00:00.500Z Can your shop knit a scarf long enough for a giraffe?",
            "agent p-a2 2024-06-01T12:00:09Z Certainly, we measure giraffes by the metre, madam.",
        ],
        invalid: 1,
        base_times: r#"[]"#,
        skipped: 1,
    },
    Case {
        // A bare array of items: the conversation is theirs; the system speaks without a participant id.
        format: "connect-chat",
        sample: "bare-items.json",
        args: &[],
        external_id: "chat-bare-42",
        messages: &[
            "customer p-c3 2024-06-02T08:30:00Z Is the invisible bicycle still in stock, or did someone just not see it?",
            "agent p-a3 2024-06-02T08:30:15.250Z We cannot be sure, which is rather the point.",
            "system chat-bare-42:SYSTEM 2024-06-02T08:31:00Z This chat will close soon, thanks for visiting the Invisible Goods Emporium.",
        ],
        invalid: 0,
        base_times: r#"[]"#,
        skipped: 1,
    },
    Case {
        // The IVR speaks as the system; one phrase is timed before the conversation began.
        format: "genesys",
        sample: "ivr-then-agent.json",
        args: &[],
        external_id: "6f1c2d3e-aaaa-4bbb-8ccc-000000000001",
        messages: &[
            "system 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:ivr 2024-07-08T14:00:01.250Z Welcome to the Haunted Castle Helpline, press one for ghosts.",
            "customer 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:external 2024-07-08T14:00:06Z I have one ghost, and it keeps rearranging my spoons.",
            "agent u-ag-0042 2024-07-08T14:00:30.007Z Spoon-rearranging ghosts are common; have you asked it politely?",
            "customer 6f1c2d3e-aaaa-4bbb-8ccc-000000000001:external 2024-07-08T14:00:45.500Z Okay, I'll try offering it a teaspoon of its own.",
            "agent u-ag-0042 2024-07-08T14:01:00Z Perfect, ghosts adore having their own cutlery.",
        ],
        invalid: 1,
        base_times: r#"[]"#,
        skipped: 0,
    },
    Case {
        // Two agents (so the agent's phrases take the derived id), an offset after
        // conversationStartTime, an unmapped voicemail, a bad offset, an empty and an unattributed phrase.
        format: "genesys",
        sample: "transfer-and-offsets.json",
        args: &[],
        external_id: "conv-transfer-9",
        messages: &[
            "customer conv-transfer-9:external 2024-07-09T09:00:02Z My pet rock ran away, can you help me find it?",
            "agent conv-transfer-9:internal 2024-07-09T09:00:04.500Z Rocks rarely run; let me transfer you to our geology desk.",
            "system conv-transfer-9:acd 2024-07-09T09:00:20Z Your call is important to us, like a very important boulder.",
        ],
        invalid: 4,
        base_times: r#"[{"from":"conversationStartTime","earliest":"2024-07-09T09:00:00Z","latest":"2024-07-09T09:00:00Z","conversations":1}]"#,
        skipped: 0,
    },
    Case {
        format: "twilio",
        sample: "transcript-and-sentences.json",
        args: &["--role-map", "quality coach=system"],
        external_id: "GT0123456789abcdef0123456789abcdef",
        messages: &[
            "agent u-agent-5 2024-08-01T15:30:00.480Z Good afternoon, Galactic Sock Exchange, how may I pair you?",
            "customer u-cust-881 2024-08-01T15:30:03.100Z I have seventeen left socks and not a single right one.",
            "agent u-agent-5 2024-08-01T15:30:07Z That is our most common problem; we keep a spare right-sock vault.",
            "customer u-cust-881 2024-08-01T15:30:12.345Z Stripy would be marvellous, thank you kindly.",
            "system GT0123456789abcdef0123456789abcdef:channel-3 2024-08-01T15:30:20Z Coach note: lovely sock empathy, well done.",
        ],
        invalid: 1,
        base_times: r#"[{"from":"transcript.media_start_time","earliest":"2024-08-01T15:30:00Z","latest":"2024-08-01T15:30:00Z","conversations":1}]"#,
        skipped: 0,
    },
    Case {
        // The resource with its sentences added: roles matched case-insensitively, decimal seconds.
        format: "twilio",
        sample: "resource-with-sentences-added.json",
        args: &[],
        external_id: "GTaaaabbbbccccddddeeeeffff00001111",
        messages: &[
            "customer u-c 2024-08-03T18:00:02Z The carrier pigeon delivered my parcel to the neighbour's cat.",
            "agent u-a 2024-08-03T18:00:05.750Z Our pigeons are trained for cats, sadly, not doors.",
        ],
        invalid: 0,
        base_times: r#"[{"from":"media_start_time","earliest":"2024-08-03T18:00:00Z","latest":"2024-08-03T18:00:00Z","conversations":1}]"#,
        skipped: 0,
    },
    Case {
        // The Sentences answer alone: its sid from meta.url, Twilio's default channels, --base-time;
        // a channel with no participant and a start time that is not a number are invalid.
        format: "twilio",
        sample: "sentences-answer-only.json",
        args: &["--base-time", BASE],
        external_id: "GTfedcba9876543210fedcba9876543210",
        messages: &[
            "agent GTfedcba9876543210fedcba9876543210:channel-1 2024-03-01T10:00:01.500Z Hello, you are through to the Dragon Egg Incubation line.",
            "customer GTfedcba9876543210fedcba9876543210:channel-2 2024-03-01T10:00:04.020Z My egg is warm and it hums show tunes, is that normal?",
            "customer GTfedcba9876543210fedcba9876543210:channel-2 2024-03-01T10:01:40Z Mostly musicals about knights, which seems rather rude.",
        ],
        invalid: 2,
        base_times: r#"[{"from":"--base-time","baseTime":"2024-03-01T10:00:00Z","conversations":1}]"#,
        skipped: 0,
    },
    Case {
        // The command line's own format, for comparison.
        format: "jsonl",
        sample: "call.jsonl",
        args: &[],
        external_id: "call-jsonl-1",
        messages: &[
            "customer c-1 2024-01-23T11:42:42Z Hello, my teapot is whistling in Morse code again.",
            "agent a-1 2024-01-23T11:42:51Z Please write down what it says, it may be urgent.",
        ],
        invalid: 0,
        base_times: r#"[]"#,
        skipped: 0,
    },
];

/// `role senderId time text` of each exported line, the time normalised.
fn exported(out: &str) -> Vec<String> {
    out.lines()
        .map(|line| {
            let line: Value = serde_json::from_str(line).unwrap();
            let at: DateTime<Utc> = line["timestamp"].as_str().unwrap().parse().unwrap();
            format!(
                "{} {} {} {}",
                line["role"].as_str().unwrap(),
                line["senderId"].as_str().unwrap(),
                at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                line["text"].as_str().unwrap()
            )
        })
        .collect()
}

fn normalised(message: &str) -> String {
    let mut parts = message.splitn(4, ' ');
    let (role, sender, time, text) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let at: DateTime<Utc> = time.parse().unwrap();
    format!(
        "{role} {sender} {} {text}",
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
    )
}

#[test]
fn every_sample_has_its_case() {
    let root = sample("", "");
    let mut samples = Vec::new();
    for format in std::fs::read_dir(&root).unwrap() {
        let format = format.unwrap();
        for file in std::fs::read_dir(format.path()).unwrap() {
            samples.push(format!(
                "{}/{}",
                format.file_name().to_str().unwrap(),
                file.unwrap().file_name().to_str().unwrap()
            ));
        }
    }
    samples.sort();
    let mut cased: Vec<String> = CASES
        .iter()
        .map(|case| format!("{}/{}", case.format, case.sample))
        .collect();
    cased.sort();
    assert_eq!(
        samples,
        cased,
        "each sample under {} is a case",
        root.display()
    );
}

#[tokio::test]
async fn each_sample_imports_and_exports_with_its_roles_and_times() {
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
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
        let base_times: Value = serde_json::from_str(case.base_times).unwrap();
        assert_eq!(summary["baseTimes"], base_times, "{}", case.sample);
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
    // The Contact Lens folder: offsets only, from each contact's start, which Amazon Connect puts
    // in each file's name; --base-time, one time for all, wins over the names. The summary says
    // where the base times came from.
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
    let scratch = Scratch::new("formats-folder");
    let folder = sample("contact-lens", "");
    let checkpoint = scratch.0.join("named");
    let args = import_args(
        folder.to_str().unwrap(),
        checkpoint.to_str().unwrap(),
        &["--role-map", "supervisor=agent"],
    );
    let named = asapp_env(&args, &env).await;
    // The old file's three broken entries.
    assert_eq!(named.exit, Exit::Usage, "{named:?}");
    let summary: Value = serde_json::from_str(&named.out).unwrap();
    assert_eq!(
        (
            &summary["messages"],
            &summary["invalidDocuments"],
            &summary["invalidLines"]
        ),
        (&13.into(), &0.into(), &3.into()),
        "{summary}"
    );
    assert_eq!(
        summary["baseTimes"],
        serde_json::json!([{
            "from": "file name",
            "earliest": "2023-11-20T16:40:00Z",
            "latest": "2024-04-04T12:00:00Z",
            "conversations": 4
        }]),
        "{summary}"
    );
    let export = asapp_env(
        &[
            "export",
            "--external-id",
            "7c1d2e3f-0000-4bbb-8ccc-aaaaaaaaaaaa",
        ],
        &env,
    )
    .await;
    let times: Vec<String> = exported(&export.out)
        .iter()
        .map(|m| m.split(' ').nth(2).unwrap().to_owned())
        .collect();
    assert_eq!(
        times,
        [
            "2024-03-02T08:00:00.100Z",
            "2024-03-02T08:00:03.300Z",
            "2024-03-02T08:00:07.070Z"
        ]
    );
    // Resumed, the same names give the same times: nothing more to send.
    let resumed = asapp_env(
        &[args.as_slice(), &["--resume", "--settle", "0s"]].concat(),
        &env,
    )
    .await;
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        (&summary["messages"], &summary["alreadyStored"]),
        (&0.into(), &13.into()),
        "{resumed:?}"
    );

    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
    let checkpoint = scratch.0.join("option");
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
async fn a_name_without_a_time_needs_base_time_and_base_time_wins_over_a_name() {
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
    let scratch = Scratch::new("formats-no-time");
    let name = "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json";
    let bytes = std::fs::read(sample("contact-lens", name)).unwrap();
    let timeless = scratch.0.join("contact-0d5e8f31.json");
    std::fs::write(&timeless, &bytes).unwrap();
    let checkpoint = scratch.0.join("refused");
    let refused = asapp_env(
        &import_args(
            timeless.to_str().unwrap(),
            checkpoint.to_str().unwrap(),
            &[],
        ),
        &env,
    )
    .await;
    assert_eq!(refused.exit, Exit::Usage, "{refused:?}");
    let summary: Value = serde_json::from_str(&refused.out).unwrap();
    assert_eq!(
        (&summary["messages"], &summary["invalidDocuments"]),
        (&0.into(), &1.into())
    );
    assert!(
        refused.err.contains(&format!(
            "{}: contact-lens times are offsets from the start of the contact \
             (BeginOffsetMillis), and the file name has no start time",
            timeless.display()
        )) && refused.err.contains("pass --base-time"),
        "{}",
        refused.err
    );

    // A name with a time, and --base-time: the option's time.
    let named = scratch.0.join(name);
    std::fs::write(&named, &bytes).unwrap();
    let checkpoint = scratch.0.join("overridden");
    let overridden = asapp_env(
        &import_args(
            named.to_str().unwrap(),
            checkpoint.to_str().unwrap(),
            &["--base-time", "2024-03-01T10:00:00Z"],
        ),
        &env,
    )
    .await;
    assert_eq!(overridden.exit, Exit::Success, "{overridden:?}");
    let summary: Value = serde_json::from_str(&overridden.out).unwrap();
    assert_eq!(
        summary["baseTimes"],
        serde_json::json!([{"from": "--base-time", "baseTime": "2024-03-01T10:00:00Z", "conversations": 1}])
    );
    let export = asapp_env(
        &[
            "export",
            "--external-id",
            "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f",
        ],
        &env,
    )
    .await;
    let first = exported(&export.out).into_iter().next().unwrap();
    assert!(
        first.starts_with("agent a-52be07 2024-03-01T10:00:00.480Z "),
        "{first}"
    );
}

#[tokio::test]
async fn a_forced_format_that_does_not_fit_names_the_format() {
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
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

/// A contact of the Contact Lens tree: its id, when the agent connected (the file names'
/// time), and which copies Amazon Connect wrote.
struct Contact {
    id: String,
    connected: &'static str,
    raw: bool,
    redacted: bool,
}

/// Offsets of each contact's turns, in milliseconds; the last contact of the 23rd crosses
/// midnight.
const OFFSETS: [u64; 4] = [350, 4_200, 9_875, 61_000];

fn contacts() -> Vec<Contact> {
    let contact = |n: u32, connected, raw, redacted| Contact {
        id: format!("{n:08x}-5c1e-4a2b-9d3f-{n:012x}"),
        connected,
        raw,
        redacted,
    };
    vec![
        contact(1, "2024-01-23T09:00:04Z", true, true),
        contact(2, "2024-01-23T11:42:17Z", true, true),
        contact(3, "2024-01-23T14:05:00Z", true, false),
        contact(4, "2024-01-23T23:59:30Z", true, true),
        contact(5, "2024-01-24T08:15:00Z", true, true),
        contact(6, "2024-01-24T10:30:45Z", true, true),
        contact(7, "2024-01-24T16:20:10Z", false, true),
    ]
}

/// What a turn says, in the raw copy or the redacted one.
fn said(contact: &Contact, turn: usize, redacted: bool) -> String {
    let who = if redacted { "[PII]" } else { "Ada Lovelace" };
    let card = if redacted {
        "[PII]"
    } else {
        "4111 1111 1111 1111"
    };
    match turn % 2 {
        0 => format!(
            "Turn {turn} of {}: thank you for calling the Orbital Kite Shop.",
            contact.id
        ),
        _ => format!(
            "Turn {turn} of {}: this is {who}, card {card}, my kite is in orbit.",
            contact.id
        ),
    }
}

/// A Contact Lens voice analysis file of `contact`, written from the documented field list.
fn analysis(contact: &Contact, redacted: bool) -> Value {
    let agent = format!("agent-{}", &contact.id[..8]);
    let customer = format!("customer-{}", &contact.id[..8]);
    let transcript: Vec<Value> = OFFSETS
        .iter()
        .enumerate()
        .map(|(turn, offset)| {
            let mut entry = serde_json::json!({
                "Id": format!("turn-{turn}"),
                "ParticipantId": if turn % 2 == 0 { &agent } else { &customer },
                "Content": said(contact, turn, redacted),
                "BeginOffsetMillis": offset,
                "EndOffsetMillis": offset + 3_000,
                "Sentiment": "NEUTRAL",
                "LoudnessScore": [72.5, 75.0],
            });
            if redacted && turn % 2 == 1 {
                entry["Redaction"] = serde_json::json!({
                    "RedactedTimestamps": [{"BeginOffsetMillis": offset + 900, "EndOffsetMillis": offset + 1_500}]
                });
            }
            entry
        })
        .collect();
    serde_json::json!({
        "Version": "VOICE-2022-11-30",
        "AccountId": "000000000000",
        "Channel": "VOICE",
        "ContentMetadata": if redacted {
            serde_json::json!({"Output": "Redacted", "RedactionTypes": ["PII"]})
        } else {
            serde_json::json!({"Output": "Raw"})
        },
        "JobStatus": "COMPLETED",
        "LanguageCode": "en-US",
        "CustomerMetadata": {
            "ContactId": contact.id,
            "InstanceId": "00000000-1111-4222-8333-444444444444",
        },
        "Participants": [
            {"ParticipantId": agent, "ParticipantRole": "AGENT"},
            {"ParticipantId": customer, "ParticipantRole": "CUSTOMER"},
        ],
        "Categories": {"MatchedCategories": [], "MatchedDetails": {}},
        "ConversationCharacteristics": {"TotalConversationDurationMillis": 64_000},
        "Transcript": transcript,
    })
}

/// The tree Amazon Connect writes: `Analysis/Voice/YYYY/MM/DD/<id>_analysis_<time>.json`, and
/// the redacted copies under `Analysis/Voice/Redacted/`.
fn contact_lens_tree(root: &Path, contacts: &[Contact]) -> PathBuf {
    let voice = root.join("Analysis/Voice");
    for contact in contacts {
        let day = contact.connected[..10].replace('-', "/");
        for (wanted, redacted) in [(contact.raw, false), (contact.redacted, true)] {
            if !wanted {
                continue;
            }
            let (folder, name) = if redacted {
                (
                    voice.join("Redacted").join(&day),
                    format!(
                        "{}_analysis_redacted_{}.json",
                        contact.id, contact.connected
                    ),
                )
            } else {
                (
                    voice.join(&day),
                    format!("{}_analysis_{}.json", contact.id, contact.connected),
                )
            };
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join(name), analysis(contact, redacted).to_string()).unwrap();
        }
    }
    voice
}

/// `contact` exported once, every turn at `base` plus its offset, the agent's turns from
/// `agent`, with the text of the copy `redacted` says.
async fn assert_turns(
    contact: &Contact,
    base: &str,
    agent: &str,
    redacted: bool,
    env: &[(&'static str, String)],
) {
    let export = asapp_env(&["export", "--external-id", &contact.id], env).await;
    assert_eq!(export.exit, Exit::Success, "{}: {export:?}", contact.id);
    let base: DateTime<Utc> = base.parse().unwrap();
    let wanted: Vec<String> = OFFSETS
        .iter()
        .enumerate()
        .map(|(turn, offset)| {
            let (role, sender) = if turn % 2 == 0 {
                ("agent", agent.to_owned())
            } else {
                ("customer", format!("customer-{}", &contact.id[..8]))
            };
            let at = base + asapp_conversations::chrono::TimeDelta::milliseconds(*offset as i64);
            format!(
                "{role} {sender} {} {}",
                at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                said(contact, turn, redacted)
            )
        })
        .collect();
    assert_eq!(exported(&export.out), wanted, "{}", contact.id);
}

/// Each contact exported: once, every turn at its file name's time plus its offset, with the
/// text of the copy `raw` says (where the contact has both).
async fn assert_contacts(contacts: &[Contact], raw: bool, env: &[(&'static str, String)]) {
    for contact in contacts {
        let agent = format!("agent-{}", &contact.id[..8]);
        let redacted = contact.redacted && !(raw && contact.raw);
        assert_turns(contact, contact.connected, &agent, redacted, env).await;
    }
}

#[tokio::test]
async fn a_contact_lens_tree_imports_each_contact_once_at_its_file_names_time() {
    // Two days of Amazon Connect's Analysis/Voice/ folder, raw copies and redacted copies, in one
    // command and no --base-time: every contact once (the redacted copy where it has both, which
    // in path order comes after the raw one), every turn at the file name's time plus its offset.
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
    let scratch = Scratch::new("formats-tree");
    let contacts = contacts();
    let voice = contact_lens_tree(&scratch.0, &contacts);
    let checkpoint = scratch.0.join("checkpoint");
    let args = import_args(voice.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]);
    let ran = asapp_env(&args, &env).await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    assert_eq!(ran.err, "", "nothing to report");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    let messages = contacts.len() * OFFSETS.len();
    assert_eq!(
        (
            &summary["messages"],
            &summary["conversations"],
            &summary["invalidDocuments"],
            &summary["invalidLines"],
            &summary["copiesLeftAside"],
        ),
        (&messages.into(), &7.into(), &0.into(), &0.into(), &5.into()),
        "{summary}"
    );
    assert_eq!(
        summary["baseTimes"],
        serde_json::json!([{
            "from": "file name",
            "earliest": "2024-01-23T09:00:04Z",
            "latest": "2024-01-24T16:20:10Z",
            "conversations": 7
        }]),
        "{summary}"
    );
    assert_contacts(&contacts, false, &env).await;

    // Resumed, the names give the same times, the same copies are left aside, and nothing is
    // sent again.
    let resume = [args.as_slice(), &["--resume", "--settle", "0s"]].concat();
    let resumed = asapp_env(&resume, &env).await;
    assert_eq!(resumed.exit, Exit::Success, "{resumed:?}");
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        (
            &summary["messages"],
            &summary["alreadyStored"],
            &summary["copiesLeftAside"]
        ),
        (&0.into(), &messages.into(), &5.into()),
        "{summary}"
    );
    assert_contacts(&contacts, false, &env).await;
    // Resumed with the other copy, it would send other messages: refused.
    let other = asapp_env(
        &[resume.as_slice(), &["--contact-lens-copy", "raw"]].concat(),
        &env,
    )
    .await;
    assert_eq!(other.exit, Exit::Usage, "{other:?}");
    assert!(
        other
            .err
            .contains("is read now as a Contact Lens copy, and was left aside then"),
        "{}",
        other.err
    );

    // The raw copies chosen instead: the raw texts are stored where a contact has both.
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
    let checkpoint = scratch.0.join("checkpoint-raw");
    let ran = asapp_env(
        &import_args(
            voice.to_str().unwrap(),
            checkpoint.to_str().unwrap(),
            &["--contact-lens-copy", "raw"],
        ),
        &env,
    )
    .await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(
        (&summary["messages"], &summary["copiesLeftAside"]),
        (&messages.into(), &5.into()),
        "{summary}"
    );
    assert_contacts(&contacts, true, &env).await;
}

#[tokio::test]
async fn a_second_document_of_a_contact_that_is_not_its_other_copy_is_refused() {
    // A contact analysed twice (two raw files), beside its redacted copy: the redacted one is
    // imported, both raw ones are left aside. Without the redacted copy, the second raw file is
    // refused and counted, naming the first, instead of storing every turn twice.
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
    let scratch = Scratch::new("formats-copies");
    let contact = Contact {
        id: "0000000a-5c1e-4a2b-9d3f-00000000000a".to_owned(),
        connected: "2024-03-01T10:15:30Z",
        raw: true,
        redacted: false,
    };
    let voice = contact_lens_tree(&scratch.0, std::slice::from_ref(&contact));
    let again = voice
        .join("2024/03/02")
        .join(format!("{}_analysis_2024-03-02T08:00:00Z.json", contact.id));
    std::fs::create_dir_all(again.parent().unwrap()).unwrap();
    std::fs::write(&again, analysis(&contact, false).to_string()).unwrap();

    let checkpoint = scratch.0.join("checkpoint");
    let args = import_args(voice.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]);
    let ran = asapp_env(&args, &env).await;
    assert_eq!(ran.exit, Exit::Usage, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(
        (
            &summary["messages"],
            &summary["invalidDocuments"],
            &summary["copiesLeftAside"]
        ),
        (&4.into(), &1.into(), &0.into()),
        "{summary}"
    );
    // The first is the first input.
    let refusal = format!(
        "{}: conversation {} was read from input 1 already",
        again.display(),
        contact.id,
    );
    assert!(ran.err.contains(&refusal), "{}", ran.err);
    // Resumed, the same document is refused again, and nothing is sent twice.
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

    // With its redacted copy among the inputs, the raw analysis beside it is left aside; the
    // second raw analysis, whose own redacted copy is not there, is read, and the redacted copy
    // of the first is then a second document of the conversation: refused, naming the input.
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
    let with_redacted = Contact {
        redacted: true,
        raw: false,
        ..contact
    };
    contact_lens_tree(&scratch.0, std::slice::from_ref(&with_redacted));
    let checkpoint = scratch.0.join("checkpoint-redacted");
    let ran = asapp_env(
        &import_args(voice.to_str().unwrap(), checkpoint.to_str().unwrap(), &[]),
        &env,
    )
    .await;
    assert_eq!(ran.exit, Exit::Usage, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(
        (
            &summary["messages"],
            &summary["copiesLeftAside"],
            &summary["invalidDocuments"]
        ),
        (&4.into(), &1.into(), &1.into()),
        "{summary}"
    );
    assert!(
        ran.err.contains(&format!(
            "conversation {} was read from input 2 already",
            with_redacted.id
        )),
        "{}",
        ran.err
    );
}

/// An Amazon Connect contact record, as Kinesis Data Firehose delivers it, written from the
/// documented field list ("Data model for Amazon Connect contact records"): `recording` is its
/// `Recordings[].StartTimestamp` (null where not set), `connected` its agent's
/// `ConnectedToAgentTimestamp`, `initial` the first segment of a transferred contact.
pub(super) fn contact_record(
    id: &str,
    updated: &str,
    recording: Option<&str>,
    connected: &str,
    agent: &str,
    queue: &str,
    initial: Option<&str>,
) -> Value {
    let instance =
        "arn:aws:connect:us-east-1:000000000000:instance/00000000-1111-4222-8333-444444444444";
    serde_json::json!({
        "AWSAccountId": "000000000000",
        "AWSContactTraceRecordFormatVersion": "2017-03-10",
        "Channel": "VOICE",
        "ContactId": id,
        "InitialContactId": initial,
        "PreviousContactId": initial,
        "InitiationMethod": if initial.is_some() { "TRANSFER" } else { "INBOUND" },
        "InitiationTimestamp": connected,
        "ConnectedToSystemTimestamp": connected,
        "DisconnectTimestamp": updated,
        "LastUpdateTimestamp": updated,
        "CustomerEndpoint": {"Address": "+15555550123", "Type": "TELEPHONE_NUMBER"},
        "SystemEndpoint": {"Address": "+15555550100", "Type": "TELEPHONE_NUMBER"},
        "Agent": {
            "ARN": format!("{instance}/agent/{agent}"),
            "Username": format!("user-{}", &agent[..8]),
            "ConnectedToAgentTimestamp": connected,
            "AgentInteractionDuration": 61,
            "RoutingProfile": {"ARN": format!("{instance}/routing-profile/rp"), "Name": "Basic"},
        },
        "Queue": {"ARN": format!("{instance}/queue/q"), "Name": queue, "EnqueueTimestamp": connected, "Duration": 0},
        "Recording": {"Location": "connect-bucket/connect/CallRecordings/x.wav", "Status": "AVAILABLE", "Type": "AUDIO"},
        "Recordings": [{
            "Location": "connect-bucket/connect/CallRecordings/x.wav",
            "MediaStreamType": "AUDIO",
            "ParticipantType": "ALL",
            "StartTimestamp": recording,
            "StopTimestamp": updated,
            "Status": "AVAILABLE",
            "StorageType": "S3",
        }],
        "Attributes": {"accountNumber": "4111 1111 1111 1111"},
    })
}

/// A contact of the records test: its analysis, the base time its messages must have, and the
/// sender id of its agent's messages.
struct Timed {
    contact: Contact,
    base: &'static str,
    agent: String,
}

/// Each contact exported once, every turn at `base` plus its offset, the agent's turns from
/// `agent`.
async fn assert_timed(timed: &[Timed], env: &[(&'static str, String)]) {
    for Timed {
        contact,
        base,
        agent,
    } in timed
    {
        assert_turns(contact, base, agent, contact.redacted, env).await;
    }
}

/// The conversation of `external_id` as ASAPP holds it.
async fn conversation_of(external_id: &str, env: &[(&'static str, String)]) -> Value {
    let listed = asapp_env(
        &["conversations", "list", "--external-id", external_id],
        env,
    )
    .await;
    assert_eq!(listed.exit, Exit::Success, "{listed:?}");
    let listed: Value = serde_json::from_str(&listed.out).unwrap();
    listed["items"][0].clone()
}

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(text.as_bytes()).unwrap();
    gzip.finish().unwrap()
}

#[tokio::test]
async fn a_contact_lens_tree_with_contact_records_takes_each_start_agent_and_queue_from_them() {
    // The Contact Lens tree and the contact records Kinesis Data Firehose delivered beside it,
    // in one command: a plain file of records back to back, and a gzip-compressed one with
    // newlines that delivers a contact's record again, older (it loses, though read last). A
    // contact starts at its recording's start, else at its agent's connection; a transferred
    // contact is two segments, two records and two analysis files, each its own conversation,
    // the second linked to the first by its metadata; a contact without a record takes its file
    // name's time, and is counted.
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
    let scratch = Scratch::new("formats-records");
    let contact = |n: u32, connected, raw, redacted| Contact {
        id: format!("{n:08x}-7a1e-4b2c-8d3e-{n:012x}"),
        connected,
        raw,
        redacted,
    };
    let agent = |n: u32| format!("a{n:07x}-0000-4000-8000-00000000000{n}");
    let contacts = [
        // Its recording started a second after the agent connected (the name's time).
        contact(0xa1, "2024-02-01T09:00:04Z", true, true),
        // No recording start: the agent's connection, to the millisecond.
        contact(0xb2, "2024-02-01T10:30:00Z", true, false),
        // Transferred: the first segment, then the second.
        contact(0xc3, "2024-02-01T12:00:10Z", false, true),
        contact(0xd4, "2024-02-01T12:07:45Z", true, true),
        // No record.
        contact(0xe5, "2024-02-02T08:15:00Z", true, true),
    ];
    let voice = contact_lens_tree(&scratch.0, &contacts);
    let [a, b, t1, t2, _] = &contacts;
    let plain = [
        contact_record(
            &a.id,
            "2024-02-01T09:20:00Z",
            Some("2024-02-01T09:00:05Z"),
            "2024-02-01T09:00:04Z",
            &agent(1),
            "Kite sales",
            None,
        ),
        contact_record(
            &b.id,
            "2024-02-01T10:45:00Z",
            None,
            "2024-02-01T10:30:01.500Z",
            &agent(2),
            "Kite sales",
            None,
        ),
        contact_record(
            &t1.id,
            "2024-02-01T12:07:45Z",
            Some("2024-02-01T12:00:11Z"),
            "2024-02-01T12:00:10Z",
            &agent(3),
            "Kite sales",
            None,
        ),
    ]
    .map(|record| record.to_string())
    .concat();
    let lines = [
        // Delivered again: an earlier version of the first contact's record.
        contact_record(
            &a.id,
            "2024-02-01T09:10:00Z",
            Some("2024-02-01T09:00:30Z"),
            "2024-02-01T09:00:29Z",
            &agent(9),
            "Kite returns",
            None,
        ),
        contact_record(
            &t2.id,
            "2024-02-01T12:20:00Z",
            Some("2024-02-01T12:07:46.250Z"),
            "2024-02-01T12:07:45Z",
            &agent(4),
            "Kite repairs",
            Some(&t1.id),
        ),
        // A contact with no analysis file.
        contact_record(
            "ffffffff-7a1e-4b2c-8d3e-ffffffffffff",
            "2024-02-01T13:00:00Z",
            None,
            "2024-02-01T12:59:00Z",
            &agent(5),
            "Kite sales",
            None,
        ),
    ]
    .map(|record| format!("{record}\n"))
    .concat();
    let records = scratch.0.join("ctr");
    let hour = |h: &str| records.join("2024/02/01").join(h);
    std::fs::create_dir_all(hour("10")).unwrap();
    std::fs::create_dir_all(hour("13")).unwrap();
    let plain_file = hour("10").join("connect-ctr-1-2024-02-01-10-00-00-0a0a0a0a");
    let gzip_file = hour("13").join("connect-ctr-1-2024-02-01-13-00-00-0b0b0b0b");
    std::fs::write(&plain_file, &plain).unwrap();
    std::fs::write(&gzip_file, gzip(&lines)).unwrap();

    let checkpoint = scratch.0.join("checkpoint");
    let args = import_args(
        voice.to_str().unwrap(),
        checkpoint.to_str().unwrap(),
        &["--contact-records", records.to_str().unwrap()],
    );
    let ran = asapp_env(&args, &env).await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    assert_eq!(ran.err, "", "nothing to report");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    let messages = contacts.len() * OFFSETS.len();
    assert_eq!(
        (
            &summary["messages"],
            &summary["conversations"],
            &summary["copiesLeftAside"]
        ),
        (&messages.into(), &5.into(), &3.into()),
        "{summary}"
    );
    assert_eq!(
        summary["baseTimes"],
        serde_json::json!([
            {"from": "contact record", "earliest": "2024-02-01T09:00:05Z", "latest": "2024-02-01T12:07:46.250Z", "conversations": 4},
            {"from": "file name", "earliest": "2024-02-02T08:15:00Z", "latest": "2024-02-02T08:15:00Z", "conversations": 1},
        ]),
        "{summary}"
    );
    assert_eq!(
        summary["contactRecords"],
        serde_json::json!({
            "files": 2,
            "records": 6,
            "contacts": 5,
            "conversationsWithRecord": 4,
            "conversationsWithoutRecord": 1,
        }),
        "{summary}"
    );
    let [a, b, t1, t2, none] = contacts;
    let timed = [
        Timed {
            contact: a,
            base: "2024-02-01T09:00:05Z",
            agent: agent(1),
        },
        Timed {
            contact: b,
            base: "2024-02-01T10:30:01.500Z",
            agent: agent(2),
        },
        Timed {
            contact: t1,
            base: "2024-02-01T12:00:11Z",
            agent: agent(3),
        },
        Timed {
            contact: t2,
            base: "2024-02-01T12:07:46.250Z",
            agent: agent(4),
        },
        Timed {
            agent: format!("agent-{}", &none.id[..8]),
            contact: none,
            base: "2024-02-02T08:15:00Z",
        },
    ];
    assert_timed(&timed, &env).await;
    // The agent and the queue from the record; the second segment names the first.
    let expected = [
        (agent(1), serde_json::json!({"queue": "Kite sales"})),
        (agent(2), serde_json::json!({"queue": "Kite sales"})),
        (agent(3), serde_json::json!({"queue": "Kite sales"})),
        (
            agent(4),
            serde_json::json!({"queue": "Kite repairs", "initialContactId": timed[2].contact.id}),
        ),
    ];
    for (Timed { contact, .. }, (agent, metadata)) in timed.iter().zip(expected) {
        let conversation = conversation_of(&contact.id, &env).await;
        assert_eq!(
            conversation["agent"]["externalId"],
            agent.as_str(),
            "{conversation}"
        );
        assert_eq!(conversation["metadata"], metadata, "{conversation}");
    }
    let without = conversation_of(&timed[4].contact.id, &env).await;
    assert_eq!(
        without["agent"]["externalId"],
        timed[4].agent.as_str(),
        "{without}"
    );
    assert!(
        without["metadata"].as_object().is_none_or(|m| m.is_empty()),
        "{without}"
    );

    // Resumed with the same records: the same times, nothing sent again.
    let resume = [args.as_slice(), &["--resume", "--settle", "0s"]].concat();
    let resumed = asapp_env(&resume, &env).await;
    assert_eq!(resumed.exit, Exit::Success, "{resumed:?}");
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        (&summary["messages"], &summary["alreadyStored"]),
        (&0.into(), &messages.into()),
        "{summary}"
    );
    // Resumed with other records (the compressed file left out, so the first contact's stale
    // record is gone but so is the second segment's): refused, before anything is sent.
    let other = [
        &args[..args.len() - 1],
        &[plain_file.to_str().unwrap(), "--resume", "--settle", "0s"],
    ]
    .concat();
    let refused = asapp_env(&other, &env).await;
    assert_eq!(refused.exit, Exit::Usage, "{refused:?}");
    assert!(refused.err.contains("contact-records="), "{}", refused.err);
    assert_timed(&timed, &env).await;

    // A malformed file of records stops the import before anything is read, naming the file and
    // the byte, never a value.
    let broken = scratch.0.join("broken-ctr");
    std::fs::write(
        &broken,
        format!("{plain}\n{{\"ContactId\": \"x\", \"CustomerEndpoint\": +15555550123}}"),
    )
    .unwrap();
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = sandbox_env(&sandbox);
    let checkpoint = scratch.0.join("checkpoint-broken");
    let ran = asapp_env(
        &import_args(
            voice.to_str().unwrap(),
            checkpoint.to_str().unwrap(),
            &["--contact-records", broken.to_str().unwrap()],
        ),
        &env,
    )
    .await;
    assert_eq!(ran.exit, Exit::Usage, "{ran:?}");
    let expected = format!(
        "{}: not contact records as Kinesis Data Firehose writes them: at byte {}: not JSON (--contact-records)",
        broken.display(),
        plain.len() + 1
    );
    assert!(ran.err.contains(&expected), "{}", ran.err);
    assert!(!ran.err.contains("5555550123"), "{}", ran.err);
    assert_eq!(ran.out, "", "nothing imported");
}
