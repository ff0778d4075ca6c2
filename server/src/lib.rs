//! The reference City account server: device enrollment, signed push approvals with number
//! matching, and self-service password reset, over the protocol of `docs/protocol.md`.
//!
//! Start it with [`serve`] on a listener, or [`spawn`] on a background thread (tests, the
//! CLI demo); administer it in-process with [`admin`].

pub mod admin;
mod api;
pub mod auditlog;
pub mod auth;
pub mod backup;
pub mod challenges;
pub mod config;
pub mod directory;
pub mod edge;
pub mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod health;
pub mod i18n;
pub mod kek;
pub mod limits;
pub mod location;
pub mod logging;
pub mod metrics;
pub mod notify;
mod observe;
pub mod password;
mod portal;

/// The help-desk console's roles, for the administrator's commands.
pub use portal::helpdesk;
pub mod push;
pub mod qr;
mod server;
pub mod settings;
pub mod state;
pub mod store;
pub mod totp;
pub mod util;
mod waiters;

pub use config::{Config, DirectoryChoice, Edge, FirstDevice, Limits};
pub use error::ApiError;
pub use server::{RunningServer, router, serve, spawn, spawn_on};
pub use state::{AppState, StartError};

/// Writes one informational line to the server's log ([`logging`]). Never pass a secret.
pub fn log(line: &str) {
    tracing::info!("{line}");
}
