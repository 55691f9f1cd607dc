//! The plan model (stack changes, fleet/lifecycle changes), pure diffing, saved-plan format and staleness check. Lands with issue #4.
