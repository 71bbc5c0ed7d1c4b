//! What the tests of the `asapp` command and of the import library share: a scratch directory
//! ([`Scratch`]), a seeded generator ([`Seeded`]), and the one generator of JSON Lines transcripts
//! ([`message_line`] for a line written by hand, [`Transcript`] for conversations × messages in
//! any [`Order`]). Each test binary reads back in its own way (`asapp export`, or the client).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

/// A scratch directory of its own for each call, removed when dropped.
#[derive(Debug)]
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A new empty directory, named after `name`, the process and a counter.
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("asapp-{name}-{}-{unique}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// The path of `name` in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One line of a transcript written by hand: `text`, said by customer `c` in `external_id`, at
/// `second` past 11:42 on a day.
pub fn message_line(external_id: &str, text: &str, second: u32) -> String {
    json!({"externalId": external_id, "customerId": "c", "role": "customer", "senderId": "c", "text": text, "timestamp": format!("2024-01-23T11:42:{second:02}Z")}).to_string()
}

/// A small seeded generator (xorshift64*).
#[derive(Debug)]
pub struct Seeded(pub u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A generated transcript: conversations `{prefix}-000`, `{prefix}-001`, … of as many messages
/// each, customer and agent in turn, a second apart from 10:00 on a day; message `m` of
/// conversation `c` says `{words} {m} of {prefix}-{c:03}`. Every line of a conversation is as
/// long as every other of the same speaker and number of digits.
#[derive(Debug)]
pub struct Transcript {
    prefix: &'static str,
    conversations: usize,
    messages: usize,
    words: &'static str,
    said_twice: bool,
}

/// The order of a transcript's lines.
#[derive(Debug)]
pub enum Order<'a> {
    /// Each conversation whole, one after the other.
    OneAfterAnother,
    /// Line by line in turn: message 0 of every conversation, then message 1, …
    InTurn,
    /// In turn, each conversation's pairs of messages swapped (1, 0, 3, 2, …): a conversation's
    /// lines out of time order.
    InTurnPairsSwapped,
    /// The conversations interleaved at random: a dump in time order of concurrent calls.
    Shuffled(&'a mut Seeded),
}

impl Transcript {
    /// `conversations` conversations of `messages` messages each, named after `prefix`.
    pub fn new(prefix: &'static str, conversations: usize, messages: usize) -> Self {
        Self {
            prefix,
            conversations,
            messages,
            words: "message",
            said_twice: false,
        }
    }

    /// Each conversation's message 1 repeats its message 0, time and all: said twice.
    pub fn said_twice(self) -> Self {
        Self {
            said_twice: true,
            ..self
        }
    }

    /// Each text starts with `words` instead of `message`.
    pub fn saying(self, words: &'static str) -> Self {
        Self { words, ..self }
    }

    /// How many conversations it holds.
    pub fn conversations(&self) -> usize {
        self.conversations
    }

    /// The external id of conversation `c`.
    pub fn external_id(&self, c: usize) -> String {
        format!("{}-{c:03}", self.prefix)
    }

    /// Message `m` of conversation `c`, as a JSON Lines value.
    pub fn line(&self, c: usize, m: usize) -> Value {
        let m = if self.said_twice && m == 1 { 0 } else { m };
        let customer = format!("customer-{c:03}");
        let agent = format!("agent-{}", c % 7);
        let customer_says = m % 2 == 0;
        json!({
            "externalId": self.external_id(c),
            "customerId": customer,
            "customerName": format!("Customer {c:03}"),
            "agentId": agent,
            "agentName": "Grace",
            "role": if customer_says { "customer" } else { "agent" },
            "senderId": if customer_says { customer } else { agent },
            "text": format!("{} {m} of {}", self.words, self.external_id(c)),
            "timestamp": format!("2024-01-23T{:02}:{:02}:{:02}Z", 10 + m / 3600, m / 60 % 60, m % 60),
        })
    }

    /// Conversation `c`'s lines in time order: as it exports, once stored.
    pub fn conversation(&self, c: usize) -> Vec<Value> {
        (0..self.messages).map(|m| self.line(c, m)).collect()
    }

    /// Every line, in `order`. Each conversation's lines keep their own order in all but
    /// [`Order::InTurnPairsSwapped`].
    pub fn lines(&self, order: Order<'_>) -> Vec<Value> {
        match order {
            Order::OneAfterAnother => (0..self.conversations)
                .flat_map(|c| self.conversation(c))
                .collect(),
            Order::InTurn => (0..self.messages)
                .flat_map(|m| (0..self.conversations).map(move |c| self.line(c, m)))
                .collect(),
            Order::InTurnPairsSwapped => (0..self.messages.next_multiple_of(2))
                .map(|m| m ^ 1)
                .filter(|m| *m < self.messages)
                .flat_map(|m| (0..self.conversations).map(move |c| self.line(c, m)))
                .collect(),
            Order::Shuffled(seed) => {
                let mut next = vec![0; self.conversations];
                let mut open: Vec<usize> = (0..self.conversations).collect();
                let mut lines = Vec::new();
                while !open.is_empty() {
                    let pick = usize::try_from(seed.below(open.len() as u64)).unwrap();
                    let c = open[pick];
                    lines.push(self.line(c, next[c]));
                    next[c] += 1;
                    if next[c] == self.messages {
                        open.swap_remove(pick);
                    }
                }
                lines
            }
        }
    }

    /// Every line in `order`, as JSON Lines.
    pub fn jsonl(&self, order: Order<'_>) -> String {
        self.lines(order).iter().map(|l| format!("{l}\n")).collect()
    }

    /// Writes [`Transcript::jsonl`] to `path`.
    pub fn write(&self, path: &Path, order: Order<'_>) {
        std::fs::write(path, self.jsonl(order)).unwrap();
    }
}
