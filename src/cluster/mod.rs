//! HTTP client for the target cluster: auth (basic, SigV4), TLS, retries, bulk, index and search calls. Lands with issue #5.
