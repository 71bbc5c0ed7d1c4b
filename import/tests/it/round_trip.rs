//! An import from every kind of local input at once (a directory of files, a file, a Genesys
//! document and JSON Lines in memory, JSON Lines from a reader): the summary counts what was
//! sent, and each conversation reads back with each of its messages once, in time order. A
//! resume of the finished import finds everything stored and sends nothing.

use asapp_conversations_import::{Import, Input};

use super::support::{
    Expected, LIMIT, Order, Recorder, Scratch, Transcript, assert_stored, genesys, sandbox,
};

/// Messages per batch: small, so that each conversation takes several.
const BATCH: usize = 4;

#[tokio::test]
async fn files_memory_and_a_reader_each_message_once_in_order() {
    let scratch = Scratch::new("round-trip");
    let (sandbox, client) = sandbox().await;
    // A directory of two files, a file of its own, JSON Lines in memory and from a reader, and a
    // Genesys document in memory: 21 conversations.
    let directory = scratch.path("exports");
    std::fs::create_dir(&directory).unwrap();
    let in_directory = [
        Transcript::new("dir-a", 4, 9),
        Transcript::new("dir-b", 3, 8),
    ];
    for (index, lines) in in_directory.iter().enumerate() {
        lines.write(
            &directory.join(format!("{index}.jsonl")),
            Order::InTurnPairsSwapped,
        );
    }
    // Not a transcript's name: the walk passes it by.
    std::fs::write(directory.join("notes.txt"), "not read").unwrap();
    let file = Transcript::new("file", 5, 6);
    let file_path = scratch.path("file.jsonl");
    file.write(&file_path, Order::InTurnPairsSwapped);
    let memory = Transcript::new("memory", 4, 5);
    let stream = Transcript::new("stream", 4, 7);
    let (document, of_document) = genesys("genesys-1", 11);
    let expected = Expected::of(&in_directory[0])
        .with(&Expected::of(&in_directory[1]))
        .with(&Expected::of(&file))
        .with(&Expected::of(&memory))
        .with(&Expected::of(&stream))
        .with(&of_document);
    // Each conversation is one run, sent in batches of at most BATCH.
    let batches: u64 = expected
        .0
        .values()
        .map(|messages| messages.len().div_ceil(BATCH) as u64)
        .sum();

    let checkpoint = scratch.path("checkpoint");
    let inputs = || {
        [
            Input::path(&directory),
            Input::path(&file_path),
            Input::bytes("genesys/genesys-1.json", document.clone()),
            Input::bytes("memory.jsonl", memory.jsonl(Order::InTurnPairsSwapped)),
            Input::reader(
                "stream.jsonl",
                std::io::Cursor::new(stream.jsonl(Order::InTurnPairsSwapped).into_bytes()),
            ),
        ]
    };
    let recorder = Recorder::default();
    let summary = tokio::time::timeout(
        LIMIT,
        Import::new(client.clone(), &checkpoint)
            .inputs(inputs())
            .batch_size(BATCH)
            .observer(recorder.clone())
            .execute(),
    )
    .await
    .expect("the import ends")
    .unwrap();
    assert_eq!(summary.messages, expected.messages());
    assert_eq!(summary.conversations, expected.conversations());
    assert_eq!(summary.batches, batches);
    assert_eq!(summary.already_stored, 0);
    assert_eq!(summary.invalid_lines, 0);
    assert_eq!(summary.invalid_documents, 0);
    assert_eq!(summary.invalid_sentence(), None);
    assert!(recorder.invalid().is_empty());
    // The genesys document's times are absolute: no base time was needed.
    assert!(summary.base_times.is_empty(), "{:?}", summary.base_times);
    // The watch read the same counts, and every input was found: 2 files of the directory and
    // the 4 inputs given beside it, one of them of a size not known before it is read.
    let watched = recorder
        .watch
        .lock()
        .unwrap()
        .clone()
        .expect("started")
        .now();
    assert_eq!(watched.messages, summary.messages);
    assert_eq!(watched.batches, summary.batches);
    assert_eq!(watched.inputs, 6);
    assert_eq!(watched.unsized_inputs, 1);
    assert!(watched.listed);
    assert_eq!(watched.in_flight, 0);
    assert_eq!(watched.bytes_done, watched.bytes_read);

    assert_stored(&client, &expected).await;

    // Resumed with the same inputs: everything was acknowledged, nothing is sent again.
    let again = tokio::time::timeout(
        LIMIT,
        Import::new(client.clone(), &checkpoint)
            .inputs(inputs())
            .batch_size(BATCH)
            .resume(true)
            .execute(),
    )
    .await
    .expect("the resume ends")
    .unwrap();
    assert_eq!(again.messages, 0);
    assert_eq!(again.batches, 0);
    assert_eq!(again.already_stored, expected.messages());
    assert_stored(&client, &expected).await;
    sandbox.shutdown().await.unwrap();
}
