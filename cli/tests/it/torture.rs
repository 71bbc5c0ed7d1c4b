//! The torture run: an import of 20,480 messages in 320 conversations, interleaved, each with a
//! message said twice, against a sandbox that fails before storing, loses answers after storing
//! (a 503 or a dropped connection), rate-limits and jitters; the importing process is killed
//! with SIGKILL at seeded random moments and resumed, once its machine loses power (the
//! checkpoint cut back to its last sync), until an import ends. Then every conversation is read
//! back: nothing lost, nothing stored twice, in order.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asapp_conversations_cli::Exit;
use asapp_conversations_sandbox::{Faults, Sandbox, SandboxConfig};
use serde_json::{Value, json};

use super::durability::{Disk, import_with, recording};
use super::import::{Scratch, asapp_env, sandbox_env};

const CONVERSATIONS: usize = 320;
const MESSAGES: usize = 64;
const KILLS: usize = 24;
/// The whole run stops here, failed, rather than go on.
const BUDGET: Duration = Duration::from_secs(150);

/// A small seeded generator (xorshift64*), for the kill moments and the interleaving.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `seconds` after 08:00 on a day, in RFC 3339.
fn at(seconds: usize) -> String {
    format!(
        "2024-02-01T{:02}:{:02}:{:02}Z",
        8 + seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The input, in an interleaved order, and each conversation's texts as they list (by time).
/// Message 1 of each conversation repeats message 0, time and all: said twice.
fn transcript(seed: &mut Seeded) -> (String, Vec<Vec<String>>) {
    let text = |c: usize, m: usize| format!("call {c} says {}", if m == 1 { 0 } else { m });
    let second = |m: usize| if m == 1 { 0 } else { m };
    // Each conversation's lines keep their order, the conversations interleave at random: a dump
    // in time order of concurrent calls.
    let mut next = vec![0usize; CONVERSATIONS];
    let mut open: Vec<usize> = (0..CONVERSATIONS).collect();
    let mut input = String::new();
    while !open.is_empty() {
        let pick = usize::try_from(seed.below(open.len() as u64)).unwrap();
        let c = open[pick];
        let m = next[c];
        let line = json!({
            "externalId": format!("torture-{c}"),
            "customerId": format!("customer-{c}"),
            "agentId": format!("agent-{}", c % 9),
            "role": if m % 3 == 2 { "agent" } else { "customer" },
            "senderId": if m % 3 == 2 { format!("agent-{}", c % 9) } else { format!("customer-{c}") },
            "text": text(c, m),
            "timestamp": at(c * 100 + second(m)),
        });
        input.push_str(&line.to_string());
        input.push('\n');
        next[c] += 1;
        if next[c] == MESSAGES {
            open.swap_remove(pick);
        }
    }
    let expected = (0..CONVERSATIONS)
        .map(|c| (0..MESSAGES).map(|m| text(c, m)).collect())
        .collect();
    (input, expected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_resumed_and_powered_off_the_import_stores_every_message_once() {
    let started = Instant::now();
    let mut seed = Seeded(0x5eed_1234_abcd_0042);
    let sandbox = Sandbox::start_with(SandboxConfig {
        seed: false,
        faults: Some(Faults {
            unavailable_before_storing: 0.02,
            unavailable_after_storing: 0.02,
            drop_after_storing: 0.02,
            rate_limited: 0.02,
            jitter: Duration::from_millis(3),
            seed: 7,
            ..Faults::default()
        }),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let env = sandbox_env(&sandbox);
    let scratch = Scratch::new("torture");
    let (input, expected) = transcript(&mut seed);
    let file = scratch.0.join("dump.jsonl");
    std::fs::write(&file, input).unwrap();
    let checkpoint = scratch.0.join("checkpoint");
    let log = scratch.0.join("stderr.log");
    let base: Vec<String> = [
        "import",
        file.to_str().unwrap(),
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--rate-limit",
        "0",
    ]
    .map(str::to_owned)
    .to_vec();
    let args = |resume: bool| {
        let mut args = base.clone();
        if resume {
            args.extend(["--resume", "--settle", "0s"].map(str::to_owned));
        }
        args
    };

    let mut kills = 0;
    let mut powered_off = false;
    let mut runs = 0;
    loop {
        assert!(
            started.elapsed() < BUDGET,
            "not done after {BUDGET:?}: {kills} kills, {runs} runs; {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let resume = runs > 0;
        runs += 1;
        if kills == KILLS / 2 && !powered_off {
            // The machine loses power during a sync, some way into this run: what was written
            // after the last sync is gone.
            powered_off = true;
            let disk = Arc::new(Mutex::new(Disk {
                power_fails_after: Some(usize::try_from(seed.below(30)).unwrap() + 5),
                ..Disk::default()
            }));
            let args = args(resume);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let ran = import_with(&args, &env, recording(&disk)).await;
            assert_ne!(ran.exit, Exit::Usage, "{ran:?}");
            assert!(
                disk.lock().unwrap().down,
                "the run ended before its power failure: {ran:?}"
            );
            assert_eq!(ran.exit, Exit::Failed, "{ran:?}");
            let synced = disk.lock().unwrap().synced;
            // The file holds what this run found, then what it synced.
            let before = std::fs::metadata(&checkpoint).unwrap().len()
                - disk.lock().unwrap().appended.len() as u64;
            std::fs::OpenOptions::new()
                .write(true)
                .open(&checkpoint)
                .unwrap()
                .set_len(before + synced as u64)
                .unwrap();
            continue;
        }
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_asapp"))
            .args(args(resume))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env_remove("ASAPP_ENVIRONMENT")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let until = Duration::from_millis(40 + seed.below(360));
        let killed = kills < KILLS && tokio::time::timeout(until, child.wait()).await.is_err();
        if killed {
            child.kill().await.unwrap();
            kills += 1;
            continue;
        }
        let status = tokio::time::timeout(BUDGET, child.wait())
            .await
            .expect("the import did not end")
            .unwrap();
        let code = status.code();
        assert_ne!(code, Some(2), "{}", std::fs::read_to_string(&log).unwrap());
        if status.success() {
            break;
        }
        // A failure ASAPP answered (a fault past the retries): an operator would resume.
    }
    assert!(kills >= 20, "{kills} kills");
    assert!(powered_off);

    for (c, texts) in expected.iter().enumerate() {
        let external_id = format!("torture-{c}");
        let exported = asapp_env(&["export", "--external-id", &external_id], &env).await;
        assert_eq!(exported.exit, Exit::Success, "{exported:?}");
        let got: Vec<String> = exported
            .out
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["text"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(&got, texts, "{external_id}: every message once, in order");
    }
    let faults = sandbox.faults_injected();
    // Answers were lost after storing, and retries of them were answered 409: the paths that
    // a resume's read-back and the client's conflict handling exist for were taken.
    assert!(
        faults.dropped_after_storing > 0
            && faults.unavailable_after_storing > 0
            && faults.conflicts > 0,
        "{faults:?}"
    );
    eprintln!(
        "torture: {} messages, {kills} kills and a power failure in {runs} runs, faults {faults:?}, {:.1} s",
        CONVERSATIONS * MESSAGES,
        started.elapsed().as_secs_f64()
    );
}
