//! Cancelled midway, once batches are acknowledged, an import returns [`Error::Cancelled`] with
//! what it recorded; resumed with the same inputs, it sends only the rest: read back, every
//! message is stored once, in order.
//!
//! The JSON Lines come from a pipe that stays open while the first import runs (a stream whose
//! sender has not finished), so that the import cannot end before it is cancelled, however
//! fast it goes: the cancellation always lands mid-import.

use asapp_conversations_import::{CancellationToken, Error, Fault, Import, Input, ProgressWatch};
use tokio::io::AsyncWriteExt as _;

use super::support::{
    Expected, LIMIT, Order, Recorder, Scratch, Transcript, assert_stored, genesys, sandbox,
};

/// Messages per batch, and lines per window: small, so that many batches go before the stream
/// ends.
const BATCH: usize = 3;
const WINDOW: usize = 64;

/// Waits until the import `recorder` observes has a batch acknowledged, and says how many
/// messages it has then.
async fn acknowledged(recorder: &Recorder) -> u64 {
    recorder.acknowledged.notified().await;
    let watch: Option<ProgressWatch> = recorder.watch.lock().unwrap().clone();
    watch.expect("the import started").now().messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_once_batches_are_acknowledged_then_resumed_nothing_lost_or_repeated() {
    let scratch = Scratch::new("cancel");
    let (sandbox, client) = sandbox().await;
    let lines = Transcript::new("cancel", 16, 50);
    let jsonl = lines.jsonl(Order::InTurnPairsSwapped);
    let (document, of_document) = genesys("genesys-cancel", 20);
    let expected = Expected::of(&lines).with(&of_document);
    let checkpoint = scratch.path("checkpoint");
    let import = || {
        Import::new(client.clone(), &checkpoint)
            .batch_size(BATCH)
            .window(WINDOW)
            .concurrency(2)
    };

    // The first import: the document, and the stream of which three quarters have arrived (more
    // than the 64 KiB the reading takes at once).
    let arrived = jsonl.len() * 3 / 4;
    let arrived = jsonl[..arrived].rfind('\n').unwrap() + 1;
    assert!(arrived > 64 * 1024, "{arrived} bytes arrived");
    let (mut pipe, stream) = tokio::io::duplex(jsonl.len());
    pipe.write_all(&jsonl.as_bytes()[..arrived]).await.unwrap();
    let stop = CancellationToken::new();
    let recorder = Recorder::default();
    let first = import()
        .input(Input::bytes("genesys-cancel.json", document.clone()))
        .input(Input::reader("calls.jsonl", stream))
        .observer(recorder.clone())
        .cancel_on(stop.clone())
        .execute();
    let stopping = async {
        let seen = acknowledged(&recorder).await;
        stop.cancel();
        seen
    };
    let (first, seen) = tokio::time::timeout(LIMIT, async { tokio::join!(first, stopping) })
        .await
        .expect("the import is cancelled");
    // The rest of the stream never came.
    drop(pipe);
    let Err(cancelled) = first else {
        panic!("the import ended before the stream did: {first:?}");
    };
    assert_eq!(cancelled.fault(), Fault::Cancelled);
    assert_eq!(cancelled.place(), "");
    let Error::Cancelled {
        messages,
        batches,
        unanswered,
    } = &cancelled
    else {
        panic!("not a cancellation: {cancelled:?}");
    };
    let (messages, batches) = (*messages, *batches);
    assert!(messages >= seen, "{messages} acknowledged, {seen} seen");
    assert!(messages < expected.messages(), "{messages} acknowledged");
    assert!(batches > 0);
    assert_eq!(*unanswered, 0, "the local sandbox answers within the grace");
    let text = cancelled.to_string();
    assert!(
        text.starts_with(&format!(
            "cancelled: {messages} messages acknowledged in {batches} batches"
        )),
        "{text}"
    );

    // Resumed, the stream whole this time: only what was not acknowledged is sent.
    let resumed = tokio::time::timeout(
        LIMIT,
        import()
            .input(Input::bytes("genesys-cancel.json", document))
            .input(Input::reader(
                "calls.jsonl",
                std::io::Cursor::new(jsonl.into_bytes()),
            ))
            .resume(true)
            .execute(),
    )
    .await
    .expect("the resume ends")
    .unwrap();
    assert_eq!(resumed.already_stored, messages);
    assert_eq!(resumed.messages + messages, expected.messages());
    assert_stored(&client, &expected).await;
    sandbox.shutdown().await.unwrap();
}
