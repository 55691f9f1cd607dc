//! Snapshot repository reading: repository data, `.dat` blobs, shard file lists, and documents with their
//! Elasticsearch meaning (`_id`, `_type`, `_routing`, `_source`). Lands fully with issue #6.

pub mod uid;
