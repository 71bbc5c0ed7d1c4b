//! What an import that cannot go on says, and whose fault it is: an input that is not there, a
//! checkpoint of another import, an invalid line with `strict`; and an invalid line without it,
//! told to the observer and counted. No error and no report holds a message's text.

use asapp_conversations_import::{CheckpointProblem, Error, Fault, Import, Input, InvalidKind};

use super::support::{LIMIT, Recorder, Scratch, Transcript, genesys, sandbox};

/// A message's text that must never be shown: in an invalid line, and in a valid one beside it.
const SECRET: &str = "my card number is 4111-PLUM-SECRET";

/// Three lines: a valid one, one whose role is not a role (and whose text is the secret), and a
/// valid one that says the secret.
fn with_invalid_line() -> String {
    let valid = Transcript::new("errors", 1, 2);
    let invalid = valid
        .line(0, 1)
        .to_string()
        .replace("\"agent\"", "\"ghost\"")
        .replace("message 1 of errors-000", SECRET);
    let said = valid
        .line(0, 0)
        .to_string()
        .replace("message 0 of errors-000", SECRET);
    assert!(
        invalid.contains(SECRET) && invalid.contains("ghost"),
        "{invalid}"
    );
    format!(
        "{}\n{invalid}\n{said}\n",
        valid.line(0, 0).to_string().replace("10:00:00", "09:00:00")
    )
}

/// `error`, as shown and as debugged, does not hold the secret.
fn assert_no_text(error: &Error) {
    for shown in [error.to_string(), format!("{error:?}"), error.place()] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
}

#[tokio::test]
async fn a_missing_path_is_the_inputs_fault_and_names_it() {
    let scratch = Scratch::new("missing");
    let (_sandbox, client) = sandbox().await;
    let missing = scratch.path("not-there.jsonl");
    let error = tokio::time::timeout(
        LIMIT,
        Import::new(client, scratch.path("checkpoint"))
            .input(Input::bytes("first.jsonl", with_invalid_line()))
            .input(Input::path(&missing))
            .execute(),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(error.fault(), Fault::Input);
    assert_eq!(error.place(), missing.display().to_string());
    assert!(matches!(&error, Error::Input { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&missing.display().to_string()),
        "{error}"
    );
    assert_no_text(&error);
    // Checked before anything was sent or recorded.
    assert!(!scratch.path("checkpoint").exists());
}

#[tokio::test]
async fn a_checkpoint_that_exists_needs_resume() {
    let scratch = Scratch::new("exists");
    let (_sandbox, client) = sandbox().await;
    let checkpoint = scratch.path("checkpoint");
    let (document, _) = genesys("genesys-exists", 3);
    let import = || {
        Import::new(client.clone(), &checkpoint)
            .input(Input::bytes("genesys-exists.json", document.clone()))
    };
    let done = tokio::time::timeout(LIMIT, import().execute())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.messages, 3);
    let recorded = std::fs::read(&checkpoint).unwrap();

    let error = tokio::time::timeout(LIMIT, import().execute())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(error.fault(), Fault::Checkpoint);
    assert_eq!(error.place(), checkpoint.display().to_string());
    assert!(
        matches!(
            &error,
            Error::Checkpoint {
                problem: CheckpointProblem::Mismatch,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("--resume"), "{error}");
    // The checkpoint is left as it was.
    assert_eq!(std::fs::read(&checkpoint).unwrap(), recorded);
}

#[tokio::test]
async fn strict_stops_at_an_invalid_line_naming_it() {
    let scratch = Scratch::new("strict");
    let (_sandbox, client) = sandbox().await;
    let error = tokio::time::timeout(
        LIMIT,
        Import::new(client, scratch.path("checkpoint"))
            .input(Input::bytes("calls.jsonl", with_invalid_line()))
            .strict(true)
            .execute(),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(error.fault(), Fault::Input);
    assert_eq!(error.place(), "calls.jsonl");
    let text = error.to_string();
    assert!(text.starts_with("calls.jsonl:2: "), "{text}");
    assert!(text.contains("--strict"), "{text}");
    assert_no_text(&error);
}

#[tokio::test]
async fn an_invalid_line_is_reported_counted_and_the_rest_imported() {
    let scratch = Scratch::new("invalid");
    let (_sandbox, client) = sandbox().await;
    let recorder = Recorder::default();
    let summary = tokio::time::timeout(
        LIMIT,
        Import::new(client, scratch.path("checkpoint"))
            .input(Input::reader(
                "calls.jsonl",
                std::io::Cursor::new(with_invalid_line().into_bytes()),
            ))
            .observer(recorder.clone())
            .execute(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(summary.messages, 2);
    assert_eq!(summary.invalid_lines, 1);
    assert_eq!(summary.invalid_entries, 0);
    assert_eq!(
        summary.invalid_sentence().as_deref(),
        Some("1 invalid line was not imported; every valid line was")
    );
    let invalid = recorder.invalid();
    let [reported] = invalid.as_slice() else {
        panic!("one invalid line: {invalid:?}");
    };
    assert_eq!(reported.kind, InvalidKind::Line);
    assert_eq!(reported.input, "calls.jsonl");
    assert_eq!(reported.place, "calls.jsonl:2");
    assert!(reported.reason.contains("role"), "{reported:?}");
    assert!(
        reported
            .to_string()
            .starts_with("calls.jsonl:2: invalid line: "),
        "{reported}"
    );
    for shown in [
        reported.to_string(),
        format!("{reported:?}"),
        serde_json::to_string(&summary).unwrap(),
    ] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
    let watched = recorder.watch.lock().unwrap().clone().unwrap().now();
    assert_eq!(watched.invalid, 1);
}

/// An input found in a directory that cannot be read is named as the input at fault, as one
/// given is.
#[cfg(unix)]
#[tokio::test]
async fn a_file_of_a_directory_that_cannot_be_read_is_named() {
    let scratch = Scratch::new("dangling");
    let (_sandbox, client) = sandbox().await;
    let directory = scratch.path("exports");
    std::fs::create_dir(&directory).unwrap();
    // A link to a file that is not there: found by the walk, but not to be read.
    let link = directory.join("calls.jsonl");
    std::os::unix::fs::symlink(scratch.path("gone.jsonl"), &link).unwrap();
    let error = tokio::time::timeout(
        LIMIT,
        Import::new(client, scratch.path("checkpoint"))
            .input(Input::path(&directory))
            .execute(),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(error.fault(), Fault::Input);
    assert_eq!(error.place(), link.display().to_string());
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot read {}: ", link.display())),
        "{error}"
    );
}
