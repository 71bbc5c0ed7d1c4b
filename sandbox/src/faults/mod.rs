//! Seeded faults: which requests get a 503 before or after storing, a dropped connection after
//! storing, a 429, or extra latency; the memory of answers lost after storing, whose retries get
//! a 409; and the counts of what was injected. The same seed and the same requests give the same
//! faults in whatever order they arrive.
//!
//! Two parts, the data flowing from the first to the second: `syntax`, the configuration
//! ([`Faults`]) and its `--faults` syntax, parser and errors; and `injector`, what a running
//! sandbox does with it, request by request, and the counts.

mod injector;
mod syntax;

pub use injector::FaultCounts;
pub(crate) use injector::{Class, Fault, Injector};
pub use syntax::{Faults, FaultsError};
