//! Configuration errors: every one names the file, line, column and key path, says what was expected and,
//! where we can tell, how to fix it.

use std::fmt;
use std::path::PathBuf;

use super::tree::Pos;

/// One problem in a migration file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
    /// Dotted key path, e.g. `target.auth.username`; `(document)` for the whole file.
    pub key_path: String,
    pub message: String,
    /// How to fix it, when we know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl ConfigError {
    pub(crate) fn new(file: PathBuf, pos: Pos, key_path: &str, message: impl Into<String>) -> Self {
        ConfigError {
            file,
            line: pos.line,
            column: pos.column,
            key_path: if key_path.is_empty() {
                "(document)".to_string()
            } else {
                key_path.to_string()
            },
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)?;
        } else {
            let (file, line, column) = (self.file.display(), self.line, self.column);
            write!(
                f,
                "{file}:{line}:{column}: {}: {}",
                self.key_path, self.message
            )?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in one file (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors.len();
        let file = self
            .errors
            .first()
            .map(|e| e.file.display().to_string())
            .unwrap_or_default();
        writeln!(
            f,
            "{file}: {count} problem{} found; nothing was changed",
            if count == 1 { "" } else { "s" }
        )?;
        for (i, err) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{err}")?;
        }
        Ok(())
    }
}

/// Suggests the closest known name for a misspelt one ("did you mean").
pub(crate) fn suggest<'a>(given: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(given, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_the_closest_known_key() {
        assert_eq!(
            suggest("endpont", &["endpoint", "auth", "tls"]),
            Some("endpoint")
        );
        assert_eq!(
            suggest("wrokers", &["state", "workers", "ramp"]),
            Some("workers")
        );
        assert_eq!(suggest("zzz", &["state", "workers"]), None);
    }

    #[test]
    fn display_names_file_line_column_and_path() {
        let err = ConfigError::new(
            "m.yaml".into(),
            Pos { line: 3, column: 5 },
            "target.auth",
            "bad",
        )
        .with_hint("fix");
        assert_eq!(err.to_string(), "m.yaml:3:5: target.auth: bad\n  hint: fix");
    }
}
