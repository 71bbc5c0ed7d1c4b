//! The injector of a running sandbox: for each request, the seeded draw of its fault and jitter,
//! the memory of requests faulted and of answers lost (whose retries get a 409), the answers it
//! injects, and the [`FaultCounts`].
//!
//! Every decision is a hash of the seed, the request's identity (operation, path and query, and
//! the exact body bytes) and how many times that identity has been faulted before, so the same
//! seed and the same requests give the same faults in whatever order they arrive.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hasher as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};

use super::syntax::Faults;
use crate::error_answer::ErrorAnswer;

/// How many faults a sandbox injected, by kind ([`Sandbox::faults_injected`]).
///
/// [`Sandbox::faults_injected`]: crate::Sandbox::faults_injected
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultCounts {
    /// 503s before storing.
    pub unavailable_before_storing: u64,
    /// 503s after storing.
    pub unavailable_after_storing: u64,
    /// Connections dropped after storing.
    pub dropped_after_storing: u64,
    /// 429s.
    pub rate_limited: u64,
    /// 409s answering the retry of a request whose answer was lost (not stored again).
    pub conflicts: u64,
    /// Requests delayed by jitter.
    pub delayed: u64,
    /// The jitter added over all requests.
    pub delay: Duration,
    /// Faults drawn but not injected because the memory was full.
    pub skipped: u64,
}

impl FaultCounts {
    /// The faults of the four kinds that answer instead of the operation: 503s, dropped
    /// connections and 429s (not the 409s, the jitter or the skipped).
    pub fn total(&self) -> u64 {
        self.unavailable_before_storing
            + self.unavailable_after_storing
            + self.dropped_after_storing
            + self.rate_limited
    }
}

impl std::fmt::Display for FaultCounts {
    /// In the `--faults` names: `503-before=3 503-after=1 drop-after=2 429=4 409=1 delayed=12`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "503-before={} 503-after={} drop-after={} 429={} 409={} delayed={} skipped={}",
            self.unavailable_before_storing,
            self.unavailable_after_storing,
            self.dropped_after_storing,
            self.rate_limited,
            self.conflicts,
            self.delayed,
            self.skipped
        )
    }
}

/// What an operation does to the store, and so which faults it can get and what the retry of a
/// lost answer gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// No change to the store.
    Read,
    /// An upsert: applying it again changes nothing.
    Upsert,
    /// A message create or batch: applying it again stores the messages twice.
    Create,
}

/// A fault to inject in one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// 503 without storing.
    UnavailableBefore,
    /// 429 without storing.
    RateLimited,
    /// Store, then 503.
    UnavailableAfter,
    /// Store, then drop the connection.
    DropAfter,
    /// 409: an earlier copy was stored and its answer lost.
    Conflict,
}

impl Fault {
    /// Whether the request is answered before the store sees it.
    pub(crate) fn before_storing(self) -> bool {
        matches!(self, Self::UnavailableBefore | Self::RateLimited)
    }

    /// Whether the request is stored and its answer lost.
    pub(crate) fn after_storing(self) -> bool {
        matches!(self, Self::UnavailableAfter | Self::DropAfter)
    }
}

/// The decision for one request, from [`Injector::plan`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    identity: u64,
    /// The fault to inject, if any.
    pub(crate) fault: Option<Fault>,
    jitter: Duration,
}

/// A request the memory holds: how many faults it got, and how many of its copies were stored
/// with their answer lost (each owed a 409).
#[derive(Debug, Default)]
struct Remembered {
    faults: u32,
    lost: u32,
}

/// The faults of a running sandbox: the configuration, the memory, the counts.
#[derive(Debug)]
pub(crate) struct Injector {
    faults: Faults,
    memory: Mutex<HashMap<u64, Remembered>>,
    counts: Counters,
}

#[derive(Debug, Default)]
struct Counters {
    unavailable_before_storing: AtomicU64,
    unavailable_after_storing: AtomicU64,
    dropped_after_storing: AtomicU64,
    rate_limited: AtomicU64,
    conflicts: AtomicU64,
    delayed: AtomicU64,
    delay_nanos: AtomicU64,
    skipped: AtomicU64,
}

