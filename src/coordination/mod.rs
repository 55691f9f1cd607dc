//! Work items and leases in `.migrations_working_state`; exact progress counts; archive and restore; which
//! migration a working state belongs to (`identity`, `ownership`).
//!
//! The read paths here (progress, archive, restore) go through the narrow [`transport::JsonTransport`] seam.

pub mod archive;
pub mod archive_identity;
pub mod archive_store;
pub mod coordinator;
pub mod identity;
pub mod lease;
pub mod ownership;
pub mod progress;
pub mod transport;
