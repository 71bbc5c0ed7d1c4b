//! One module per command group: each takes its parsed arguments and the client
//! ([`crate::target`]), builds what it sends, and writes the answer ([`crate::output`]).

pub(crate) mod conversations;
pub(crate) mod export;
pub(crate) mod import;
mod input;
pub(crate) mod messages;