/// Keys beside the seed, one per use of the hash, so that the draws are independent.
const IDENTITY_KEY: u64 = 0x6964_656e_7469_7479;
const FAULT_KEY: u64 = 0x6661_756c_745f_6b79;
const JITTER_KEY: u64 = 0x6a69_7474_6572_6b79;

/// A keyed SipHash-2-4. `std::hash::SipHasher` is deprecated in favour of `DefaultHasher`, but
/// it is the one std hasher that takes keys and whose output is specified (SipHash-2-4), so the
/// same seed gives the same faults on every platform and Rust release; `DefaultHasher`'s
/// algorithm may change between releases.
#[allow(deprecated)]
fn hasher(seed: u64, key: u64) -> std::hash::SipHasher {
    std::hash::SipHasher::new_with_keys(seed, key)
}

/// A hash's top 53 bits as a number in [0, 1).
fn fraction(hash: u64) -> f64 {
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

impl Injector {
    /// The injector for `faults`, or `None` when they inject nothing.
    pub(crate) fn new(faults: &Faults) -> Option<Self> {
        faults.injects_anything().then(|| Self {
            faults: faults.clone(),
            memory: Mutex::new(HashMap::new()),
            counts: Counters::default(),
        })
    }

    /// What to do with a request of `operation` (its operationId) to `target` (its path and
    /// query) with `body`, which passed the credentials and validation. A fault is reserved in
    /// the memory now; [`Injector::settle`] says what became of it.
    pub(crate) fn plan(&self, operation: &str, target: &str, body: &[u8], class: Class) -> Plan {
        let identity = self.identity(operation, target, body);
        let mut memory = self.lock();
        let earlier = match memory.get_mut(&identity) {
            Some(remembered) if remembered.lost > 0 => {
                // The retry of a copy stored with its answer lost: a 409, or for an upsert by
                // default, the upsert applied again (which changes nothing), without a fault.
                remembered.lost -= 1;
                let earlier = remembered.faults;
                if remembered.lost == 0 {
                    memory.remove(&identity);
                }
                let replay = class == Class::Upsert && !self.faults.conflict_on_upsert;
                let fault = (!replay).then_some(Fault::Conflict);
                return self.plan_of(identity, fault, earlier);
            }
            Some(remembered) => remembered.faults,
            None => 0,
        };
        let mut fault = self.draw(identity, earlier, class);
        if fault.is_none() {
            // This answer ends the request's story.
            memory.remove(&identity);
        } else {
            let full = memory.len() >= self.faults.memory;
            match memory.entry(identity) {
                Entry::Occupied(mut remembered) => {
                    let remembered = remembered.get_mut();
                    remembered.faults = remembered.faults.saturating_add(1);
                }
                Entry::Vacant(vacant) if !full => {
                    vacant.insert(Remembered { faults: 1, lost: 0 });
                }
                Entry::Vacant(_) => {
                    self.counts.skipped.fetch_add(1, Ordering::Relaxed);
                    fault = None;
                }
            }
        }
        self.plan_of(identity, fault, earlier)
    }

    fn plan_of(&self, identity: u64, fault: Option<Fault>, earlier: u32) -> Plan {
        Plan {
            identity,
            fault,
            jitter: self.jitter(identity, earlier),
        }
    }

    /// Records what became of `plan`: `answered` is false when the store refused the request,
    /// which then gets no fault and no jitter, since it would not have succeeded. Counts the
    /// fault and returns the jitter to wait before answering.
    pub(crate) fn settle(&self, plan: &Plan, answered: bool) -> Duration {
        let counts = &self.counts;
        if !answered {
            if plan.fault.is_some_and(|f| f != Fault::Conflict) {
                let mut memory = self.lock();
                if memory.get(&plan.identity).is_some_and(|r| r.lost == 0) {
                    memory.remove(&plan.identity);
                }
            }
            return Duration::ZERO;
        }
        let counter = plan.fault.map(|fault| match fault {
            Fault::UnavailableBefore => &counts.unavailable_before_storing,
            Fault::RateLimited => &counts.rate_limited,
            Fault::UnavailableAfter => &counts.unavailable_after_storing,
            Fault::DropAfter => &counts.dropped_after_storing,
            Fault::Conflict => &counts.conflicts,
        });
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if plan.fault.is_some_and(Fault::after_storing) {
            // Reserved by `plan`; made again if an identical request in flight ended it since.
            self.lock().entry(plan.identity).or_default().lost += 1;
        }
        if !plan.jitter.is_zero() {
            counts.delayed.fetch_add(1, Ordering::Relaxed);
            let nanos = u64::try_from(plan.jitter.as_nanos()).unwrap_or(u64::MAX);
            counts.delay_nanos.fetch_add(nanos, Ordering::Relaxed);
        }
        plan.jitter
    }

    /// The answer for an injected fault.
    pub(crate) fn answer(&self, fault: Fault) -> Response {
        let failure = match fault {
            Fault::UnavailableBefore => ErrorAnswer::unavailable(
                "service unavailable: injected by the sandbox (503-before); nothing was stored",
            ),
            Fault::UnavailableAfter => ErrorAnswer::unavailable(
                "service unavailable: injected by the sandbox (503-after) after storing the request",
            ),
            Fault::RateLimited => ErrorAnswer::rate_limited(
                u64::from(self.faults.retry_after),
                "too many requests: injected by the sandbox (429); nothing was stored",
            ),
            Fault::Conflict => ErrorAnswer::conflict(
                "conflict: an earlier copy of this request was stored and its answer lost; \
                 it is not stored again",
            ),
            Fault::DropAfter => return dropped(),
        };
        failure.into_response()
    }

    /// How many faults of each kind were injected so far.
    pub(crate) fn counts(&self) -> FaultCounts {
        let c = &self.counts;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        FaultCounts {
            unavailable_before_storing: read(&c.unavailable_before_storing),
            unavailable_after_storing: read(&c.unavailable_after_storing),
            dropped_after_storing: read(&c.dropped_after_storing),
            rate_limited: read(&c.rate_limited),
            conflicts: read(&c.conflicts),
            delayed: read(&c.delayed),
            delay: Duration::from_nanos(read(&c.delay_nanos)),
            skipped: read(&c.skipped),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Remembered>> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The request's identity: its operation, target and exact body bytes, each after its
    /// length so that no two requests run together.
    fn identity(&self, operation: &str, target: &str, body: &[u8]) -> u64 {
        let mut hasher = hasher(self.faults.seed, IDENTITY_KEY);
        for part in [operation.as_bytes(), target.as_bytes(), body] {
            hasher.write(&(part.len() as u64).to_le_bytes());
            hasher.write(part);
        }
        hasher.finish()
    }

    /// The fault for the request `identity` after `earlier` faults of it: one draw against the
    /// rates laid end to end, so that each kind has exactly its rate.
    fn draw(&self, identity: u64, earlier: u32, class: Class) -> Option<Fault> {
        let mut hasher = hasher(self.faults.seed, FAULT_KEY);
        hasher.write(&identity.to_le_bytes());
        hasher.write(&earlier.to_le_bytes());
        let draw = fraction(hasher.finish());
        let faults = [
            Fault::UnavailableBefore,
            Fault::RateLimited,
            Fault::UnavailableAfter,
            Fault::DropAfter,
        ];
        let mut edge = 0.0;
        for ((_, rate), fault) in self.faults.rates().into_iter().zip(faults) {
            if fault.after_storing() && class == Class::Read {
                break;
            }
            edge += rate;
            if draw < edge {
                return Some(fault);
            }
        }
        None
    }

    /// The jitter of the request `identity` after `earlier` faults of it.
    fn jitter(&self, identity: u64, earlier: u32) -> Duration {
        if self.faults.jitter.is_zero() {
            return Duration::ZERO;
        }
        let mut hasher = hasher(self.faults.seed, JITTER_KEY);
        hasher.write(&identity.to_le_bytes());
        hasher.write(&earlier.to_le_bytes());
        self.faults.jitter.mul_f64(fraction(hasher.finish()))
    }
}

/// An answer that never arrives: a body that fails before its first frame. hyper buffers the
/// status line and headers and writes them with the body's first frame, so on this error it
/// closes the connection with nothing written, and the client sees the connection end before
/// any answer (`sandbox/tests/it/faults.rs` checks the bytes on the wire).
fn dropped() -> Response {
    let (sender, body) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(1);
    sender.abort(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "the sandbox drops the connection after storing (drop-after)",
    ));
    Response::new(Body::new(body))
}
