//! Snapshot repository reading: repository data, .dat blobs, shard file lists, BlobSource (filesystem, S3). Lands with issue #6.
