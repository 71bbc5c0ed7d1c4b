//! The import library's integration tests: one binary.

// The library through its public API, against the in-process sandbox.
mod cancel;
mod documents;
mod errors;
mod round_trip;
mod support;

// Every reader fed random and mutated documents (proptest, on the stable toolchain).
mod properties;
