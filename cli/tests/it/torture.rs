//! The torture run: an import of 20,480 messages in 320 conversations, interleaved, each with a
//! message said twice, against a sandbox that fails before storing, loses answers after storing
//! (a 503 or a dropped connection), rate-limits and jitters; the importing process is killed
//! with SIGKILL at seeded random moments and resumed, once its machine loses power (the
//! checkpoint cut back to its last sync), until an import ends. Then every conversation is read
//! back: nothing lost, nothing stored twice, in order.
//!
//! It starts with a crash loop, as a machine that restarts (or an operator pressing Ctrl-C on
//! what looks like a hang) makes one: 150 imports with the default `--settle`, each killed 0.05
//! to 0.6 s after it starts. A resume waits only for the conversations in doubt, so by then at
//! least 90% of the messages are stored.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::durability::{Disk, import_with, recording};
use super::support::{
    Order, Scratch, Seeded, Transcript, assert_once_in_order, import_args, sandbox_env,
};
use asapp_conversations_cli::Exit;
use asapp_conversations_sandbox::{Faults, Sandbox, SandboxConfig};

const CONVERSATIONS: usize = 320;
const MESSAGES: usize = 64;
const KILLS: usize = 24;
/// Imports killed one after the other in the crash loop.
const CRASH_LOOP: usize = 150;
/// The whole run stops here, failed, rather than go on.
const BUDGET: Duration = Duration::from_secs(240);

