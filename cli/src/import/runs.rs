//! Cutting one source's lines into *runs*: a conversation's lines within a window of the input.
//!
//! A window of at least `window` lines, closed where the conversation changes from one line to
//! the next, gathers each conversation's lines into one run. So a conversation's consecutive
//! lines are one run however many, and interleaved conversations (a dump in time order) still go
//! in batches; a conversation that comes back after the window is a new run, which finds the
//! conversation instead of upserting it again. A run is named by its source and first line, so
//! the same input always gives the same runs. On `--resume` the cutting checks that the recorded
//! runs start where they did.

use std::collections::HashMap;
use std::sync::Arc;

use asapp_conversations::types;

use super::checkpoint::{Checkpoint, RunKey};
use crate::Failure;
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

/// Cuts the lines of one source into runs.
#[derive(Debug)]
pub(crate) struct Runs {
    source: Arc<str>,
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
    pub(crate) fn new(source: Arc<str>, window: usize) -> Self {
        Self {
            source,
            window,
            open: Vec::new(),
            by_conversation: HashMap::new(),
            previous: None,
            first_line: 0,
            closed_through: 0,
        }
    }

    /// Adds line `number`, of `bytes` bytes of input; returns the runs of the window this line
    /// closes.
    pub(crate) fn push(
        &mut self,
        checkpoint: &Checkpoint,
        number: usize,
        line: &Line<'_>,
        message: types::Message,
        bytes: u64,
    ) -> Result<Vec<Run>, Failure> {
        let mut closed = Vec::new();
        if let Some(previous) = self.previous {
            let changes = self.open[previous].conversation.external_id != line.external_id;
            if changes && number - self.first_line >= self.window {
                closed = self.close(checkpoint, number - 1)?;
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
                let conversation = line.conversation().map_err(|e| {
                    Failure::usage(format!("{}:{number}: invalid line: {e}", self.source))
                })?;
                self.by_conversation
                    .insert(conversation.external_id.clone(), self.open.len());
                self.open.push(Run {
                    key: RunKey {
                        source: self.source.clone(),
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

    /// The runs of the last window, once the source is read.
    pub(crate) fn finish(&mut self, checkpoint: &Checkpoint) -> Result<Vec<Run>, Failure> {
        self.close(checkpoint, usize::MAX)
    }

    /// Closes the open window at line `last`.
    fn close(&mut self, checkpoint: &Checkpoint, last: usize) -> Result<Vec<Run>, Failure> {
        let starts: Vec<usize> = self.open.iter().map(|s| s.key.line).collect();
        checkpoint.check_starts(&self.source, self.closed_through, last, &starts)?;
        self.closed_through = last;
        self.by_conversation.clear();
        self.previous = None;
        Ok(std::mem::take(&mut self.open))
    }
}
