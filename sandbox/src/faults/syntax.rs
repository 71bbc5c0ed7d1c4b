//! The fault configuration and its `--faults` syntax: [`Faults`], its parser and writer, its
//! checks, and [`FaultsError`], why a configuration is refused.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The faults a sandbox injects, each kind at its own rate, into requests that would otherwise
/// succeed (they passed the credentials and validation, the store would take them, and they
/// carry no `Prefer: code=`).
///
/// A rate is the probability (0 to 1) that a request eligible for that kind gets it; at most one
/// kind is injected per request, so the rates add up to at most 1. Every request (reads too) can
/// get a 503 before storing or a 429; only the three writes (`createOrUpdateConversation`,
/// `createMessage`, `createBatchMessages`) can lose their answer after storing, by a 503 or a
/// dropped connection. The retry of a message create or batch whose answer was lost gets a 409
/// (`409-01`), which ASAPP documents as "the entity was persisted", and is not stored again.
///
/// The `--faults` option of `asapp-sandbox` is this type's [`FromStr`] syntax, which
/// [`Display`](fmt::Display) writes back (all but the seed, which is `--fault-seed`):
///
/// ```
/// use std::time::Duration;
/// use asapp_conversations_sandbox::Faults;
///
/// let faults: Faults = "503-before=0.05,503-after=0.05,drop-after=0.05,429=0.05,jitter=20ms"
///     .parse()?;
/// assert_eq!(faults.drop_after_storing, 0.05);
/// assert_eq!(faults.jitter, Duration::from_millis(20));
/// assert_eq!(faults.retry_after, 1);
/// # Ok::<(), asapp_conversations_sandbox::FaultsError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// `503-before`: answer 503 (`503-01`) without storing anything.
    pub unavailable_before_storing: f64,
    /// `503-after`: store, then answer 503 (`503-01`): the answer is lost. Writes only.
    pub unavailable_after_storing: f64,
    /// `drop-after`: store, then close the connection without answering: the client sees a
    /// transport error, not a status. Writes only.
    pub drop_after_storing: f64,
    /// `429`: answer 429 (`429-01`) with `Retry-After` without storing anything.
    pub rate_limited: f64,
    /// `retry-after`: the seconds a 429 asks to wait (1 by default).
    pub retry_after: u32,
    /// `jitter`: every request that would otherwise succeed waits a further random delay from 0
    /// up to this long (none by default).
    pub jitter: Duration,
    /// `upsert=409`: the retry of an upsert whose answer was lost gets a 409, as it does for
    /// the message writes (ASAPP documents 409 for the upsert too). By default (`upsert=200`)
    /// that retry is applied again without a fault, which changes nothing since the upsert is
    /// idempotent, and answered 200 with the conversation's id, which a 409 would not carry.
    pub conflict_on_upsert: bool,
    /// `memory`: the most requests remembered at once (100,000 by default, at most some 40
    /// bytes each: 4 MB). A request is remembered from its first fault until a retry of it ends the story:
    /// an answer without a fault, or the answer to the retry of its lost answer. While the
    /// memory is full, no fault is injected in a request it does not already remember (counted
    /// in [`FaultCounts::skipped`]): a lost answer is never forgotten, since its retry would
    /// then be stored twice.
    ///
    /// [`FaultCounts::skipped`]: crate::FaultCounts::skipped
    pub memory: usize,
    /// The seed (`--fault-seed`): the same seed and the same requests give the same faults.
    pub seed: u64,
}

impl Default for Faults {
    /// No faults: every rate 0, no jitter.
    fn default() -> Self {
        Self {
            unavailable_before_storing: 0.0,
            unavailable_after_storing: 0.0,
            drop_after_storing: 0.0,
            rate_limited: 0.0,
            retry_after: 1,
            jitter: Duration::ZERO,
            conflict_on_upsert: false,
            memory: 100_000,
            seed: 0,
        }
    }
}

/// Every name the `--faults` syntax takes.
const NAMES: &str = "503-before, 503-after, drop-after, 429, jitter, retry-after, upsert, memory";

impl Faults {
    /// The rates by their `--faults` names, in the order they are drawn: the two faults every
    /// request can get, then the two only writes can.
    pub(super) fn rates(&self) -> [(&'static str, f64); 4] {
        [
            ("503-before", self.unavailable_before_storing),
            ("429", self.rate_limited),
            ("503-after", self.unavailable_after_storing),
            ("drop-after", self.drop_after_storing),
        ]
    }

    fn rate_mut(&mut self, name: &str) -> Option<&mut f64> {
        Some(match name {
            "503-before" => &mut self.unavailable_before_storing,
            "429" => &mut self.rate_limited,
            "503-after" => &mut self.unavailable_after_storing,
            "drop-after" => &mut self.drop_after_storing,
            _ => return None,
        })
    }

    /// Whether any fault can happen: a rate above 0 or some jitter.
    pub fn injects_anything(&self) -> bool {
        self.rates().iter().any(|(_, rate)| *rate > 0.0) || !self.jitter.is_zero()
    }

    /// Checks that every rate is a probability, that they add up to at most 1, and that the
    /// memory holds at least one request.
    pub fn validate(&self) -> Result<(), FaultsError> {
        for (name, rate) in self.rates() {
            if !(0.0..=1.0).contains(&rate) {
                return Err(FaultsError::RateOutOfRange { name, rate });
            }
        }
        let sum: f64 = self.rates().iter().map(|(_, rate)| rate).sum();
        // A little slack for decimal fractions such as 0.7 + 0.2 + 0.1.
        if sum > 1.0 + 1e-9 {
            return Err(FaultsError::RatesAboveOne { sum });
        }
        if self.memory == 0 {
            return Err(FaultsError::NoMemory);
        }
        Ok(())
    }
}

impl FromStr for Faults {
    type Err = FaultsError;

