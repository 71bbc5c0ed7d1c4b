//! Fuzzes JSON Lines: each line of the input read as a transcript line, and a valid one's message
//! and conversation built, checking the promises (no reason holds a text; a valid line written
//! back reads the same).

#![no_main]

use fuzz_promises::lines_checked;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| lines_checked(bytes));
