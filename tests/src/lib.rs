//! Test-only crate: see `it/`.

/// The README's Rust examples (the client's, the sandbox's and the observability setup),
/// compiled as doc tests here, where every crate they use is a dependency, so that they cannot
/// drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