    /// Comma-separated `NAME=VALUE` pairs, each name at most once; the rest stay at their
    /// defaults (and the seed at 0). Rates (`503-before`, `503-after`, `drop-after`, `429`) are
    /// numbers from 0 to 1; `jitter` is a duration such as `20ms` or `1.5s`; `retry-after` is
    /// whole seconds; `upsert` is `200` or `409`; `memory` is a number of requests.
    fn from_str(text: &str) -> Result<Self, FaultsError> {
        if text.trim().is_empty() {
            return Err(FaultsError::Empty);
        }
        let mut faults = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        for part in text.split(',').map(str::trim) {
            let bad = |reason: &str| FaultsError::BadValue {
                part: part.to_owned(),
                reason: reason.to_owned(),
            };
            let (name, value) = part
                .split_once('=')
                .map(|(name, value)| (name.trim(), value.trim()))
                .ok_or_else(|| FaultsError::NotAPair {
                    part: part.to_owned(),
                })?;
            if seen.contains(&name) {
                return Err(FaultsError::Repeated {
                    part: part.to_owned(),
                    name: name.to_owned(),
                });
            }
            seen.push(name);
            if let Some(rate) = faults.rate_mut(name) {
                *rate = value
                    .parse::<f64>()
                    .ok()
                    .filter(|rate| (0.0..=1.0).contains(rate))
                    .ok_or_else(|| bad("a rate is a probability, a number from 0 to 1"))?;
                continue;
            }
            match name {
                "jitter" => {
                    faults.jitter = crate::parse_duration(value)
                        .ok_or_else(|| bad("the jitter is a duration such as 20ms or 1s"))?;
                }
                "retry-after" => {
                    faults.retry_after = value
                        .parse()
                        .map_err(|_| bad("retry-after is a whole number of seconds"))?;
                }
                "upsert" => {
                    faults.conflict_on_upsert = match value {
                        "409" => true,
                        "200" => false,
                        _ => return Err(bad("upsert is 200 or 409")),
                    };
                }
                "memory" => {
                    faults.memory = value
                        .parse()
                        .ok()
                        .filter(|memory| *memory > 0)
                        .ok_or_else(|| bad("memory is a number of requests, at least 1"))?;
                }
                _ => {
                    return Err(FaultsError::UnknownName {
                        part: part.to_owned(),
                        name: name.to_owned(),
                    });
                }
            }
        }
        faults.validate()?;
        Ok(faults)
    }
}

impl fmt::Display for Faults {
    /// The `--faults` syntax, every setting written out (the seed is not part of it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "503-before={},503-after={},drop-after={},429={},jitter={}ms,retry-after={},upsert={},memory={}",
            self.unavailable_before_storing,
            self.unavailable_after_storing,
            self.drop_after_storing,
            self.rate_limited,
            self.jitter.as_secs_f64() * 1000.0,
            self.retry_after,
            if self.conflict_on_upsert { 409 } else { 200 },
            self.memory,
        )
    }
}

/// Why a fault configuration is refused. Each message names the bad part.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FaultsError {
    /// Nothing was given.
    #[error("no faults given: expected NAME=VALUE pairs such as 503-before=0.05,jitter=20ms")]
    Empty,
    /// A part without `=`.
    #[error("`{part}`: expected NAME=VALUE, such as 503-before=0.05")]
    NotAPair {
        /// The part as given.
        part: String,
    },
    /// A name the syntax does not have.
    #[error("`{part}`: unknown fault `{name}`; the names are {NAMES}")]
    UnknownName {
        /// The part as given.
        part: String,
        /// The name.
        name: String,
    },
    /// A name given twice.
    #[error("`{part}`: `{name}` is given twice")]
    Repeated {
        /// The second part with the name.
        part: String,
        /// The name.
        name: String,
    },
    /// A value its name does not take.
    #[error("`{part}`: {reason}")]
    BadValue {
        /// The part as given.
        part: String,
        /// What the value should be.
        reason: String,
    },
    /// A rate that is not a probability.
    #[error("the rate of {name} is {rate}; a rate is a probability, a number from 0 to 1")]
    RateOutOfRange {
        /// The rate's `--faults` name.
        name: &'static str,
        /// The rate.
        rate: f64,
    },
    /// Rates adding up to more than 1.
    #[error(
        "the fault rates add up to {sum}; at most one fault is injected per request, so they must add up to at most 1"
    )]
    RatesAboveOne {
        /// Their sum.
        sum: f64,
    },
    /// A memory of 0 requests.
    #[error("the memory of faulted requests must hold at least 1 request")]
    NoMemory,
}
