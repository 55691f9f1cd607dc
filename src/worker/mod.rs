//! The worker loop: acquire, stream documents, bulk, checkpoint, complete; metrics. Lands with issue #7.
