//! Errors of the Lucene parsers: every one names the file and the byte offset where reading failed, so a
//! corrupt or unsupported shard is reported precisely (the snapshot layer adds snapshot, index and shard).

use std::fmt;

/// What went wrong, where.
#[derive(Debug, thiserror::Error)]
pub enum LuceneError {
    /// Bytes that do not follow the format (bad magic, impossible length, checksum mismatch).
    #[error("{file} at offset {offset}: {message}")]
    Corrupt {
        file: String,
        offset: u64,
        message: String,
    },
    /// A file ends before its content does.
    #[error("{file} at offset {offset}: truncated (needed {needed} more bytes)")]
    Truncated {
        file: String,
        offset: u64,
        needed: u64,
    },
    /// A format, version or codec this reader does not implement; never guessed at.
    #[error("{file}: unsupported {what} `{name}`")]
    Unsupported {
        file: String,
        what: &'static str,
        name: String,
    },
    /// The directory could not produce a file.
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

impl LuceneError {
    pub(crate) fn corrupt(file: &str, offset: u64, message: impl fmt::Display) -> Self {
        LuceneError::Corrupt {
            file: file.to_string(),
            offset,
            message: message.to_string(),
        }
    }

    pub(crate) fn unsupported(file: &str, what: &'static str, name: impl fmt::Display) -> Self {
        LuceneError::Unsupported {
            file: file.to_string(),
            what,
            name: name.to_string(),
        }
    }

    /// The same error named after `file` (a caller that knows more context than the parser did).
    pub(crate) fn in_file(mut self, name: String) -> Self {
        match &mut self {
            LuceneError::Corrupt { file, .. }
            | LuceneError::Truncated { file, .. }
            | LuceneError::Unsupported { file, .. }
            | LuceneError::Io { file, .. } => *file = name,
        }
        self
    }

    /// The file (with any context a caller added, as in `_0.fdt doc 41`) where reading failed.
    pub(crate) fn file(&self) -> &str {
        match self {
            LuceneError::Corrupt { file, .. }
            | LuceneError::Truncated { file, .. }
            | LuceneError::Unsupported { file, .. }
            | LuceneError::Io { file, .. } => file,
        }
    }

    pub(crate) fn io(file: &str, source: std::io::Error) -> Self {
        LuceneError::Io {
            file: file.to_string(),
            source,
        }
    }
}

pub(crate) type Result<T, E = LuceneError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_can_be_renamed_after_its_context_keeping_the_offset() {
        let e = LuceneError::corrupt("", 7, "stored field type 6").in_file("_0.fdt doc 41".into());
        assert_eq!(
            e.to_string(),
            "_0.fdt doc 41 at offset 7: stored field type 6"
        );
    }
}
