//! The bottom of the crate's target side: the [`JsonTransport`](transport::JsonTransport) seam every module that
//! talks to the target depends on, and the one HTTP client for the target cluster that implements it: auth
//! (none, basic, SigV4), TLS, timeouts, retries and gzip.
//!
//! Build one with [`Client::from_target`] from the resolved `target:` configuration. Layout:
//! - [`transport`]: the seam ([`JsonTransport`](transport::JsonTransport), its `Body`/`Method`, the answer
//!   contract and [`TransportError`](transport::TransportError));
//! - [`client`]: the [`Client`] and its request loop (answer semantics, retries, gzip, redacted `Debug`);
//! - [`auth`]: basic-auth password resolution (environment variable or Secrets Manager) and the [`Auth`] kinds;
//! - [`sigv4`]: pure SigV4 signing plus the credentials-refreshing [`Signer`];
//! - `request`: body encoding (gzip), URL handling and the 2xx/404 answer contract;
//! - [`retry`]: which requests and answers are retried, and the jittered backoff;
//! - [`tls`]: CA bundle, insecure flag and timeouts → the underlying `reqwest` client;
//! - [`version`]: what `GET /` says the target is, and whether bulk actions carry `_type`;
//! - [`error`]: [`ClusterError`], everything that can fail while building a client.
//!
//! Guarantee across the module: no password or AWS secret key is ever part of `Debug`/`Display` output or of
//! an error message.

pub(crate) mod auth;
pub(crate) mod client;
pub(crate) mod error;
mod request;
pub(crate) mod retry;
pub(crate) mod sigv4;
pub(crate) mod tls;
pub mod transport;
pub mod version;

pub use auth::{Auth, Password};
pub use client::Client;
pub use error::ClusterError;
/// The worker's gzip of request bodies, public for `benches/gzip.rs`.
pub use request::gzip_bytes;
pub use retry::RetryPolicy;
pub use tls::{Timeouts, TlsSettings};