/// One import of a transcript of its own into the torture's sandbox.
struct Import {
    transcript: Transcript,
    args: Vec<String>,
    log: std::path::PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Import {
    fn new(
        scratch: &Scratch,
        prefix: &'static str,
        seed: &mut Seeded,
        env: &[(&'static str, String)],
    ) -> Self {
        // Each conversation's message 1 repeats its message 0: said twice.
        let transcript = Transcript::new(prefix, CONVERSATIONS, MESSAGES).said_twice();
        let file = scratch.0.join(format!("{prefix}.jsonl"));
        transcript.write(&file, Order::Shuffled(seed));
        let checkpoint = scratch.0.join(format!("{prefix}.checkpoint"));
        let args = import_args(file.to_str().unwrap(), checkpoint.to_str().unwrap(), &[])
            .into_iter()
            .map(str::to_owned)
            .collect();
        Self {
            transcript,
            args,
            log: scratch.0.join(format!("{prefix}.stderr")),
            env: env.to_vec(),
        }
    }

    fn checkpoint(&self) -> &str {
        &self.args[3]
    }

    /// The arguments: a new import, or a resume with `extra` options.
    fn args(&self, resume: bool, extra: &[&str]) -> Vec<String> {
        let mut args = self.args.clone();
        if resume {
            args.push("--resume".to_owned());
            args.extend(extra.iter().map(|&a| a.to_owned()));
        }
        args
    }

    fn start(&self, args: &[String]) -> tokio::process::Child {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_asapp"))
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .env_remove("ASAPP_ENVIRONMENT")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&self.log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    }

    fn said(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Resumes, not killed, until an import ends well; a failure ASAPP answered (a fault past
    /// the retries) is resumed as an operator would.
    async fn complete(&self, started: Instant, extra: &[&str]) {
        loop {
            assert!(started.elapsed() < BUDGET, "not done after {BUDGET:?}");
            let mut child = self.start(&self.args(true, extra));
            let status = tokio::time::timeout(BUDGET, child.wait())
                .await
                .expect("the import did not end")
                .unwrap();
            assert_ne!(status.code(), Some(2), "{}", self.said());
            if status.success() {
                return;
            }
        }
    }

    /// The messages the sandbox holds of this import's conversations, each counted up to the
    /// number it should hold.
    async fn stored_messages(&self, sandbox: &Sandbox) -> usize {
        let client = sandbox.client_config().build().unwrap();
        let mut stored = 0;
        for c in 0..CONVERSATIONS {
            let listed = client
                .get_messages_by_external_id()
                .external_id(self.transcript.external_id(c))
                .await;
            stored += match listed {
                Ok(listed) => listed.into_inner().items.len().min(MESSAGES),
                Err(error) if error.is_not_found() => 0,
                Err(error) => panic!("{}: {error}", self.transcript.external_id(c)),
            };
        }
        stored
    }
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

    // The crash loop, with the default --settle, on an input of its own.
    let crash_loop = Import::new(&scratch, "crash-loop", &mut seed, &env);
    let mut ended_by_itself = false;
    for restart in 0..CRASH_LOOP {
        let mut child = crash_loop.start(&crash_loop.args(restart > 0, &[]));
        let until = Duration::from_millis(50 + seed.below(551));
        match tokio::time::timeout(until, child.wait()).await {
            Err(_) => child.kill().await.unwrap(),
            Ok(status) => {
                let status = status.unwrap();
                assert!(
                    status.success(),
                    "restart {restart}: {status}: {}",
                    crash_loop.said()
                );
                ended_by_itself = true;
                break;
            }
        }
    }
    let stored = crash_loop.stored_messages(&sandbox).await;
    let wanted = CONVERSATIONS * MESSAGES;
    eprintln!(
        "torture: {CRASH_LOOP} restarts stored {stored} of {wanted} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        ended_by_itself || stored * 10 >= wanted * 9,
        "{CRASH_LOOP} restarts stored {stored} of {wanted} messages, under 90%; the last said: {}",
        crash_loop.said()
    );
    // A resume says at once what it found, and what it waits for.
    let said = crash_loop.said();
    assert!(
        said.starts_with(&format!("resuming {}: ", crash_loop.checkpoint())),
        "{said}"
    );
    if !ended_by_itself {
        crash_loop.complete(started, &[]).await;
    }

    // Kills at random moments and a power failure, resumed with no --settle.
    let import = Import::new(&scratch, "torture", &mut seed, &env);
    let mut kills = 0;
    let mut powered_off = false;
    let mut runs = 0;
    loop {
        assert!(
            started.elapsed() < BUDGET,
            "not done after {BUDGET:?}: {kills} kills, {runs} runs; {}",
            import.said()
        );
        let args = import.args(runs > 0, &["--settle", "0s"]);
        runs += 1;
        if kills == KILLS / 2 && !powered_off {
            // The machine loses power during a sync, some way into this run: what was written
            // after the last sync is gone.
            powered_off = true;
            let disk = Arc::new(Mutex::new(Disk {
                power_fails_after: Some(usize::try_from(seed.below(30)).unwrap() + 5),
                ..Disk::default()
            }));
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
            let before = std::fs::metadata(import.checkpoint()).unwrap().len()
                - disk.lock().unwrap().appended.len() as u64;
            std::fs::OpenOptions::new()
                .write(true)
                .open(import.checkpoint())
                .unwrap()
                .set_len(before + synced as u64)
                .unwrap();
            continue;
        }
        if kills == KILLS {
            break;
        }
        let mut child = import.start(&args);
        let until = Duration::from_millis(40 + seed.below(360));
        if tokio::time::timeout(until, child.wait()).await.is_err() {
            child.kill().await.unwrap();
            kills += 1;
            continue;
        }
        let status = tokio::time::timeout(BUDGET, child.wait())
            .await
            .expect("the import did not end")
            .unwrap();
        assert_ne!(status.code(), Some(2), "{}", import.said());
        if status.success() {
            break;
        }
        // A failure ASAPP answered (a fault past the retries): an operator would resume.
    }
    if kills == KILLS {
        runs += 1;
        import.complete(started, &["--settle", "0s"]).await;
    }
    assert!(kills >= 20, "{kills} kills");
    assert!(powered_off);

    for import in [&crash_loop, &import] {
        assert_once_in_order(&import.transcript, &import.env).await;
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
