//! Fuzzes the reader of Twilio Conversational Intelligence transcripts: the input as a document
//! of that format, under each file name and options of [`readings`], checking the readers'
//! promises.

#![no_main]

use asapp_conversations_import::formats::Format;
use fuzz_promises::{read_checked, readings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    for (file, options) in readings(Format::Twilio) {
        let _ = read_checked(file, bytes, Some(Format::Twilio), &options);
    }
});
