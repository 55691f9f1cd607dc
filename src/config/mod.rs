//! migration.yaml: types, strict loading with line/column errors, defaults, validation; the only reader of env vars. Lands with issue #3.
