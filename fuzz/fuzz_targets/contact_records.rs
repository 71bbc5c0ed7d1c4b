//! Fuzzes the reader of Amazon Connect contact records (JSON objects back to back, gzip or not):
//! the input read as one file of records, checking its errors; then, with the records read, a
//! Contact Lens sample of a contact the seeds have records of, which must still read, taking its
//! base time from the contact's record where that has one.

#![no_main]

use std::sync::Arc;

use asapp_conversations_import::formats::contact_records::ContactRecords;
use asapp_conversations_import::formats::{Format, ReadOptions};
use fuzz_promises::{read_checked, records_checked};
use libfuzzer_sys::fuzz_target;

/// A Contact Lens sample, and its contact.
const SAMPLE_NAME: &str = "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json";
const SAMPLE: &[u8] = include_bytes!(
    "../../import/tests/data/formats/contact-lens/0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f_analysis_2024-03-01T10:15:30Z.json"
);
const CONTACT: &str = "0d5e8f31-6b2a-4c1e-9f00-1a2b3c4d5e6f";

fuzz_target!(|bytes: &[u8]| {
    let mut records = ContactRecords::default();
    if records_checked(&mut records, "records.json", bytes).is_err() {
        return;
    }
    let base = records.get(CONTACT).and_then(|record| record.base);
    let options = ReadOptions {
        contact_records: Some(Arc::new(records)),
        ..ReadOptions::default()
    };
    let document = read_checked(SAMPLE_NAME, SAMPLE, Some(Format::ContactLens), &options)
        .expect("the sample reads with any records");
    if let Some((at, _)) = base {
        assert_eq!(
            document.base_time.map(|b| b.at),
            Some(at),
            "the record's base time is not used"
        );
    }
});
