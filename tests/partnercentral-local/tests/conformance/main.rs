//! Conformance tests: every emulated operation through the real AWS SDK for Rust clients,
//! against an emulator started in-process on a free port.

mod common;

mod account;
mod faults;
mod hold;
mod pagination;
mod protocol;
mod selling;
mod tasks;
