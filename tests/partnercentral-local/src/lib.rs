//! `partnercentral-local`: a local, wire-faithful emulator of the two AWS Partner Central APIs
//! our functions call — the Account API's connection invitations and the Selling API's
//! engagement invitations — speaking awsJson1_0 exactly as AWS does, so the unmodified AWS
//! SDKs (Rust, boto3) can be pointed at it with an endpoint URL.
//!
//! The official service models are embedded ([`model`]) and every request and response is
//! validated against them. See the crate's `README.md` for the CLI and the control API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), partnercentral_local::EmulatorError> {
//! let emu = partnercentral_local::Emulator::builder()
//!     .listen("127.0.0.1:0".parse().expect("address"))
//!     .spawn()
//!     .await?;
//! let endpoint = emu.url(); // e.g. http://127.0.0.1:40123
//! assert!(endpoint.starts_with("http://127.0.0.1:"));
//! emu.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod clock;
pub mod control;
pub mod data;
pub mod error;
pub mod faults;
pub mod generate;
pub mod hold;
pub mod model;
pub mod native;
pub mod ops;
pub mod overrides;
pub mod pagination;
pub mod rng;
pub mod seed;
pub mod server;
pub mod state;
pub mod stats;

pub use faults::FaultConfig;
pub use generate::{CatalogChoice, GenerateConfig};
pub use hold::{HoldPhase, HoldSpec};
pub use model::{Api, Direction, Models, Violation};
pub use native::{NativeEventsConfig, NativeFaults};
pub use seed::SeedDocument;
pub use server::{Emulator, EmulatorBuilder, EmulatorError, EmulatorHandle};
