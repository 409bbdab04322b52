//! Unit tests of whole runs, and their test data.

mod sweep;
pub mod testutil;
