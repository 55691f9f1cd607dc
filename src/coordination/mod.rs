//! Work items and leases in `.migrations_working_state`; exact progress counts; archive and restore; which
//! migration a working state belongs to (`identity`, `ownership`).
//!
//! Everything here talks to the target through the narrow [`crate::cluster::transport::JsonTransport`] seam.

pub mod archive;
pub(crate) mod archive_identity;
pub(crate) mod archive_store;
pub mod coordinator;
pub mod expected_counts;
pub(crate) mod identity;
pub mod item_counts;
pub mod lease;
pub(crate) mod ownership;
pub mod progress;
