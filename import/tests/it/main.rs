//! Integration tests.

// The library through its public API, against the in-process sandbox.
mod cancel;
mod documents;
mod errors;
mod round_trip;
mod support;
