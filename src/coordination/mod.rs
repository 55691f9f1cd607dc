//! Work items and leases in `.migrations_working_state`; exact progress counts; archive and restore; which
//! migration a working state belongs to (`identity`, `ownership`).
//!
//! Everything here talks to the target through the narrow [`crate::cluster::transport::JsonTransport`] seam.

pub mod archive;
pub mod archive_identity;
pub mod archive_store;
pub mod coordinator;
pub mod identity;
pub mod lease;
pub mod ownership;
pub mod progress;
