//! Fuzzes the reader of Amazon Connect Contact Lens analysis files: the input as a document of
//! that format, under each file name and options of [`readings`], checking the readers' promises.

#![no_main]

use asapp_conversations_import::formats::Format;
use fuzz_promises::{read_checked, readings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    for (file, options) in readings(Format::ContactLens) {
        let _ = read_checked(file, bytes, Some(Format::ContactLens), &options);
    }
});
