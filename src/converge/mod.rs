//! Lifecycle types, the pure reconcile function and the runner loop. Lands with issue #5.
