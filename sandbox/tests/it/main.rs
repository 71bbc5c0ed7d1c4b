//! The sandbox over HTTP on 127.0.0.1: routing, credentials, validation against the
//! description, fault injection and the store's caps. Every answer is checked to be a status the
//! operation documents, with ASAPP's error envelope when it is an error. `faults` covers the
//! seeded faults (`--faults`) and what the client sees of them.

mod faults;
mod http;
