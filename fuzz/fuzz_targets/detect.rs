//! Fuzzes format recognition: whether the input's first bytes are JSON Lines, and the input read
//! as a document of whichever format recognises it. A document recognised reads the same with its
//! format given; JSON Lines are refused as a document.

#![no_main]

use asapp_conversations_import::formats::{Format, Refusal, is_jsonl, read_document};
use fuzz_promises::{read_checked, readings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let lines = is_jsonl(bytes);
    // Contact Lens's file names, which say the most, since any format may be recognised.
    for (file, options) in readings(Format::ContactLens) {
        let detected = read_checked(file, bytes, None, &options);
        match &detected {
            Ok(document) => {
                assert!(!lines, "JSON Lines read as a document");
                let given = read_document(file, bytes, Some(document.format), &options);
                assert!(
                    given == detected,
                    "read as {} when recognised, differently when given",
                    document.format
                );
            }
            Err(error) => assert!(
                !lines || error.refusal == Refusal::LinesNotDocument,
                "JSON Lines refused for something else"
            ),
        }
    }
});
