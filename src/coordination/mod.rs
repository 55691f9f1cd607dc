//! Work items and leases in .migrations_working_state with optimistic concurrency; progress counts; archive/restore. Lands with issue #7.
