//! Cutting one input's lines into *runs*: a conversation's lines within a window of the input.
//!
//! A window of at least `window` lines, closed where the conversation changes from one line to
//! the next, gathers each conversation's lines into one run. So a conversation's consecutive
//! lines are one run however many, and interleaved conversations (a dump in time order) still go
//! in batches; a conversation that comes back after the window is a new run, which finds the
//! conversation instead of upserting it again. A run is named by its input and first line, so
//! the same input always gives the same runs. The cutting returns what it cut ([`Cut`]): its
//! caller has the checkpoint check that a resume cuts as the recorded import did.

use std::collections::HashMap;
use std::sync::Arc;

use asapp_conversations::types;

use super::checkpoint::RunKey;
use crate::transcript::Line;

/// The lines of one conversation within a window of the input.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) key: RunKey,
    /// The conversation, from the run's first line.
    pub(crate) conversation: types::TimeBasedConversation,
    /// Messages with their line numbers.
    pub(crate) messages: Vec<(usize, types::Message)>,
    /// The bytes of input its lines hold (a vendor document's whole size), done as its batches
    /// are acknowledged.
    pub(crate) bytes: u64,
}

/// The runs of one window of an input, closed: those that start after line `after` and up to
/// line `last`.
#[derive(Debug)]
pub(crate) struct Cut {
    pub(crate) input: Arc<str>,
    pub(crate) after: usize,
    pub(crate) last: usize,
    /// In the order of their first lines.
    pub(crate) runs: Vec<Run>,
}

/// Cuts the lines of one input into runs.
#[derive(Debug)]
pub(crate) struct Runs {
    input: Arc<str>,
    window: usize,
    /// The open window's runs, in the order of their first lines.
    open: Vec<Run>,
    /// Where each conversation's run is in `open`.
    by_conversation: HashMap<String, usize>,
    /// The run of the last line read.
    previous: Option<usize>,
    /// The first line of the open window, and the last line of the closed one before it.
    first_line: usize,
    closed_through: usize,
}

impl Runs {
    pub(crate) fn new(input: Arc<str>, window: usize) -> Self {
        Self {
            input,
            window,
            open: Vec::new(),
            by_conversation: HashMap::new(),
            previous: None,
            first_line: 0,
            closed_through: 0,
        }
    }

    /// The input's name in the checkpoint.
    pub(crate) fn input(&self) -> &Arc<str> {
        &self.input
    }

    /// Adds line `number`, of `bytes` bytes of input; returns the window this line closes, if
    /// it closes one, or why the line has no conversation.
    pub(crate) fn push(
        &mut self,
        number: usize,
        line: &Line<'_>,
        message: types::Message,
        bytes: u64,
    ) -> Result<Option<Cut>, String> {
        let mut closed = None;
        if let Some(previous) = self.previous {
            let changes = self.open[previous].conversation.external_id != line.external_id;
            if changes && number - self.first_line >= self.window {
                closed = Some(self.close(number - 1));
            }
        }
        if self.open.is_empty() {
            self.first_line = number;
        }
        let index = match self.by_conversation.get(line.external_id.as_ref()) {
            Some(index) => {
                self.open[*index].messages.push((number, message));
                self.open[*index].bytes += bytes;
                *index
            }
            None => {
                let conversation = line.conversation()?;
                self.by_conversation
                    .insert(conversation.external_id.clone(), self.open.len());
                self.open.push(Run {
                    key: RunKey {
                        input: self.input.clone(),
                        line: number,
                    },
                    conversation,
                    messages: vec![(number, message)],
                    bytes,
                });
                self.open.len() - 1
            }
        };
        self.previous = Some(index);
        Ok(closed)
    }

    /// The last window, once the input is read.
    pub(crate) fn finish(&mut self) -> Cut {
        self.close(usize::MAX)
    }

    /// Closes the open window at line `last`.
    fn close(&mut self, last: usize) -> Cut {
        let after = std::mem::replace(&mut self.closed_through, last);
        self.by_conversation.clear();
        self.previous = None;
        Cut {
            input: self.input.clone(),
            after,
            last,
            runs: std::mem::take(&mut self.open),
        }
    }
}
